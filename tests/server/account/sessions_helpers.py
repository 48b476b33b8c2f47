"""What the account page's session tests share: a user with an app session opened through the
JSON API (a real wallet sign-in, a browser's User-Agent) and browsers signed in as them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.account_sessions import SessionView, sessions_of
from keyfob.store.records import UserRecord
from tests.node_clients import NodeClients
from tests.server.account.holder import Browser
from tests.server.conftest import Server
from tests.server.signin import eth_signed

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


@dataclass
class AppSession:
    """A session of the JSON API: its user and token response."""

    user: UserRecord
    tokens: dict[str, Any]
    sid: str  # the session's id, the ``sid`` of its access tokens

    @property
    def page_id(self) -> str:
        """How the account page names it."""
        return f"app-{self.sid}"


async def app_session(server: Server, clients: NodeClients, **keys: Any) -> AppSession:
    """Sign in through ``POST /auth/login`` from Firefox on Windows."""
    body = await eth_signed(server, clients, **keys)
    response = await server.client.post("/auth/login", json=body, headers={"user-agent": FIREFOX})
    assert response.status_code == 200, response.text
    tokens = response.json()
    store = server.runtime.store
    user = await store.get_user(tokens["user"]["id"])
    session = await store.session_for_refresh_token(hash_refresh_token(tokens["refreshToken"]))
    assert user is not None
    assert session is not None
    return AppSession(user, tokens, session.id)


async def listed(server: Server, browser: Browser) -> list[SessionView]:
    """The sessions the page lists for ``browser``'s user, as it names them."""
    current = hash_refresh_token(browser.token)
    return await sessions_of(server.runtime, browser.user.id, current=current)
