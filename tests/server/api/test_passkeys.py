"""The passkey JSON API with the Chromium capture in tests/vectors/webauthn/: servers on
its origin (RP ID ``localhost``), its challenges stored as if keyfob had issued them. Every
failure is a change to the store or settings around the capture: no software authenticator."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.server.services.tokens import verify_bearer
from keyfob.store.records import PasskeyChallengeRecord
from keyfob.store.schema import audit_events, identities, passkey_challenges, passkeys
from tests.paths import VECTORS
from tests.server.conftest import Server, ServerFactory

DIR = VECTORS / "webauthn"
CHALLENGES: dict[str, str] = json.loads((DIR / "sample_challenges.json").read_text())
REGISTRATION: dict[str, Any] = json.loads((DIR / "sample_registration.json").read_text())
ASSERTION: dict[str, Any] = json.loads((DIR / "sample_authentication.json").read_text())
ORIGIN = CHALLENGES["origin"]
CREDENTIAL_ID = REGISTRATION["id"]
REG_CHALLENGE = CHALLENGES["reg_challenge_b64url"]
AUTH_CHALLENGE = CHALLENGES["auth_challenge_b64url"]


@asynccontextmanager
async def vector_server(make_server: ServerFactory, **overrides: Any) -> AsyncIterator[Server]:
    """A server on the vector's origin (RP ID ``localhost``)."""
    async with make_server(public_url=ORIGIN, **overrides) as server:
        yield server


async def issue(
    server: Server,
    challenge: str,
    purpose: str,
    *,
    user_id: str | None = None,
    username: str | None = None,
) -> None:
    """Store a captured challenge as though ``/options`` had handed it out."""
    runtime = server.runtime
    record = PasskeyChallengeRecord(
        challenge=challenge,
        purpose=purpose,
        user_id=user_id if user_id is not None or purpose == "login" else str(uuid.uuid4()),
        username=username,
        roles=(),
        expires_at=runtime.now() + timedelta(seconds=runtime.settings.webauthn_timeout),
    )
    await runtime.store.add_passkey_challenge(record)


def assertion_of(user_id: str | None) -> dict[str, Any]:
    """The captured assertion, its userHandle set to what keyfob gave ``user_id``'s account.

    The capture's authenticator was registered with a 64-byte user handle by another RP;
    keyfob's handles are the 16 bytes of the user's UUID, so keyfob would have given the
    authenticator those. The userHandle is outside the signed data (authenticatorData and
    the hash of clientDataJSON), so everything verified stays the real client's bytes."""
    credential = copy.deepcopy(ASSERTION)
    handle = None if user_id is None else b64url_encode(uuid.UUID(user_id).bytes)
    credential["response"]["userHandle"] = handle
    return credential


async def register_vector(server: Server, **headers: str) -> httpx.Response:
    """``POST /auth/passkey/register/verify`` with the captured registration."""
    return await server.post(
        "/auth/passkey/register/verify", {"credential": REGISTRATION}, headers=headers
    )


async def registered(server: Server, *, user_id: str | None = None) -> dict[str, Any]:
    """Register the captured passkey for a new account (or ``user_id``'s); the token response."""
    await issue(server, REG_CHALLENGE, "register", user_id=user_id)
    response = await register_vector(server)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def sign_in_vector(server: Server, credential: dict[str, Any]) -> httpx.Response:
    """``POST /auth/passkey/login/verify``."""
    return await server.post("/auth/passkey/login/verify", {"credential": credential})


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The response is keyfob's JSON error with this status and code."""
    assert response.status_code == status, response.text
    assert response.json()["error"] == code, response.text


async def audit_rows(server: Server, event: str) -> list[Any]:
    """The audit log rows of ``event``."""
    query = select(audit_events).where(audit_events.c.event == event)
    async with server.runtime.store.engine.connect() as conn:
        return list((await conn.execute(query)).mappings())


