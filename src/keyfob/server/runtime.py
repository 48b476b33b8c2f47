"""What a running server holds: settings, store, keys; built once in the app's lifespan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import HTTPConnection

from keyfob.core.secretbox import derive_key
from keyfob.server.keyring import Keyring
from keyfob.server.settings import Settings
from keyfob.store import Store


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

    def __post_init__(self) -> None:
        self.nonce_key = derive_key(self.secret_key, "signed-nonce")
        self.challenge_key = derive_key(self.secret_key, "challenge")

    def now(self) -> datetime:
        """The current time as this server sees it (tests may move the clock)."""
        return self.clock()


async def get_runtime(connection: HTTPConnection) -> Runtime:
    """FastAPI dependency: the :class:`Runtime` stored on the app.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a thread pool.
    """
    runtime: Runtime = connection.app.state.runtime
    return runtime
