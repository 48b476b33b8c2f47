"""OpenID Connect Discovery 1.0 §3 provider metadata (with RFC 8414's fields) for keyfob.

The document states what keyfob's provider does and nothing more: the authorization code flow
only (``code``, answered by query or form post, RFC 9207 ``iss`` in the response), PKCE S256,
no request objects, no ``claims`` parameter, back-channel logout with ``sid`` and no
front-channel logout, public and pairwise subjects. UserInfo answers plain JSON, so
``userinfo_signing_alg_values_supported`` is left out, as is a registration endpoint (clients
are registered by the admin); ``ui_locales_supported`` lists the pages' languages.

The endpoints are fixed paths under the issuer (see :data:`ENDPOINTS`); the JWKS is the one
keyfob serves today, ``/.well-known/jwks.json``. The issuer is an https URL, or plain http on a
loopback host for development, without query or fragment (§3, RFC 8414 §2); with a path, the
endpoints go under it without doubling the slash.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from keyfob.errors import ConfigurationError

ENDPOINTS = {
    "authorization_endpoint": "/oidc/authorize",
    "token_endpoint": "/oidc/token",
    "userinfo_endpoint": "/oidc/userinfo",
    "jwks_uri": "/.well-known/jwks.json",
    "revocation_endpoint": "/oidc/revoke",
    "introspection_endpoint": "/oidc/introspect",
    "end_session_endpoint": "/oidc/logout",
}
OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
OAUTH_METADATA_PATH = "/.well-known/oauth-authorization-server"
ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")  # keyfob's asymmetric keys
CLIENT_AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
PRIVATE_KEY_JWT_ALGORITHMS = ("RS256", "ES256", "EdDSA")
CLIENT_SECRET_JWT_ALGORITHMS = ("HS256",)
PROMPT_VALUES = ("none", "login", "consent", "select_account")


def check_issuer(issuer: str) -> str:
    """``issuer`` if it can be an OpenID Provider's issuer identifier; else
    :class:`ConfigurationError` saying why."""
    if not isinstance(issuer, str) or not issuer or any(c.isspace() for c in issuer):
        raise ConfigurationError("The issuer must be a URL without spaces.")
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"The issuer {issuer!r} is not a valid URL.") from exc
    host = parts.hostname or ""
    if parts.query or parts.fragment or "?" in issuer or "#" in issuer:
        raise ConfigurationError(f"The issuer {issuer!r} must have no query or fragment.")
    if "@" in parts.netloc:
        raise ConfigurationError(f"The issuer {issuer!r} must not carry a user name.")
    if not issuer.startswith(f"{parts.scheme}://{parts.netloc.lower()}"):
        # Clients compare the issuer character for character: write it in its one form.
        raise ConfigurationError(
            f"Write the scheme and host of the issuer {issuer!r} in lowercase."
        )
    if parts.scheme == "https" and host:
        return issuer
    if parts.scheme == "http" and host and _is_loopback(host):
        return issuer
    raise ConfigurationError(
        f"The issuer {issuer!r} must be an https URL (plain http only on localhost, "
        "127.0.0.0/8 or ::1)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint(issuer: str, path: str) -> str:
    """The URL of ``path`` (``/oidc/token``...) under ``issuer``, with one slash between."""
    return check_issuer(issuer).rstrip("/") + path


def openid_configuration_url(issuer: str) -> str:
    """Where the metadata is served for OIDC Discovery §4: the issuer, any final ``/`` removed,
    then ``/.well-known/openid-configuration``."""
    return endpoint(issuer, OPENID_CONFIGURATION_PATH)


def oauth_metadata_url(issuer: str) -> str:
    """Where RFC 8414 §3.1 looks for the same metadata: the well-known path inserted between
    the issuer's host and its path."""
    parts = urlsplit(check_issuer(issuer))
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{OAUTH_METADATA_PATH}{path}"


