"""``/auth/consents``: the apps a user allowed through OpenID Connect; take an allowance back.

Account token required. Taking a consent back also revokes that app's grants for the user
(:mod:`keyfob.server.services.consents`, shared with the account page); the app asks again
at the next sign-in.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from keyfob.server.api.bearer import CurrentUser
from keyfob.server.infra.inputs import Body
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.services import consents
from keyfob.server.services.audit import client_ip


class ConsentOut(Body):
    """One app the user allowed: its id and name, the scopes, when last allowed."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    client_id: str
    client_name: str | None
    scopes: list[str]
    granted_at: datetime


async def list_consents(user: CurrentUser, runtime: RuntimeDep) -> list[ConsentOut]:
    """The apps the signed-in user allowed, with the scopes allowed."""
    return [
        ConsentOut(
            client_id=consent.client_id,
            client_name=consent.client_name,
            scopes=list(consent.scopes),
            granted_at=consent.granted_at,
        )
        for consent in await consents.consents_of(runtime, user.id)
    ]


async def revoke_consent(
    client_id: str, request: Request, user: CurrentUser, runtime: RuntimeDep
) -> Response:
    """Take back the allowance given to ``client_id`` and revoke its grants for this user."""
    await consents.revoke_consent(runtime, user.id, client_id, ip=client_ip(request))
    return Response(status_code=204)
