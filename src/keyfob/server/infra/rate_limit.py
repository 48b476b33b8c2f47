"""What the rate limiter counts: the requests anyone may send that write a row.

:data:`LIMITED_ROUTES` covers every route that writes without authentication (a nonce, a
WebAuthn challenge, an enrolment link spent, a sign-in and its audit rows) and, by the same
``POST /auth/`` rule, the authenticated posts beside them. docs/security.md lists the routes;
``tests/server/infra/test_rate_limit_routes.py`` fails when a route is added without a decision.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from limits.aio.storage import Storage

MEMORY_STORAGE = "async+keyfob-memory://"
"""The ``limits`` storage URI counters live in by default: :class:`MemoryCounters`."""


class MemoryCounters(Storage):
    """Fixed-window counters in this process's memory, each dropped when its window ends.

    ``limits``' own ``MemoryStorage`` sweeps every key it holds after each hit (a background
    task per hit when the last sweep is done): with 10,000 clients in the last minute that added
    ~1.5 ms to every request. Here expiries wait in a heap, so a hit drops the counters whose
    window has ended and touches nothing else: memory holds only the live windows, and a hit
    costs O(log n). No awaits inside, so no locks: one event loop runs each call through.
    """

    STORAGE_SCHEME = ["async+keyfob-memory"]  # noqa: RUF012 (limits declares it a list)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counts: dict[str, int] = {}
        self._expiries: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Nothing here raises a storage error of its own."""
        return ValueError

    def __len__(self) -> int:
        return len(self._counts)

    def _expire(self, now: float) -> None:
        heap, expiries = self._heap, self._expiries
        while heap and heap[0][0] <= now:
            at, key = heapq.heappop(heap)
            if expiries.get(key) == at:  # else the key was cleared or has a later window
                del expiries[key], self._counts[key]

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s counter; a new counter lives ``expiry`` seconds."""
        now = time.time()
        self._expire(now)
        count = self._counts.get(key)
        if count is None:
            at = now + expiry
            self._expiries[key] = at
            heapq.heappush(self._heap, (at, key))
            count = 0
        self._counts[key] = count = count + amount
        return count

    async def get(self, key: str) -> int:
        """The live counter of ``key`` (0 when it has none)."""
        self._expire(time.time())
        return self._counts.get(key, 0)

    async def get_expiry(self, key: str) -> float:
        """When ``key``'s counter ends (epoch seconds; now when it has none)."""
        return self._expiries.get(key, time.time())

    async def check(self) -> bool:
        """Memory is always there."""
        return True

    async def reset(self) -> int | None:
        """Drop every counter; how many there were."""
        count = len(self._counts)
        self._counts.clear()
        self._expiries.clear()
        self._heap.clear()
        return count

    async def clear(self, key: str) -> None:
        """Drop ``key``'s counter."""
        self._counts.pop(key, None)
        self._expiries.pop(key, None)


@dataclass(frozen=True)
class LimitedRoutes:
    """Rules ``(method, path)``: a path ending in ``/`` covers everything under it, any other
    path only itself. ``HEAD`` counts as ``GET`` (Starlette answers one with the other)."""

    rules: tuple[tuple[str, str], ...]
    _exact: frozenset[tuple[str, str]] = field(init=False, repr=False, compare=False)
    _prefixes: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefixes: dict[str, list[str]] = {}
        for method, path in self.rules:
            if path.endswith("/"):
                prefixes.setdefault(method, []).append(path)
        exact = frozenset(rule for rule in self.rules if not rule[1].endswith("/"))
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_prefixes", {m: tuple(p) for m, p in prefixes.items()})

    def matches(self, method: str, path: str) -> bool:
        """True if a ``method`` request to ``path`` is rate limited."""
        if method == "HEAD":
            method = "GET"
        prefixes = self._prefixes.get(method)
        return (prefixes is not None and path.startswith(prefixes)) or (
            (method, path) in self._exact
        )

    @classmethod
    def of(cls, rules: Iterable[tuple[str, str]]) -> LimitedRoutes:
        """Rules from any iterable of ``(method, path)`` pairs."""
        return cls(tuple(rules))


LIMITED_ROUTES = LimitedRoutes.of(
    [
        # The JSON API's sign-in, nonce, challenge, passkey, refresh and session-key endpoints,
        # and the hosted pages' JSON endpoints (/auth/login/{client}/..., /auth/registration/...).
        ("POST", "/auth/"),
        # Seed 002's nonce by query string: stores a nonce row in stored nonce mode.
        ("GET", "/auth/nonce"),
        # The admin sign-in page's passkey options and passkey / wallet sign-in.
        ("POST", "/admin/login/"),
        # An enrolment link's passkey options (spends the link) and verification.
        ("POST", "/admin/enroll/"),
        # The account page: its sign-in (challenges, SSO sessions, audit rows) and, by the same
        # rule, its changes and the step-up and passkey challenges its scripts ask for.
        ("POST", "/account/"),
        # OpenID Connect's browser endpoints: authorization (a code and audit rows with an SSO
        # session), its continuation, the sign-in page's posts, consent, logout.
        ("GET", "/oidc/authorize"),
        ("POST", "/oidc/authorize"),
        ("GET", "/oidc/authorize/continue"),
        ("POST", "/oidc/login/"),
        ("POST", "/oidc/consent"),
        ("GET", "/oidc/logout"),
        ("POST", "/oidc/logout"),
        ("POST", "/oidc/logout/confirm"),
    ]
)
