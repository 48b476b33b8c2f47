"""One-time links that let the first admin (or another) register a passkey as admin.

``keyfob admin create`` stores only the SHA-256 of a random token, as a challenge of purpose
``"enroll"`` that lives 15 minutes; the link carries the token. Consuming it is atomic, so a
link enrols one admin at most.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from keyfob.store import Store
from keyfob.store.records import PasskeyChallengeRecord

ENROLL = "enroll"
LINK_LIFETIME = timedelta(minutes=15)


def enrollment_key(token: str) -> str:
    """What is stored for a link's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_enrollment_link(
    store: Store, *, public_url: str, now: datetime, roles: tuple[str, ...] = ("admin",)
) -> tuple[str, datetime]:
    """Store a new one-time enrolment token; return the link and when it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = now + LINK_LIFETIME
    record = PasskeyChallengeRecord(
        challenge=enrollment_key(token),
        purpose=ENROLL,
        user_id=None,
        username=None,
        roles=roles,
        expires_at=expires_at,
    )
    await store.add_passkey_challenge(record)
    return f"{public_url}/admin/enroll?token={token}", expires_at


async def consume_enrollment(store: Store, token: str, *, now: datetime) -> tuple[str, ...] | None:
    """Spend a link's token: the roles it grants, or None if unknown, used or expired."""
    record = await store.consume_passkey_challenge(enrollment_key(token), now=now)
    if record is None:
        return None
    if record.purpose != ENROLL:  # a WebAuthn challenge is not a link; it is spent either way
        return None
    return record.roles
