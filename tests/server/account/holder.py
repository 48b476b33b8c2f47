"""Helpers for the account page tests: a signed-in browser (an SSO cookie on the client), its
page, its forms with their CSRF token, its scripts' JSON calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store.records import UserRecord
from tests.server.admin.panel import make_user, sso_session
from tests.server.conftest import Server

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ADDRESS = "0x" + "ac" * 20


@dataclass
class Browser:
    """A browser signed in to the account page as ``user`` with its own cookie jar."""

    server: Server
    user: UserRecord
    token: str
    client: httpx.AsyncClient

    @property
    def origin(self) -> str:
        """The server's origin, which its forms and scripts are sent from."""
        return self.server.runtime.settings.origin

    async def page(self) -> httpx.Response:
        """``GET /account``, insisting on the page."""
        page = await self.client.get("/account")
        assert page.status_code == 200, page.text
        return page

    async def csrf(self) -> str:
        """The CSRF token of the page's forms."""
        found = _CSRF.search((await self.page()).text)
        assert found is not None
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
        headers = {"origin": self.origin, **kw.pop("headers", {})}
        return await self.client.post(path, data=form, headers=headers, **kw)

    async def call(
        self, path: str, body: Any = None, *, csrf: str | None = "page", **kw: Any
    ) -> httpx.Response:
        """A script's JSON POST (Origin and ``X-CSRF-Token`` set)."""
        headers = {"origin": self.origin, **kw.pop("headers", {})}
        if csrf == "page":
            headers["x-csrf-token"] = await self.csrf()
        elif csrf is not None:
            headers["x-csrf-token"] = csrf
        return await self.client.post(path, json=body or {}, headers=headers, **kw)


async def open_browser(
    server: Server,
    user: UserRecord,
    *,
    signed_in: datetime | None = None,
    amr: tuple[str, ...] = ("ethereum",),
) -> Browser:
    """A new cookie jar on the server with an SSO session of ``user``."""
    token = await sso_session(server, user, signed_in=signed_in, amr=amr)
    transport = httpx.ASGITransport(app=server.app)
    client = httpx.AsyncClient(transport=transport, base_url=server.runtime.settings.public_url)
    client.cookies.set(PLAIN_COOKIE, token)
    return Browser(server, user, token, client)


async def signed_in(server: Server, address: str = ADDRESS, **options: Any) -> Browser:
    """A user with one Ethereum wallet and a browser signed in to the account page."""
    return await open_browser(server, await make_user(server, address), **options)
