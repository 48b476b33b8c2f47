"""Random and hostile bodies at every endpoint: always a 4xx with the error shape, never a 500."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.server.conftest import Server

ENDPOINTS = [
    "/auth/nonce",
    "/auth/login",
    "/auth/refresh",
    "/auth/logout",
    "/auth/session-key/token",
    "/auth/challenge",
]
ATOMS: list[Any] = [
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    "",
    "0x",
    "eyJ.eyJ.x",
    "\u0000",
    "\ud800",
    "NQ00",
    "ethereum",
    "nimiq",
    "solana",
    "a" * 5000,
    [],
    {},
    {"kty": "OKP", "crv": "Ed25519", "x": "A"},
    {"kty": "EC", "crv": "P-256", "x": "A", "y": "B", "d": "C"},
]
FIELDS = [
    "chain",
    "address",
    "chainId",
    "message",
    "signature",
    "publicKey",
    "sessionKey",
    "refreshToken",
    "thumbprint",
    "timestamp",
]


def _random_body(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        return rng.choice(ATOMS)
    body = {field: rng.choice(ATOMS) for field in rng.sample(FIELDS, rng.randint(0, 5))}
    if rng.random() < 0.7:
        body["chain"] = rng.choice(["ethereum", "nimiq", "solana"])
    if rng.random() < 0.3:
        body["message"] = (
            "localhost:8000 wants you to sign in with your Ethereum account:\n"
            + rng.choice(["0x" + "ab" * 20, "NQ00", ""])
            + "\n\nURI: http://localhost:8000\nVersion: 1\nChain ID: 1\nNonce: abcdefgh1\n"
            + "Issued At: "
            + rng.choice(["2026-01-01T00:00:00Z", "nope", "9999-99-99T99:99:99Z"])
        )
    return body


@pytest.mark.parametrize("seed", range(4))
async def test_random_bodies_never_cause_a_server_error(server: Server, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(120):
        path = rng.choice(ENDPOINTS)
        body = _random_body(rng)
        content = json.dumps(body).encode() if rng.random() < 0.95 else bytes(rng.randbytes(40))
        response = await server.client.post(
            path,
            content=content,
            headers={"content-type": "application/json", "authorization": "Bearer x.y.z"},
        )
        assert response.status_code < 500, (path, body, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "message"}, response.text


async def test_get_nonce_takes_query_parameters(server: Server) -> None:
    response = await server.client.get(
        "/auth/nonce",
        params={"chain": "ethereum", "address": "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"},
    )
    assert response.status_code == 200
    assert "\n0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\n" in response.json()["message"]
