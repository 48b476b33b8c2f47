"""Run the store's Core statements straight on the pysqlite cursor, compiled once each.

SQLAlchemy's per-execution machinery (execution context, result metadata, row objects) costs
several times what SQLite itself takes for keyfob's short statements. On a pysqlite connection
the helpers here compile a statement once for the sqlite dialect (its SQL, its positional bind
order, the bind processors of its parameters' types and the result processors of its returned
columns), cache that, and then only process values and call ``cursor.execute``. The Core
statements stay the single source of truth; any other connection (PostgreSQL, aiosqlite) and any
statement this cannot handle exactly (expanding or literal-execute binds, Python-side column
defaults) go through ``Connection.execute`` as before.

Rows come back as :class:`FastRow`: a tuple with attribute access and ``_mapping`` like
SQLAlchemy's ``Row``. Driver errors are wrapped exactly as SQLAlchemy wraps them
(``sqlalchemy.exc.IntegrityError`` and so on, the sqlite3 error as ``.orig``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.engine import Connection, Dialect, Row
from sqlalchemy.exc import DBAPIError, InvalidRequestError, MultipleResultsFound, NoResultFound

Processor = Callable[[Any], Any] | None


class FastRow(tuple[Any, ...]):
    """A result row: a tuple of its values (equal to the plain tuple) whose columns are also
    attributes by key, like SQLAlchemy's ``Row``. Each compiled statement has its own subclass
    (:func:`row_class`) that knows its keys."""

    __slots__ = ()
    _keys: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[Mapping[str, int]] = {}

    def __getattr__(self, name: str) -> Any:
        """The value of the column ``name``."""
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        """The row as a dict of column key to value, as ``Row._mapping`` would be."""
        return dict(zip(self._keys, self, strict=True))


def row_class(keys: tuple[str, ...]) -> type[FastRow]:
    """The :class:`FastRow` subclass for rows whose columns are ``keys``."""
    index = {key: i for i, key in enumerate(keys)}
    return type("FastRow", (FastRow,), {"__slots__": (), "_keys": keys, "_index": index})


#: A row of either path: SQLAlchemy's own, or ours.
RowLike = Row[Any] | FastRow


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """One statement compiled for the sqlite dialect, with everything needed to run it raw."""

    statement: Any  # held so that the cache's id() key stays this statement's
    sql: str
    binds: tuple[tuple[str, Processor, Any], ...]  # name, processor, value if not passed
    row: type[FastRow]  # knows the result column keys (none if the statement returns no rows)
    processors: tuple[Processor, ...]
    raw: bool  # False: run through Connection.execute (a case this module does not handle)


_MISSING = object()
_CACHE_SIZE = 500  # the store has about 50 statements
_cache: dict[tuple[int, tuple[str, ...]], CompiledStatement] = {}


def compile_sqlite(statement: Any, dialect: Dialect, keys: Sequence[str]) -> CompiledStatement:
    """Compile ``statement`` for ``dialect`` (a qmark sqlite dialect) as executed with parameters
    named ``keys``, once: later calls with the same statement and keys return the cached result.
    """
    cache_key = (id(statement), tuple(keys))
    found = _cache.get(cache_key)
    if found is not None and found.statement is statement:
        return found
    compiled = _compile(statement, dialect, keys)
    if len(_cache) >= _CACHE_SIZE:  # only ad-hoc statements get here: start afresh
        _cache.clear()
    _cache[cache_key] = compiled
    return compiled


def _compile(statement: Any, dialect: Dialect, keys: Sequence[str]) -> CompiledStatement:
    compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(keys))
    binds = []
    raw = dialect.paramstyle == "qmark" and not (
        getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None)
    )
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        raw = raw and not (bind.expanding or bind.literal_execute)
        fixed = _MISSING if bind.required else bind.effective_value
        binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), fixed))
    columns = list(statement.exported_columns.items())  # the result columns, in order
    names = tuple(name for name, _ in columns)
    return CompiledStatement(
        statement=statement,
        sql=compiled.string,
        binds=tuple(binds),
        row=row_class(names),
        processors=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for _, column in columns
        ),
        raw=raw and len(set(names)) == len(names),  # a FastRow holds each key once
    )


def run(
    conn: Connection, statement: Any, params: Mapping[str, Any]
) -> tuple[Sequence[RowLike], int]:
    """Execute ``statement`` with ``params``; return its rows (all fetched) and its rowcount."""
    if conn.dialect.driver == "pysqlite":
        compiled = compile_sqlite(statement, conn.dialect, list(params))
        if compiled.raw:
            return _run_raw(conn, compiled, params)
    result = conn.execute(statement, dict(params))
    rows: Sequence[Any] = result.all() if result.returns_rows else ()
    return rows, result.rowcount


def _run_raw(
    conn: Connection, compiled: CompiledStatement, params: Mapping[str, Any]
) -> tuple[list[FastRow], int]:
    values: list[Any] = []
    try:
        for name, process, fixed in compiled.binds:
            value = params.get(name, fixed)
            if value is _MISSING:
                raise InvalidRequestError(f"A value is required for bind parameter {name!r}")
            values.append(value if process is None else process(value))
        cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, values)
            # Fetch everything: a RETURNING statement is finished (and, in autocommit mode,
            # committed) only once its last row has been read.
            fetched = cursor.fetchall()
            count: int = cursor.rowcount
        finally:
            cursor.close()
    except InvalidRequestError:
        raise
    except Exception as error:  # wrapped as Connection.execute wraps it (StatementError, ...)
        raise DBAPIError.instance(
            compiled.sql, tuple(values), error, sqlite3.Error, dialect=conn.dialect
        ) from error
    make, processors = compiled.row, compiled.processors
    rows = [
        make([v if p is None else p(v) for p, v in zip(processors, row, strict=True)])
        for row in fetched
    ]
    return rows, count


def first(conn: Connection, statement: Any, params: Mapping[str, Any]) -> RowLike | None:
    """Execute and return the first row, or None."""
    rows, _ = run(conn, statement, params)
    return rows[0] if rows else None


def one(conn: Connection, statement: Any, params: Mapping[str, Any]) -> RowLike:
    """Execute and return the only row; raise NoResultFound or MultipleResultsFound otherwise."""
    rows, _ = run(conn, statement, params)
    if not rows:
        raise NoResultFound("No row was found when one was required")
    if len(rows) > 1:
        raise MultipleResultsFound("Multiple rows were found when exactly one was required")
    return rows[0]


def scalar(conn: Connection, statement: Any, params: Mapping[str, Any]) -> Any:
    """Execute and return the first column of the first row, or None if there is no row."""
    rows, _ = run(conn, statement, params)
    return rows[0][0] if rows else None


def every(conn: Connection, statement: Any, params: Mapping[str, Any]) -> Sequence[RowLike]:
    """Execute and return all rows."""
    return run(conn, statement, params)[0]


def rowcount(conn: Connection, statement: Any, params: Mapping[str, Any]) -> int:
    """Execute and return how many rows it changed."""
    return run(conn, statement, params)[1]


def execute(conn: Connection, statement: Any, params: Mapping[str, Any]) -> None:
    """Execute for effect."""
    run(conn, statement, params)
