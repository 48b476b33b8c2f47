"""Keep secrets that travel in query strings out of uvicorn's access log.

An admin enrolment link (``/admin/enroll?token=…``) is a bearer credential for 15 minutes, and a
hosted page's ``state`` is the client app's login-CSRF secret; uvicorn logs every request line
with its query. ``keyfob serve`` installs :class:`RedactQuerySecrets` on the ``uvicorn.access``
logger through :func:`log_config`, so each worker process gets it, whatever the worker count.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import unquote_plus

# Query parameters whose values never reach a log line: keyfob's own (``token`` of enrolment
# links, ``state`` of the hosted pages) and the usual names of credentials, in case a proxy or
# an app routes one through keyfob's URLs.
SECRET_PARAMETERS = frozenset(
    {
        "token",
        "state",
        "code",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "password",
    }
)
REDACTED = "[redacted]"
FILTER_NAME = "keyfob_redact_query_secrets"
BIND_FILTER_NAME = "keyfob_hide_bind_address"


def redact_query(target: str) -> str:
    """``target`` (a path with its query) with the value of every secret parameter replaced
    by :data:`REDACTED`; the names, other parameters and their order stay as they were."""
    path, separator, query = target.partition("?")
    if not separator:
        return target
    pieces = []
    for piece in query.split("&"):
        name, equals, _ = piece.partition("=")
        if equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            pieces.append(f"{name}={REDACTED}")
        else:
            pieces.append(piece)
    return f"{path}?{'&'.join(pieces)}"


class RedactQuerySecrets(logging.Filter):
    """A filter for ``uvicorn.access``: redacts the request target of each access record
    (uvicorn passes ``(client, method, target, http_version, status)`` as the record's args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the target in place; never drop the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


class HideBindAddress(logging.Filter):
    """A filter for ``uvicorn.error``: drops uvicorn's "Uvicorn running on http://127.0.0.1:…"
    line, whose bind address is not the URL to open (``keyfob serve`` prints that one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the bind-address line only."""
        return not str(record.msg).startswith("Uvicorn running on")


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`RedactQuerySecrets` installed on
    the ``uvicorn.access`` logger and :class:`HideBindAddress` on ``uvicorn.error``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters[FILTER_NAME] = {"()": f"{__name__}.RedactQuerySecrets"}
    filters[BIND_FILTER_NAME] = {"()": f"{__name__}.HideBindAddress"}
    for logger, name in (("uvicorn.access", FILTER_NAME), ("uvicorn.error", BIND_FILTER_NAME)):
        settings = config["loggers"][logger]
        settings["filters"] = [*settings.get("filters", []), name]
    return config
