"""Single-use under load: of 20 simultaneous attempts exactly one wins, on every database."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from tests.node_clients import NodeClients
from tests.server.signin import eth_signed, login, signed_in

ATTEMPTS = 20


@pytest.mark.parametrize("mode", ["stored", "signed"])
async def test_twenty_logins_with_one_signed_message(
    make_server: Any, node_clients: NodeClients, mode: str
) -> None:
    async with make_server(nonce_mode=mode) as server:
        body = await eth_signed(server, node_clients)
        responses = await asyncio.gather(*(login(server, body) for _ in range(ATTEMPTS)))
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 401: ATTEMPTS - 1}, statuses
    errors = {r.json()["error"] for r in responses if r.status_code == 401}
    assert errors == {"invalid_nonce"}


async def test_twenty_refreshes_with_one_refresh_token(
    make_server: Any, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        responses = await asyncio.gather(
            *(
                server.post("/auth/refresh", {"refreshToken": tokens["refreshToken"]})
                for _ in range(ATTEMPTS)
            )
        )
        winners = [r.json() for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.text for r in responses]
        errors = {r.json()["error"] for r in responses if r.status_code != 200}
        assert errors == {"refresh_token_superseded"}
        # The race revoked nothing: the winner's token keeps working.
        again = await server.post("/auth/refresh", {"refreshToken": winners[0]["refreshToken"]})
        assert again.status_code == 200
