"""What every ``keyfob`` command shares: reading the settings, quiet logging, one-line failures.

The commands other than ``serve`` print their own output and nothing else: their logging shows
warnings and errors only (no Alembic "Running upgrade" lines, no audit lines). A bad setting, a
:class:`~keyfob.errors.KeyfobError` or an unreachable database is one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from keyfob.errors import KeyfobError
from keyfob.server.infra.settings import Settings
from keyfob.store.reachability import connection_problem, display_url

T = TypeVar("T")
#: Settings whose values never appear in a message (a password may be in the database URL).
_SECRET_SETTINGS = frozenset({"secret_key", "database_url"})
_PYDANTIC_PREFIX = "Value error, "


def setting_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting: ``KEYFOB_NAME: why (got 'value')``."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        name = f"KEYFOB_{field.upper()}" if field else "settings"
        why = str(problem["msg"]).removeprefix(_PYDANTIC_PREFIX)
        line = why if why.startswith("KEYFOB_") else f"{name}: {why}"
        shown = problem.get("input")
        secret = field in _SECRET_SETTINGS
        if field and not secret and isinstance(shown, str | int) and repr(shown) not in line:
            line += f" (got {shown!r})"
        lines.append(line)
    return list(dict.fromkeys(lines))


def load_settings(*, serving: bool = False) -> Settings:
    """The settings, or each invalid one named on its own line (exit code 2); logging set up
    for a command (warnings and errors) or, with ``serving``, at ``KEYFOB_LOG_LEVEL``."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for line in setting_problems(exc):
            typer.echo(f"keyfob: invalid setting {line}", err=True)
        raise typer.Exit(2) from None
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(
        level=level if serving else max(level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return settings


def database_failure(url: str, error: BaseException) -> str | None:
    """``database: cannot connect to URL (reason)`` if ``error`` is a failure to reach the
    database at ``url`` (its password hidden), else None."""
    reason = connection_problem(error)
    if reason is None:
        return None
    return f"database: cannot connect to {display_url(url)} ({reason})"


def run(work: Coroutine[Any, Any, T], settings: Settings) -> T:
    """Run ``work``; a KeyfobError (a bad secret key, say) or an unreachable database becomes
    one line on stderr and exit code 2."""
    try:
        return asyncio.run(work)
    except KeyfobError as exc:
        fail(exc.message)
    except Exception as exc:
        line = database_failure(settings.resolved_database_url, exc)
        if line is None:
            raise
        fail(line)


def fail(*lines: str, code: int = 2) -> NoReturn:
    """Print ``lines`` on stderr, each prefixed ``keyfob:``, and exit with ``code``."""
    echo_all((f"keyfob: {line}" for line in lines), err=True)
    raise typer.Exit(code)


def echo_all(lines: Iterable[str], *, err: bool = False) -> None:
    """Print each line."""
    for line in lines:
        typer.echo(line, err=err)
