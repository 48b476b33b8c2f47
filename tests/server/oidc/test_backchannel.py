"""Back-channel deliveries: retried, never following redirects, failures reported."""

from __future__ import annotations

import socket

from keyfob.server.oidc.backchannel import ATTEMPTS, BackchannelSender, Delivery
from tests.browser_fixtures import CallbackApp


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


async def test_deliveries_succeed_or_are_reported_after_every_attempt(
    callback_app: CallbackApp,
) -> None:
    failures: list[tuple[str, str]] = []

    async def failed(delivery: Delivery, reason: str) -> None:
        failures.append((delivery.client_id, reason))

    sender = BackchannelSender(failed, backoff=(0.0,))
    dead = f"http://127.0.0.1:{_closed_port()}/backchannel"
    sender.send(
        [
            Delivery("up", callback_app.callback_url, "token-1"),
            Delivery("down", dead, "token-2"),
            Delivery("missing", callback_app.url + "/nowhere", "token-3"),
        ]
    )
    await sender.drain(seconds=20)
    assert [r.form["logout_token"] for r in callback_app.received] == ["token-1"]
    assert sorted(client for client, _ in failures) == ["down", "missing"]
    reasons = dict(failures)
    assert reasons["missing"] == "HTTP 404"
    assert "Error" in reasons["down"]
    assert ATTEMPTS == 3