async def test_register_with_the_vector_signs_in(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        tokens = await registered(server)
        user = tokens["user"]
        [identity] = user["identities"]
        assert identity["chain"] == "passkey"
        assert identity["address"] == CREDENTIAL_ID
        assert tokens["tokenType"] == "Bearer"
        claims = await verify_bearer(server.runtime, tokens["accessToken"])
        assert claims.subject == user["id"]
        assert claims.amr == ("hwk", "user")  # Chromium's virtual authenticator: device-bound, UV
        assert claims.chain is None
        assert claims.address is None
        [row] = await audit_rows(server, "passkey_registered")
        assert row["user_id"] == user["id"]


async def test_sign_in_with_the_vector(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(user_id))
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens["user"]["id"] == user_id
        claims = await verify_bearer(server.runtime, tokens["accessToken"])
        assert claims.subject == user_id
        assert claims.amr == ("hwk", "user")  # Chromium's virtual authenticator: device-bound, UV
        [passkey] = await server.runtime.store.passkeys_of_user(user_id)
        assert passkey.sign_count == 2


async def test_the_user_handle_must_be_the_accounts_or_absent(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login", user_id=user_id)
        # As captured: the 64-byte handle another RP gave this authenticator; then another's.
        assert_error(await sign_in_vector(server, ASSERTION), 401, "invalid_credential")
        other = assertion_of(str(uuid.uuid4()))
        assert_error(await sign_in_vector(server, other), 401, "invalid_credential")
        response = await sign_in_vector(server, assertion_of(None))
        assert response.status_code == 200, response.text


# --- registration options -------------------------------------------------------------------


async def test_registration_options(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        response = await server.post("/auth/passkey/register/options", {"username": "alice"})
        assert response.status_code == 200, response.text
        options = response.json()
        assert options["rp"] == {"id": "localhost", "name": "keyfob"}
        assert options["user"]["name"] == "alice"
        assert len(b64url_decode(options["user"]["id"])) == 16
        assert options["excludeCredentials"] == []
        assert options["authenticatorSelection"]["residentKey"] == "required"
        assert len(b64url_decode(options["challenge"])) == 32


async def test_a_registered_username_is_taken(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        await issue(server, REG_CHALLENGE, "register", username="Alice")
        assert (await register_vector(server)).status_code == 200
        for name in ("Alice", "alice"):
            response = await server.post("/auth/passkey/register/options", {"username": name})
            assert_error(response, 409, "conflict")


@pytest.mark.parametrize("name", ["", "-alice", "al ice", "a" * 65, "a\u00e9", 5, ["alice"]])
async def test_bad_usernames_are_refused(make_server: ServerFactory, name: Any) -> None:
    async with vector_server(make_server) as server:
        response = await server.post("/auth/passkey/register/options", {"username": name})
        assert_error(response, 422, "invalid_request")


# --- sign-in options ------------------------------------------------------------------------


async def test_sign_in_options_are_the_same_for_known_and_unknown_usernames(
    make_server: ServerFactory,
) -> None:
    """No allowCredentials, no enumeration: the answers for a username with a passkey, one
    nobody has and none are the same bytes but for the random challenge; the username is
    kept with the challenge on the server. (Before: a known name listed its credential ids.)"""
    async with vector_server(make_server) as server:
        await issue(server, REG_CHALLENGE, "register", username="alice")
        user_id = (await register_vector(server)).json()["user"]["id"]
        answers = []
        for body in ({"username": "ALICE"}, {"username": "nobody"}, {}):
            response = await server.post("/auth/passkey/login/options", body)
            assert response.status_code == 200, response.text
            challenge = response.json()["challenge"]
            answers.append(response.content.replace(challenge.encode(), b"<challenge>"))
            assert response.json()["allowCredentials"] == []
            async with server.runtime.store.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(passkey_challenges).where(
                            passkey_challenges.c.challenge == challenge
                        )
                    )
                ).one()
            expected = {
                "ALICE": (user_id, "ALICE"),
                "nobody": (None, "nobody"),
                None: (None, None),
            }[body.get("username")]
            assert (row.user_id, row.username) == expected
        assert answers[0] == answers[1] == answers[2], answers
        options = json.loads(answers[0])
        assert set(options) == {
            "challenge",
            "timeout",
            "rpId",
            "allowCredentials",
            "userVerification",
        }


async def test_options_pinned_to_a_user_refuse_another_users_passkey(
    make_server: ServerFactory,
) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login", user_id=str(uuid.uuid4()))
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_credential")


async def test_options_for_a_username_nobody_has_refuse_every_passkey(
    make_server: ServerFactory,
) -> None:
    """The same options as for a real name, but no passkey can answer them."""
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login", username="nobody")
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_credential")


@pytest.mark.parametrize("name", ["alice\n", "a\x00b", "-x", "sp ace"])
async def test_options_for_a_name_no_account_can_have_are_refused_unlooked_up(
    make_server: ServerFactory, name: str
) -> None:
    """A name no account can have is refused at the edge (422, before any query: a NUL byte
    would upset PostgreSQL), so it says nothing about who has an account, and stores nothing."""
    async with vector_server(make_server) as server:
        await issue(server, REG_CHALLENGE, "register", username="alice")
        assert (await register_vector(server)).status_code == 200
        response = await server.post("/auth/passkey/login/options", {"username": name})
        assert_error(response, 422, "invalid_request")
        async with server.runtime.store.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(passkey_challenges).where(passkey_challenges.c.purpose == "login")
                )
            ).all()
        assert rows == []


