"""Client apps of the hosted pages: creating them, their sealed secrets, who may use them."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from keyfob.core.client_tokens import issue_client_token, new_client_secret
from keyfob.core.image_urls import check_image_url
from keyfob.core.redirects import DELIVERIES, check_redirect_uri
from keyfob.core.secretbox import seal, unseal
from keyfob.errors import InvalidRequest, StateRequired, UnknownClient, blame
from keyfob.server.infra.runtime import Runtime
from keyfob.server.infra.sealing import CLIENT_PURPOSE
from keyfob.store.records import ClientRecord, UserRecord

if TYPE_CHECKING:  # oidc_clients imports this module
    from keyfob.server.services.oidc_clients import OidcSettings

# What each token delivery means for the token's exposure, said wherever a client is set up.
# ``query`` is the default only because seed 003's apps expect it.
DELIVERY_NOTES = {
    "query": (
        "query (Passokey's default): the token is in the redirect URL, so it lands in browser "
        "history, server and proxy logs and Referer headers"
    ),
    "fragment": (
        "fragment: the token is after # in the URL: never sent to servers, but kept in browser "
        "history and readable by every script on the page"
    ),
    "form_post": (
        "form_post (recommended): the token is POSTed in a form body, so no URL, history, log "
        "or Referer carries it"
    ),
}
TOKEN_LIFETIME_MINUTES = 5
AUTHORIZED_CLIENT_LIFETIME_MINUTES = 1440
_MAX_MINUTES = 366 * 24 * 60
_DIGITS = re.compile(r"[0-9]+")


def seal_secret(runtime: Runtime, client_id: str, secret: str) -> bytes:
    """Encrypt a client secret with ``KEYFOB_SECRET_KEY`` for storage in the client's row."""
    return seal(runtime.secret_key, secret.encode(), purpose=CLIENT_PURPOSE, row=client_id)


def client_secret(runtime: Runtime, client: ClientRecord) -> str:
    """The client's HS256 secret in clear (it signs the client's tokens); ``SealedDataError``
    if the row holds another client's blob."""
    sealed = client.sealed_secret
    return unseal(runtime.secret_key, sealed, purpose=CLIENT_PURPOSE, row=client.id).decode()


def check_lifetime(minutes: int, what: str) -> int:
    """A lifetime in minutes between 1 and a year."""
    if not 1 <= minutes <= _MAX_MINUTES:
        raise InvalidRequest(f"{what} must be between 1 and {_MAX_MINUTES} minutes.")
    return minutes


def parse_minutes(text: str, what: str) -> int:
    """A lifetime typed in minutes (ASCII digits only: ``int`` takes others) and checked by
    :func:`check_lifetime`; :class:`InvalidRequest` otherwise."""
    if not _DIGITS.fullmatch(text):
        raise InvalidRequest(f"{what} is a whole number of minutes.")
    # More than 9 digits is out of range: not worth converting (nor a 5000-digit string).
    return check_lifetime(int(text) if len(text) <= 9 else _MAX_MINUTES + 1, what)


def check_client_fields(
    *, name: str, redirect_uris: Sequence[str], token_delivery: str
) -> tuple[str, tuple[str, ...]]:
    """The cleaned name and redirect URIs (duplicates dropped), or InvalidRequest (blaming
    the argument at fault, by its name)."""
    name = name.strip()
    with blame("name"):
        if not 1 <= len(name) <= 255:
            raise InvalidRequest("A client's name is 1 to 255 characters.")
    with blame("token_delivery"):
        if token_delivery not in DELIVERIES:
            raise InvalidRequest("The token is delivered by query, fragment or form_post.")
    with blame("redirect_uris"):
        uris = tuple(dict.fromkeys(check_redirect_uri(uri) for uri in redirect_uris))
    return name, uris


def check_logo_uri(uri: str | None) -> str | None:
    """A client's logo address (None or empty: no logo): https, or http on a loopback host
    (:func:`~keyfob.core.image_urls.check_image_url`); :class:`InvalidRequest` otherwise."""
    if uri is None or not uri.strip():
        return None
    return check_image_url(uri.strip(), what="The logo URL")


