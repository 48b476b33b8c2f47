"""The apps connected to a user's account, and disconnecting one.

An app is connected while the user has allowed it something (an OpenID Connect consent) or
holds a live grant of it (signed in to it; a first-party app asks no consent). Disconnecting
forgets the consent and revokes the app's grants for the user: its refresh tokens stop working,
its access tokens fail at userinfo, and it asks again at the next sign-in. A hosted sign-in
page's token (seed 003) is not a connection: it is short-lived and keyfob keeps nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keyfob.errors import NotFound
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.consents import consents_of


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """One connected app: its id and name (None once deleted), the scopes allowed or granted
    (sorted), when it was allowed, when the user last signed in to it, its live grants."""

    client_id: str
    name: str | None
    scopes: tuple[str, ...]
    allowed_at: datetime | None
    signed_in_at: datetime | None
    grants: int


@dataclass(frozen=True, slots=True)
class Disconnected:
    """What disconnecting an app took back: its consent (if any) and how many grants."""

    consent: bool
    grants: int


async def connected_apps(runtime: Runtime, user_id: str) -> list[ConnectedApp]:
    """The apps connected to ``user_id``, the most recently used or allowed first."""
    consents = {consent.client_id: consent for consent in await consents_of(runtime, user_id)}
    grants = await runtime.store.grants_of_user(user_id, now=runtime.now())
    found = []
    for client_id in sorted(consents.keys() | {grant.client_id for grant in grants}):
        consent = consents.get(client_id)
        own = [grant for grant in grants if grant.client_id == client_id]
        scopes = set(consent.scopes if consent else ())
        scopes.update(scope for grant in own for scope in grant.scope)
        if consent is not None:
            name = consent.client_name
        else:
            client = await runtime.store.get_client(client_id)
            name = None if client is None else client.name
        found.append(
            ConnectedApp(
                client_id=client_id,
                name=name,
                scopes=tuple(sorted(scopes)),
                allowed_at=None if consent is None else consent.granted_at,
                signed_in_at=max((grant.created_at for grant in own), default=None),
                grants=len(own),
            )
        )
    found.sort(key=_latest, reverse=True)
    return found


def _latest(app: ConnectedApp) -> datetime:
    return max(moment for moment in (app.allowed_at, app.signed_in_at) if moment is not None)


async def disconnect_app(runtime: Runtime, user_id: str, client_id: str) -> Disconnected:
    """Forget ``user_id``'s consent to ``client_id`` and revoke its grants for them.
    :class:`NotFound` if the app was not connected (nothing allowed, no live grant)."""
    consent = await runtime.store.revoke_consent(user_id, client_id)
    grants = await runtime.store.revoke_grants_of_user(
        user_id, now=runtime.now(), client_id=client_id
    )
    if not consent and not grants:
        raise NotFound("This app is not connected to your account.")
    return Disconnected(consent=consent, grants=grants)
