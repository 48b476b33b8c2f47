"""Denylists of revoked access tokens for :class:`~keyfob.integrations.verifier.TokenVerifier`.

:class:`RemoteDenylist` polls keyfob's ``GET /auth/denylist``, which answers
``{"revoked": [{"jti": "...", "exp": 1700000000}, ...]}``. A lookup is a set lookup; when the set
is older than ``refresh_interval`` a refresh starts in the background. If a refresh fails the last
known set is kept and a warning logged: an outage of keyfob must not lock every user out, and
revoked tokens expire soon anyway (access tokens live minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from keyfob.errors import ConfigurationError

log = logging.getLogger("keyfob.integrations")

MAX_DENYLIST_BYTES = 4 * 1024 * 1024
_EXPIRED_GRACE = 300


class StaticDenylist:
    """An in-memory denylist: for tests, and for apps that embed keyfob and revoke directly."""

    def __init__(self, jtis: Iterable[str] = ()) -> None:
        self._jtis = set(jtis)

    def add(self, jti: str) -> None:
        """Revoke the token with this ``jti``."""
        self._jtis.add(jti)

    async def contains(self, jti: str) -> bool:
        """Whether ``jti`` was revoked."""
        return jti in self._jtis


class RemoteDenylist:
    """keyfob's denylist, polled over HTTP and kept in memory."""

    def __init__(self, url: str, *, refresh_interval: float = 5.0, timeout: float = 5.0) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigurationError("The denylist URL must be an http(s) URL.")
        self.url = url
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self.fetch_count = 0
        self._jtis: frozenset[str] = frozenset()
        self._refreshed_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = anyio.Lock()

    async def contains(self, jti: str) -> bool:
        """Whether ``jti`` was revoked; waits for the first fetch, later ones run in background."""
        if self._refreshed_at is None:
            await self.refresh()
        elif time.monotonic() - self._refreshed_at > self.refresh_interval and (
            self._task is None or self._task.done()
        ):
            self._task = asyncio.get_running_loop().create_task(self.refresh())
        return jti in self._jtis

    async def refresh(self) -> None:
        """Fetch the denylist now; on failure keep the last known set and log a warning."""
        seen = self.fetch_count
        async with self._lock:
            if self.fetch_count != seen:
                return  # another task refreshed while we waited for the lock
            self.fetch_count += 1
            try:
                document = await anyio.to_thread.run_sync(self._fetch)
                self._jtis = _revoked_jtis(document, now=time.time())
            except (OSError, ValueError) as exc:
                log.warning("Could not refresh keyfob's denylist from %s: %s", self.url, exc)
            # Also after a failure, so a down keyfob is asked once per interval, not per request.
            self._refreshed_at = time.monotonic()

    async def aclose(self) -> None:
        """Cancel a background refresh still running (call at application shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _fetch(self) -> Any:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read(MAX_DENYLIST_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()  # an error answer holds the connection open until collected otherwise
            raise
        if len(body) > MAX_DENYLIST_BYTES:
            raise ValueError("the denylist is too large")
        return json.loads(body)


def _revoked_jtis(document: Any, *, now: float) -> frozenset[str]:
    if not isinstance(document, dict) or not isinstance(document.get("revoked"), list):
        raise ValueError('the denylist is not an object with a "revoked" list')
    jtis = set()
    for entry in document["revoked"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("jti"), str):
            raise ValueError('every denylist entry needs a string "jti"')
        exp = entry.get("exp")
        # Tokens long expired are refused anyway; the grace covers clock skew and leeway.
        if isinstance(exp, int | float) and exp < now - _EXPIRED_GRACE:
            continue
        jtis.add(entry["jti"])
    return frozenset(jtis)
