"""Tests for keyfob.core.oidc_discovery: the OpenID Provider Metadata document."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.core.oidc_claims import SCOPE_CLAIMS, claims_supported
from keyfob.core.oidc_discovery import (
    check_issuer,
    endpoint,
    oauth_metadata_url,
    openid_configuration_url,
    provider_metadata,
)
from keyfob.errors import ConfigurationError

ISS = "https://auth.example.com"
METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
# OpenID Connect Discovery 1.0 §3: the metadata an OP must publish.
DISCOVERY_REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)


def _metadata(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "issuer": ISS,
        "id_token_algs": ("RS256", "EdDSA"),
        "token_endpoint_auth_methods": METHODS,
        "scopes": ("openid", *SCOPE_CLAIMS, "offline_access"),
        "claims": claims_supported(),
    }
    return provider_metadata(**{**args, **changes})


def test_the_whole_document() -> None:
    assert _metadata() == {
        "issuer": ISS,
        "authorization_endpoint": f"{ISS}/oidc/authorize",
        "token_endpoint": f"{ISS}/oidc/token",
        "userinfo_endpoint": f"{ISS}/oidc/userinfo",
        "jwks_uri": f"{ISS}/.well-known/jwks.json",
        "revocation_endpoint": f"{ISS}/oidc/revoke",
        "introspection_endpoint": f"{ISS}/oidc/introspect",
        "end_session_endpoint": f"{ISS}/oidc/logout",
        "scopes_supported": ["openid", "profile", "email", "wallet", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "revocation_endpoint_auth_methods_supported": list(METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "introspection_endpoint_auth_methods_supported": list(METHODS[:3]),
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "claims_supported": list(claims_supported()),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def test_required_fields_and_what_is_left_out() -> None:
    metadata = _metadata()
    assert all(name in metadata for name in DISCOVERY_REQUIRED)
    for absent in (
        "userinfo_signing_alg_values_supported",
        "ui_locales_supported",  # unless the pages' languages are given
        "registration_endpoint",
        "frontchannel_logout_session_supported",
    ):
        assert absent not in metadata


def test_ui_locales_supported() -> None:
    assert _metadata(ui_locales=("en", "de"))["ui_locales_supported"] == ["en", "de"]
    with pytest.raises(ConfigurationError, match="UI locale"):
        _metadata(ui_locales=("en", ""))


def test_signing_algs_only_with_a_jwt_method() -> None:
    metadata = _metadata(token_endpoint_auth_methods=("client_secret_basic",))
    assert "token_endpoint_auth_signing_alg_values_supported" not in metadata
    assert "introspection_endpoint_auth_signing_alg_values_supported" not in metadata
    metadata = _metadata(token_endpoint_auth_methods=("client_secret_jwt", "private_key_jwt"))
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == [
        "RS256",
        "ES256",
        "EdDSA",
        "HS256",
    ]
    secret_jwt = _metadata(token_endpoint_auth_methods=("client_secret_jwt",))
    assert secret_jwt["token_endpoint_auth_signing_alg_values_supported"] == ["HS256"]


def test_backchannel_logout_off_and_service_documentation() -> None:
    metadata = _metadata(backchannel_logout=False, service_documentation=f"{ISS}/docs")
    assert metadata["backchannel_logout_supported"] is False
    assert metadata["backchannel_logout_session_supported"] is False
    assert metadata["service_documentation"] == f"{ISS}/docs"


@pytest.mark.parametrize(
    ("issuer", "token_endpoint", "openid", "oauth"),
    [
        (
            "https://auth.example.com",
            "https://auth.example.com/oidc/token",
            "https://auth.example.com/.well-known/openid-configuration",
            "https://auth.example.com/.well-known/oauth-authorization-server",
        ),
        (
            "https://auth.example.com/",
            "https://auth.example.com/oidc/token",
            "https://auth.example.com/.well-known/openid-configuration",
            "https://auth.example.com/.well-known/oauth-authorization-server",
        ),
        (
            "https://example.com/keyfob",
            "https://example.com/keyfob/oidc/token",
            "https://example.com/keyfob/.well-known/openid-configuration",
            "https://example.com/.well-known/oauth-authorization-server/keyfob",
        ),
        (
            "https://example.com/keyfob/",
            "https://example.com/keyfob/oidc/token",
            "https://example.com/keyfob/.well-known/openid-configuration",
            "https://example.com/.well-known/oauth-authorization-server/keyfob",
        ),
        (
            "http://localhost:8000",
            "http://localhost:8000/oidc/token",
            "http://localhost:8000/.well-known/openid-configuration",
            "http://localhost:8000/.well-known/oauth-authorization-server",
        ),
    ],
)
def test_endpoints_under_the_issuer(
    issuer: str, token_endpoint: str, openid: str, oauth: str
) -> None:
    # Discovery §4 and RFC 8414 §3.1 place the documents; the issuer stays as written.
    metadata = _metadata(issuer=issuer)
    assert metadata["issuer"] == issuer
    assert metadata["token_endpoint"] == token_endpoint
    assert endpoint(issuer, "/oidc/token") == token_endpoint
    assert all(
        "//" not in url.split("://", 1)[1]
        for url in metadata.values()
        if isinstance(url, str) and "://" in url
    )
    assert openid_configuration_url(issuer) == openid
    assert oauth_metadata_url(issuer) == oauth


@pytest.mark.parametrize(
    "issuer",
    [
        "http://localhost",
        "http://127.0.0.1:8000",
        "http://127.1.2.3",
        "http://[::1]:8000",
        "https://auth.example.com:8443",
        "https://192.0.2.1",
    ],
)
def test_issuers_accepted(issuer: str) -> None:
    assert check_issuer(issuer) == issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "http://auth.example.com",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "ftp://auth.example.com",
        "auth.example.com",
        "https://",
        "https:///path",
        "https://auth.example.com?x=1",
        "https://auth.example.com?",
        "https://auth.example.com#frag",
        "https://auth.example.com#",
        "https://user@auth.example.com",
        "https://auth.example.com:99999",
        "https://auth.example.com/a b",
        " https://auth.example.com",
        "HTTPS://auth.example.com",
        "https://Auth.Example.com",
        "",
        None,
    ],
)
def test_issuers_refused(issuer: Any) -> None:
    with pytest.raises(ConfigurationError):
        check_issuer(issuer)
    with pytest.raises(ConfigurationError):
        _metadata(issuer=issuer)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"id_token_algs": ("EdDSA",)}, id="no-rs256"),
        pytest.param({"id_token_algs": ()}, id="no-algs"),
        pytest.param({"id_token_algs": ("RS256", "none")}, id="alg-none"),
        pytest.param({"id_token_algs": ("RS256", "HS256")}, id="alg-hs256"),
        pytest.param({"id_token_algs": "RS256"}, id="algs-a-string"),
        pytest.param({"token_endpoint_auth_methods": ()}, id="no-methods"),
        pytest.param({"token_endpoint_auth_methods": ("tls_client_auth",)}, id="unknown-method"),
        pytest.param({"token_endpoint_auth_methods": ("none",)}, id="only-none"),
        pytest.param({"scopes": ("profile",)}, id="no-openid-scope"),
        pytest.param({"scopes": ("openid", "")}, id="empty-scope"),
        pytest.param({"claims": ("name",)}, id="no-sub-claim"),
        pytest.param({"claims": None}, id="claims-none"),
    ],
)
def test_configuration_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        _metadata(**changes)


def test_duplicates_are_dropped_in_order() -> None:
    metadata = _metadata(id_token_algs=("RS256", "ES256", "RS256"), scopes=("openid", "openid"))
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert metadata["scopes_supported"] == ["openid"]
