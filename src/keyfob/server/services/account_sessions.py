"""A user's sessions as the account page lists and ends them: browser sign-ins (SSO sessions)
and app sessions (the JSON API's refresh-token sessions).

Ending an SSO session deletes it and runs its end hooks (the OpenID Provider revokes the grants
it started and tells their clients by back-channel logout). Ending an app session revokes it
with its refresh tokens and session keys and puts its ``sid`` on the denylist feed, so apps
refuse its live access tokens. Signing out everywhere does both for every session of the user
in one transaction, runs the hooks, then revokes the user's OpenID Connect grants left over.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from keyfob.core.secretbox import derive_key
from keyfob.errors import NotFound
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.lifetimes import deny_until, max_age
from keyfob.server.services.sso import SsoContext, sso_session_ended
from keyfob.store.records import SsoSessionRecord, UserRecord

BROWSER, APP = "browser", "app"
_ID_LENGTH = 32


@dataclass(frozen=True, slots=True)
class SessionView:
    """One session of the user: ``id`` names it in a form (``browser-`` and a keyed hash of the
    SSO session's token hash, never the hash itself; ``app-`` and the session's ``sid``), its
    kind, where it was seen, when it started and was last used, whether it is this browser's."""

    id: str
    kind: str
    device: str | None
    ip_area: str | None
    started_at: datetime
    last_used_at: datetime | None
    current: bool


@dataclass(frozen=True, slots=True)
class SignedOutEverywhere:
    """What signing out everywhere ended: app sessions, browser sessions, live grants."""

    sessions: int
    browsers: int
    grants: int


_Listed = tuple[SessionView, SsoSessionRecord | None]  # a browser session's record, to end it
_GONE = "You have no such session; it may have ended already."


def _browser_id(runtime: Runtime, token_hash: str) -> str:
    key = derive_key(runtime.secret_key, "account-session-id")
    digest = hmac.new(key, token_hash.encode(), hashlib.sha256).hexdigest()
    return f"{BROWSER}-{digest[:_ID_LENGTH]}"


async def _listed(runtime: Runtime, user_id: str, current: str | None) -> list[_Listed]:
    now, store = runtime.now(), runtime.store
    browsers: list[_Listed] = [
        (
            SessionView(
                id=_browser_id(runtime, record.token_hash),
                kind=BROWSER,
                device=record.device,
                ip_area=record.ip_area,
                started_at=record.authenticated_at,
                last_used_at=record.last_used_at,
                current=record.token_hash == current,
            ),
            record,
        )
        for record in await store.sso_sessions_of_user(user_id, now=now)
    ]
    browsers.sort(key=lambda listed: not listed[0].current)  # stable: the rest newest first
    sessions = await store.live_sessions_of_user(
        user_id, now=now, max_age=max_age(runtime.settings)
    )
    apps: list[_Listed] = [
        (
            SessionView(
                id=f"{APP}-{session.id}",
                kind=APP,
                device=session.device,
                ip_area=session.ip_area,
                started_at=session.created_at,
                last_used_at=session.last_used_at,
                current=False,
            ),
            None,
        )
        for session in sessions
    ]
    return browsers + apps


async def sessions_of(runtime: Runtime, user_id: str, *, current: str | None) -> list[SessionView]:
    """The user's live sessions: this browser's first (``current`` is its SSO session's token
    hash), then the other browsers, then app sessions, the newest first."""
    return [view for view, _ in await _listed(runtime, user_id, current)]


async def end_session(
    runtime: Runtime, user: UserRecord, session_id: str, *, current: str | None
) -> SessionView:
    """End the session ``session_id`` of ``user`` (as :func:`sessions_of` names it); return
    it. :class:`NotFound` if the user has no such live session (another user's included)."""
    listed = await _listed(runtime, user.id, current)
    view, record = next((pair for pair in listed if pair[0].id == session_id), (None, None))
    if view is None:
        raise NotFound(_GONE)
    if record is not None:
        if not await runtime.store.delete_sso_session(record.token_hash):
            raise NotFound(_GONE)
        await sso_session_ended(runtime, SsoContext(record, user, record.token_hash))
        return view
    ended = await runtime.store.revoke_session(
        view.id.removeprefix(f"{APP}-"), now=runtime.now(), deny_until=deny_until(runtime)
    )
    if not ended:
        raise NotFound(_GONE)
    return view


async def sign_out_everywhere(runtime: Runtime, user: UserRecord) -> SignedOutEverywhere:
    """End every session of ``user``: app sessions (on the denylist feed), session keys and SSO
    sessions (their end hooks run), then every OpenID Connect grant of theirs still live."""
    store, now = runtime.store, runtime.now()
    grants = len(await store.grants_of_user(user.id, now=now))
    ended = await store.end_every_session(user.id, now=now, deny_until=deny_until(runtime))
    for record in ended.sso_sessions:
        await sso_session_ended(runtime, SsoContext(record, user, record.token_hash))
    await store.revoke_grants_of_user(user.id, now=runtime.now())
    return SignedOutEverywhere(
        sessions=ended.sessions, browsers=len(ended.sso_sessions), grants=grants
    )
