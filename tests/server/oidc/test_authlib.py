"""Authlib's OAuth 2.0 client against a live keyfob over HTTP: the same flow as openid-client.

Authlib builds the authorization URL (PKCE S256, state, nonce), checks the state coming back
and exchanges the code; the ID token is verified with joserfc (Authlib's JOSE library) against
keyfob's JWKS and validated as an ``authlib.oidc.core.CodeIDToken`` (iss, aud, exp, nonce,
at_hash). Authlib has no RFC 9207 or RP-initiated logout support, so those checks are by hand.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tests.browser_fixtures import CallbackApp, LiveKeyfob
from tests.node_clients import NodeClients
from tests.server.oidc.live import SCOPES, Browser, Registered, query_of, register

with warnings.catch_warnings():
    # Authlib 1.9 wants the httpx2 fork and warns on importing its client over plain httpx.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client


class ShortPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """Authlib's private_key_jwt with a one-minute assertion: its default hour is more than
    keyfob accepts (RFC 7523 leaves the limit to the server; keyfob's is five minutes)."""

    def sign(self, auth: Any, token_endpoint: str) -> bytes:
        return private_key_jwt_sign(  # type: ignore[no-any-return]
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            header=self.headers,
            expires_in=60,
        )


@pytest.fixture(scope="module")
def metadata(live: LiveKeyfob) -> dict[str, Any]:
    answer = httpx.get(f"{live.url}/.well-known/openid-configuration", trust_env=False)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    assert document["issuer"] == live.url
    return document


@pytest.fixture
def browser(live: LiveKeyfob, node_clients: NodeClients) -> Iterator[Browser]:
    with Browser(live, node_clients) as browser:
        yield browser


def oauth_client(rp: Registered, scope: str = SCOPES, **options: Any) -> OAuth2Client:
    options.setdefault("client_secret", rp.secret)
    return OAuth2Client(
        client_id=rp.id,
        scope=scope,
        redirect_uri=rp.redirect_uri,
        code_challenge_method="S256",
        trust_env=False,
        **options,
    )


def id_token_claims(
    metadata: dict[str, Any], rp: Registered, token: dict[str, Any], nonce: str
) -> CodeIDToken:
    """Verify the ID token's signature against the JWKS; validate it as OIDC Core 3.1.3.7."""
    jwks = httpx.get(metadata["jwks_uri"], trust_env=False).json()
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": metadata["issuer"]}},
        params={"nonce": nonce, "client_id": rp.id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    return claims


def sign_in(
    client: OAuth2Client, metadata: dict[str, Any], rp: Registered, browser: Browser
) -> tuple[dict[str, Any], CodeIDToken]:
    """An authorization through the browser, Authlib's code exchange, the ID token checked."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert f"code_challenge={create_s256_code_challenge(verifier)}" in url
    back = browser.authorize(url)
    assert back.startswith(rp.redirect_uri + "?")
    assert query_of(back)["iss"] == metadata["issuer"]  # RFC 9207, which Authlib leaves to us
    token: dict[str, Any] = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=back,
        state=state,
        code_verifier=verifier,
    )
    return token, id_token_claims(metadata, rp, token, nonce)


def test_code_flow_refresh_revoke_introspect_and_logout(
    live: LiveKeyfob, rp_app: CallbackApp, metadata: dict[str, Any], browser: Browser
) -> None:
    rp = register(live, rp_app)
    with oauth_client(rp) as client:
        token, claims = sign_in(client, metadata, rp, browser)
        assert claims["aud"] == rp.id
        assert "sid" in claims
        info = client.get(metadata["userinfo_endpoint"])
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"]
        assert info.json()["wallets"] or info.json()["preferred_username"]

        seen = client.introspect_token(
            metadata["introspection_endpoint"], token=token["access_token"]
        )
        assert seen.json()["active"] is True
        assert seen.json()["sub"] == claims["sub"]

        old_refresh = token["refresh_token"]
        new = client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
        assert new["refresh_token"] != old_refresh
        assert client.get(metadata["userinfo_endpoint"]).status_code == 200  # the new token
        with pytest.raises(OAuthError, match="invalid_grant"):
            client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)

        token, _ = sign_in(client, metadata, rp, browser)  # the reuse revoked that grant
        revoked = client.revoke_token(
            metadata["revocation_endpoint"],
            token=token["access_token"],
            token_type_hint="access_token",
        )
        assert revoked.status_code == 200, revoked.text
        refused = client.get(metadata["userinfo_endpoint"])
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        gone = client.introspect_token(
            metadata["introspection_endpoint"], token=token["access_token"]
        )
        assert gone.json() == {"active": False}

        token, _ = sign_in(client, metadata, rp, browser)
    hint = {
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": rp.post_logout_uri,
        "state": "bye-2",
    }
    assert browser.signed_in
    out = browser.follow(f"{metadata['end_session_endpoint']}?{urlencode(hint)}")
    assert out.status_code == 303, out.text
    assert out.headers["location"] == f"{rp.post_logout_uri}&state=bye-2"
    assert not browser.signed_in


def test_client_secret_post(
    live: LiveKeyfob, rp_app: CallbackApp, metadata: dict[str, Any], browser: Browser
) -> None:
    rp = register(live, rp_app, auth_method="client_secret_post")
    with oauth_client(rp, token_endpoint_auth_method="client_secret_post") as client:
        token, _ = sign_in(client, metadata, rp, browser)
        new = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert new["access_token"] != token["access_token"]
    with oauth_client(rp) as basic, pytest.raises(OAuthError, match="invalid_client"):
        basic.refresh_token(metadata["token_endpoint"], refresh_token=new["refresh_token"])


def test_public_client_with_pkce(
    live: LiveKeyfob, rp_app: CallbackApp, metadata: dict[str, Any], browser: Browser
) -> None:
    rp = register(live, rp_app, public=True)
    with oauth_client(
        rp, scope="openid profile", client_secret=None, token_endpoint_auth_method="none"
    ) as client:
        token, claims = sign_in(client, metadata, rp, browser)
        assert claims["aud"] == rp.id
        assert "refresh_token" not in token
        # The code's PKCE binding: a second authorization, exchanged with the wrong verifier.
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n"
        )
        back = browser.authorize(url)
        with pytest.raises(OAuthError, match="invalid_grant"):
            client.fetch_token(
                metadata["token_endpoint"],
                authorization_response=back,
                state=state,
                code_verifier=generate_token(48),
            )


def test_private_key_jwt(
    live: LiveKeyfob, rp_app: CallbackApp, metadata: dict[str, Any], browser: Browser
) -> None:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
    jwks = json.dumps(KeySet([key]).as_dict(private=False))
    rp = register(live, rp_app, auth_method="private_key_jwt", jwks=jwks)
    token_endpoint = metadata["token_endpoint"]
    with oauth_client(
        rp, client_secret=key, token_endpoint_auth_method="private_key_jwt"
    ) as client:
        client.register_client_auth_method(
            ShortPrivateKeyJWT(token_endpoint, alg="ES256", headers={"kid": key.kid})
        )
        token, _ = sign_in(client, metadata, rp, browser)
        new = client.refresh_token(token_endpoint, refresh_token=token["refresh_token"])
        assert new["refresh_token"] != token["refresh_token"]
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    with oauth_client(
        rp, client_secret=stranger, token_endpoint_auth_method="private_key_jwt"
    ) as client:
        client.register_client_auth_method(ShortPrivateKeyJWT(token_endpoint, alg="ES256"))
        with pytest.raises(OAuthError, match="invalid_client"):
            client.refresh_token(token_endpoint, refresh_token=new["refresh_token"])
    with oauth_client(
        rp, client_secret=key, token_endpoint_auth_method="private_key_jwt"
    ) as client:  # Authlib's default: an assertion valid for an hour, too long for keyfob
        client.register_client_auth_method(PrivateKeyJWT(token_endpoint, alg="ES256"))
        with pytest.raises(OAuthError, match="invalid_client"):
            client.refresh_token(token_endpoint, refresh_token=new["refresh_token"])
