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

from keyfob.errors import ConfigurationError, DenylistUnavailable
from keyfob.integrations.denylist import (
    DEFAULT_ACCESS_TOKEN_TTL,
    RemoteDenylist,
    StaticDenylist,
    parse_denylist,
)
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


async def test_unreachable_keyfob_is_tolerated_for_a_token_lifetime(
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


class Monotonic:
    """A monotonic clock the failure-policy tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_revoked_sessions_are_read(stub: KeyfobStub) -> None:
    expiry = time.time() + 900
    stub.documents[PATH] = {
        "revoked": [{"jti": "jti-1", "exp": expiry}],
        "revoked_sessions": [{"sid": "s-1", "exp": expiry}, {"sid": "s-old", "exp": 1.0}],
        "access_token_ttl": 600,
    }
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=60)
    assert await denylist.contains_session("s-1")
    assert not await denylist.contains_session("s-old")  # long expired: dropped
    assert not await denylist.contains_session("jti-1")  # ids and sessions are apart
    assert not await denylist.contains("s-1")
    assert denylist.max_staleness == 600
    assert stub.hits[PATH] == 1


async def test_a_feed_without_sessions_still_reads(stub: KeyfobStub) -> None:
    """The feed of an older keyfob: no sessions, no lifetime (the default is assumed)."""
    stub.documents[PATH] = _revoked("jti-1")
    denylist = RemoteDenylist(stub.url + PATH)
    assert await denylist.contains("jti-1")
    assert not await denylist.contains_session("s-1")
    assert denylist.max_staleness == DEFAULT_ACCESS_TOKEN_TTL


def test_the_apps_lifetime_wins_over_the_feeds() -> None:
    denylist = RemoteDenylist("https://auth.example.com/auth/denylist", access_token_ttl=120)
    denylist._document = parse_denylist({"revoked": [], "access_token_ttl": 900}, now=0)
    assert denylist.max_staleness == 120


@pytest.mark.parametrize(
    "document",
    [
        {"revoked": [], "revoked_sessions": "all"},
        {"revoked": [], "revoked_sessions": [{"sid": 1}]},
        {"revoked": [], "access_token_ttl": "900"},
        {"revoked": [], "access_token_ttl": 0},
        {"revoked": [], "access_token_ttl": True},
    ],
)
def test_malformed_session_parts_are_refused(document: Any) -> None:
    with pytest.raises(ValueError, match=r"revoked_sessions|access_token_ttl|sid"):
        parse_denylist(document, now=0)


async def _settled(denylist: RemoteDenylist, jti: str) -> bool:
    """``contains`` and then the refresh it started, so the next lookup sees its outcome."""
    try:
        return await denylist.contains(jti)
    finally:
        await _settle(denylist)


async def test_refuses_every_token_once_the_feed_is_down_longer_than_a_token_lives(
    stub: KeyfobStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Default policy: the last known list is used for one token lifetime, then every token
    is refused until the feed answers again; each change of state is logged once."""
    clock = Monotonic()
    stub.documents[PATH] = {**_revoked("jti-1"), "access_token_ttl": 300}
    denylist = RemoteDenylist(stub.url + PATH, refresh_interval=10, clock=clock)
    assert await denylist.contains("jti-1")
    stub.status[PATH] = 503
    with caplog.at_level(logging.WARNING, "keyfob.integrations"):
        for step in range(1, 30):  # down for 290 s: within the lifetime
            clock.now = 1000.0 + step * 10 + 1
            assert await _settled(denylist, "jti-1")
            assert not await _settled(denylist, "jti-2")
        clock.now = 1000.0 + 301
        with pytest.raises(DenylistUnavailable):
            await _settled(denylist, "jti-2")
        clock.now += 20
        with pytest.raises(DenylistUnavailable):
            await denylist.contains_session("s-1")
        await _settle(denylist)
        stub.status[PATH] = 200
        clock.now += 20
        with pytest.raises(DenylistUnavailable):  # this lookup starts the refresh that heals
            await _settled(denylist, "jti-2")
        assert not await denylist.contains("jti-2")
        assert await denylist.contains("jti-1")
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Could not refresh" in m for m in messages) == 1
    assert sum("refusing every token" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    await denylist.aclose()


async def test_fail_open_accepts_tokens_once_the_feed_is_down_too_long(
    stub: KeyfobStub, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Monotonic()
    stub.documents[PATH] = _revoked("jti-1")
    denylist = RemoteDenylist(
        stub.url + PATH, refresh_interval=10, access_token_ttl=60, fail_open=True, clock=clock
    )
    assert await denylist.contains("jti-1")
    stub.status[PATH] = 503
    clock.now += 11
    assert await _settled(denylist, "jti-1")  # within the lifetime: still refused
    clock.now += 60
    with caplog.at_level(logging.ERROR, "keyfob.integrations"):
        assert not await _settled(denylist, "jti-1")  # nothing is checked any more
        assert not await denylist.contains_session("s-1")
    assert sum("fail_open" in r.getMessage() for r in caplog.records) == 1
    await denylist.aclose()


async def test_a_feed_never_reached_refuses_after_a_token_lifetime() -> None:
    with KeyfobStub() as closed:
        url = closed.url + PATH
    clock = Monotonic()
    denylist = RemoteDenylist(url, refresh_interval=10, access_token_ttl=60, timeout=2, clock=clock)
    assert not await denylist.contains("jti-1")
    clock.now += 61
    with pytest.raises(DenylistUnavailable):
        await _settled(denylist, "jti-1")


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.example.com/auth/denylist",
        "http://192.168.1.10:8000/auth/denylist",
        "http://[::2]/auth/denylist",
        "ftp://localhost/auth/denylist",
    ],
)
def test_denylist_url_must_be_https_unless_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="The denylist URL must be an https URL"):
        RemoteDenylist(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://auth.example.com/auth/denylist",
        "http://localhost:8000/auth/denylist",
        "http://127.0.0.1:8000/auth/denylist",
        "http://127.255.0.9/auth/denylist",
        "http://[::1]:8000/auth/denylist",
    ],
)
def test_denylist_url_over_https_or_loopback_is_accepted(url: str) -> None:
    assert RemoteDenylist(url).url == url


async def test_static_denylist_sessions() -> None:
    denylist = StaticDenylist(sids=["s-1"])
    assert await denylist.contains_session("s-1")
    assert not await denylist.contains_session("s-2")
    denylist.add_session("s-2")
    assert await denylist.contains_session("s-2")


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
