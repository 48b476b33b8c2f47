"""The example app guarding its routes with a live keyfob over real HTTP (JWKS and denylist)."""

from __future__ import annotations

import importlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from keyfob.server.app import create_app
from keyfob.server.settings import Settings
from tests.node_clients import NodeClients
from tests.paths import ROOT

ETH_KEY = "0x" + "5a" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def live_keyfob(tmp_path: Path) -> Iterator[str]:
    """keyfob served by uvicorn on 127.0.0.1 in a thread, on a SQLite file."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        public_url=url,
        data_dir=tmp_path,
        secret_key="end-to-end-secret-key-0123456789abcdef",
        rate_limit=0,
    )
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
    monkeypatch.delenv("KEYFOB_SECRET_KEY", raising=False)
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
        assert profile.json()["amr"] == ["swk"]
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
