"""Store: the audit log and admin settings (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from keyfob.errors import InvalidRequest
from keyfob.store.audit import MAX_AUDIT_PAGE
from keyfob.store.records import AuditEvent
from tests.store import admin_fixtures
from tests.store.admin_fixtures import Combined
from tests.store.factories import NOW

full_store = admin_fixtures.full_store

EVENTS = [
    AuditEvent(at=NOW, event="sign_in", user_id="u-1", client_id="c-1", ip="127.0.0.1"),
    AuditEvent(at=NOW, event="sign_in_failed", user_id="u-2", detail='{"reason":"nonce"}'),
    AuditEvent(at=NOW, event="signXin", user_id="u-1"),  # "_" must not act as a wildcard
    AuditEvent(at=NOW, event="Sign_in", client_id="c-1"),  # nor case be ignored
    AuditEvent(at=NOW, event="admin.client_created", actor_id="u-1", client_id="c-2"),
    AuditEvent(at=NOW, event="sso_redirect", user_id="u-1", client_id="c-1"),
]


async def stored(full_store: Combined) -> list[AuditEvent]:
    """Add EVENTS one second apart; return them as stored (with ids), oldest first."""
    out = []
    for index, event in enumerate(EVENTS):
        event = replace(event, at=NOW + timedelta(seconds=index))
        out.append(replace(event, id=await full_store.add_audit_event(event)))
    return out


async def test_round_trip_newest_first(full_store: Combined) -> None:
    events = await stored(full_store)
    ids = [e.id for e in events if isinstance(e.id, int)]
    assert len(ids) == len(events)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert await full_store.audit_events() == events[::-1]


async def test_given_id_is_ignored(full_store: Combined) -> None:
    first = await full_store.add_audit_event(AuditEvent(at=NOW, event="a", id=10**9))
    second = await full_store.add_audit_event(AuditEvent(at=NOW, event="b", id=10**9))
    assert first != 10**9
    assert second > first


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"event": "sign_in"}, [0]),
        ({"event": "sign"}, []),
        ({"event_prefix": "sign_in"}, [1, 0]),
        ({"event_prefix": "sign_"}, [1, 0]),
        ({"event_prefix": "sign"}, [2, 1, 0]),
        ({"event_prefix": "admin."}, [4]),
        ({"event_prefix": "%"}, []),
        ({"event_prefix": ""}, [5, 4, 3, 2, 1, 0]),
        ({"user_id": "u-1"}, [5, 2, 0]),
        ({"client_id": "c-1"}, [5, 3, 0]),
        ({"user_id": "u-1", "client_id": "c-1"}, [5, 0]),
        ({"event_prefix": "sign", "user_id": "u-1"}, [2, 0]),
        ({"user_id": "u-1", "limit": 2}, [5, 2]),
        ({"user_id": "nobody"}, []),
        ({"user_id": "a\x00b"}, []),
        ({"event": "e" * 100}, []),
        ({"before_id": 10**30}, [5, 4, 3, 2, 1, 0]),
        ({"before_id": -(10**30)}, []),
        ({"limit": 0}, [5]),
        ({"limit": -3}, [5]),
    ],
)
async def test_filters(full_store: Combined, filters: dict[str, Any], expected: list[int]) -> None:
    events = await stored(full_store)
    found = await full_store.audit_events(**filters)
    assert found == [events[i] for i in expected]


async def test_paging(full_store: Combined) -> None:
    events = await stored(full_store)
    pages: list[list[AuditEvent]] = []
    before = None
    while True:
        page = await full_store.audit_events(limit=4, before_id=before)
        if not page:
            break
        pages.append(page)
        before = page[-1].id
    assert pages == [events[:1:-1], events[1::-1]]
    assert await full_store.audit_events(event_prefix="sign", before_id=events[2].id) == [
        events[1],
        events[0],
    ]


async def test_page_size_is_capped(full_store: Combined) -> None:
    for index in range(MAX_AUDIT_PAGE + 1):
        await full_store.add_audit_event(AuditEvent(at=NOW, event=f"e{index}"))
    page = await full_store.audit_events(limit=10_000)
    assert len(page) == MAX_AUDIT_PAGE
    assert page[0].event == f"e{MAX_AUDIT_PAGE}"


async def test_over_long_values_are_cut_short(full_store: Combined) -> None:
    event = AuditEvent(
        at=NOW, event="e" * 70, user_id="u" * 40, ip="1\x002" + "3" * 70, detail='{"a":"\x00"}'
    )
    await full_store.add_audit_event(event)
    (found,) = await full_store.audit_events()
    assert (found.event, found.user_id) == ("e" * 64, "u" * 36)
    assert found.ip == "12" + "3" * 62
    assert found.detail == '{"a":""}'


async def test_settings_upsert(full_store: Combined) -> None:
    assert await full_store.admin_settings() == {}
    await full_store.set_admin_setting("default_token_lifetime_minutes", "60")
    await full_store.set_admin_setting("default_delivery", "fragment")
    await full_store.set_admin_setting("default_token_lifetime_minutes", "15")
    await full_store.set_admin_setting("empty", "")
    assert await full_store.admin_settings() == {
        "default_token_lifetime_minutes": "15",
        "default_delivery": "fragment",
        "empty": "",
    }


@pytest.mark.parametrize(
    ("key", "value"), [("", "v"), ("k" * 65, "v"), ("a\x00", "v"), ("k", "\x00")]
)
async def test_bad_settings_are_refused(full_store: Combined, key: str, value: str) -> None:
    with pytest.raises(InvalidRequest):
        await full_store.set_admin_setting(key, value)
    assert await full_store.admin_settings() == {}


async def test_purge_keeps_each_kind_for_its_retention(full_store: Combined) -> None:
    """Failed sign-ins go after ``failures_before``, everything else after ``before``."""
    day = timedelta(days=1)
    ages = {
        "sign_in_failed": (40, 10),
        "recovery_failed": (31, 29),
        "sign_in": (500, 40),
        "admin.user_disabled": (401, 399),
    }
    for event, (old, young) in ages.items():
        for age in (old, young):
            await full_store.add_audit_event(AuditEvent(at=NOW - age * day, event=event))
    purged = await full_store.purge_audit_events(
        before=NOW - 400 * day, failures_before=NOW - 30 * day
    )
    assert purged == 4
    left = {(e.event, e.at) for e in await full_store.audit_events()}
    assert left == {(event, NOW - young * day) for event, (_, young) in ages.items()}
    assert (
        await full_store.purge_audit_events(before=NOW - 400 * day, failures_before=NOW - 30 * day)
        == 0
    )


async def test_purge_runs_in_bounded_batches(full_store: Combined) -> None:
    """A backlog larger than a batch is purged whole, ``batch`` rows per transaction."""
    old = NOW - timedelta(days=50)
    for index in range(7):
        await full_store.add_audit_event(AuditEvent(at=old, event="sign_in_failed", ip=str(index)))
    await full_store.add_audit_event(AuditEvent(at=NOW, event="sign_in_failed"))
    purged = await full_store.purge_audit_events(before=old, failures_before=NOW, batch=3)
    assert purged == 7
    assert [e.at for e in await full_store.audit_events()] == [NOW]
