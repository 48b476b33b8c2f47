"""keyfob's persistence: one :class:`Store` over SQLite or PostgreSQL (SQLAlchemy Core, async)."""

from keyfob.store.engine import create_engine
from keyfob.store.records import (
    IdentityRecord,
    NonceRecord,
    SessionKeyRecord,
    SessionRecord,
    SigningKeyRecord,
    SignInOutcome,
    UserRecord,
)
from keyfob.store.store import NonceSpend, Store

__all__ = [
    "IdentityRecord",
    "NonceRecord",
    "NonceSpend",
    "SessionKeyRecord",
    "SessionRecord",
    "SignInOutcome",
    "SigningKeyRecord",
    "Store",
    "UserRecord",
    "create_engine",
]
