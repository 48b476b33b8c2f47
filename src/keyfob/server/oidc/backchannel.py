"""Back-Channel Logout 1.0: a signed logout token POSTed to every client of an ended session.

Deliveries run in the background (a logout never waits on a slow app), each client in
parallel, retried :data:`ATTEMPTS` times with a growing pause; a client that never answers
200/204 is written to the audit log as ``oidc.backchannel_failed``. Redirects are not followed
(§2.5: the RP answers the POST itself). On shutdown pending deliveries get
:data:`DRAIN_SECONDS` to finish.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

log = logging.getLogger("keyfob")

ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = (0.5, 2.0)
DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    """One logout token for one client's back-channel logout URI."""

    client_id: str
    uri: str
    logout_token: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(delivery: Delivery) -> int:
    # The URI was checked at registration (https, or http on loopback): no file: or other scheme.
    body = urlencode({"logout_token": delivery.logout_token}).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked at registration)
        delivery.uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


Failed = Callable[[Delivery, str], Awaitable[None]]


class BackchannelSender:
    """Sends logout tokens in background tasks; ``on_failure`` hears of each lost delivery."""

    def __init__(self, on_failure: Failed, *, backoff: Sequence[float] = BACKOFF_SECONDS) -> None:
        self._on_failure = on_failure
        self._backoff = tuple(backoff)
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, deliveries: Sequence[Delivery]) -> None:
        """Start delivering each of ``deliveries``; returns at once."""
        for delivery in deliveries:
            task = asyncio.create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        reason = "no attempt"
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._backoff[min(attempt - 1, len(self._backoff) - 1)])
            try:
                status = await asyncio.to_thread(_post, delivery)
            except (OSError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                continue
            if status in (200, 204):
                return
            reason = f"HTTP {status}"
        log.warning("Back-channel logout to %s failed: %s", delivery.client_id, reason)
        try:
            await self._on_failure(delivery, reason)
        except Exception:  # the audit write failing must not raise into the event loop
            log.exception("Could not audit a failed back-channel logout.")

    async def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Wait for pending deliveries (at most ``seconds``), then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            task.cancel()
