"""OpenID Connect sign-in in headless Chromium on keyfob's hosted page, against a live keyfob.

A relying party sends the browser to ``/oidc/authorize``; the user signs in on the hosted page
with a passkey (a virtual WebAuthn authenticator) or an injected EIP-1193 wallet, and lands
on the relying party's callback with a code, which the test then exchanges. Plain sync tests
(see tests/browser_fixtures.py): async keyfob calls go through ``live.call``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
import jwt

from keyfob.server.services.sso import PLAIN_COOKIE
from tests.browser_fixtures import CallbackApp, LiveKeyfob, VirtualPasskeyPage
from tests.node_clients import NodeClients
from tests.server.oidc.live import ETH_KEY, Registered, register

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def start(live: LiveKeyfob, rp: Registered, page: Page) -> tuple[str, str, str]:
    """Open an authorization in ``page``; the PKCE verifier, state and nonce sent."""
    verifier, state, nonce = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": rp.id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page.goto(f"{live.url}/oidc/authorize?{urlencode(query)}")
    page.wait_for_url(f"{live.url}/oidc/login?*")
    return verifier, state, nonce


def finish(
    live: LiveKeyfob, rp: Registered, app: CallbackApp, page: Page, sent: tuple[str, str, str]
) -> dict[str, Any]:
    """Wait for the callback; exchange its code; the verified ID token's claims."""
    verifier, state, nonce = sent
    page.wait_for_url(rp.redirect_uri + "?*")
    page.wait_for_selector("text=callback received")
    query = app.received[-1].query
    assert query["state"] == state
    assert query["iss"] == live.url
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    answer = httpx.post(
        f"{live.url}/oidc/token", data=form, auth=(rp.id, rp.secret), trust_env=False
    )
    assert answer.status_code == 200, answer.text
    id_token = answer.json()["id_token"]
    jwks = httpx.get(f"{live.url}/.well-known/jwks.json", trust_env=False).json()
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["RS256"], audience=rp.id, issuer=live.url
    )
    assert claims["nonce"] == nonce
    return claims


def test_passkey_sign_in(
    live: LiveKeyfob,
    rp_app: CallbackApp,
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    rp = register(live, rp_app)
    passkey = passkey_page()
    page = passkey.page
    account = {"username": "carol", "redirectUri": rp.redirect_uri}
    page.goto(f"{live.url}/auth/registration/{rp.id}?{urlencode(account)}")
    page.get_by_role("button", name="Create account with a passkey").click()
    page.wait_for_url(rp.redirect_uri + "?*")
    seed = jwt.decode(  # the seed redirect flow's token names the new user
        rp_app.received[-1].query["token"],
        rp.secret,
        algorithms=["HS256"],
        audience=rp.id,
        issuer=live.url,
    )
    page.context.clear_cookies()  # signed out: the authorization must ask for the passkey
    page.add_init_script(NO_AUTOFILL)  # so that only the button signs in

    sent = start(live, rp, page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    claims = finish(live, rp, rp_app, page, sent)
    assert claims["sub"] == seed["sub"]
    assert claims["amr"] == ["hwk", "user"]  # a device-bound key (not backup eligible), UV
    [credential] = passkey.credentials()
    assert credential["signCount"] >= 2  # registration, then this sign-in


def test_wallet_sign_in_with_injected_provider(
    live: LiveKeyfob, rp_app: CallbackApp, chromium: Browser, node_clients: NodeClients
) -> None:
    rp = register(live, rp_app, first_party=False)  # a third party: keyfob asks for consent
    address = node_clients.viem_sign(ETH_KEY, "address").address
    signed: list[str] = []

    def personal_sign(hex_message: str) -> str:
        message = bytes.fromhex(hex_message.removeprefix("0x")).decode()
        signed.append(message)
        return node_clients.viem_sign(ETH_KEY, message).signature

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.expose_function("keyfobTestPersonalSign", personal_sign)
        page.add_init_script(
            "window.ethereum = { request: async ({ method, params }) => {"
            f"  if (method === 'eth_requestAccounts') return [{json.dumps(address)}];"
            "  if (method === 'personal_sign') return window.keyfobTestPersonalSign(params[0]);"
            "  throw new Error('unsupported ' + method); } };"
        )
        sent = start(live, rp, page)
        page.get_by_role("button", name="Sign in with Ethereum").click()
        page.wait_for_url(f"{live.url}/oidc/consent?*")
        assert "See your username" in page.locator("main").inner_text()
        page.get_by_role("button", name="Allow").click()
        claims = finish(live, rp, rp_app, page, sent)

        # RP-initiated logout without an id_token_hint: keyfob asks before signing out.
        bye = {
            "client_id": rp.id,
            "post_logout_redirect_uri": rp.post_logout_uri,
            "state": "bye-3",
        }
        page.goto(f"{live.url}/oidc/logout?{urlencode(bye)}")
        assert any(c["name"] == PLAIN_COOKIE for c in context.cookies())
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url(f"{rp.post_logout_uri}&state=bye-3")
        assert not any(c["name"] == PLAIN_COOKIE for c in context.cookies())
    finally:
        context.close()
    assert claims["amr"] == ["pop"]
    [message] = signed
    assert address in message
    assert live.url.removeprefix("http://") in message  # the SIWE domain is keyfob's
    user = live.call(live.runtime.store.get_user, claims["sub"])
    assert user is not None
    assert [i.address for i in user.identities] == [address]
