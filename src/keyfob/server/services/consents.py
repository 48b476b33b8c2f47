"""The apps a user allowed through OpenID Connect, and taking an allowance back.

The JSON API (``/auth/consents``, account token) and the account page's connected apps both
read and revoke through here. Taking a consent back also revokes that app's grants for the
user (its refresh tokens stop working, its access tokens stop passing userinfo); the app asks
again at the next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keyfob.errors import NotFound
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import record_event


@dataclass(frozen=True, slots=True)
class Consent:
    """One app the user allowed: its id and name (None once deleted), the scopes, when."""

    client_id: str
    client_name: str | None
    scopes: tuple[str, ...]
    granted_at: datetime


async def consents_of(runtime: Runtime, user_id: str) -> list[Consent]:
    """The apps ``user_id`` allowed, with the scopes allowed (sorted)."""
    found = []
    for consent in await runtime.store.consents_of_user(user_id):
        client = await runtime.store.get_client(consent.client_id)
        found.append(
            Consent(
                client_id=consent.client_id,
                client_name=None if client is None else client.name,
                scopes=tuple(sorted(consent.scopes)),
                granted_at=consent.granted_at,
            )
        )
    return found


async def revoke_consent(runtime: Runtime, user_id: str, client_id: str, *, ip: str | None) -> int:
    """Take back the allowance ``user_id`` gave ``client_id`` and revoke its grants for them;
    how many grants ended. :class:`~keyfob.errors.NotFound` if there was no allowance.
    Audited (``oidc.consent_revoked``)."""
    if not await runtime.store.revoke_consent(user_id, client_id):
        raise NotFound("You have not allowed this app anything.")
    revoked = await runtime.store.revoke_grants_of_user(
        user_id, now=runtime.now(), client_id=client_id
    )
    await record_event(
        runtime,
        "oidc.consent_revoked",
        user_id=user_id,
        client_id=client_id,
        ip=ip,
        grants=revoked,
    )
    return revoked