def provider_metadata(
    *,
    issuer: str,
    id_token_algs: Sequence[str],
    token_endpoint_auth_methods: Sequence[str],
    scopes: Sequence[str],
    claims: Sequence[str],
    backchannel_logout: bool = True,
    service_documentation: str | None = None,
    ui_locales: Sequence[str] = (),
) -> dict[str, Any]:
    """The provider metadata document (see the module docstring).

    ``id_token_algs`` must include RS256 (Discovery §3) and be among
    :data:`ID_TOKEN_ALGORITHMS`; ``token_endpoint_auth_methods`` among
    :data:`CLIENT_AUTH_METHODS` (revocation takes the same, introspection the same but
    ``none``); ``scopes`` must include ``openid`` and ``claims`` ``sub``
    (:func:`keyfob.core.oidc_claims.claims_supported` gives them). :class:`ConfigurationError`
    otherwise. ``ui_locales`` (the pages' languages), when given, are
    ``ui_locales_supported``.
    """
    algs = _subset(id_token_algs, ID_TOKEN_ALGORITHMS, "ID token algorithm")
    if "RS256" not in algs:
        raise ConfigurationError("Discovery requires RS256 among the ID token algorithms.")
    methods = _subset(token_endpoint_auth_methods, CLIENT_AUTH_METHODS, "client authentication")
    introspection = [method for method in methods if method != "none"]
    if not introspection:
        raise ConfigurationError("Introspection needs a client authentication method.")
    scope_list, claim_list = _strings(scopes, "scope"), _strings(claims, "claim")
    if "openid" not in scope_list or "sub" not in claim_list:
        raise ConfigurationError("The scopes must include openid and the claims sub.")
    metadata: dict[str, Any] = {"issuer": check_issuer(issuer)}
    metadata.update({name: endpoint(issuer, path) for name, path in ENDPOINTS.items()})
    metadata.update(
        {
            "scopes_supported": scope_list,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": algs,
            "code_challenge_methods_supported": ["S256"],
        }
    )
    for prefix, allowed in (
        ("token_endpoint", methods),
        ("revocation_endpoint", methods),
        ("introspection_endpoint", introspection),
    ):
        metadata[f"{prefix}_auth_methods_supported"] = allowed
        signing = _signing_algs(allowed)
        if signing:  # RFC 8414 §2: present exactly when a JWT method is
            metadata[f"{prefix}_auth_signing_alg_values_supported"] = signing
    metadata.update(
        {
            "claims_supported": claim_list,
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "require_request_uri_registration": False,
            "authorization_response_iss_parameter_supported": True,
            "prompt_values_supported": list(PROMPT_VALUES),
            "frontchannel_logout_supported": False,
            "backchannel_logout_supported": bool(backchannel_logout),
            "backchannel_logout_session_supported": bool(backchannel_logout),
        }
    )
    if ui_locales:
        metadata["ui_locales_supported"] = _strings(ui_locales, "UI locale")
    if service_documentation is not None:
        metadata["service_documentation"] = service_documentation
    return metadata


def _signing_algs(methods: Sequence[str]) -> list[str]:
    algs = list(PRIVATE_KEY_JWT_ALGORITHMS) if "private_key_jwt" in methods else []
    if "client_secret_jwt" in methods:
        algs += CLIENT_SECRET_JWT_ALGORITHMS
    return algs


def _subset(values: Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    chosen = _strings(values, what)
    unknown = [value for value in chosen if value not in allowed]
    if unknown:
        raise ConfigurationError(
            f"Unsupported {what} {unknown[0]!r}; keyfob offers {', '.join(allowed)}."
        )
    return chosen


def _strings(values: Sequence[str], what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigurationError(f"The {what} values are a list of strings.")
    if not all(isinstance(v, str) and v for v in values):
        raise ConfigurationError(f"Each {what} is a non-empty string in a list.")
    chosen = list(dict.fromkeys(values))
    if not chosen:
        raise ConfigurationError(f"At least one {what} is needed.")
    return chosen
