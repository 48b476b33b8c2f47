"""Denylists of revoked access tokens for :class:`~keyfob.integrations.verifier.TokenVerifier`.

:class:`RemoteDenylist` polls keyfob's ``GET /auth/denylist``, which answers::

    {"revoked": [{"jti": "...", "exp": 1700000000}, ...],
     "revoked_sessions": [{"sid": "...", "exp": 1700000000}, ...],
     "access_token_ttl": 900}

A token is refused when its ``jti`` is in ``revoked`` (the token a logout was sent with) or its
``sid`` is in ``revoked_sessions`` (every token of a session that a logout, refresh-token reuse,
a disabled user, a removed sign-in method or an admin ended). Lookups are set lookups; when the
sets are older than ``refresh_interval`` a refresh starts in the background.

**When keyfob cannot be reached** the last known sets are kept, and a token is still checked
against them, for as long as a token lives (``access_token_ttl``: the app's value, else the one
the feed last announced, else 900 seconds): every token revoked before the last good fetch is
refused, and one revoked since then is at most that old. Past that, by default every token is
refused (:class:`~keyfob.errors.DenylistUnavailable`, a 401), since a revocation could now be
missed for good; ``fail_open=True`` accepts them instead (availability over revocation). Each
change of state (feed failing, refusing or failing open, reachable again) is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from keyfob.errors import DenylistUnavailable
from keyfob.integrations.urls import require_secure_url

log = logging.getLogger("keyfob.integrations")

MAX_DENYLIST_BYTES = 4 * 1024 * 1024
#: The token lifetime assumed until the app or the feed says otherwise (keyfob's default).
DEFAULT_ACCESS_TOKEN_TTL = 900.0
_EXPIRED_GRACE = 300


class StaticDenylist:
    """An in-memory denylist: for tests, and for apps that embed keyfob and revoke directly."""

    def __init__(self, jtis: Iterable[str] = (), sids: Iterable[str] = ()) -> None:
        self._jtis = set(jtis)
        self._sids = set(sids)

    def add(self, jti: str) -> None:
        """Revoke the token with this ``jti``."""
        self._jtis.add(jti)

    def add_session(self, sid: str) -> None:
        """Revoke every token of the session ``sid``."""
        self._sids.add(sid)

    async def contains(self, jti: str) -> bool:
        """Whether ``jti`` was revoked."""
        return jti in self._jtis

    async def contains_session(self, sid: str) -> bool:
        """Whether the session ``sid`` was revoked."""
        return sid in self._sids


@dataclass(frozen=True, slots=True)
class DenylistDocument:
    """What one fetch of the feed said: revoked ``jti``s and ``sid``s, and the token lifetime
    it announced (None from a keyfob that does not announce it)."""

    jtis: frozenset[str]
    sids: frozenset[str]
    access_token_ttl: float | None


class RemoteDenylist:
    """keyfob's denylist, polled over HTTP and kept in memory.

    ``url`` is https, or plain http only to a loopback host (localhost, 127.0.0.0/8, ::1).
    ``access_token_ttl`` (seconds) is how long the list may go unrefreshed before every token
    is refused (or, with ``fail_open``, accepted unchecked); None takes the feed's value.
    ``clock`` is a monotonic clock in seconds (tests move it). ``fetch_count`` counts fetches.
    """

    def __init__(
        self,
        url: str,
        *,
        refresh_interval: float = 5.0,
        timeout: float = 5.0,
        access_token_ttl: float | None = None,
        fail_open: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = require_secure_url(url, what="The denylist URL")
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self.access_token_ttl = access_token_ttl
        self.fail_open = fail_open
        self.clock = clock
        self.fetch_count = 0
        self._document = DenylistDocument(frozenset(), frozenset(), None)
        self._refreshed_at: float | None = None  # the last attempt, good or not
        self._good_since: float | None = None  # the last good fetch (first attempt until one)
        self._state = "fresh"
        self._task: asyncio.Task[None] | None = None
        self._lock = anyio.Lock()

    @property
    def max_staleness(self) -> float:
        """Seconds the list may go without a good fetch before the failure policy applies."""
        if self.access_token_ttl is not None:
            return self.access_token_ttl
        announced = self._document.access_token_ttl
        return DEFAULT_ACCESS_TOKEN_TTL if announced is None else announced

    async def contains(self, jti: str) -> bool:
        """Whether ``jti`` was revoked; waits for the first fetch, later ones run in background.
        :class:`DenylistUnavailable` while the policy refuses every token."""
        return await self._usable() and jti in self._document.jtis

    async def contains_session(self, sid: str) -> bool:
        """Whether the session ``sid`` was revoked (as :meth:`contains`)."""
        return await self._usable() and sid in self._document.sids

    async def _usable(self) -> bool:
        """False when failing open past the limit (nothing is checked); raises when refusing."""
        if self._refreshed_at is None:
            await self.refresh()
        elif self.clock() - self._refreshed_at > self.refresh_interval and (
            self._task is None or self._task.done()
        ):
            self._task = asyncio.get_running_loop().create_task(self.refresh())
        assert self._good_since is not None
        if self.clock() - self._good_since <= self.max_staleness:
            return True
        self._enter("open" if self.fail_open else "refusing")
        if self.fail_open:
            return False
        raise DenylistUnavailable()

    async def refresh(self) -> None:
        """Fetch the denylist now; on failure keep the last known sets and log (once)."""
        seen = self.fetch_count
        async with self._lock:
            if self.fetch_count != seen:
                return  # another task refreshed while we waited for the lock
            self.fetch_count += 1
            attempted = self.clock()
            if self._good_since is None:
                self._good_since = attempted
            try:
                document = await anyio.to_thread.run_sync(self._fetch)
                self._document = parse_denylist(document, now=time.time())
                self._good_since = attempted
                self._enter("fresh")
            except (OSError, ValueError) as exc:
                self._enter("failing", exc)
            # Also after a failure, so a down keyfob is asked once per interval, not per request.
            self._refreshed_at = attempted

    def _enter(self, state: str, error: Exception | None = None) -> None:
        """Log a change of state, once (a failure while already refusing changes nothing)."""
        if state == self._state or (state == "failing" and self._state in ("refusing", "open")):
            return
        previous, self._state = self._state, state
        if state == "fresh":
            log.warning("keyfob's denylist at %s is reachable again.", self.url)
        elif state == "failing":
            log.warning(
                "Could not refresh keyfob's denylist from %s (%s); using the last known list "
                "for up to %.0f seconds.",
                self.url,
                error,
                self.max_staleness,
            )
        elif state == "refusing":
            log.error(
                "keyfob's denylist at %s has been unreachable for over %.0f seconds: refusing "
                "every token until it answers (was %s).",
                self.url,
                self.max_staleness,
                previous,
            )
        else:
            log.error(
                "keyfob's denylist at %s has been unreachable for over %.0f seconds: accepting "
                "tokens without checking revocations (fail_open).",
                self.url,
                self.max_staleness,
            )

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


def parse_denylist(document: Any, *, now: float) -> DenylistDocument:
    """Read a feed document (``revoked_sessions`` and ``access_token_ttl`` may be absent, as
    from an older keyfob); ValueError if it is malformed. Entries long expired are dropped."""
    if not isinstance(document, dict) or not isinstance(document.get("revoked"), list):
        raise ValueError('the denylist is not an object with a "revoked" list')
    sessions = document.get("revoked_sessions", [])
    if not isinstance(sessions, list):
        raise ValueError('"revoked_sessions" must be a list')
    ttl = document.get("access_token_ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0):
        raise ValueError('"access_token_ttl" must be a positive number of seconds')
    return DenylistDocument(
        jtis=_live(document["revoked"], "jti", now=now),
        sids=_live(sessions, "sid", now=now),
        access_token_ttl=None if ttl is None else float(ttl),
    )


def _live(entries: list[Any], name: str, *, now: float) -> frozenset[str]:
    found = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get(name), str):
            raise ValueError(f'every denylist entry needs a string "{name}"')
        exp = entry.get("exp")
        # Tokens long expired are refused anyway; the grace covers clock skew and leeway.
        if isinstance(exp, int | float) and exp < now - _EXPIRED_GRACE:
            continue
        found.add(entry[name])
    return frozenset(found)
