"""Sign-in steps the server tests share: ask for a nonce, sign with a real client, log in."""

from __future__ import annotations

from typing import Any

import httpx

from tests.node_clients import NodeClients, SiweFields, SolanaSignInInput
from tests.server.conftest import PUBLIC_URL, Server

ETH_KEY = "0x" + "4c" * 32
NIMIQ_KEY = "682df035c30e8c55bda4ab517213792c2af4b4e9c23ac2cf11bd28b237a6544e"
SOLANA_SEED = "9d" * 32


def eth_address(clients: NodeClients, key: str = ETH_KEY) -> str:
    """The checksummed address of ``key``, as viem derives it."""
    return clients.viem_sign(key, "address").address


async def nonce(server: Server, chain: str, **extra: Any) -> dict[str, Any]:
    """``POST /auth/nonce`` and insist on success."""
    response = await server.post("/auth/nonce", {"chain": chain, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def eth_signed(
    server: Server, clients: NodeClients, key: str = ETH_KEY, **extra: Any
) -> dict[str, Any]:
    """A server-built Sign-In with Ethereum message signed by viem: a login body."""
    issued = await nonce(server, "ethereum", address=eth_address(clients, key), **extra)
    signature = clients.viem_sign(key, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": signature}
    if "sessionKey" in extra:
        body["sessionKey"] = extra["sessionKey"]
    return body


def siwe_fields(issued: dict[str, Any], **overrides: Any) -> SiweFields:
    """EIP-4361 fields around a nonce response, as a client library would fill them in."""
    fields = issued["fields"]
    values: dict[str, Any] = {
        "domain": fields["domain"],
        "uri": fields["uri"],
        "chain_id": int(fields["chainId"]),
        "nonce": fields["nonce"],
        "issued_at": fields["issuedAt"],
        "expiration_time": fields["expirationTime"],
        "statement": fields["statement"],
    }
    values.update(overrides)
    return SiweFields(**values)


def solana_input(issued: dict[str, Any], **overrides: Any) -> SolanaSignInInput:
    """The wallet-standard ``signIn`` input a dapp builds from a nonce response."""
    fields = issued["fields"]
    values: dict[str, Any] = {
        "domain": fields["domain"],
        "uri": fields["uri"],
        "version": fields["version"],
        "nonce": fields["nonce"],
        "issued_at": fields["issuedAt"],
        "expiration_time": fields["expirationTime"],
        "statement": fields["statement"],
        "resources": fields["resources"] or None,
    }
    values.update(overrides)
    return SolanaSignInInput(**values)


async def login(server: Server, body: dict[str, Any]) -> httpx.Response:
    """``POST /auth/login``."""
    return await server.post("/auth/login", body)


async def signed_in(server: Server, clients: NodeClients, key: str = ETH_KEY) -> dict[str, Any]:
    """A full Ethereum sign-in; the token response."""
    response = await login(server, await eth_signed(server, clients, key))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"authorization": f"Bearer {token}"}


__all__ = ["PUBLIC_URL"]


def account(tokens: dict[str, Any], grant: str | None = None) -> dict[str, str]:
    """Authorization header with the account token of a token response (and a step-up grant)."""
    headers = bearer(tokens["accountToken"])
    if grant is not None:
        headers["x-keyfob-step-up"] = grant
    return headers


async def wallet_step_up_body(
    server: Server, clients: NodeClients, tokens: dict[str, Any], key: str = ETH_KEY
) -> dict[str, Any]:
    """A step-up message for the wallet of ``key``, signed by viem: a step-up verify body."""
    options = await server.post(
        "/auth/step-up/options",
        {"chain": "ethereum", "address": eth_address(clients, key)},
        headers=account(tokens),
    )
    assert options.status_code == 200, options.text
    message = options.json()["message"]
    signature = clients.viem_sign(key, message).signature
    return {"chain": "ethereum", "message": message, "signature": signature}


async def wallet_step_up(
    server: Server, clients: NodeClients, tokens: dict[str, Any], key: str = ETH_KEY
) -> str:
    """A step-up grant for the session of ``tokens``, confirmed by the wallet of ``key``."""
    body = await wallet_step_up_body(server, clients, tokens, key)
    response = await server.post("/auth/step-up/verify", body, headers=account(tokens))
    assert response.status_code == 200, response.text
    grant: str = response.json()["stepUpToken"]
    return grant
