"""The load generator: N keep-alive connections in a loop for a warm-up plus a measured window.

Only requests that *complete* inside the measured window count, so the rate is not skewed by the
warm-up or by iterations cut off at the end. Every loop is bounded by the window's deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from authenticator import Passkey
from http_client import Connection, HttpError
from wallet import Wallet


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples`` (0 for none)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Recorder:
    """Latencies (seconds) and error counts of one phase, inside its measured window."""

    measure_from: float
    measure_until: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)

    @classmethod
    def window(cls, *, warmup: float, duration: float) -> Recorder:
        """A recorder whose window opens ``warmup`` seconds from now and lasts ``duration``."""
        start = time.perf_counter()
        return cls(measure_from=start + warmup, measure_until=start + warmup + duration)

    def counts(self, finished: float) -> bool:
        """Whether something that finished at ``finished`` lies in the measured window."""
        return self.measure_from <= finished <= self.measure_until

    def ok(self, name: str, started: float, finished: float) -> None:
        """Record a success of kind ``name``."""
        if self.counts(finished):
            self.latencies.setdefault(name, []).append(finished - started)

    def error(self, name: str, status: int | str, body: bytes, finished: float) -> None:
        """Record a failure (a non-200 status, or a broken connection)."""
        if self.counts(finished):
            key = f"{name} {status}"
            self.errors[key] += 1
            self.error_samples.setdefault(key, body[:300].decode("utf-8", "replace"))


Iteration = Callable[[Connection, Recorder, int], Awaitable[None]]


async def run_load(
    iteration: Iteration, recorder: Recorder, *, host: str, port: int, connections: int
) -> None:
    """Run ``iteration`` on ``connections`` connections until the recorder's window closes."""
    counter = itertools.count()

    async def worker() -> None:
        connection = Connection(host, port)
        try:
            while time.perf_counter() < recorder.measure_until:
                await iteration(connection, recorder, next(counter))
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(connections)))


def sign_in_iteration(wallets: list[Wallet], tokens: list[str], keep_tokens: int) -> Iteration:
    """One full Ethereum sign-in per call: nonce, ``personal_sign``, login."""

    async def iteration(connection: Connection, recorder: Recorder, index: int) -> None:
        wallet = wallets[index % len(wallets)]
        started = time.perf_counter()
        try:
            status, body = await connection.post_json(
                "/auth/nonce", {"chain": "ethereum", "address": wallet.address}
            )
        except HttpError as exc:
            recorder.error("nonce", "connection", str(exc).encode(), time.perf_counter())
            return
        nonce_done = time.perf_counter()
        if status != 200:
            recorder.error("nonce", status, body, nonce_done)
            return
        recorder.ok("nonce", started, nonce_done)
        message = json.loads(body)["message"]
        payload = {
            "chain": "ethereum",
            "message": message,
            "signature": wallet.personal_sign(message),
        }
        login_started = time.perf_counter()
        try:
            status, body = await connection.post_json("/auth/login", payload)
        except HttpError as exc:
            recorder.error("login", "connection", str(exc).encode(), time.perf_counter())
            return
        finished = time.perf_counter()
        if status != 200:
            recorder.error("login", status, body, finished)
            return
        recorder.ok("login", login_started, finished)
        recorder.ok("signin", started, finished)
        if len(tokens) < keep_tokens:
            tokens.append(json.loads(body)["accessToken"])

    return iteration


async def _post(
    connection: Connection, recorder: Recorder, name: str, path: str, payload: Any
) -> bytes | None:
    """POST ``payload``, recording it as ``name``: the body of a 200, else None."""
    started = time.perf_counter()
    try:
        status, body = await connection.post_json(path, payload)
    except HttpError as exc:
        recorder.error(name, "connection", str(exc).encode(), time.perf_counter())
        return None
    finished = time.perf_counter()
    if status != 200:
        recorder.error(name, status, body, finished)
        return None
    recorder.ok(name, started, finished)
    return body


async def register_passkey(connection: Connection, passkey: Passkey) -> None:
    """Create an account with ``passkey`` (usernameless); raise if keyfob refuses it."""
    status, body = await connection.post_json("/auth/passkey/register/options", {})
    if status == 200:
        credential = passkey.create(json.loads(body))
        status, body = await connection.post_json(
            "/auth/passkey/register/verify", {"credential": credential}
        )
    if status != 200:
        raise RuntimeError(f"passkey registration answered {status}: {body[:300]!r}")


def passkey_iteration(passkeys: deque[Passkey], tokens: list[str], keep_tokens: int) -> Iteration:
    """One usernameless passkey sign-in per call: options, assertion, verify. A passkey is
    taken from ``passkeys`` for the call, so none signs twice at once (its counter grows)."""

    async def iteration(connection: Connection, recorder: Recorder, index: int) -> None:
        passkey = passkeys.popleft()
        try:
            started = time.perf_counter()
            body = await _post(connection, recorder, "options", "/auth/passkey/login/options", {})
            if body is None:
                return
            credential = passkey.get(json.loads(body))
            body = await _post(
                connection,
                recorder,
                "verify",
                "/auth/passkey/login/verify",
                {"credential": credential},
            )
            if body is None:
                return
            recorder.ok("passkey", started, time.perf_counter())
            if len(tokens) < keep_tokens:
                tokens.append(json.loads(body)["accessToken"])
        finally:
            passkeys.append(passkey)

    return iteration


def get_iteration(path: str, tokens: list[str]) -> Iteration:
    """``GET path`` with the Bearer tokens in turn (no header when ``tokens`` is empty)."""

    async def iteration(connection: Connection, recorder: Recorder, index: int) -> None:
        headers = {"authorization": f"Bearer {tokens[index % len(tokens)]}"} if tokens else None
        started = time.perf_counter()
        try:
            status, body = await connection.request("GET", path, headers=headers)
        except HttpError as exc:
            recorder.error("get", "connection", str(exc).encode(), time.perf_counter())
            return
        finished = time.perf_counter()
        if status != 200:
            recorder.error("get", status, body, finished)
            return
        recorder.ok("get", started, finished)

    return iteration
