"""Background housekeeping: expired nonces, denylist entries and tokens are purged regularly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from keyfob.server.runtime import Runtime

log = logging.getLogger("keyfob")

PURGE_INTERVAL = 600.0


async def purge_once(runtime: Runtime) -> int:
    """Delete everything that has expired; return how many rows went."""
    removed = await runtime.store.purge_expired(now=runtime.now())
    if removed:
        log.info("Purged %d expired rows.", removed)
    return removed


async def _purge_forever(runtime: Runtime, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await purge_once(runtime)
        except Exception:  # a failed purge must never take the server down
            log.exception("Purging expired rows failed; will retry.")


@asynccontextmanager
async def housekeeping(
    runtime: Runtime, *, interval: float = PURGE_INTERVAL
) -> AsyncIterator[None]:
    """Run the purge loop for as long as the server lives."""
    task = asyncio.create_task(_purge_forever(runtime, interval), name="keyfob-purge")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
