"""``/auth/consents``: the apps a user allowed through OpenID Connect; take an allowance back.

Account token required. Taking a consent back also revokes that app's grants for the user
(its refresh tokens stop working, its access tokens stop passing userinfo); the app asks
again at the next sign-in.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from keyfob.errors import NotFound
from keyfob.server.api.bearer import CurrentUser
from keyfob.server.infra.inputs import Body
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.services.audit import client_ip, record_event


class ConsentOut(Body):
    """One app the user allowed: its id and name, the scopes, when last allowed."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    client_id: str
    client_name: str | None
    scopes: list[str]
    granted_at: datetime


async def list_consents(user: CurrentUser, runtime: RuntimeDep) -> list[ConsentOut]:
    """The apps the signed-in user allowed, with the scopes allowed."""
    out = []
    for consent in await runtime.store.consents_of_user(user.id):
        client = await runtime.store.get_client(consent.client_id)
        out.append(
            ConsentOut(
                client_id=consent.client_id,
                client_name=None if client is None else client.name,
                scopes=sorted(consent.scopes),
                granted_at=consent.granted_at,
            )
        )
    return out


async def revoke_consent(
    client_id: str, request: Request, user: CurrentUser, runtime: RuntimeDep
) -> Response:
    """Take back the allowance given to ``client_id`` and revoke its grants for this user."""
    if not await runtime.store.revoke_consent(user.id, client_id):
        raise NotFound("You have not allowed this app anything.")
    revoked = await runtime.store.revoke_grants_of_user(
        user.id, now=runtime.now(), client_id=client_id
    )
    await record_event(
        runtime,
        "oidc.consent_revoked",
        user_id=user.id,
        client_id=client_id,
        ip=client_ip(request),
        grants=revoked,
    )
    return Response(status_code=204)
