"""How long sessions, their tokens and their keys live, and how long revocations are served.

A session ends ``KEYFOB_SESSION_MAX_AGE`` seconds after its first sign-in (``created_at``),
whatever refreshes happen: no refresh token, access token or session key of it outlives that.
A revoked session stays on the denylist feed for one access-token lifetime, the longest any of
its access tokens can still be live.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from keyfob.errors import SessionExpired
from keyfob.server.infra.runtime import Runtime
from keyfob.server.infra.settings import Settings
from keyfob.store.records import SessionRecord


def max_age(settings: Settings) -> timedelta:
    """The absolute lifetime of a session."""
    return timedelta(seconds=settings.session_max_age)


def session_end(settings: Settings, session: SessionRecord) -> datetime:
    """When ``session`` ends at the latest."""
    return session.created_at + max_age(settings)


def first_refresh_expiry(settings: Settings, now: datetime) -> datetime:
    """The expiry of the refresh token a sign-in at ``now`` opens its session with."""
    return now + min(timedelta(seconds=settings.refresh_token_ttl), max_age(settings))


def session_key_expiry(settings: Settings, session: SessionRecord, now: datetime) -> datetime:
    """The expiry of a session key registered at ``now`` for ``session``."""
    return min(now + timedelta(seconds=settings.session_key_ttl), session_end(settings, session))


def access_token_lifetime(runtime: Runtime, session: SessionRecord) -> int:
    """Seconds an access token minted now for ``session`` lives: the configured lifetime, cut
    short at the session's end. :class:`SessionExpired` once the session has ended."""
    left = (session_end(runtime.settings, session) - runtime.now()).total_seconds()
    if left < 1:
        raise SessionExpired()
    return min(runtime.settings.access_token_ttl, int(left))


def deny_until(runtime: Runtime) -> datetime:
    """Until when a session revoked now is served on the denylist feed: the latest expiry of
    any access token minted before now."""
    return runtime.now() + timedelta(seconds=runtime.settings.access_token_ttl)
