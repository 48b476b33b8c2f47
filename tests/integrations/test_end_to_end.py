"""The example app guarding its routes with a live keyfob over real HTTP (JWKS and denylist)."""

from __future__ import annotations

import importlib
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from keyfob.server.infra.app import create_app
from keyfob.server.infra.settings import Settings
from keyfob.store import Store
from tests.node_clients import NodeClients
from tests.paths import ROOT

ETH_KEY = "0x" + "5a" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        public_url=f"http://127.0.0.1:{port}",
        data_dir=tmp_path,
        secret_key="end-to-end-secret-key-0123456789abcdef",
        rate_limit=0,
        refresh_grace=0,  # any second use of a refresh token is reuse
    )


@pytest.fixture
def live_port() -> int:
    return _free_port()


@pytest.fixture
def live_keyfob(tmp_path: Path, live_port: int) -> Iterator[str]:
    """keyfob served by uvicorn on 127.0.0.1 in a thread, on a SQLite file."""
    port = live_port
    url = f"http://127.0.0.1:{port}"
    settings = _settings(tmp_path, port)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "keyfob did not start"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def example(live_keyfob: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """examples/protected_api.py, configured for the live keyfob."""
    monkeypatch.setenv("KEYFOB_URL", live_keyfob)
    monkeypatch.delenv("KEYFOB_TOKEN_SECRET", raising=False)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    sys.modules.pop("protected_api", None)
    module = importlib.import_module("protected_api")
    yield module
    sys.modules.pop("protected_api", None)


def _sign_in(url: str, clients: NodeClients) -> dict[str, str]:
    address = clients.viem_sign(ETH_KEY, "x").address
    with httpx.Client(base_url=url) as client:
        issued = client.post("/auth/nonce", json={"chain": "ethereum", "address": address}).json()
        signature = clients.viem_sign(ETH_KEY, issued["message"]).signature
        response = client.post(
            "/auth/login",
            json={"chain": "ethereum", "message": issued["message"], "signature": signature},
        )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def test_example_app_accepts_keyfob_tokens_until_logout(
    live_keyfob: str, example: ModuleType, node_clients: NodeClients
) -> None:
    tokens = _sign_in(live_keyfob, node_clients)
    headers = {"authorization": f"Bearer {tokens['accessToken']}"}
    transport = httpx.ASGITransport(app=example.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as app:
        assert (await app.get("/health")).status_code == 200
        refused = await app.get("/items")
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        items = await app.get("/items", headers=headers)
        assert items.status_code == 200, items.text
        assert items.json()["address"] == node_clients.viem_sign(ETH_KEY, "x").address
        profile = await app.get("/public/profile", headers=headers)
        assert profile.json()["amr"] == ["pop"]
        # The account token is keyfob's own: an app's verifier does not take it.
        mine = {"authorization": f"Bearer {tokens['accountToken']}"}
        assert (await app.get("/items", headers=mine)).status_code == 401

        async with httpx.AsyncClient(base_url=live_keyfob) as keyfob:
            out = await keyfob.post("/auth/logout", headers=headers)
            assert out.status_code == 204
        await example.denylist.refresh()
        revoked = await app.get("/items", headers=headers)
        assert revoked.status_code == 401
        assert revoked.json()["error"] in ("token_revoked", "invalid_token")


async def _refused_after(
    example: ModuleType, tokens: dict[str, str], end_session: Callable[[], Awaitable[None]]
) -> None:
    """A second access token of the session (from a refresh) works in the app until
    ``end_session`` runs, and is refused after it (by ``sid``: its jti was never denied)."""
    async with httpx.AsyncClient(base_url=example.KEYFOB_URL) as keyfob:
        renewed = await keyfob.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert renewed.status_code == 200, renewed.text
    second = {"authorization": f"Bearer {renewed.json()['accessToken']}"}
    transport = httpx.ASGITransport(app=example.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as app:
        assert (await app.get("/items", headers=second)).status_code == 200
        await end_session()
        await example.denylist.refresh()
        revoked = await app.get("/items", headers=second)
        assert revoked.status_code == 401
        assert revoked.json()["error"] == "token_revoked"
        profile = await app.get("/public/profile", headers=second)  # the FastAPI dependency
        assert profile.status_code == 401


async def test_logout_refuses_every_token_of_the_session_in_the_app(
    live_keyfob: str, example: ModuleType, node_clients: NodeClients
) -> None:
    tokens = _sign_in(live_keyfob, node_clients)

    async def logout() -> None:
        headers = {"authorization": f"Bearer {tokens['accessToken']}"}
        async with httpx.AsyncClient(base_url=live_keyfob) as keyfob:
            assert (await keyfob.post("/auth/logout", headers=headers)).status_code == 204

    await _refused_after(example, tokens, logout)


async def test_reuse_detection_refuses_every_token_of_the_session_in_the_app(
    live_keyfob: str, example: ModuleType, node_clients: NodeClients
) -> None:
    tokens = _sign_in(live_keyfob, node_clients)

    async def reuse() -> None:  # the first refresh token again, after it was rotated
        async with httpx.AsyncClient(base_url=live_keyfob) as keyfob:
            again = await keyfob.post(
                "/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
            )
        assert again.json()["error"] == "refresh_token_reused"

    await _refused_after(example, tokens, reuse)


async def test_disabling_the_user_refuses_every_token_in_the_app(
    live_keyfob: str,
    live_port: int,
    tmp_path: Path,
    example: ModuleType,
    node_clients: NodeClients,
) -> None:
    """What the admin panel's "disable" runs (Store.disable_user with the feed's horizon),
    on the live keyfob's database."""
    tokens = _sign_in(live_keyfob, node_clients)
    settings = _settings(tmp_path, live_port)

    async def disable() -> None:
        store = Store.from_url(settings.resolved_database_url)
        try:
            now = datetime.now(UTC)
            until = now + timedelta(seconds=settings.access_token_ttl)
            user_id = tokens["user"]["id"]  # type: ignore[index]
            assert await store.disable_user(user_id, now=now, deny_until=until)
        finally:
            await store.close()

    await _refused_after(example, tokens, disable)
