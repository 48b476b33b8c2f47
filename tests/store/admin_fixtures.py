"""A store with the client, SSO, audit and admin parts, until :class:`Store` includes them.

A test module takes the fixture with ``full_store = admin_fixtures.full_store``. It runs on
the same ``database_url`` as ``store`` (SQLite and PostgreSQL) but on an engine of its own:
two stores on one engine would each close that engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from keyfob.store import Store
from keyfob.store.admin import AdminStore
from keyfob.store.audit import AuditStore
from keyfob.store.clients import ClientStore
from keyfob.store.engine import create_engine
from keyfob.store.records import ClientRecord
from keyfob.store.sso import SsoStore
from tests.store.factories import NOW


class Combined(Store, ClientStore, SsoStore, AuditStore, AdminStore):
    """:class:`Store` with every mixin of the admin side."""


@pytest.fixture
async def full_store(database_url: str) -> AsyncIterator[Combined]:
    """A :class:`Combined` store on ``database_url``."""
    opened = Combined(create_engine(database_url))
    try:
        yield opened
    finally:
        await opened.close()


def client_record(
    client_id: str = "c0a1e1e5-0000-4000-8000-000000000001", **changes: Any
) -> ClientRecord:
    """A client record; ``changes`` override its fields."""
    values: dict[str, Any] = {
        "id": client_id,
        "name": "notes",
        "sealed_secret": b"\x00sealed\xff",
        "redirect_uris": ("https://notes.example/callback", "http://127.0.0.1:8080/cb"),
        "registration_enabled": True,
        "open_to_all": False,
        "token_lifetime_minutes": 60,
        "authorized_client_lifetime_minutes": 43_200,
        "token_delivery": "fragment",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return ClientRecord(**values)
