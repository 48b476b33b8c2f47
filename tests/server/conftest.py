"""A live keyfob app per test, on each database, driven through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from keyfob.server.infra.app import create_app
from keyfob.server.infra.runtime import Runtime
from keyfob.server.infra.settings import Settings

PUBLIC_URL = "http://localhost:8000"
SECRET = "test-secret-key-with-enough-length-0123456789"


class Clock:
    """A clock tests can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Server:
    """An app in its lifespan, a client bound to it, and its moving clock."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: Clock

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, json=body, **kwargs)


ServerFactory = Callable[..., Any]


@pytest.fixture(params=["fastpath", "fastapi"])
def routing(request: pytest.FixtureRequest) -> str:
    """Each server test runs through the ASGI fast path and through FastAPI's own routes."""
    return str(request.param)


@pytest.fixture
def make_server(database_url: str, tmp_path: Path, routing: str) -> ServerFactory:
    """``async with make_server(nonce_mode="signed") as server:`` starts an app on the database."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Server]:
        values: dict[str, Any] = {
            "public_url": PUBLIC_URL,
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "rate_limit": 0,
        }
        values.update(overrides)
        clock = Clock()
        app = create_app(Settings(**values), clock=clock, fast_path=routing == "fastpath")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            # The browser pages answer on the public URL's host only: ask there.
            base_url = values["public_url"]
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                yield Server(app=app, client=client, clock=clock)

    return factory


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[Server]:
    """A server with the default settings."""
    async with make_server() as started:
        yield started
