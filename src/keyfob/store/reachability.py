"""Whether an error means the database could not be reached, and why, in a few words.

The command line turns such an error into one line (``database: cannot connect to URL
(connection refused)``) instead of a traceback. Only failures to connect count: a refused or
timed-out connection, an unknown host, a role, password or database the server refuses, a
SQLite file that cannot be opened. Errors of queries on a reachable database do not.
"""

from __future__ import annotations

import socket
import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

#: SQLSTATEs (or their two-character classes) of PostgreSQL refusing a connection: connection
#: exceptions, invalid authorization (unknown role, wrong password), an unknown database, a
#: server starting or shutting down, too many connections.
_REFUSING_STATES = ("08", "28", "3D000", "57P01", "57P03", "53300")


def connection_problem(error: BaseException) -> str | None:
    """Why the database could not be reached, if ``error`` (or what it wraps) says so."""
    for cause in _chain(error):
        reason = _reason(cause)
        if reason is not None:
            return reason
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        wrapped = current.orig if isinstance(current, DBAPIError) else None
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
    return seen


def _reason(error: BaseException) -> str | None:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
        return str(error)
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str) and state.startswith(_REFUSING_STATES):
        return (str(error).strip().splitlines() or [state])[0]
    return None


def display_url(url: str) -> str:
    """``url`` as it may be shown: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL"
