"""Expired single-use rows are purged; live ones stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keyfob.server.infra.housekeeping import purge_once
from keyfob.store.records import AuditEvent
from tests.node_clients import NodeClients
from tests.server.conftest import Server
from tests.server.signin import bearer, nonce, signed_in


async def test_purge_removes_expired_nonces_and_denylist_entries(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    await nonce(server, "ethereum")
    out = await server.post("/auth/logout", headers=bearer(tokens["accessToken"]))
    assert out.status_code == 204
    assert await purge_once(server.runtime) == 0  # nothing has expired yet
    assert len((await server.client.get("/auth/denylist")).json()["revoked"]) == 1
    server.clock.advance(8 * 24 * 3600)
    removed = await purge_once(server.runtime)
    assert removed >= 2  # the nonce and the denylist entry at least
    assert (await server.client.get("/auth/denylist")).json()["revoked"] == []


async def test_purge_applies_the_audit_retention_settings(make_server: Any) -> None:
    """KEYFOB_AUDIT_RETENTION_DAYS and KEYFOB_AUDIT_FAILURE_RETENTION_DAYS (here 10 and 2)."""
    async with make_server(audit_retention_days=10, audit_failure_retention_days=2) as server:
        now, day = server.runtime.now(), timedelta(days=1)
        store = server.runtime.store
        for event, age in [
            ("sign_in_failed", 3),
            ("sign_in_failed", 1),
            ("admin.user_disabled", 11),
            ("admin.user_disabled", 9),
            ("sign_in", 3),
        ]:
            await store.add_audit_event(AuditEvent(at=now - age * day, event=event))
        assert await purge_once(server.runtime) == 2
        left = sorted((e.event, round((now - e.at) / day)) for e in await store.audit_events())
        assert left == [("admin.user_disabled", 9), ("sign_in", 3), ("sign_in_failed", 1)]


async def test_default_audit_retention(server: Server) -> None:
    """400 days for admin events and the rest, 30 days for failed sign-ins."""
    now, day = server.runtime.now(), timedelta(days=1)
    store = server.runtime.store
    for event, age in [("sign_in_failed", 31), ("sign_in_failed", 29), ("admin.x", 401)]:
        await store.add_audit_event(AuditEvent(at=now - age * day, event=event))
    await store.add_audit_event(AuditEvent(at=now - 399 * day, event="admin.x"))
    assert await purge_once(server.runtime) == 2
    assert len(await store.audit_events()) == 2
