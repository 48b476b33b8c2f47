"""Sign out everywhere: every browser and app session ends, apps refuse the live access tokens
(``keyfob.integrations.TokenVerifier`` with the denylist feed, over real HTTP), refresh tokens
stop, OpenID Connect grants end with their SSO sessions' hooks (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from keyfob.core.tokens import hash_refresh_token
from keyfob.errors import TokenRevoked
from keyfob.integrations import TokenVerifier
from keyfob.integrations.denylist import RemoteDenylist
from keyfob.server.services.sso import PLAIN_COOKIE
from tests.node_clients import NodeClients
from tests.server.account.holder import Browser, open_browser
from tests.server.account.sessions_helpers import app_session, listed
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.oidc.flow import code_for, exchange, register


@asynccontextmanager
async def over_http(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` (already in its lifespan) on a loopback port of this event loop, as an
    app's verifier reaches keyfob: its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises why it did not start
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def test_apps_refuse_the_access_tokens_and_refresh_tokens_stop(
    server: Server, node_clients: NodeClients
) -> None:
    app = await app_session(server, node_clients)
    here = await open_browser(server, app.user)
    there = await open_browser(server, app.user)
    heard: list[str] = []

    async def hook(sso: object) -> None:
        heard.append(getattr(sso, "token_hash", ""))

    server.runtime.session_end_hooks.append(hook)
    async with over_http(server.app) as url:
        denylist = RemoteDenylist(url + "/auth/denylist")
        verifier = TokenVerifier(
            issuer=PUBLIC_URL,
            audience=PUBLIC_URL,
            jwks_url=url + "/.well-known/jwks.json",
            denylist=denylist,
        )
        access = app.tokens["accessToken"]
        assert (await verifier.verify(access)).session_id == app.sid

        response = await here.post("/account/sessions/end-all")
        assert (response.status_code, response.headers["location"]) == (303, "/account/login")
        assert 'keyfob_sso=""' in response.headers["set-cookie"]

        await denylist.refresh()  # the app's next poll of the feed
        with pytest.raises(TokenRevoked):
            await verifier.verify(access)
        await denylist.aclose()
    refused = await server.post("/auth/refresh", {"refreshToken": app.tokens["refreshToken"]})
    assert refused.status_code == 401, refused.text
    for browser in (here, there):
        assert (await browser.client.get("/account")).headers["location"] == "/account/login"
    assert sorted(heard) == sorted(hash_refresh_token(b.token) for b in (here, there))
    [event] = await server.runtime.store.audit_events(event="account.signed_out_everywhere")
    assert event.user_id == app.user.id
    assert json.loads(event.detail) == {"sessions": 1, "browsers": 2, "grants": 0}


async def test_openid_connect_grants_end_with_the_sessions(
    server: Server, node_clients: NodeClients
) -> None:
    """A sign-in at an OpenID Connect client is a browser session with a grant: both end, the
    grant through the SSO session's end hooks, its refresh token refused at the token endpoint."""
    rp = await register(server)
    back = await code_for(server, node_clients, rp, scope="openid profile offline_access")
    tokens = (await exchange(server, rp, back["code"])).json()
    assert "refresh_token" in tokens
    token = server.client.cookies[PLAIN_COOKIE]
    sso = await server.runtime.store.get_sso_session(hash_refresh_token(token), now=server.clock())
    assert sso is not None
    assert sso.device is not None
    assert sso.device.startswith("python-httpx")  # the sign-in page's caller, summed up
    user = await server.runtime.store.get_user(sso.user_id)
    assert user is not None
    here = Browser(server, user, token, server.client)
    elsewhere = await open_browser(server, user)
    assert len(await listed(server, here)) == 2

    response = await elsewhere.post("/account/sessions/end-all")
    assert response.headers["location"] == "/account/login"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    dead = await server.client.post("/oidc/token", data=refresh, headers=rp.basic())
    assert dead.json()["error"] == "invalid_grant"
    assert await server.runtime.store.grants_of_user(user.id, now=server.clock()) == []
    assert (await here.client.get("/account")).headers["location"] == "/account/login"
    [event] = await server.runtime.store.audit_events(event="account.signed_out_everywhere")
    assert json.loads(event.detail) == {"sessions": 0, "browsers": 2, "grants": 1}


async def test_ending_the_browser_of_an_openid_sign_in_ends_its_grant(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)
    back = await code_for(server, node_clients, rp, scope="openid offline_access")
    tokens = (await exchange(server, rp, back["code"])).json()
    token = server.client.cookies[PLAIN_COOKIE]
    sso = await server.runtime.store.get_sso_session(hash_refresh_token(token), now=server.clock())
    assert sso is not None
    user = await server.runtime.store.get_user(sso.user_id)
    assert user is not None
    elsewhere = await open_browser(server, user)
    [this, oidc_browser] = await listed(server, elsewhere)
    assert this.current
    response = await elsewhere.post("/account/sessions/end", {"session": oidc_browser.id})
    assert response.headers["location"] == "/account?done=session_ended"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    dead = await server.client.post("/oidc/token", data=refresh, headers=rp.basic())
    assert dead.json()["error"] == "invalid_grant"
    assert (await elsewhere.client.get("/account")).status_code == 200
