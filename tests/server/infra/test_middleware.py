"""``RateLimitMiddleware`` as pure ASGI: who counts as whom, and that counters hold and expire;
``BodyLimitMiddleware``: by the declared length, and while streaming a chunked body.

Before issue 7 the limiter counted the socket peer only (behind a proxy, everyone was the
proxy), forgot every counter once 100,000 addresses were seen, and sent no Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.server.infra.client_address import TrustedProxies, parse_networks
from keyfob.server.infra.middleware import BodyLimitMiddleware, Message, RateLimitMiddleware
from keyfob.server.infra.rate_limit import (
    LIMITED_ROUTES,
    MEMORY_STORAGE,
    LimitedRoutes,
    MemoryCounters,
)

PROXY = "10.0.0.2"
BEHIND_PROXY = TrustedProxies(parse_networks([PROXY]))

# The library's own memory storage must be a drop-in replacement: a storage URI is all it takes.
STORAGES = [MEMORY_STORAGE, "async+memory://"]


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


class Client:
    """Drives one middleware with requests from a chosen peer and headers."""

    def __init__(self, per_minute: int, *, proxies: TrustedProxies, storage: str) -> None:
        self.app = RateLimitMiddleware(_ok, per_minute=per_minute, proxies=proxies, storage=storage)

    async def request(
        self,
        peer: str = "203.0.113.1",
        *,
        method: str = "POST",
        path: str = "/auth/login",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str]]:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": (peer, 50000),
        }
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, _receive, send)
        start = sent[0]
        return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}

    async def statuses(self, count: int, peer: str = "203.0.113.1", **kwargs: Any) -> list[int]:
        return [(await self.request(peer, **kwargs))[0] for _ in range(count)]


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_past_the_limit_is_429_with_retry_after(storage: str) -> None:
    client = Client(2, proxies=TrustedProxies(), storage=storage)
    assert await client.statuses(2) == [200, 200]
    status, headers = await client.request()
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60
    assert headers["content-type"] == "application/json"


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(storage: str) -> None:
    client = Client(2, proxies=BEHIND_PROXY, storage=storage)
    first = {"x-forwarded-for": "198.51.100.1"}
    second = {"x-forwarded-for": "198.51.100.2"}
    assert await client.statuses(3, PROXY, headers=first) == [200, 200, 429]
    assert await client.statuses(3, PROXY, headers=second) == [200, 200, 429]


async def test_forwarded_header_clients_have_their_own_budgets() -> None:
    proxies = TrustedProxies(BEHIND_PROXY.networks, header="forwarded")
    client = Client(1, proxies=proxies, storage=MEMORY_STORAGE)
    first = {"forwarded": 'for="[2001:db8:1::1]:4711"'}
    other = {"forwarded": 'for="[2001:db8:2::1]:4711"'}
    assert await client.statuses(2, PROXY, headers=first) == [200, 429]
    assert await client.statuses(2, PROXY, headers=other) == [200, 429]


async def test_spoofed_forwarding_headers_do_not_evade_the_limit(storage: str) -> None:
    client = Client(2, proxies=BEHIND_PROXY, storage=storage)
    statuses = [
        (await client.request(headers={"x-forwarded-for": f"198.51.100.{n}"}))[0] for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


async def test_without_trusted_proxies_the_proxy_is_one_client() -> None:
    client = Client(1, proxies=TrustedProxies(), storage=MEMORY_STORAGE)
    assert await client.statuses(1, PROXY, headers={"x-forwarded-for": "198.51.100.1"}) == [200]
    assert await client.statuses(1, PROXY, headers={"x-forwarded-for": "198.51.100.2"}) == [429]


async def test_ipv6_clients_share_a_budget_per_64(storage: str) -> None:
    client = Client(2, proxies=TrustedProxies(), storage=storage)
    assert await client.statuses(1, "2001:db8:0:1::a") == [200]
    assert await client.statuses(1, "2001:db8:0:1:ffff:ffff:ffff:ffff") == [200]
    assert await client.statuses(1, "2001:db8:0:1::b") == [429]
    assert await client.statuses(1, "2001:db8:0:2::a") == [200]


async def test_many_addresses_do_not_reset_a_limited_client() -> None:
    client = Client(1, proxies=TrustedProxies(), storage=MEMORY_STORAGE)
    assert await client.statuses(2, "198.51.100.7") == [200, 429]
    for n in range(100_001):  # the old limiter forgot every counter past 100,000 addresses
        await client.request(f"10.{n >> 16}.{n >> 8 & 255}.{n & 255}")
    assert await client.statuses(1, "198.51.100.7") == [429]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/auth/me"), ("DELETE", "/auth/session-keys/x"), ("GET", "/")],
)
async def test_routes_not_listed_are_not_counted(method: str, path: str) -> None:
    client = Client(1, proxies=TrustedProxies(), storage=MEMORY_STORAGE)
    assert await client.statuses(3, method=method, path=path) == [200, 200, 200]


async def test_zero_turns_the_limiter_off() -> None:
    client = Client(0, proxies=TrustedProxies(), storage=MEMORY_STORAGE)
    assert await client.statuses(5) == [200] * 5


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    limiter = RateLimitMiddleware(app, per_minute=1)
    for _ in range(3):
        await limiter({"type": "lifespan"}, _receive, send)
    assert seen == ["lifespan"] * 3


def test_limited_routes_rules() -> None:
    routes = LimitedRoutes.of([("POST", "/auth/"), ("GET", "/auth/nonce")])
    assert routes.matches("POST", "/auth/login/app/wallet")
    assert routes.matches("GET", "/auth/nonce")
    assert routes.matches("HEAD", "/auth/nonce")
    assert not routes.matches("GET", "/auth/nonce/x")
    assert not routes.matches("GET", "/auth/me")
    assert not routes.matches("POST", "/authx")
    assert LIMITED_ROUTES.matches("POST", "/admin/enroll/options")
    assert not LIMITED_ROUTES.matches("POST", "/admin/clients/new")


async def test_memory_counters_drop_ended_windows() -> None:
    """Memory stays bounded: a hit drops every counter whose window has ended."""
    counters = MemoryCounters()
    for n in range(1000):
        await counters.incr(f"gone-{n}", 0)
    await counters.incr("live", 60)
    await counters.incr("live", 60)
    assert len(counters) == 1
    assert await counters.get("live") == 2
    assert await counters.get("gone-1") == 0


async def test_memory_counters_start_a_new_window_after_the_old_one() -> None:
    counters = MemoryCounters()
    assert await counters.incr("k", 0, amount=5) == 5
    assert await counters.incr("k", 60) == 1  # the old window had ended
    expiry = await counters.get_expiry("k")
    assert await counters.incr("k", 60) == 2
    assert await counters.get_expiry("k") == expiry
    await counters.clear("k")
    assert await counters.get("k") == 0
    assert await counters.incr("k", 60) == 1
    assert await counters.reset() == 1
    assert await counters.check()


async def _drain(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body", False):
        pass
    await _ok(scope, receive, send)


async def _body_limited(chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> int:
    """The status BodyLimitMiddleware (limit 10 bytes) answers a body sent as ``chunks``."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/auth/login", "headers": headers}
    await BodyLimitMiddleware(_drain, max_bytes=10)(scope, receive, send)
    return int(sent[0]["status"])


@pytest.mark.parametrize(
    ("chunks", "headers", "status"),
    [
        ([b"12345", b"67890"], [(b"content-length", b"10")], 200),
        ([b"12345", b"678901"], [(b"content-length", b"11")], 413),  # refused by the header
        ([b""], [(b"content-length", b"x1")], 413),  # not a length
        ([b"12345", b"67890"], [(b"transfer-encoding", b"chunked")], 200),
        ([b"12345", b"67890", b"1"], [(b"transfer-encoding", b"chunked")], 413),  # while streaming
    ],
)
async def test_body_limit(
    chunks: list[bytes], headers: list[tuple[bytes, bytes]], status: int
) -> None:
    assert await _body_limited(chunks, headers) == status
