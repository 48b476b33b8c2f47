"""Expired single-use rows are purged; live ones stay."""

from __future__ import annotations

from keyfob.server.housekeeping import purge_once
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
