"""What the rate limiter adds to a request, in µs: ``python bench/middleware_cost.py``.

Each case calls ``RateLimitMiddleware`` around an app that does nothing, on a limited path
(``POST /auth/login``) and on one it passes by (``GET /healthz``), minus the bare app's own
cost; "busy" first makes ``--clients`` other addresses live and lets the event loop run between
requests, as it does between real ones. ``--module`` measures another copy of the middleware
(say, an older one saved with ``git show``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import time
from types import ModuleType
from typing import Any

from keyfob.server.infra import middleware

Scope = dict[str, Any]


async def _app(scope: Any, receive: Any, send: Any) -> None:
    return None


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


def _scope(method: str, path: str, host: str) -> Scope:
    return {"type": "http", "method": method, "path": path, "headers": [], "client": (host, 1)}


async def _per_call(app: Any, scopes: list[Scope], *, yield_between: bool) -> float:
    start = time.perf_counter()
    for scope in scopes:
        await app(dict(scope), _receive, _send)
        if yield_between:
            await asyncio.sleep(0)
    return (time.perf_counter() - start) / len(scopes) * 1e6


async def _added(app: Any, scopes: list[Scope], *, yield_between: bool, repeat: int) -> float:
    """The best of ``repeat`` runs of ``app`` minus the best of the bare app's (µs a call)."""
    runs, bare = [], []
    for _ in range(repeat):  # interleaved, so a neighbour's load hits both alike
        runs.append(await _per_call(app, scopes, yield_between=yield_between))
        bare.append(await _per_call(_app, scopes, yield_between=yield_between))
    return min(runs) - min(bare)


async def measure(
    module: ModuleType, *, requests: int, clients: int, repeat: int, options: dict[str, Any]
) -> dict[str, float]:
    """µs each case adds over the bare app."""
    limited = [_scope("POST", "/auth/login", "203.0.113.9")] * requests
    passed = [_scope("GET", "/healthz", "203.0.113.9")] * requests
    results = {}
    for yielding in (False, True):
        limiter = module.RateLimitMiddleware(_app, per_minute=10**9, **options)
        suffix = " (loop runs between)" if yielding else ""
        results["limited path" + suffix] = await _added(
            limiter, limited, yield_between=yielding, repeat=repeat
        )
        results["passed-by path" + suffix] = await _added(
            limiter, passed, yield_between=yielding, repeat=repeat
        )
    busy = module.RateLimitMiddleware(_app, per_minute=10**9, **options)
    others = [
        _scope("POST", "/auth/login", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        for i in range(clients)
    ]
    await _per_call(busy, others, yield_between=False)
    results[f"limited path, {clients} other clients live (loop runs between)"] = await _added(
        busy, limited[: requests // 10], yield_between=True, repeat=repeat
    )
    return results


def _load(path: str | None) -> ModuleType:
    if path is None:
        return middleware
    spec = importlib.util.spec_from_file_location("measured_middleware", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Print µs per request for each case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", help="a middleware.py to measure instead of keyfob's")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--storage", help="a limits storage URI, e.g. async+memory://")
    args = parser.parse_args()
    options = {"storage": args.storage} if args.storage else {}
    work = measure(
        _load(args.module),
        requests=args.requests,
        clients=args.clients,
        repeat=args.repeat,
        options=options,
    )
    results = asyncio.run(work)
    for case, micros in results.items():
        print(f"{micros:8.2f} µs  {case}")


if __name__ == "__main__":
    main()
