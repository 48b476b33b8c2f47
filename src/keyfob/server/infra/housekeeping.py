"""Background housekeeping: expired nonces, denylist entries and tokens, and audit events past
their retention, are purged regularly, and the signing keys reloaded (a rotation by
``keyfob keys rotate`` or another instance)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from keyfob.server.infra.keyring import RELOAD_INTERVAL
from keyfob.server.infra.runtime import Runtime

log = logging.getLogger("keyfob")

PURGE_INTERVAL = 600.0
KeyReload = Callable[..., Awaitable[object]]


async def purge_once(runtime: Runtime) -> int:
    """Delete everything that has expired, and the audit events older than their retention
    (``KEYFOB_AUDIT_RETENTION_DAYS``, failed sign-ins ``KEYFOB_AUDIT_FAILURE_RETENTION_DAYS``);
    return how many rows went."""
    now, settings = runtime.now(), runtime.settings
    removed = await runtime.store.purge_expired(now=now)
    removed += await runtime.store.purge_audit_events(
        before=now - timedelta(days=settings.audit_retention_days),
        failures_before=now - timedelta(days=settings.audit_failure_retention_days),
    )
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


async def _reload_keys_forever(
    runtime: Runtime, interval: float, also: KeyReload | None = None
) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await runtime.keyring.refresh_if_stale(now=runtime.now())
            if also is not None:
                await also(now=runtime.now())
        except Exception:  # a failed reload keeps the keys we have
            log.exception("Reloading the signing keys failed; will retry.")


@asynccontextmanager
async def housekeeping(
    runtime: Runtime,
    *,
    interval: float = PURGE_INTERVAL,
    key_interval: float = RELOAD_INTERVAL,
    also_reload: KeyReload | None = None,
) -> AsyncIterator[None]:
    """Run the purge loop, and the key reloads every ``key_interval`` seconds (the token keys,
    and ``also_reload``: OpenID Connect's ID-token keys), for as long as the server lives."""
    task = asyncio.create_task(_purge_forever(runtime, interval), name="keyfob-purge")
    reload = _reload_keys_forever(runtime, key_interval, also_reload)
    keys = asyncio.create_task(reload, name="keyfob-keys")
    try:
        yield
    finally:
        task.cancel()
        keys.cancel()
        await asyncio.gather(task, keys, return_exceptions=True)
