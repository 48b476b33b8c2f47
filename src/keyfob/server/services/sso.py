"""The hosted pages' single sign-on: a browser cookie naming a server-side SSO session.

The cookie holds 256 random bits; the store keeps only their SHA-256, so a database leak
reveals no live session. The session itself lives at most :data:`MAX_LIFETIME`; each client
app decides at use how recent the sign-in must be (``authorized_client_lifetime_minutes``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import HTTPConnection
from starlette.responses import Response

from keyfob.core.secretbox import derive_key
from keyfob.core.tokens import hash_refresh_token
from keyfob.server.infra.client_address import client_address
from keyfob.server.infra.runtime import Runtime
from keyfob.server.infra.settings import Settings
from keyfob.server.services.devices import ip_area
from keyfob.store.last_used import LAST_USED_STEP
from keyfob.store.records import ClientRecord, SessionDevice, SsoSessionRecord, UserRecord

SECURE_COOKIE = "__Host-keyfob_sso"
PLAIN_COOKIE = "keyfob_sso"  # browsers refuse __Host- cookies without Secure (plain http)
MAX_LIFETIME = timedelta(days=30)
_MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SsoContext:
    """A live SSO session of the requesting browser, its user and the session's key."""

    session: SsoSessionRecord
    user: UserRecord
    token_hash: str

    def is_fresh_for(self, client: ClientRecord, *, now: datetime) -> bool:
        """True if the sign-in is recent enough for ``client`` to skip the prompt."""
        lifetime = timedelta(minutes=client.authorized_client_lifetime_minutes)
        return self.session.authenticated_at + lifetime > now


def csrf_token(runtime: Runtime, sso: SsoContext, purpose: str) -> str:
    """The CSRF token of ``sso`` for one surface's forms: an HMAC of the session's token hash
    under a key of that ``purpose``, so it is worthless outside the session and the surface."""
    key = derive_key(runtime.secret_key, purpose)
    return hmac.new(key, sso.token_hash.encode(), hashlib.sha256).hexdigest()


def csrf_matches(expected: str, sent: object) -> bool:
    """True if ``sent`` (a form field or header, maybe missing) is ``expected``, compared in
    constant time."""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


def cookie_name(settings: Settings) -> str:
    """``__Host-keyfob_sso`` on https, ``keyfob_sso`` on plain http."""
    return SECURE_COOKIE if settings.secure_cookies else PLAIN_COOKIE


def _token(connection: HTTPConnection, runtime: Runtime) -> str | None:
    token = connection.cookies.get(cookie_name(runtime.settings))
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


async def current_sso(connection: HTTPConnection, runtime: Runtime) -> SsoContext | None:
    """The browser's SSO session if its cookie names a live one of an enabled user. That is a
    use of it: its last use and network are recorded, at most once a minute."""
    token = _token(connection, runtime)
    if token is None:
        return None
    token_hash = hash_refresh_token(token)
    now = runtime.now()
    session = await runtime.store.get_sso_session(token_hash, now=now)
    if session is None:
        return None
    user = await runtime.store.get_user(session.user_id)
    if user is None or user.disabled:
        return None
    if session.last_used_at is None or now - session.last_used_at >= LAST_USED_STEP:
        area = ip_area(client_address(connection.scope, runtime.settings.proxies))
        await runtime.store.touch_sso_session(token_hash, now=now, ip_area=area)
    return SsoContext(session=session, user=user, token_hash=token_hash)


async def start_sso_session(
    runtime: Runtime,
    response: Response,
    *,
    user: UserRecord,
    amr: tuple[str, ...],
    device: SessionDevice | None = None,
) -> SsoContext:
    """Open an SSO session for ``user`` signed in by ``amr`` on ``device`` and set its cookie on
    ``response``; the new session (what :func:`current_sso` finds on the browser's next request)."""
    token = secrets.token_urlsafe(32)
    now = runtime.now()
    seen = device or SessionDevice()
    record = SsoSessionRecord(
        token_hash=hash_refresh_token(token),
        user_id=user.id,
        amr=amr,
        authenticated_at=now,
        expires_at=now + MAX_LIFETIME,
        sid=secrets.token_urlsafe(16),  # OpenID Connect's public session id
        device=seen.device,
        ip_area=seen.ip_area,
        last_used_at=now,
    )
    await runtime.store.create_sso_session(record)
    secure = runtime.settings.secure_cookies
    response.set_cookie(
        cookie_name(runtime.settings),
        token,
        max_age=int(MAX_LIFETIME.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return SsoContext(session=record, user=user, token_hash=record.token_hash)


async def replace_sso_session(
    connection: HTTPConnection,
    runtime: Runtime,
    response: Response,
    *,
    user: UserRecord,
    amr: tuple[str, ...],
    device: SessionDevice | None = None,
) -> SsoContext:
    """:func:`start_sso_session` after deleting the browser's current one, if any: a new
    sign-in never rides on an older session's token."""
    previous = await current_sso(connection, runtime)
    if previous is not None:
        await runtime.store.delete_sso_session(previous.token_hash)
    return await start_sso_session(runtime, response, user=user, amr=amr, device=device)


async def sso_session_ended(runtime: Runtime, sso: SsoContext) -> None:
    """Run the hooks of whatever else a browser's sign-in started (the OpenID Provider revokes
    the session's grants and notifies their clients): every surface that ends an SSO session
    calls it, none needs to know the others."""
    for hook in runtime.session_end_hooks:
        await hook(sso)


async def end_sso_session(connection: HTTPConnection, runtime: Runtime, response: Response) -> None:
    """Delete the browser's SSO session (if any) and clear its cookie on ``response``."""
    token = _token(connection, runtime)
    if token is not None:
        await runtime.store.delete_sso_session(hash_refresh_token(token))
    secure = runtime.settings.secure_cookies
    response.delete_cookie(
        cookie_name(runtime.settings), path="/", secure=secure, httponly=True, samesite="lax"
    )