async def default_lifetimes(runtime: Runtime) -> tuple[int, int]:
    """Token and SSO lifetimes (minutes) for new clients: the admin's settings, else 5 and 1440."""
    stored = await runtime.store.admin_settings()
    return (
        int(stored.get("token_lifetime_minutes", TOKEN_LIFETIME_MINUTES)),
        int(stored.get("authorized_client_lifetime_minutes", AUTHORIZED_CLIENT_LIFETIME_MINUTES)),
    )


async def create_client(
    runtime: Runtime,
    *,
    name: str,
    redirect_uris: Sequence[str],
    registration_enabled: bool = False,
    open_to_all: bool = False,
    token_lifetime_minutes: int | None = None,
    authorized_client_lifetime_minutes: int | None = None,
    token_delivery: str = DELIVERIES[0],
    client_id: str | None = None,
    require_state: bool = False,
    oidc: OidcSettings | None = None,
    logo_uri: str | None = None,
) -> tuple[ClientRecord, str]:
    """Register a client app with its OpenID Connect settings ``oidc`` (checked by
    :func:`~keyfob.server.services.oidc_clients.oidc_settings`; None: the defaults) and its
    logo (:func:`check_logo_uri`) in one write; return it and its secret (shown once, stored
    sealed)."""
    name, uris = check_client_fields(
        name=name, redirect_uris=redirect_uris, token_delivery=token_delivery
    )
    logo_uri = check_logo_uri(logo_uri)
    token_default, sso_default = await default_lifetimes(runtime)
    now, secret = runtime.now(), new_client_secret()
    client_id = client_id or str(uuid.uuid4())
    record = ClientRecord(
        id=client_id,
        name=name,
        sealed_secret=seal_secret(runtime, client_id, secret),
        redirect_uris=uris,
        registration_enabled=registration_enabled,
        open_to_all=open_to_all,
        token_lifetime_minutes=check_lifetime(
            token_lifetime_minutes or token_default, "The token lifetime"
        ),
        authorized_client_lifetime_minutes=check_lifetime(
            authorized_client_lifetime_minutes or sso_default, "The sign-in session lifetime"
        ),
        token_delivery=token_delivery,
        created_at=now,
        updated_at=now,
        require_state=require_state,
        logo_uri=logo_uri,
    )
    if oidc is not None:
        record = dataclasses.replace(record, **oidc)
    await runtime.store.add_client(record)
    return record, secret


async def rotate_client_secret(runtime: Runtime, client_id: str) -> str:
    """Give the client a new secret (the old one stops verifying at once); return it."""
    secret = new_client_secret()
    if not await runtime.store.set_client_secret(
        client_id, seal_secret(runtime, client_id, secret), now=runtime.now()
    ):
        raise UnknownClient()
    return secret


async def get_client(runtime: Runtime, client_id: str) -> ClientRecord:
    """The client with this id, or :class:`UnknownClient`."""
    client = await runtime.store.get_client(client_id)
    if client is None:
        raise UnknownClient()
    return client


def check_state(client: ClientRecord, state: str | None) -> None:
    """Refuse a hosted request without a non-empty ``state`` when the client requires one."""
    if client.require_state and not state:
        raise StateRequired(
            f"{client.name} requires a state in its sign-in requests (its defence against login "
            "CSRF) and this request has none; go back to the app and start again."
        )


async def may_use(runtime: Runtime, client: ClientRecord, user: UserRecord) -> bool:
    """True if the user may sign in to the client: open to all, or permission granted."""
    if user.disabled:
        return False
    return client.open_to_all or await runtime.store.has_permission(user.id, client.id)


def mint_client_token(
    runtime: Runtime, client: ClientRecord, user_id: str, *, now: datetime | None = None
) -> str:
    """The HS256 token that carries the user back to the client app."""
    return issue_client_token(
        client_secret(runtime, client),
        issuer=runtime.settings.issuer,
        client_id=client.id,
        user_id=user_id,
        now=now or runtime.now(),
        ttl_seconds=client.token_lifetime_minutes * 60,
    )
