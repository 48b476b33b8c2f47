"""Random and hostile bodies at every endpoint: always a 4xx with the error shape, never a 500."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.server.services.clients import create_client
from keyfob.server.services.tokens import mint_access_token
from tests.server.admin.panel import make_user, sign_in_panel
from tests.server.conftest import PUBLIC_URL, Server

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


# Hostile values for every string that reaches a query: the hosted pages, the admin panel and
# the JSON API's path and query parameters, one slot at a time (the others valid). The pages
# are not in the OpenAPI document, so schema fuzzing never reaches them. Without the checks at
# the edge, PostgreSQL answers a NUL byte with a server error (SQLite stores or ignores it).
HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    "alice\n",
    "\r\n",
    "\t",
    "\x7f",
    "\x1b[31m",
    "\u202e",
    "é✓😀",
    "x" * 5000,
    "' OR '1'='1",
    "../..",
    "%00",
    " ",
    "",
]
HOSTILE_JSON: list[Any] = [*HOSTILE_TEXT, "\ud800", None, True, 0, -1, 2**70, 1.5, [], {}, ["\x00"]]
APP = "https://app.example.com/callback"


@dataclass(frozen=True)
class Route:
    """An endpoint and its slots: path parameters, query parameters and body (JSON or form)
    fields; ``page`` when its errors are HTML pages rather than JSON."""

    method: str
    path: str
    query: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    form: bool = False
    page: bool = False


PAGE_ROUTES = [
    Route("GET", "/auth/login/{client_id}", query=("redirectUri", "state"), page=True),
    Route("POST", "/auth/login/{client_id}/passkey/options", body=("username", "token")),
    Route("POST", "/auth/login/{client_id}/passkey", body=("credential", "redirectUri", "state")),
    Route(
        "POST",
        "/auth/login/{client_id}/wallet",
        body=("chain", "message", "signature", "publicKey", "redirectUri", "state"),
    ),
    Route(
        "GET",
        "/auth/registration/{client_id}",
        query=("username", "redirectUri", "state"),
        page=True,
    ),
    Route("POST", "/auth/registration/{client_id}/options", body=("username", "token")),
    Route(
        "POST", "/auth/registration/{client_id}/verify", body=("credential", "redirectUri", "state")
    ),
    Route("GET", "/auth/logout/{client_id}", query=("redirect",), page=True),
    Route("GET", "/admin/login", page=True),
    Route("POST", "/admin/login/passkey/options", body=("username", "token")),
    Route("POST", "/admin/login/passkey", body=("credential", "redirectUri", "state")),
    Route("POST", "/admin/login/wallet", body=("chain", "message", "signature", "publicKey")),
    Route("GET", "/admin/enroll", query=("token",), page=True),
    Route("POST", "/admin/enroll/options", body=("username", "token")),
    Route("POST", "/admin/enroll/verify", body=("credential",)),
    Route("GET", "/account/recover", page=True),
    Route("POST", "/account/recover", body=("identifier", "code"), form=True, page=True),
    Route("GET", "/account/recover/link", page=True),
    Route("POST", "/account/recover/link", body=("token",), form=True, page=True),
]
CLIENT_FORM = (
    "name",
    "redirect_uris",
    "token_delivery",
    "registration_enabled",
    "access",
    "token_lifetime_minutes",
    "authorized_client_lifetime_minutes",
    "csrf",
)
ADMIN_ROUTES = [
    Route("GET", "/admin", page=True),
    Route("GET", "/admin/clients", page=True),
    Route("GET", "/admin/clients/new", page=True),
    Route("POST", "/admin/clients/new", body=CLIENT_FORM, form=True, page=True),
    Route("GET", "/admin/clients/{client_id}", page=True),
    Route("POST", "/admin/clients/{client_id}", body=CLIENT_FORM, form=True, page=True),
    Route("POST", "/admin/clients/{client_id}/rotate", body=("csrf",), form=True, page=True),
    Route("GET", "/admin/clients/{client_id}/delete", page=True),
    Route("POST", "/admin/clients/{client_id}/delete", body=("csrf",), form=True, page=True),
    Route("GET", "/admin/users", query=("q",), page=True),
    Route("GET", "/admin/users/{user_id}", page=True),
    Route("POST", "/admin/users/{user_id}/disable", body=("csrf",), form=True, page=True),
    Route("POST", "/admin/users/{user_id}/enable", body=("csrf",), form=True, page=True),
    Route("GET", "/admin/users/{user_id}/delete", page=True),
    Route("POST", "/admin/users/{user_id}/delete", body=("csrf",), form=True, page=True),
    Route("POST", "/admin/users/{user_id}/grant", body=("client_id", "csrf"), form=True, page=True),
    Route(
        "POST", "/admin/users/{user_id}/revoke", body=("client_id", "csrf"), form=True, page=True
    ),
    Route("POST", "/admin/users/{user_id}/recovery-link", body=("csrf",), form=True, page=True),
    Route("GET", "/admin/settings", page=True),
    Route(
        "POST",
        "/admin/settings",
        body=("token_lifetime_minutes", "authorized_client_lifetime_minutes", "csrf"),
        form=True,
        page=True,
    ),
    Route("GET", "/admin/audit", query=("event", "user_id", "client_id", "before"), page=True),
]
API_ROUTES = [
    Route("GET", "/auth/nonce", query=("chain", "address", "chainId")),
    Route("POST", "/auth/passkey/login/options", body=("username",)),
    Route("POST", "/auth/passkey/register/options", body=("username",)),
    Route("POST", "/auth/passkey/login/verify", body=("credential",)),
    Route("POST", "/auth/passkey/register/verify", body=("credential",)),
    Route("POST", "/auth/session-key/token", body=("thumbprint", "timestamp", "signature")),
    Route("POST", "/auth/methods/wallet", body=("chain", "message", "signature", "publicKey")),
    Route("GET", "/auth/session-keys"),
    Route("DELETE", "/auth/session-keys/{thumbprint}"),
    Route("DELETE", "/auth/methods/{identity_id}"),
    Route("GET", "/auth/me"),
    Route("POST", "/auth/logout", body=("refreshToken",)),  # last: it ends the session
]
# What each slot holds when it is not the one under attack.
VALID: dict[str, Any] = {
    "redirectUri": APP,
    "redirect": APP,
    "state": "s-1",
    "username": "alice",
    "identifier": "alice",
    "code": "AAAA-BBBB-CCCC-DDDD",
    "token": "enrolment-token",
    "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}},
    "chain": "ethereum",
    "message": "localhost:8000 wants you to sign in with your Ethereum account:\n0x",
    "signature": "0x00",
    "publicKey": None,
    "refreshToken": "r",
    "thumbprint": "A" * 43,
    "timestamp": 0,
    "address": "0x" + "ab" * 20,
    "chainId": "1",
    "q": "0x",
    "event": "admin.*",
    "before": "10",
    "name": "App",
    "redirect_uris": APP,
    "token_delivery": "query",
    "registration_enabled": "on",
    "access": "open",
    "token_lifetime_minutes": "5",
    "authorized_client_lifetime_minutes": "60",
}


async def _attack(
    server: Server, route: Route, known: dict[str, str], slot: str, value: Any
) -> httpx.Response:
    """Send ``route`` with ``value`` in ``slot`` and valid values (``known``: real ids and the
    CSRF token) everywhere else."""
    values = {**VALID, **known, slot: value}
    path = route.path
    for name in re.findall(r"{(\w+)}", route.path):
        path = path.replace("{" + name + "}", quote(values[name], safe=""))
    kwargs: dict[str, Any] = {"headers": {"origin": PUBLIC_URL}}
    if route.query:
        kwargs["params"] = {name: str(values[name]) for name in route.query}
    fields = {name: values[name] for name in route.body}
    if route.form:
        kwargs["data"] = {name: str(field) for name, field in fields.items()}
    elif route.body:
        kwargs["content"] = json.dumps(fields).encode()
        kwargs["headers"]["content-type"] = "application/json"
    return await server.client.request(route.method, path, **kwargs)


def _slots(route: Route) -> list[tuple[str, list[Any]]]:
    """Every slot of ``route`` with the values to try in it."""
    slots: list[tuple[str, list[Any]]] = [
        (name, HOSTILE_TEXT) for name in re.findall(r"{(\w+)}", route.path)
    ]
    slots += [(name, HOSTILE_TEXT) for name in route.query]
    slots += [(name, HOSTILE_TEXT if route.form else HOSTILE_JSON) for name in route.body]
    return slots or [("", [None])]


def _check(route: Route, slot: str, value: Any, response: httpx.Response) -> None:
    where = (route.method, route.path, slot, value if len(repr(value)) < 40 else "long")
    assert response.status_code < 500, (where, response.text[:300])
    if response.status_code < 400:
        return
    kind = response.headers.get("content-type", "")
    if route.page:
        assert kind.startswith("text/html"), (where, response.text[:300])
        assert "Traceback" not in response.text, where
    else:
        assert kind.startswith("application/json"), (where, response.text[:300])
        assert set(response.json()) == {"error", "message"}, (where, response.text[:300])


async def _fuzz(server: Server, routes: list[Route], known: dict[str, str]) -> int:
    """Attack every slot of every route with every hostile value; the number of requests."""
    sent = 0
    for route in routes:
        for slot, values in _slots(route):
            for value in values:
                response = await _attack(server, route, known, slot, value)
                _check(route, slot, value, response)
                sent += 1
    return sent


async def test_hosted_pages_refuse_hostile_values(server: Server) -> None:
    client, _ = await create_client(
        server.runtime, name="App", redirect_uris=[APP], registration_enabled=True, open_to_all=True
    )
    assert await _fuzz(server, PAGE_ROUTES, {"client_id": client.id}) > 300


async def test_admin_panel_refuses_hostile_values(server: Server) -> None:
    panel = await sign_in_panel(server)
    victim = await make_user(server, "0x" + "be" * 20)
    client, _ = await create_client(server.runtime, name="App", redirect_uris=[APP])
    known = {"client_id": client.id, "user_id": victim.id, "csrf": await panel.csrf()}
    assert await _fuzz(server, ADMIN_ROUTES, known) > 300


async def test_api_paths_and_queries_refuse_hostile_values(server: Server) -> None:
    user = await make_user(server, "0x" + "be" * 20)
    now = server.runtime.now()
    session = await server.runtime.store.create_session(
        user_id=user.id,
        identity_id=user.identities[0].id,
        amr=("ethereum",),
        refresh_token_hash=hash_refresh_token(new_refresh_token()),
        now=now,
        refresh_expires_at=now + timedelta(days=1),
    )
    token = mint_access_token(server.runtime, user, session, amr=("ethereum",))
    server.client.headers["authorization"] = f"Bearer {token}"
    known = {"thumbprint": "A" * 43, "identity_id": user.identities[0].id}
    assert await _fuzz(server, API_ROUTES, known) > 200
