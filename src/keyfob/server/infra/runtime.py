"""What a running server holds: settings, store, keys; built once in the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import HTTPConnection

from keyfob.core.secretbox import derive_key
from keyfob.server.infra.keyring import Keyring
from keyfob.server.infra.sealing import upgrade_sealed_blobs
from keyfob.server.infra.settings import Settings
from keyfob.store import Store
from keyfob.store.migrate import migrate

#: Called with the :class:`~keyfob.server.services.sso.SsoContext` of a browser session that
#: ended (typed ``Any`` here: infra sits below services).
SessionEndHook = Callable[[Any], Awaitable[object]]
#: Called with the current time: the public JWKS the server publishes.
KeyPublisher = Callable[[datetime], Awaitable[dict[str, Any]]]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The server's state; routes reach it through :func:`get_runtime`."""

    settings: Settings
    store: Store
    keyring: Keyring
    secret_key: str
    clock: Callable[[], datetime] = field(default=utc_now)
    #: What else ends with a browser's SSO session (the OpenID Provider's grants); the app's
    #: lifespan registers them, :func:`keyfob.server.services.sso.sso_session_ended` runs them.
    session_end_hooks: list[SessionEndHook] = field(default_factory=list)
    #: What ``/.well-known/jwks.json`` publishes beyond the token keyring (the OpenID
    #: Provider's ID-token keys too); the app's lifespan sets it.
    publish_keys: KeyPublisher | None = None

    def __post_init__(self) -> None:
        self.nonce_key = derive_key(self.secret_key, "signed-nonce")
        self.challenge_key = derive_key(self.secret_key, "challenge")
        self.account_token_key = derive_key(self.secret_key, "account-token")
        self.step_up_key = derive_key(self.secret_key, "step-up")
        self.recovery_key = derive_key(self.secret_key, "recovery")

    def now(self) -> datetime:
        """The current time as this server sees it (tests may move the clock)."""
        return self.clock()


async def get_runtime(connection: HTTPConnection) -> Runtime:
    """FastAPI dependency: the :class:`Runtime` stored on the app.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a thread pool.
    """
    runtime: Runtime = connection.app.state.runtime
    return runtime


#: How a route takes the runtime: ``runtime: RuntimeDep``.
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, run_migrations: bool = True, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Runtime]:
    """The settings' secret key, database (migrated first unless told not to, its sealed blobs
    then upgraded once, see :mod:`keyfob.server.infra.sealing`) and keyring in a
    :class:`Runtime`; the store is closed on exit. The keys are not loaded yet."""
    secret_key = settings.resolved_secret_key()
    url = settings.resolved_database_url
    if run_migrations:
        await migrate(url)
    store = Store.from_url(url)
    try:
        if run_migrations:
            await upgrade_sealed_blobs(store, secret_key)
        keyring = Keyring(
            store,
            algorithm=settings.token_algorithm,
            secret_key=secret_key,
            access_ttl=settings.access_token_ttl,
        )
        yield Runtime(
            settings=settings, store=store, keyring=keyring, secret_key=secret_key, clock=clock
        )
    finally:
        await store.close()
