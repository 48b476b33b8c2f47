"""Sessions end ``KEYFOB_SESSION_MAX_AGE`` after the first sign-in, whatever refreshes happen,
and every revocation reaches apps through the denylist feed (``revoked_sessions``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select

from keyfob.core.tokens import hash_refresh_token
from keyfob.store.schema import refresh_tokens
from tests.node_clients import NodeClients
from tests.server.api.test_session_keys import authorised, now_ms, proof, token
from tests.server.conftest import Server
from tests.server.signin import bearer, signed_in

HOUR = 3600


def exp_of(access_token: str) -> int:
    exp: int = jwt.decode(access_token, options={"verify_signature": False})["exp"]
    return exp


async def refresh(server: Server, refresh_token: str) -> Any:
    return await server.post("/auth/refresh", {"refreshToken": refresh_token})


async def feed(server: Server) -> dict[str, Any]:
    response = await server.client.get("/auth/denylist")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_refreshes_never_outlive_the_session(
    make_server: Any, node_clients: NodeClients
) -> None:
    """Without the absolute lifetime, rotation keeps a session alive for ever."""
    settings = {"session_max_age": HOUR, "refresh_token_ttl": 2 * HOUR}
    async with make_server(**settings) as server:
        tokens = await signed_in(server, node_clients)
        end = int(server.clock().timestamp()) + HOUR
        current = tokens["refreshToken"]
        for _ in range(3):  # refreshes at 1000 s, 2000 s and 3000 s
            server.clock.advance(1000)
            renewed = await refresh(server, current)
            assert renewed.status_code == 200, renewed.text
            body = renewed.json()
            assert exp_of(body["accessToken"]) <= end
            assert int(server.clock().timestamp()) + body["expiresIn"] <= end
            current = body["refreshToken"]
        # cut short: about 600 s were left, not 900 (the clock runs on between the calls)
        assert end - 2 <= exp_of(body["accessToken"]) <= end
        assert 598 <= body["expiresIn"] <= 600
        async with server.runtime.store.engine.connect() as conn:
            expiries = (await conn.execute(select(refresh_tokens.c.expires_at))).scalars().all()
        assert len(expiries) == 4
        assert all(int(expiry.timestamp()) <= end for expiry in expiries)
        server.clock.advance(601)  # past the end; the refresh token itself expired with it
        late = await refresh(server, current)
        assert late.status_code == 401
        assert late.json()["error"] == "session_expired"


async def test_the_first_refresh_token_is_capped_too(
    make_server: Any, node_clients: NodeClients
) -> None:
    async with make_server(session_max_age=HOUR, refresh_token_ttl=7 * 24 * HOUR) as server:
        tokens = await signed_in(server, node_clients)
        store = server.runtime.store
        session = await store.session_for_refresh_token(hash_refresh_token(tokens["refreshToken"]))
        assert session is not None
        async with store.engine.connect() as conn:
            (expiry,) = (await conn.execute(select(refresh_tokens.c.expires_at))).scalars().all()
        assert expiry == session.created_at + timedelta(seconds=HOUR)


async def test_session_keys_never_outlive_their_session(
    make_server: Any, node_clients: NodeClients
) -> None:
    async with make_server(session_max_age=HOUR, session_key_ttl=30 * 24 * HOUR) as server:
        key, tokens, thumbprint = await authorised(server, node_clients, "Ed25519")
        listed = await server.client.get(
            "/auth/session-keys", headers=bearer(tokens["accountToken"])
        )
        record = await server.runtime.store.get_session_key(thumbprint)
        assert record is not None
        session = await server.runtime.store.get_session(record.session_id)
        assert session is not None
        assert record.expires_at == session.created_at + timedelta(seconds=HOUR)
        assert listed.json()[0]["thumbprint"] == thumbprint
        server.clock.advance(HOUR - 100)
        stamp = now_ms(server)
        minted = await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
        assert minted.status_code == 200, minted.text
        end = int((session.created_at + timedelta(seconds=HOUR)).timestamp())
        assert 98 <= minted.json()["expiresIn"] <= 100
        assert end - 2 <= exp_of(minted.json()["accessToken"]) <= end
        server.clock.advance(101)
        stamp = now_ms(server)
        late = await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
        assert late.status_code == 401
        assert late.json()["error"] == "invalid_session_key"


async def test_a_session_key_stored_with_a_longer_expiry_dies_with_its_session(
    make_server: Any, node_clients: NodeClients
) -> None:
    """A key written before the cap (or under a longer max age) is refused once the session
    has ended, though its own expiry is still ahead."""
    async with make_server(session_max_age=HOUR) as server:
        key, _, thumbprint = await authorised(server, node_clients, "Ed25519")
        store = server.runtime.store
        record = await store.get_session_key(thumbprint)
        assert record is not None
        await store.add_session_key(
            replace(record, expires_at=record.expires_at + timedelta(days=9))
        )
        server.clock.advance(HOUR + 1)
        stamp = now_ms(server)
        late = await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
        assert late.status_code == 401
        assert late.json()["error"] == "invalid_session_key"


async def test_logout_puts_the_session_on_the_feed(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    second = (await refresh(server, tokens["refreshToken"])).json()["accessToken"]
    sid = jwt.decode(second, options={"verify_signature": False})["sid"]
    assert (await feed(server))["revoked_sessions"] == []
    out = await server.post("/auth/logout", headers=bearer(tokens["accessToken"]))
    assert out.status_code == 204
    until = int(server.clock().timestamp()) + server.runtime.settings.access_token_ttl
    document = await feed(server)
    assert [entry["sid"] for entry in document["revoked_sessions"]] == [sid]
    assert until - 2 <= document["revoked_sessions"][0]["exp"] <= until
    assert document["access_token_ttl"] == server.runtime.settings.access_token_ttl
    assert len(document["revoked"]) == 1  # the logout's own token, by jti, as before
    me = await server.client.get("/auth/me", headers=bearer(second))
    assert me.status_code == 401
    # The entry leaves the feed when the last token of the session has expired.
    server.clock.advance(server.runtime.settings.access_token_ttl + 1)
    assert (await feed(server))["revoked_sessions"] == []


async def test_reuse_detection_puts_the_session_on_the_feed(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    renewed = (await refresh(server, tokens["refreshToken"])).json()
    server.clock.advance(11)  # past the grace
    reused = await refresh(server, tokens["refreshToken"])
    assert reused.json()["error"] == "refresh_token_reused"
    sid = jwt.decode(renewed["accessToken"], options={"verify_signature": False})["sid"]
    assert [entry["sid"] for entry in (await feed(server))["revoked_sessions"]] == [sid]
