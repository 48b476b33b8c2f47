"""Tests for keyfob.integrations.denylist against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from keyfob.errors import ConfigurationError
from keyfob.integrations.denylist import RemoteDenylist, StaticDenylist
from tests.integrations.test_verifier import (
    COUNTS_SOCKETS,
    KeyfobStub,
    open_sockets,
    wait_for_sockets,
)

PATH = "/auth/denylist"


@pytest.fixture
def stub() -> Iterator[KeyfobStub]:
    with KeyfobStub() as server:
        server.documents[PATH] = {"revoked": []}
        yield server


def _revoked(*jtis: str, exp: float | None = None) -> dict[str, Any]:
    expiry = time.time() + 900 if exp is None else exp
    return {"revoked": [{"jti": jti, "exp": expiry} for jti in jtis]}


async def _settle(denylist: RemoteDenylist) -> None:
    """Wait for a background refresh to finish."""
    if denylist._task is not None:
        await denylist._task


async def test_first_lookup_waits_for_the_list(stub: KeyfobStub) -> None:
    stub.documents[PATH] = _revoked("jti-1", "jti-2")
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=60)
    assert await denylist.contains("jti-1")
    assert await denylist.contains("jti-2")
    assert not await denylist.contains("jti-3")
    assert stub.hits[PATH] == 1


async def test_expired_entries_are_dropped(stub: KeyfobStub) -> None:
    stub.documents[PATH] = {
        "revoked": [
            {"jti": "old", "exp": time.time() - 3600},
            {"jti": "recent", "exp": time.time() - 10},  # within the clock-skew grace
            {"jti": "no-exp"},
        ]
    }
    denylist = RemoteDenylist(stub.url + PATH)
    assert not await denylist.contains("old")
    assert await denylist.contains("recent")
    assert await denylist.contains("no-exp")


async def test_stale_list_refreshes_in_the_background(stub: KeyfobStub) -> None:
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=0.05)
    assert not await denylist.contains("jti-9")
    stub.documents[PATH] = _revoked("jti-9")
    await anyio.sleep(0.1)
    # The stale lookup answers from the old set at once and starts a refresh.
    assert not await denylist.contains("jti-9")
    await _settle(denylist)
    assert await denylist.contains("jti-9")
    assert stub.hits[PATH] == 2
    await denylist.aclose()


async def test_fresh_list_is_not_refetched(stub: KeyfobStub) -> None:
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=60)
    for _ in range(50):
        await denylist.contains("x")
    assert stub.hits[PATH] == 1


async def test_concurrent_refreshes_fetch_once(stub: KeyfobStub) -> None:
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=60)
    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(denylist.contains, "x")
    assert stub.hits[PATH] == 1


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"revoked": []}, 503),
        (b"<html>oops</html>", 200),
        ({"revoked": "all"}, 200),
        ({"revoked": [{"jti": 5}]}, 200),
        ([], 200),
    ],
    ids=["server-error", "not-json", "not-a-list", "jti-not-string", "not-an-object"],
)
async def test_failed_refresh_keeps_the_last_set(
    stub: KeyfobStub, caplog: pytest.LogCaptureFixture, document: Any, status: int
) -> None:
    stub.documents[PATH] = _revoked("jti-1")
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=0.01)
    assert await denylist.contains("jti-1")
    stub.documents[PATH] = document
    stub.status[PATH] = status
    await anyio.sleep(0.02)
    with caplog.at_level(logging.WARNING, "keyfob.integrations"):
        await denylist.contains("jti-1")
        await _settle(denylist)
    assert "Could not refresh keyfob's denylist" in caplog.text
    assert await denylist.contains("jti-1")
    await _settle(denylist)


async def test_unreachable_keyfob_fails_open_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with KeyfobStub() as closed:
        url = closed.url + PATH
    denylist = RemoteDenylist(url, refresh_interval=60, timeout=2)
    with caplog.at_level(logging.WARNING, "keyfob.integrations"):
        assert not await denylist.contains("jti-1")
    assert "Could not refresh" in caplog.text
    # Asked once per interval, not once per request.
    await denylist.contains("jti-1")
    assert denylist.fetch_count == 1


async def test_aclose_cancels_a_pending_refresh(stub: KeyfobStub) -> None:
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=0)
    await denylist.contains("x")
    await asyncio.sleep(0.001)
    await denylist.contains("x")
    await denylist.aclose()
    assert denylist._task is None or denylist._task.done()


def test_remote_denylist_needs_http() -> None:
    with pytest.raises(ConfigurationError):
        RemoteDenylist("file:///etc/passwd")


async def test_static_denylist() -> None:
    denylist = StaticDenylist(["a"])
    assert await denylist.contains("a")
    assert not await denylist.contains("b")
    denylist.add("b")
    assert await denylist.contains("b")


@COUNTS_SOCKETS
async def test_a_refused_fetch_closes_its_connection(stub: KeyfobStub) -> None:
    """An HTTP error answer's connection is closed at once, not left open until the garbage
    collector finds it (then warning, as an unclosed socket, in whichever test that is)."""
    stub.status[PATH] = 500
    denylist = RemoteDenylist(stub.url + PATH)
    gc.disable()  # only the fix may close the connection
    try:
        before = open_sockets()
        assert not await denylist.contains("jti-1")
        assert stub.hits[PATH] == 1
        assert wait_for_sockets(before) == before
    finally:
        gc.enable()
