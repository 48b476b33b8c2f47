"""Helpers for the admin panel tests: users, SSO sessions set as cookies, forms and their CSRF."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store.records import SsoSessionRecord, UserRecord
from tests.server.conftest import PUBLIC_URL, Server

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def make_user(
    server: Server, address: str, roles: tuple[str, ...] = (), *, disabled: bool = False
) -> UserRecord:
    """A user with one Ethereum identity and ``roles``."""
    store = server.runtime.store
    user, _ = await store.sign_in_identity(
        kind="ethereum", address=address, public_key=None, now=server.runtime.now()
    )
    if roles:
        assert await store.set_roles(user.id, roles)
    if disabled:
        assert await store.disable_user(
            user.id, now=server.runtime.now(), deny_until=deny_until(server.runtime)
        )
    found = await store.get_user(user.id)
    assert found is not None
    return found


async def sso_session(
    server: Server,
    user: UserRecord,
    *,
    signed_in: datetime | None = None,
    amr: tuple[str, ...] = ("ethereum",),
) -> str:
    """Open an SSO session for ``user`` (signed in at ``signed_in``); return its cookie value."""
    token = secrets.token_urlsafe(32)
    at = signed_in or server.runtime.now()
    await server.runtime.store.create_sso_session(
        SsoSessionRecord(
            token_hash=hash_refresh_token(token),
            user_id=user.id,
            amr=amr,
            authenticated_at=at,
            expires_at=at + timedelta(days=30),
        )
    )
    return token


@dataclass
class Panel:
    """A browser signed in to the admin panel as ``admin`` (cookie set on the server's client)."""

    server: Server
    admin: UserRecord
    token: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.server.client

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf(self, path: str = "/admin/settings") -> str:
        """The CSRF token found in a form of the page at ``path``."""
        page = await self.get(path)
        assert page.status_code == 200, page.text
        found = _CSRF.search(page.text)
        assert found is not None, page.text
        return found.group(1)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = "page", **kw: Any
    ) -> httpx.Response:
        """POST a form as the browser would (Origin set); ``csrf="page"`` uses the real token."""
        form = dict(data or {})
        if csrf == "page":
            form["csrf"] = await self.csrf()
        elif csrf is not None:
            form["csrf"] = csrf
        headers = {"origin": PUBLIC_URL, **kw.pop("headers", {})}
        return await self.client.post(path, data=form, headers=headers, **kw)


async def sign_in_panel(server: Server, address: str = "0x" + "ad" * 20) -> Panel:
    """An admin user with an SSO cookie on the server's client."""
    admin = await make_user(server, address, ("admin",))
    token = await sso_session(server, admin)
    server.client.cookies.set(PLAIN_COOKIE, token)
    return Panel(server, admin, token)


def marked_invalid(page: str) -> list[str]:
    """The names of the controls marked invalid: each described by the error and focused."""
    names = []
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", page):
        if 'aria-invalid="true"' in tag:
            assert re.search(r'aria-describedby="form-error[ "]', tag), tag
            assert " autofocus" in tag, tag
            found = re.search(r'name="([a-z_]+)"', tag)
            assert found is not None, tag
            names.append(found.group(1))
    return names
