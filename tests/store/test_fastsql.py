"""fastsql: Core statements run raw on the pysqlite cursor, with SQLAlchemy's own results.

Every check compares against SQLAlchemy's ``Connection.execute`` on the same connection, which is
what the store ran before (and still runs on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import (
    IntegrityError,
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
    StatementError,
)

from keyfob.store.engine import create_sqlite_inline_engine
from keyfob.store.fastsql import (
    FastRow,
    compile_sqlite,
    every,
    execute,
    first,
    one,
    rowcount,
    scalar,
)
from keyfob.store.migrate import upgrade
from keyfob.store.schema import UTCDateTime, identities, nonces, users
from tests.store.factories import NOW

_INSERT_NONCE = insert(nonces)
_ALL_NONCES = select(nonces).order_by(nonces.c.nonce)
_TAKE_NONCE = delete(nonces).where(nonces.c.nonce == bindparam("n")).returning(*nonces.c)
_LIVE = select(nonces.c.nonce).where(nonces.c.expires_at > bindparam("now", type_=UTCDateTime()))
_INSERT_USER = insert(users).returning(*users.c)
_USER_WITH_IDENTITIES = (
    select(*users.c, identities.c.address.label("i_address"), identities.c.public_key)
    .select_from(users.outerjoin(identities))
    .order_by(identities.c.address)
)
_IN_LIST = select(nonces.c.nonce).where(nonces.c.nonce.in_(bindparam("ns", expanding=True)))


def nonce(name: str, **changes: Any) -> dict[str, Any]:
    values = {
        "nonce": name,
        "chain": "ethereum",
        "address": None,
        "issued_at": NOW,
        "expires_at": NOW + timedelta(minutes=5),
    }
    return values | changes


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Connection]:
    """A connection of the inline engine (pysqlite, autocommit) on a migrated SQLite file."""
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}")
    engine = create_sqlite_inline_engine(make_url(f"sqlite:///{tmp_path / 'keyfob.db'}"))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_datetimes_round_trip_as_aware_utc(conn: Connection) -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    issued = datetime(2030, 1, 1, 17, 30, 0, 123456, tzinfo=east)  # 12:00:00.123456 UTC
    execute(conn, _INSERT_NONCE, nonce("raw", issued_at=issued))
    conn.execute(_INSERT_NONCE, nonce("core", issued_at=issued))
    raw_rows = every(conn, _ALL_NONCES, {})
    core_rows = conn.execute(_ALL_NONCES).all()
    assert [tuple(r) for r in raw_rows] == [tuple(r) for r in core_rows]
    for row in raw_rows:
        assert row.issued_at == issued
        assert row.issued_at.tzinfo is UTC
        assert row.issued_at.microsecond == 123456
    # Stored exactly as SQLAlchemy stores it: naive UTC text, so SQL comparisons hold.
    stored = conn.exec_driver_sql("SELECT nonce, issued_at FROM nonces ORDER BY nonce").all()
    assert [tuple(r) for r in stored] == [
        ("core", "2030-01-01 12:00:00.123456"),
        ("raw", "2030-01-01 12:00:00.123456"),
    ]
    assert sorted(r.nonce for r in every(conn, _LIVE, {"now": NOW})) == ["core", "raw"]
    assert every(conn, _LIVE, {"now": NOW + timedelta(hours=1)}) == []


def test_returning_rows_behave_like_sqlalchemy_rows(conn: Connection) -> None:
    execute(conn, _INSERT_NONCE, nonce("n-1", address="0xA11CE"))
    row = first(conn, _TAKE_NONCE, {"n": "n-1"})
    assert isinstance(row, FastRow)
    assert row.nonce == "n-1"
    assert row.address == "0xA11CE"
    assert row[0] == "n-1"
    assert tuple(row) == ("n-1", "ethereum", "0xA11CE", NOW, NOW + timedelta(minutes=5))
    assert dict(row._mapping) == nonce("n-1", address="0xA11CE")
    with pytest.raises(AttributeError):
        _ = row.no_such_column
    # The DELETE finished and committed (autocommit): another connection sees it gone.
    assert first(conn, _TAKE_NONCE, {"n": "n-1"}) is None
    assert conn.exec_driver_sql("SELECT count(*) FROM nonces").scalar_one() == 0


def test_labelled_join_and_booleans_match_sqlalchemy(conn: Connection) -> None:
    user = one(conn, _INSERT_USER, {"id": "u-1", "created_at": NOW, "disabled": True, "roles": ""})
    assert user.disabled is True
    assert user.last_login is None
    assert user.created_at == NOW
    for address, key in (("0xB", b"\x00\xff"), ("0xA", None)):
        identity = {"id": address, "user_id": "u-1", "kind": "ethereum", "address": address}
        execute(conn, insert(identities), identity | {"public_key": key, "created_at": NOW})
    raw = every(conn, _USER_WITH_IDENTITIES, {})
    core = conn.execute(_USER_WITH_IDENTITIES).all()
    assert [tuple(r) for r in raw] == [tuple(r) for r in core]
    assert [dict(r._mapping) for r in raw] == [dict(r._mapping) for r in core]
    assert [r.i_address for r in raw] == ["0xA", "0xB"]
    assert raw[1].public_key == b"\x00\xff"


def test_rowcount_and_scalar(conn: Connection) -> None:
    for name in ("a", "b", "c"):
        execute(conn, _INSERT_NONCE, nonce(name))
    retire = update(nonces).where(nonces.c.nonce != bindparam("keep")).values(chain="solana")
    assert rowcount(conn, retire, {"keep": "b"}) == 2
    assert scalar(conn, select(nonces.c.chain).where(nonces.c.nonce == "b"), {}) == "ethereum"
    assert scalar(conn, select(nonces.c.chain).where(nonces.c.nonce == "z"), {}) is None


def test_compiled_once_per_statement_and_parameter_names(conn: Connection) -> None:
    keys = list(nonce("x"))
    compiled = compile_sqlite(_INSERT_NONCE, conn.dialect, keys)
    assert compiled.raw
    assert compiled.sql == (
        "INSERT INTO nonces (nonce, chain, address, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)"
    )
    execute(conn, _INSERT_NONCE, nonce("x"))
    execute(conn, _INSERT_NONCE, nonce("y"))
    assert compile_sqlite(_INSERT_NONCE, conn.dialect, keys) is compiled
    # Other parameter names make other INSERT columns: compiled separately.
    fewer = compile_sqlite(_INSERT_NONCE, conn.dialect, ["nonce", "chain", "issued_at"])
    assert fewer is not compiled
    assert "address" not in fewer.sql
    # An equal but distinct statement object is its own entry.
    assert compile_sqlite(insert(nonces), conn.dialect, keys) is not compiled


def test_expanding_binds_go_through_sqlalchemy(conn: Connection) -> None:
    for name in ("a", "b", "c"):
        execute(conn, _INSERT_NONCE, nonce(name))
    assert not compile_sqlite(_IN_LIST, conn.dialect, ["ns"]).raw
    assert sorted(r.nonce for r in every(conn, _IN_LIST, {"ns": ["a", "c", "q"]})) == ["a", "c"]


def _one_of_two(conn: Connection) -> None:
    execute(conn, _INSERT_NONCE, nonce("one"))
    execute(conn, _INSERT_NONCE, nonce("two"))
    one(conn, _ALL_NONCES, {})


def _duplicate(conn: Connection) -> None:
    execute(conn, _INSERT_NONCE, nonce("dup"))
    execute(conn, _INSERT_NONCE, nonce("dup"))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda c: execute(c, _INSERT_NONCE, nonce("n", expires_at=datetime(2030, 1, 1))),
            StatementError,
            "naive",
        ),
        (_duplicate, IntegrityError, "UNIQUE constraint failed"),
        (lambda c: first(c, _TAKE_NONCE, {}), InvalidRequestError, "'n'"),
        (lambda c: one(c, _TAKE_NONCE, {"n": "absent"}), NoResultFound, "No row"),
        (_one_of_two, MultipleResultsFound, "Multi"),
        (
            lambda c: execute(c, select(nonces).where(bindparam("x") == 1), {"x": object()}),
            StatementError,
            "type",
        ),
    ],
    ids=["naive-datetime", "duplicate-key", "missing-param", "one-none", "one-many", "bad-type"],
)
def test_errors_are_sqlalchemys(
    conn: Connection, call: Callable[[Connection], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call(conn)


def test_driver_errors_keep_the_sqlite3_error(conn: Connection) -> None:
    with pytest.raises(IntegrityError) as caught:
        _duplicate(conn)
    assert isinstance(caught.value.orig, sqlite3.IntegrityError)
