"""Registering a client for OpenID Connect: its settings checked, then stored.

Any client app is an OIDC client too (its seed 003 redirect flow keeps working unchanged).
:func:`oidc_settings` checks what only OIDC reads and writes nothing, so a caller can check
every field of a form or a command before it stores any (``create_client(oidc=...)``, or
``store.update_client(**as_changes(settings))``); :func:`configure_oidc` checks and stores
in one call. A public client authenticates with ``none`` and must use PKCE; a pairwise
client's sector is the host of its redirect URIs. A use case (not part of the OIDC surface):
the admin panel and ``keyfob clients add`` call it, as do the tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypedDict

from keyfob.core.keys import verification_key_from_jwk
from keyfob.core.oidc_subjects import sector_identifier
from keyfob.core.redirects import check_redirect_uri
from keyfob.core.rfc6749 import parse_scope
from keyfob.core.rfc8707 import check_resource
from keyfob.errors import InvalidRequest, InvalidScope, InvalidTarget, NotFound, blame
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.clients import check_lifetime
from keyfob.store.clients import CLEAR
from keyfob.store.records import ClientRecord

#: What the OpenID Provider offers (its discovery document says so too).
SCOPES = ("openid", "profile", "wallet", "email", "offline_access")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")
SUBJECT_TYPES = ("public", "pairwise")


class OidcSettings(TypedDict):
    """A client's checked OpenID Connect settings, named and typed as :class:`ClientRecord`'s
    fields (None: not set)."""

    client_type: str
    token_endpoint_auth_method: str
    scopes: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    subject_type: str
    sector_identifier: str | None
    id_token_alg: str
    backchannel_logout_uri: str | None
    first_party: bool
    issue_refresh_tokens: bool
    jwks: str | None
    resources: tuple[str, ...]
    synthetic_email: bool
    refresh_lifetime_minutes: int | None


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"{what} must be one of {', '.join(allowed)}.")
    return value


def _jwks(text: str) -> str:
    try:
        document = json.loads(text)
        keys = document["keys"]
        if not isinstance(keys, list) or not keys:
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidRequest('The client JWKS must be JSON: {"keys": [...]}.') from None
    for jwk in keys:
        if not isinstance(jwk, dict):
            raise InvalidRequest("Each key of the client JWKS is a JSON object (a JWK).")
        verification_key_from_jwk(jwk)
    return json.dumps(document, separators=(",", ":"))


def _uri(uri: str, what: str) -> str:
    """``uri`` checked as a redirect URI is, the complaint naming it ``what``."""
    try:
        return check_redirect_uri(uri)
    except InvalidRequest as error:
        raise InvalidRequest(error.message.replace("redirect URI", what, 1)) from None


def oidc_settings(
    redirect_uris: Sequence[str],
    *,
    public: bool = False,
    auth_method: str | None = None,
    scopes: str = "openid profile",
    post_logout_redirect_uris: Sequence[str] = (),
    subject_type: str = "public",
    id_token_alg: str = "RS256",  # noqa: S107 (an algorithm name, not a secret)
    backchannel_logout_uri: str | None = None,
    first_party: bool = False,
    issue_refresh_tokens: bool = False,
    jwks: str | None = None,
    resources: Sequence[str] = (),
    synthetic_email: bool = False,
    refresh_lifetime_minutes: int | None = None,
    sector: str | None = None,
) -> OidcSettings:
    """The checked OpenID Connect settings of a client with ``redirect_uris``, or
    :class:`InvalidRequest` saying what is wrong (blaming the setting, by its record name);
    nothing is read or written.

    ``sector`` is the pairwise sector the client has now: a pairwise client keeps it (its
    users' ``sub`` do not change when its redirect URIs do); one that becomes pairwise gets
    the host its redirect URIs share."""
    method = auth_method or ("none" if public else "client_secret_basic")
    with blame("token_endpoint_auth_method"):
        _choice(method, AUTH_METHODS, "The token endpoint authentication method")
        if public != (method == "none"):
            raise InvalidRequest("A public client authenticates with none, and only a public one.")
    with blame("jwks"):
        if method == "private_key_jwt" and not jwks:
            raise InvalidRequest("private_key_jwt needs the client's public keys (a JWKS).")
    with blame("scopes"):
        try:
            wanted = parse_scope(scopes)
        except InvalidScope as error:
            raise InvalidRequest(error.message) from None
        if "openid" not in wanted:
            raise InvalidRequest("An OpenID Connect client needs the openid scope.")
        for scope in wanted:
            _choice(scope, SCOPES, "Each scope")
    with blame("subject_type"):
        _choice(subject_type, SUBJECT_TYPES, "The subject type")
    with blame("id_token_alg"):
        _choice(id_token_alg, ID_TOKEN_ALGORITHMS, "The ID token algorithm")
    if subject_type == "public":
        sector = None
    elif sector is None:
        with blame("subject_type"):  # pairwise, but the redirect URIs share no host
            sector = sector_identifier(redirect_uris=redirect_uris, sector_identifier_uri=None)
    with blame("refresh_lifetime_minutes"):
        if refresh_lifetime_minutes is not None:
            check_lifetime(refresh_lifetime_minutes, "The refresh token lifetime")
    with blame("resources"):
        try:
            checked_resources = tuple(dict.fromkeys(check_resource(r) for r in resources))
        except InvalidTarget as error:
            raise InvalidRequest(error.message) from None
    with blame("post_logout_redirect_uris"):
        post_logout = tuple(
            dict.fromkeys(_uri(u, "post-logout redirect URI") for u in post_logout_redirect_uris)
        )
    with blame("backchannel_logout_uri"):
        backchannel = (
            None
            if backchannel_logout_uri is None
            else _uri(backchannel_logout_uri, "back-channel logout URI")
        )
    with blame("jwks"):
        checked_jwks = None if jwks is None else _jwks(jwks)
    return OidcSettings(
        client_type="public" if public else "confidential",
        token_endpoint_auth_method=method,
        scopes=wanted,
        post_logout_redirect_uris=post_logout,
        subject_type=subject_type,
        sector_identifier=sector,
        id_token_alg=id_token_alg,
        backchannel_logout_uri=backchannel,
        first_party=first_party,
        issue_refresh_tokens=issue_refresh_tokens,
        jwks=checked_jwks,
        resources=checked_resources,
        synthetic_email=synthetic_email,
        refresh_lifetime_minutes=refresh_lifetime_minutes,
    )


def as_changes(settings: OidcSettings) -> dict[str, Any]:
    """``settings`` as keywords of ``store.update_client`` (a setting that is None becomes
    :data:`CLEAR`, so it is cleared rather than left as it was)."""
    return {key: CLEAR if value is None else value for key, value in settings.items()}


def secret_use(auth_method: str) -> str:
    """What the secret of a client that authenticates with ``auth_method`` is for, said
    wherever it is shown: every client has one, and the hosted redirect's tokens need it."""
    hosted = "signs the tokens of keyfob's hosted redirect (Passokey-compatible)"
    if auth_method == "none":
        return (
            "This is a public client: OpenID Connect needs no secret for it (it authenticates "
            f"with none and PKCE). The secret only {hosted}; an app that uses OpenID Connect "
            "only can ignore it."
        )
    if auth_method == "private_key_jwt":
        return (
            "This client authenticates to OpenID Connect with its keys (private_key_jwt), not "
            f"with the secret. The secret only {hosted}; an app that uses OpenID Connect only "
            "can ignore it."
        )
    return f"The secret is the client secret of OpenID Connect ({auth_method}) and {hosted}."


def settings_of(client: ClientRecord) -> OidcSettings:
    """The OpenID Connect settings ``client`` has."""
    return OidcSettings(
        client_type=client.client_type,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        scopes=client.scopes,
        post_logout_redirect_uris=client.post_logout_redirect_uris,
        subject_type=client.subject_type,
        sector_identifier=client.sector_identifier,
        id_token_alg=client.id_token_alg,
        backchannel_logout_uri=client.backchannel_logout_uri,
        first_party=client.first_party,
        issue_refresh_tokens=client.issue_refresh_tokens,
        jwks=client.jwks,
        resources=client.resources,
        synthetic_email=client.synthetic_email,
        refresh_lifetime_minutes=client.refresh_lifetime_minutes,
    )


def _key_count(jwks: str) -> int:
    try:
        keys = json.loads(jwks)["keys"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return 0
    return len(keys) if isinstance(keys, list) else 0


def audited(settings: OidcSettings) -> dict[str, object]:
    """``settings`` as the audit log records them: the JWKS only as its number of keys
    (``jwks_keys``), so no key material lands in the log."""
    shown: dict[str, object] = {key: value for key, value in settings.items() if key != "jwks"}
    jwks = settings["jwks"]
    shown["jwks_keys"] = None if jwks is None else _key_count(jwks)
    return shown


def changed_settings(client: ClientRecord, settings: OidcSettings) -> dict[str, object]:
    """The entries of :func:`audited` ``settings`` that differ from ``client``'s (one that is
    cleared: None); a changed JWKS with as many keys shows as that count all the same."""
    before, after = audited(settings_of(client)), audited(settings)
    changed = {key: value for key, value in after.items() if before[key] != value}
    if settings["jwks"] != client.jwks:
        changed["jwks_keys"] = after["jwks_keys"]
    return changed


async def configure_oidc(
    runtime: Runtime,
    client_id: str,
    *,
    public: bool = False,
    auth_method: str | None = None,
    scopes: str = "openid profile",
    post_logout_redirect_uris: Sequence[str] = (),
    subject_type: str = "public",
    id_token_alg: str = "RS256",  # noqa: S107 (an algorithm name, not a secret)
    backchannel_logout_uri: str | None = None,
    first_party: bool = False,
    issue_refresh_tokens: bool = False,
    jwks: str | None = None,
    resources: Sequence[str] = (),
    synthetic_email: bool = False,
    refresh_lifetime_minutes: int | None = None,
) -> ClientRecord:
    """Set the client's OpenID Connect settings (:func:`oidc_settings`); :class:`InvalidRequest`
    for a bad one, and then nothing is changed."""
    client = await runtime.store.get_client(client_id)
    if client is None:
        raise NotFound("There is no such client.")
    settings = oidc_settings(
        client.redirect_uris,
        public=public,
        auth_method=auth_method,
        scopes=scopes,
        post_logout_redirect_uris=post_logout_redirect_uris,
        subject_type=subject_type,
        id_token_alg=id_token_alg,
        backchannel_logout_uri=backchannel_logout_uri,
        first_party=first_party,
        issue_refresh_tokens=issue_refresh_tokens,
        jwks=jwks,
        resources=resources,
        synthetic_email=synthetic_email,
        refresh_lifetime_minutes=refresh_lifetime_minutes,
        sector=client.sector_identifier,
    )
    updated = await runtime.store.update_client(
        client_id, now=runtime.now(), **as_changes(settings)
    )
    if updated is None:
        raise NotFound("There is no such client.")
    return updated