async def test_a_usernameless_assertion_needs_a_user_handle(make_server: ServerFactory) -> None:
    """WebAuthn L3 §7.2 step 6: without a username the user handle must be there (before:
    accepted without one); with a username it may be absent."""
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(None))
        assert_error(response, 401, "invalid_credential")
        assert "user handle" in response.json()["message"]
        response = await sign_in_vector(server, assertion_of(user_id))  # challenge not spent
        assert response.status_code == 200, response.text


# --- refusals -------------------------------------------------------------------------------


async def test_a_replayed_or_stored_registration_is_refused(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        await registered(server)
        assert_error(await register_vector(server), 401, "invalid_challenge")
        # Answering a new challenge with a stored credential conflicts.
        await issue(server, REG_CHALLENGE, "register")
        assert_error(await register_vector(server), 409, "conflict")


async def test_a_replayed_assertion_is_refused(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        assert (await sign_in_vector(server, assertion_of(user_id))).status_code == 200
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_challenge")
        # A replay is not a sign of a cloned authenticator.
        assert await audit_rows(server, "passkey_sign_count_regression") == []


async def test_challenges_serve_one_ceremony(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        await issue(server, REG_CHALLENGE, "login")
        assert_error(await register_vector(server), 401, "invalid_challenge")
        # Refused without spending it (the deletion rolled back).
        now = server.runtime.now()
        assert await server.runtime.store.consume_passkey_challenge(REG_CHALLENGE, now=now)
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "register", user_id=user_id)
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_challenge")
        [failed] = await audit_rows(server, "sign_in_failed")
        assert json.loads(failed["detail"])["error"] == "invalid_challenge"


async def test_an_expired_challenge_is_refused(make_server: ServerFactory) -> None:
    async with vector_server(make_server, webauthn_timeout=60) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        server.clock.advance(61)
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_challenge")
        await issue(server, REG_CHALLENGE, "register")
        server.clock.advance(61)
        assert_error(await register_vector(server), 401, "invalid_challenge")


async def test_an_unknown_credential_is_refused(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(str(uuid.uuid4())))
        assert_error(response, 401, "invalid_credential")


async def test_a_sign_count_regression_is_refused_and_audited(
    make_server: ServerFactory,
) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await _set_sign_count(server, CREDENTIAL_ID, 5)
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "sign_count_regression")
        [row] = await audit_rows(server, "passkey_sign_count_regression")
        assert row["user_id"] == user_id
        detail = json.loads(row["detail"])
        assert (detail["stored"], detail["received"]) == (5, 2)
        [passkey] = await server.runtime.store.passkeys_of_user(user_id)
        assert passkey.sign_count == 5


async def _set_sign_count(server: Server, credential_id: str, count: int) -> None:
    ids = select(identities.c.id).where(identities.c.address == credential_id)
    statement = update(passkeys).where(passkeys.c.identity_id.in_(ids)).values(sign_count=count)
    async with server.runtime.store.engine.begin() as conn:
        assert (await conn.execute(statement)).rowcount == 1


@pytest.mark.parametrize(
    ("origins", "ok"),
    [
        ("https://auth.example.com", False),
        ("http://localhost:33402", False),
        ("https://localhost:33401", False),
        (f"https://auth.example.com,{ORIGIN}", True),
        (f"android:apk-key-hash:Kx3CpKVSCZOjfBBa9ZBQ_OJfYhbmZzoZtDM4F9k3sTY,{ORIGIN}", True),
    ],
)
async def test_origins(make_server: ServerFactory, origins: str, ok: bool) -> None:
    async with vector_server(make_server, webauthn_origins=origins) as server:
        await issue(server, REG_CHALLENGE, "register")
        response = await register_vector(server)
        if not ok:
            assert_error(response, 401, "invalid_credential")
            return
        assert response.status_code == 200, response.text
        await issue(server, AUTH_CHALLENGE, "login")
        user_id = response.json()["user"]["id"]
        assert (await sign_in_vector(server, assertion_of(user_id))).status_code == 200


async def test_a_wrong_rp_id_is_refused(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
    async with vector_server(make_server, webauthn_rp_id="example.com") as server:
        await issue(server, REG_CHALLENGE, "register")
        assert_error(await register_vector(server), 401, "invalid_credential")
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(user_id))
        assert_error(response, 401, "invalid_credential")


def _with(field: str, value: Any, *, inside: bool = True) -> dict[str, Any]:
    credential = copy.deepcopy(ASSERTION)
    (credential["response"] if inside else credential)[field] = value
    return {"credential": credential}


_CREATE = {**json.loads(b64url_decode(ASSERTION["response"]["clientDataJSON"])), "type": "x"}
_MANGLED: list[Any] = [
    *(None, "text", [], {}, {"credential": None}, {"credential": "{}"}, {"credential": {}}),
    *({"credential": c} for c in ({"id": CREDENTIAL_ID}, REGISTRATION)),
    *(_with(k, v, inside=False) for k, v in [("rawId", "AAAA"), ("type", "password")]),
    *(_with(k, v, inside=False) for k, v in [("response", "x"), ("id", "not base64!")]),
    *(_with("clientDataJSON", v) for v in ("e30", "bm90IGpzb24", None, "%%%")),
    _with("clientDataJSON", b64url_encode(json.dumps(_CREATE).encode())),
    *(_with(k, v) for k, v in [("signature", 12), ("signature", "AA"), ("signature", None)]),
    *(_with(k, v) for k, v in [("authenticatorData", ""), ("userHandle", 5), ("userHandle", "%")]),
]


@pytest.mark.parametrize("body", _MANGLED)
async def test_malformed_credentials_get_a_json_error(
    make_server: ServerFactory, body: Any
) -> None:
    async with vector_server(make_server) as server:
        await registered(server)
        await issue(server, AUTH_CHALLENGE, "login")
        for path in ("/auth/passkey/login/verify", "/auth/passkey/register/verify"):
            response = await server.post(path, body)
            assert 400 <= response.status_code < 500, response.text
            assert isinstance(response.json()["error"], str)
        # None of them spent the challenge: the real assertion still signs in.
        passkey = await server.runtime.store.get_passkey(CREDENTIAL_ID)
        assert passkey is not None
        user_id = passkey.identity.user_id
        assert (await sign_in_vector(server, assertion_of(user_id))).status_code == 200


async def test_concurrent_sign_ins_with_one_assertion(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        credential = assertion_of(user_id)
        responses = await asyncio.gather(*(sign_in_vector(server, credential) for _ in range(10)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [401] * 9, [r.text for r in responses]
        errors = [r.json()["error"] for r in responses if r.status_code == 401]
        assert errors == ["invalid_challenge"] * 9
        [passkey] = await server.runtime.store.passkeys_of_user(user_id)
        assert passkey.sign_count == 2
        sessions = await audit_rows(server, "sign_in")
        assert len(sessions) == 1
