"""The browser-test harness: Chromium, live keyfob, virtual passkeys, callback, jsonwebtoken."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from webauthn import verify_authentication_response, verify_registration_response

from tests.browser_fixtures import CallbackApp, CallbackRequest, LiveKeyfob, VirtualPasskeyPage
from tests.jsonwebtoken import JsonWebTokenError, verify_with_jsonwebtoken

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REGISTER = """async ({challenge, userId}) => {
  const decode = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const credential = await navigator.credentials.create({publicKey: {
    rp: {id: "localhost", name: "keyfob test"},
    user: {id: decode(userId), name: "alice", displayName: "Alice"},
    challenge: decode(challenge),
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {residentKey: "required", userVerification: "required"},
  }});
  return credential.toJSON();
}"""

ASSERT = """async ({challenge}) => {
  const decode = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const credential = await navigator.credentials.get({publicKey: {
    rpId: "localhost", challenge: decode(challenge), userVerification: "required",
  }});
  return credential.toJSON();
}"""

SUBMIT_FORM = """(fields) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/callback";
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url_to_std(value: str) -> str:
    return _b64(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def test_live_keyfob_serves_chromium_and_shares_its_loop(
    live_keyfob: Callable[..., LiveKeyfob], chromium: Browser
) -> None:
    live = live_keyfob(token_algorithm="ES256")
    assert live.url.startswith("http://localhost:")
    page = chromium.new_page()
    try:
        response = page.goto(f"{live.url}/healthz")
        assert response is not None
        assert response.status == 200
        assert json.loads(page.inner_text("body"))["status"] == "ok"
    finally:
        page.close()
    keys = live.call(live.runtime.store.signing_keys)
    assert keys
    assert {key.alg for key in keys} == {"ES256"}


def test_virtual_passkey_registers_signs_and_takes_a_sign_count(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    live = live_keyfob()
    passkey = passkey_page()
    passkey.page.goto(f"{live.url}/healthz")
    challenge, user_id = secrets.token_bytes(32), secrets.token_bytes(16)
    created = passkey.page.evaluate(
        REGISTER, {"challenge": _b64(challenge), "userId": _b64(user_id)}
    )
    registration = verify_registration_response(
        credential=created,
        expected_challenge=challenge,
        expected_origin=live.url,
        expected_rp_id="localhost",
        require_user_verification=True,
    )

    [stored] = passkey.credentials()
    assert stored["isResidentCredential"] is True
    assert stored["rpId"] == "localhost"
    assert stored["credentialId"] == _b64url_to_std(created["id"])
    assert stored["userHandle"] == _b64(user_id)

    passkey.set_sign_count(stored["credentialId"], 41)
    [updated] = passkey.credentials()
    assert updated["signCount"] == 41
    assert updated["privateKey"] == stored["privateKey"]

    challenge = secrets.token_bytes(32)
    asserted = passkey.page.evaluate(ASSERT, {"challenge": _b64(challenge)})
    authentication = verify_authentication_response(
        credential=asserted,
        expected_challenge=challenge,
        expected_origin=live.url,
        expected_rp_id="localhost",
        credential_public_key=registration.credential_public_key,
        credential_current_sign_count=41,
        require_user_verification=True,
    )
    assert authentication.new_sign_count == 42
    with pytest.raises(LookupError):
        passkey.set_sign_count(_b64(b"no such credential"), 1)


def test_callback_app_records_get_and_form_post(
    callback_app: CallbackApp, chromium: Browser
) -> None:
    page = chromium.new_page()
    try:
        page.goto(f"{callback_app.callback_url}?token=abc.def&state=s1")
        assert "callback received" in page.inner_text("body")
        page.goto(callback_app.url)
        with page.expect_navigation():
            page.evaluate(SUBMIT_FORM, {"token": "t.o.k", "state": "s2"})
        assert "callback received" in page.inner_text("body")
    finally:
        page.close()
    assert callback_app.received == [
        CallbackRequest("GET", {"token": "abc.def", "state": "s1"}, {}),
        CallbackRequest("POST", {}, {"token": "t.o.k", "state": "s2"}),
    ]


def _token(secret: str, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "user-1", "userId": "user-1", "iat": now, "exp": now + 60, **claims}
    return jwt.encode(payload, secret, algorithm=algorithm)


def test_jsonwebtoken_verifies_hs256_and_refuses_the_rest() -> None:
    secret = secrets.token_urlsafe(32)
    assert len(secret) == 43
    token = _token(secret)
    assert verify_with_jsonwebtoken(token, secret) == jwt.decode(
        token, secret, algorithms=["HS256"]
    )

    with pytest.raises(JsonWebTokenError) as wrong:
        verify_with_jsonwebtoken(token, secrets.token_urlsafe(32))
    assert (wrong.value.name, wrong.value.message) == ("JsonWebTokenError", "invalid signature")

    with pytest.raises(JsonWebTokenError) as hs512:
        verify_with_jsonwebtoken(_token(secret * 2, "HS512"), secret * 2)
    assert (hs512.value.name, hs512.value.message) == ("JsonWebTokenError", "invalid algorithm")

    unsigned = jwt.encode({"sub": "user-1"}, "", algorithm="none")
    with pytest.raises(JsonWebTokenError) as none:
        verify_with_jsonwebtoken(unsigned, secret)
    assert (none.value.name, none.value.message) == (
        "JsonWebTokenError",
        "jwt signature is required",
    )

    with pytest.raises(JsonWebTokenError) as expired:
        verify_with_jsonwebtoken(_token(secret, exp=int(time.time()) - 5), secret)
    assert (expired.value.name, expired.value.message) == ("TokenExpiredError", "jwt expired")
