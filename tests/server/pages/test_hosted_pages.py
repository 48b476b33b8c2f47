"""The hosted sign-in pages over ASGI: errors as pages, exact redirects, SSO, token delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from keyfob.server.pages.render import content_security_policy
from keyfob.server.services.clients import create_client
from keyfob.server.services.enrollment import create_enrollment_link
from keyfob.store.records import ClientRecord
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, Server, ServerFactory
from tests.server.signin import eth_address, nonce

APP = "https://app.example.com/callback"
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


async def new_client(server: Server, **options: Any) -> tuple[ClientRecord, str]:
    # Registration on: a wallet new to keyfob signing in on the page makes an account.
    values: dict[str, Any] = {
        "name": "Demo <App>",
        "redirect_uris": [APP],
        "open_to_all": True,
        "registration_enabled": True,
    }
    values.update(options)
    return await create_client(server.runtime, **values)


def assert_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "Traceback" not in response.text
    assert '"error"' not in response.text
    return response.text


async def wallet_sign_in(
    server: Server, clients: NodeClients, client_id: str, **target: str
) -> httpx.Response:
    issued = await nonce(server, "ethereum", address=eth_address(clients))
    signature = clients.viem_sign("0x" + "4c" * 32, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": signature, **target}
    return await server.post(f"/auth/login/{client_id}/wallet", body)


async def follow_sign_in(
    server: Server, clients: NodeClients, client: ClientRecord, **target: str
) -> httpx.Response:
    signed = await wallet_sign_in(server, clients, client.id, redirectUri=APP, **target)
    assert signed.status_code == 200, signed.text
    return await server.client.get(signed.json()["next"])


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[Server]:
    async with make_server() as started:
        yield started


async def test_unknown_client_is_a_404_page(server: Server) -> None:
    text = assert_page(await server.client.get("/auth/login/nope?redirectUri=" + APP), 404)
    assert "There is no app with this client id." in text


@pytest.mark.parametrize(
    "near_miss",
    [
        "https://app.example.com:8443/callback",
        "https://app.example.com/callback/extra",
        "https://app.example.com/callback/",
        "http://app.example.com/callback",
        "https://user@app.example.com/callback",
        "https://APP.example.com/callback",
        "https://app.example.com/callback?next=1",
        "https://app.example.com/callback#x",
        "https://app.example.com.evil.test/callback",
        "https://evil.test/?https://app.example.com/callback",
    ],
)
async def test_redirect_near_misses_are_refused(server: Server, near_miss: str) -> None:
    client, _ = await new_client(server)
    response = await server.client.get(
        f"/auth/login/{client.id}", params={"redirectUri": near_miss}
    )
    text = assert_page(response, 400)
    assert "not registered for this app" in text
    assert "token" not in response.headers.get("location", "")
    exact = await server.client.get(f"/auth/login/{client.id}", params={"redirectUri": APP})
    assert "Sign in with a passkey" in assert_page(exact, 200)


async def test_no_registered_uri_explains_the_misconfiguration(server: Server) -> None:
    client, _ = await new_client(server, redirect_uris=[])
    response = await server.client.get(
        f"/auth/login/{client.id}", params={"redirectUri": "https://anywhere.example/cb"}
    )
    assert "no redirect URI registered" in assert_page(response, 400)


async def test_login_page_escapes_and_carries_state(server: Server) -> None:
    client, _ = await new_client(server)
    response = await server.client.get(
        f"/auth/login/{client.id}", params={"redirectUri": APP, "state": '"><script>x'}
    )
    text = assert_page(response, 200)
    assert "Demo &lt;App&gt;" in text
    assert "<script>x" not in text
    assert 'data-state="&#34;&gt;&lt;script&gt;x"' in text
    assert 'autocomplete="username webauthn"' in text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_registration_page_disabled_and_enabled(server: Server) -> None:
    closed, _ = await new_client(server, registration_enabled=False)
    text = assert_page(await server.client.get(f"/auth/registration/{closed.id}"), 403)
    assert "does not let new accounts register" in text
    refused = await server.post(f"/auth/registration/{closed.id}/options", {"username": "ann"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "registration_disabled"
    open_, _ = await new_client(server, registration_enabled=True)
    page = await server.client.get(f"/auth/registration/{open_.id}", params={"username": "john"})
    assert 'value="john"' in assert_page(page, 200)
    options = await server.post(f"/auth/registration/{open_.id}/options", {"username": "john"})
    assert options.status_code == 200
    assert options.json()["user"]["name"] == "john"


async def test_json_endpoints_keep_json_errors(server: Server) -> None:
    response = await server.post("/auth/login/nope/passkey/options", {})
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown_client",
        "message": "There is no app with this client id.",
    }
    client, _ = await new_client(server)
    cross = await server.post(
        f"/auth/login/{client.id}/passkey/options", {}, headers={"origin": "https://evil.test"}
    )
    assert cross.status_code == 403
    assert cross.json()["error"] == "forbidden"


async def test_wallet_sign_in_then_sso_redirect(server: Server, node_clients: NodeClients) -> None:
    client, secret = await new_client(server)
    signed = await wallet_sign_in(
        server, node_clients, client.id, redirectUri=APP, state="/admin/dashboard"
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("keyfob_sso=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie
    redirected = await server.client.get(signed.json()["next"])
    assert redirected.status_code == 303
    location = urlsplit(redirected.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == APP
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["clientId"] == client.id
    assert query["state"] == "/admin/dashboard"
    claims = jwt.decode(
        query["token"], secret, algorithms=["HS256"], audience=client.id, issuer=PUBLIC_URL
    )
    user = await server.runtime.store.get_user(claims["userId"])
    assert user is not None
    assert user.identities[0].address == eth_address(node_clients)
    events = await server.runtime.store.audit_events(event="sso_redirect", client_id=client.id)
    assert [event.user_id for event in events] == [user.id]
    again = await server.client.get(f"/auth/login/{client.id}")  # no state: none sent back
    assert "state=" not in again.headers["location"]
    server.clock.advance(client.authorized_client_lifetime_minutes * 60 + 1)
    stale = await server.client.get(f"/auth/login/{client.id}")
    assert "Sign in with a passkey" in assert_page(stale, 200)


async def test_logout_redirects_only_to_registered_uris(
    server: Server, node_clients: NodeClients
) -> None:
    client, _ = await new_client(server, redirect_uris=[APP, "https://app.example.com/"])
    await follow_sign_in(server, node_clients, client)
    out = await server.client.get(
        f"/auth/logout/{client.id}", params={"redirect": "https://app.example.com/"}
    )
    assert out.status_code == 303
    assert out.headers["location"] == "https://app.example.com/"
    assert 'keyfob_sso=""' in out.headers["set-cookie"]
    assert "Max-Age=0" in out.headers["set-cookie"]
    await follow_sign_in(server, node_clients, client)
    token = server.client.cookies["keyfob_sso"]
    out = await server.client.get(
        f"/auth/logout/{client.id}", params={"redirect": "https://app.example.com.evil.test/"}
    )
    assert out.headers["location"] == f"/auth/logout/{client.id}".replace("logout", "login")
    server.client.cookies.set("keyfob_sso", token)  # the old cookie no longer works
    page = await server.client.get(f"/auth/login/{client.id}", params={"redirectUri": APP})
    assert "Sign in with a passkey" in assert_page(page, 200)


async def test_no_permission_page_gives_no_token(server: Server, node_clients: NodeClients) -> None:
    client, _ = await new_client(server, open_to_all=False)
    denied = await follow_sign_in(server, node_clients, client, state="s")
    text = assert_page(denied, 403)
    assert "has not been given access to Demo &lt;App&gt;" in text
    assert "token" not in text.lower().replace("client_not_permitted", "")
    assert "location" not in denied.headers
    user_id = (await server.runtime.store.audit_events(event="sign_in"))[0].user_id
    assert user_id is not None
    await server.runtime.store.grant_permission(user_id, client.id, now=server.runtime.now())
    allowed = await server.client.get(f"/auth/login/{client.id}", params={"state": "s"})
    assert allowed.status_code == 303
    assert "token=" in allowed.headers["location"]


async def test_form_post_and_fragment_delivery(server: Server, node_clients: NodeClients) -> None:
    posted, _ = await new_client(server, token_delivery="form_post")
    page = await follow_sign_in(server, node_clients, posted, state="a&b")
    text = page.text
    assert page.status_code == 200
    assert f'action="{APP}"' in text
    assert 'name="token" value="ey' in text
    assert 'name="state" value="a&amp;b"' in text
    assert f'name="clientId" value="{posted.id}"' in text
    assert '<script src="/static/form_post.js"' in text
    csp = page.headers["content-security-policy"]
    assert csp == content_security_policy(["https://app.example.com"])
    assert "form-action 'self' https://app.example.com;" in csp
    fragment, _ = await new_client(server, token_delivery="fragment")
    redirected = await server.client.get(f"/auth/login/{fragment.id}")
    location = redirected.headers["location"]
    assert redirected.status_code == 303
    assert location.startswith(APP + "#token=")
    assert f"&clientId={fragment.id}" in location
    assert "?" not in location


async def test_secure_cookie_on_https(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server(public_url="https://auth.example.test") as server:
        client, _ = await new_client(server)
        signed = await wallet_sign_in(server, node_clients, client.id, redirectUri=APP)
        assert signed.status_code == 200, signed.text
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith("__Host-keyfob_sso=")
        for part in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
            assert part in cookie
        assert "Domain" not in cookie


async def test_bad_wallet_signature_is_refused_and_audited(
    server: Server, node_clients: NodeClients
) -> None:
    client, _ = await new_client(server)
    issued = await nonce(server, "ethereum", address=eth_address(node_clients))
    forged = node_clients.viem_sign("0x" + "5d" * 32, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": forged}
    refused = await server.post(f"/auth/login/{client.id}/wallet", body)
    assert refused.status_code == 401
    assert "set-cookie" not in refused.headers
    events = await server.runtime.store.audit_events(event="sign_in_failed")
    assert events
    assert events[0].client_id == client.id


async def test_admin_pages(server: Server) -> None:
    assert "Sign in with a passkey" in assert_page(await server.client.get("/admin/login"), 200)
    assert "no token" in assert_page(await server.client.get("/admin/enroll"), 422)
    link, _ = await create_enrollment_link(
        server.runtime.store, public_url=PUBLIC_URL, now=server.runtime.now()
    )
    token = parse_qs(urlsplit(link).query)["token"][0]
    page = await server.client.get("/admin/enroll", params={"token": token})
    assert f'data-token="{token}"' in assert_page(page, 200)
    options = await server.post("/admin/enroll/options", {"token": token, "username": "root"})
    assert options.status_code == 200
    assert options.json()["user"]["name"] == "root"
    spent = await server.post("/admin/enroll/options", {"token": token})
    assert spent.status_code == 401
    assert spent.json()["error"] == "invalid_challenge"


async def test_static_files(server: Server) -> None:
    css = await server.client.get("/static/keyfob.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["x-content-type-options"] == "nosniff"
    js = await server.client.get("/static/login.js")
    assert "javascript" in js.headers["content-type"]


async def test_admin_wallet_sign_in_continues_to_admin(
    server: Server, node_clients: NodeClients
) -> None:
    issued = await nonce(server, "ethereum", address=eth_address(node_clients))
    signature = node_clients.viem_sign("0x" + "4c" * 32, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": signature}
    signed = await server.post("/admin/login/wallet", body)
    assert signed.status_code == 200, signed.text
    assert signed.json() == {"next": "/admin"}
    assert signed.headers["set-cookie"].startswith("keyfob_sso=")
    replay = await server.post("/admin/login/wallet", body)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_nonce"


# --- a client that requires state (login CSRF) -----------------------------------------------


@pytest.mark.parametrize("state", [None, ""])
async def test_a_client_requiring_state_refuses_requests_without_one(
    server: Server, node_clients: NodeClients, state: str | None
) -> None:
    """With require_state on, no state (or an empty one) gets an HTML page and no redirect,
    on the login page (even with a live SSO session), the registration page and the JSON
    endpoints; a state is let through. (Before: the page and the redirect were served.)"""
    client, _ = await new_client(server, require_state=True)
    params = {"redirectUri": APP, **({} if state is None else {"state": state})}
    text = assert_page(await server.client.get(f"/auth/login/{client.id}", params=params), 400)
    assert "requires a state" in text
    registration = await server.client.get(f"/auth/registration/{client.id}", params=params)
    assert "requires a state" in assert_page(registration, 400)
    refused = await wallet_sign_in(server, node_clients, client.id, **params)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "state_required"
    assert "set-cookie" not in refused.headers
    signed = await wallet_sign_in(server, node_clients, client.id, redirectUri=APP, state="s1")
    assert signed.status_code == 200, signed.text
    back = await server.client.get(signed.json()["next"])
    assert back.status_code == 303
    assert "state=s1" in back.headers["location"]
    live = await server.client.get(f"/auth/login/{client.id}", params=params)  # SSO is live
    assert "location" not in live.headers
    assert "requires a state" in assert_page(live, 400)


async def test_logout_of_a_client_requiring_state_ends_on_a_signed_out_page(
    server: Server, node_clients: NodeClients
) -> None:
    """Its login page without a state is an error page, so logout shows "signed out" instead."""
    client, _ = await new_client(server, require_state=True)
    await follow_sign_in(server, node_clients, client, state="s")
    out = await server.client.get(f"/auth/logout/{client.id}")
    assert "You are signed out" in assert_page(out, 200)
    assert 'keyfob_sso=""' in out.headers["set-cookie"]
    back = await server.client.get(f"/auth/logout/{client.id}", params={"redirect": APP})
    assert (back.status_code, back.headers["location"]) == (303, APP)


async def test_state_stays_optional_by_default(server: Server) -> None:
    client, _ = await new_client(server)
    assert not client.require_state
    assert_page(await server.client.get(f"/auth/login/{client.id}"), 200)


# --- registration off: no new account on any path ------------------------------------------


async def test_wallet_sign_in_makes_no_account_when_registration_is_off(
    server: Server, node_clients: NodeClients
) -> None:
    """Before: an unknown wallet signing in on the login page of a client with registration
    off got a new account. Now refused, no user row; a wallet with an account still signs in."""
    client, _ = await new_client(server, registration_enabled=False)
    refused = await wallet_sign_in(server, node_clients, client.id, redirectUri=APP)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "registration_disabled"
    assert "set-cookie" not in refused.headers
    assert await server.runtime.store.count_users() == 0
    [failure] = await server.runtime.store.audit_events(client_id=client.id)
    assert failure.event == "sign_in_failed"
    # A wallet whose account was made elsewhere still signs in here.
    await server.runtime.store.sign_in_identity(
        kind="ethereum", address=eth_address(node_clients), public_key=None, now=server.clock()
    )
    signed = await wallet_sign_in(server, node_clients, client.id, redirectUri=APP)
    assert signed.status_code == 200, signed.text
    assert await server.runtime.store.count_users() == 1


async def test_registration_off_closes_the_passkey_registration_endpoints(server: Server) -> None:
    client, _ = await new_client(server, registration_enabled=False)
    for path in ("options", "verify"):
        body: dict[str, Any] = {"credential": {}} if path == "verify" else {}
        refused = await server.post(f"/auth/registration/{client.id}/{path}", body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "registration_disabled"
    assert await server.runtime.store.count_users() == 0
