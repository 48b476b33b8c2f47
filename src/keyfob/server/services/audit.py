"""Writing the audit log: sign-ins, failures, SSO redirects and admin actions."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import HTTPConnection

from keyfob.errors import KeyfobError
from keyfob.server.infra.client_address import Caller, caller, client_address
from keyfob.server.infra.runtime import Runtime
from keyfob.store.records import AuditEvent

log = logging.getLogger("keyfob.audit")


def audit_detail(**detail: object) -> str:
    """The ``detail`` column: compact JSON of the keyword arguments (None values dropped)."""
    return json.dumps(
        {key: value for key, value in detail.items() if value is not None},
        separators=(",", ":"),
        default=str,
    )


def client_ip(connection: HTTPConnection) -> str | None:
    """The client's address: the socket peer, or behind ``KEYFOB_TRUSTED_PROXIES`` the client
    their forwarding header names; the same answer the rate limiter counts under."""
    runtime: Runtime = connection.app.state.runtime
    return client_address(connection.scope, runtime.settings.proxies)


def caller_of(connection: HTTPConnection) -> Caller:
    """The client's address (as :func:`client_ip`) and ``User-Agent`` header."""
    runtime: Runtime = connection.app.state.runtime
    return caller(connection.scope, runtime.settings.proxies)


async def record_event(
    runtime: Runtime,
    event: str,
    *,
    user_id: str | None = None,
    client_id: str | None = None,
    actor_id: str | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    """Append one event to the audit log (and to the ``keyfob.audit`` logger)."""
    record = AuditEvent(
        at=runtime.now(),
        event=event,
        user_id=user_id,
        client_id=client_id,
        actor_id=actor_id,
        ip=ip,
        detail=audit_detail(**detail),
    )
    log.info("%s user=%s client=%s actor=%s %s", event, user_id, client_id, actor_id, record.detail)
    await runtime.store.add_audit_event(record)


def sign_in_event(
    runtime: Runtime, method: str, *, ip: str | None, client_id: str | None = None
) -> AuditEvent:
    """The ``sign_in`` event a sign-in transaction writes (the store fills in the user)."""
    return AuditEvent(
        at=runtime.now(),
        event="sign_in",
        client_id=client_id,
        ip=ip,
        detail=audit_detail(method=method),
    )


@asynccontextmanager
async def failures_audited(
    runtime: Runtime, method: str, *, ip: str | None, client_id: str | None = None
) -> AsyncIterator[None]:
    """Record a ``sign_in_failed`` event for a :class:`KeyfobError` raised inside, then re-raise."""
    try:
        yield
    except KeyfobError as error:
        await record_event(
            runtime, "sign_in_failed", ip=ip, client_id=client_id, method=method, error=error.code
        )
        raise
