"""Which token is good where: keyfob's account API takes only its account token.

Before issue 7 every one of these endpoints took the access token every app receives; each case
below was then a 200 (or a change to the account)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from keyfob.core.step_up import issue_step_up_grant
from keyfob.server.infra.keyring import add_signing_key
from keyfob.server.infra.settings import Settings
from keyfob.server.services.clients import create_client, mint_client_token
from keyfob.store import Store
from tests.node_clients import NodeClients
from tests.server.api.test_passkeys import assert_error
from tests.server.conftest import PUBLIC_URL, SECRET, Server, ServerFactory
from tests.server.signin import bearer, signed_in

ACCOUNT_ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/auth/me", None),
    ("GET", "/auth/methods", None),
    ("POST", "/auth/methods/wallet", {"chain": "ethereum", "message": "x", "signature": "y"}),
    ("DELETE", "/auth/methods/00000000-0000-0000-0000-000000000000", None),
    ("GET", "/auth/session-keys", None),
    ("DELETE", "/auth/session-keys/" + "A" * 43, None),
    ("POST", "/auth/passkey/register/options", {}),
    ("POST", "/auth/passkey/register/verify", {"credential": {}}),
    ("POST", "/auth/step-up/options", {}),
    ("POST", "/auth/step-up/verify", {}),
]


async def call(server: Server, method: str, path: str, body: Any, token: str) -> Any:
    return await server.client.request(method, path, json=body, headers=bearer(token))


@pytest.mark.parametrize(("method", "path", "body"), ACCOUNT_ENDPOINTS)
async def test_the_app_token_is_refused_by_the_account_api(
    server: Server, node_clients: NodeClients, method: str, path: str, body: Any
) -> None:
    tokens = await signed_in(server, node_clients)
    response = await call(server, method, path, body, tokens["accessToken"])
    assert_error(response, 401, "invalid_token")
    assert "account token" in response.json()["message"]


async def test_a_client_apps_token_is_refused_everywhere_on_the_account_api(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    client, _ = await create_client(
        server.runtime, name="App", redirect_uris=["https://app.example.com/cb"], open_to_all=True
    )
    token = mint_client_token(server.runtime, client, tokens["user"]["id"])
    for method, path, body in [*ACCOUNT_ENDPOINTS, ("POST", "/auth/logout", {})]:
        assert_error(await call(server, method, path, body, token), 401, "invalid_token")
    # The session it would have ended is untouched.
    me = await server.client.get("/auth/me", headers=bearer(tokens["accountToken"]))
    assert me.status_code == 200, me.text


def _forge(claims: dict[str, Any], key: Any, alg: str, kid: str = "keyfob-account") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


@pytest.mark.parametrize(
    "kind",
    [
        "signed with the app-token key",
        "app audience under the account key",
        "alg none",
        "a step-up grant",
        "no sid",
    ],
)
async def test_only_keyfob_mints_account_tokens(
    server: Server, node_clients: NodeClients, kind: str
) -> None:
    tokens = await signed_in(server, node_clients)
    claims = jwt.decode(tokens["accountToken"], options={"verify_signature": False})
    runtime = server.runtime
    if kind == "signed with the app-token key":
        token = _forge(claims, runtime.keyring.current.current.private_key, "EdDSA")
    elif kind == "app audience under the account key":
        token = _forge({**claims, "aud": PUBLIC_URL}, runtime.account_token_key, "HS256")
    elif kind == "alg none":
        token = _forge(claims, None, "none")
    elif kind == "a step-up grant":
        token = issue_step_up_grant(
            key=runtime.step_up_key,
            issuer=runtime.settings.issuer,
            audience=runtime.settings.account_audience,
            subject=claims["sub"],
            session_id=claims["sid"],
            method="ethereum",
            now=runtime.now(),
            ttl=300,
        )
    else:
        token = _forge(
            {k: v for k, v in claims.items() if k != "sid"}, runtime.account_token_key, "HS256"
        )
    me = await server.client.get("/auth/me", headers=bearer(token))
    assert_error(me, 401, "invalid_token")


async def test_with_hs256_app_tokens_an_app_still_cannot_mint_an_account_token(
    make_server: ServerFactory, node_clients: NodeClients, database_url: str
) -> None:
    """Apps verifying HS256 tokens hold the app-token key; the account token's key is another."""
    store = Store.from_url(database_url)
    try:
        await add_signing_key(store, "HS256", SECRET, now=datetime.now(UTC))
    finally:
        await store.close()
    async with make_server(token_algorithm="HS256") as server:
        tokens = await signed_in(server, node_clients)
        claims = jwt.decode(tokens["accountToken"], options={"verify_signature": False})
        app_key = server.runtime.keyring.current.current.private_key
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(
                tokens["accountToken"], app_key, algorithms=["HS256"], audience=claims["aud"]
            )
        forged = _forge(claims, app_key, "HS256")
        assert_error(
            await server.client.get("/auth/me", headers=bearer(forged)), 401, "invalid_token"
        )
        ok = await server.client.get("/auth/me", headers=bearer(tokens["accountToken"]))
        assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "audience", [PUBLIC_URL + "/account", PUBLIC_URL + "/account/", "HTTP://LOCALHOST:8000/account"]
)
def test_the_app_audience_cannot_be_the_account_audience(audience: str) -> None:
    with pytest.raises(ValidationError, match="account API"):
        Settings(public_url=PUBLIC_URL, secret_key=SECRET, token_audience=audience)


def test_a_configured_app_audience_is_the_apps_and_the_account_audience_stays() -> None:
    settings = Settings(public_url=PUBLIC_URL, secret_key=SECRET, token_audience="https://api.x")
    assert (settings.audience, settings.account_audience) == (
        "https://api.x",
        PUBLIC_URL + "/account",
    )
