"""What the OpenID Provider holds while the server runs: keys, derived secrets, deliveries.

Built in the app's lifespan next to the :class:`~keyfob.server.infra.runtime.Runtime` and kept on
``app.state.oidc``; every OIDC endpoint reaches it through :func:`get_provider`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from keyfob.core.secretbox import derive_key
from keyfob.server.infra.keyring import Keyring
from keyfob.server.infra.runtime import Runtime
from keyfob.server.oidc.backchannel import BackchannelSender, Delivery
from keyfob.server.oidc.keys import OidcKeys
from keyfob.server.services.audit import record_event

CODE_LIFETIME_SECONDS = 60


@dataclass
class Provider:
    """The OpenID Provider's state: keys, the derived keys of interactions, pairwise subjects
    and consent forms, and the back-channel logout sender."""

    runtime: Runtime
    keys: OidcKeys
    backchannel: BackchannelSender

    def __post_init__(self) -> None:
        secret = self.runtime.secret_key
        self.interaction_key = derive_key(secret, "oidc-interaction")
        self.pairwise_key = derive_key(secret, "pairwise-subject")
        self.form_key = derive_key(secret, "oidc-form")

    @property
    def issuer(self) -> str:
        """The issuer identifier: ``KEYFOB_PUBLIC_URL``."""
        return self.runtime.settings.public_url

    def endpoint(self, path: str) -> str:
        """The absolute URL of one of the provider's endpoints."""
        return self.issuer.rstrip("/") + path


@asynccontextmanager
async def open_provider(runtime: Runtime) -> AsyncIterator[Provider]:
    """Load the ID-token keys; on exit let pending back-channel logouts finish."""
    settings = runtime.settings

    def make_keyring(alg: str) -> Keyring:
        return Keyring(
            runtime.store,
            algorithm=alg,
            secret_key=runtime.secret_key,
            access_ttl=settings.access_token_ttl,
        )

    async def failed(delivery: Delivery, reason: str) -> None:
        await record_event(
            runtime, "oidc.backchannel_failed", client_id=delivery.client_id, reason=reason
        )

    keys = OidcKeys(runtime.keyring, make_keyring)
    await keys.load(now=runtime.now())
    provider = Provider(runtime=runtime, keys=keys, backchannel=BackchannelSender(failed))
    try:
        yield provider
    finally:
        await provider.backchannel.drain()


def get_provider(connection: HTTPConnection) -> Provider:
    """The running :class:`Provider`."""
    provider: Provider = connection.app.state.oidc
    return provider
