"""HS256 access tokens use a random key of their own, never KEYFOB_SECRET_KEY or anything derived
from it: made and printed once by ``keyfob keys rotate``, sealed in the store, rotated like the
asymmetric keys. (Before, the HS256 key was the master secret: these tests failed.)"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import jwt
import pytest
from typer.testing import CliRunner

from keyfob.core.keys import SigningKey, hs256_secret
from keyfob.core.secretbox import derive_key
from keyfob.core.tokens import issue_access_token
from keyfob.errors import ConfigurationError, InvalidToken
from keyfob.integrations import TokenVerifier
from keyfob.server.infra.cli import cli
from keyfob.server.infra.keyring import rotate_signing_key
from keyfob.server.services.tokens import verify_bearer
from keyfob.store import Store
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, SECRET
from tests.server.signin import bearer, signed_in

_PURPOSES = ("signing-key", "client-secret", "signed-nonce", "challenge", "csrf", "hs256")


def _verifier(*secrets: str) -> TokenVerifier:
    return TokenVerifier(issuer=PUBLIC_URL, audience=PUBLIC_URL, secret=list(secrets))


async def _rotate_with_the_cli(database_url: str, tmp_path: Path) -> tuple[str, str, str]:
    """``keyfob keys rotate`` with HS256 on the test database: (kid, printed secret, output)."""
    env = {
        "KEYFOB_DATABASE_URL": database_url,
        "KEYFOB_SECRET_KEY": SECRET,
        "KEYFOB_TOKEN_ALGORITHM": "HS256",
        "KEYFOB_DATA_DIR": str(tmp_path / "data"),
    }
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    )
    assert result.exit_code == 0, result.output
    kid = re.search(r"signing key: (\S+)", result.stdout)
    secret = re.search(r"^secret: (\S+)$", result.stdout, re.MULTILINE)
    assert kid is not None
    assert secret is not None
    return kid.group(1), secret.group(1), result.output


def _forged(kid: str, key: bytes) -> str:
    """An access token for a made-up user, signed with ``key`` under ``kid``."""
    signer = SigningKey(kid=kid, alg="HS256", private_key=key, public_jwk=None)
    token, _ = issue_access_token(
        key=signer,
        issuer=PUBLIC_URL,
        audience=PUBLIC_URL,
        subject="someone",
        session_id=None,
        amr=("eth",),
        chain=None,
        address=None,
        now=datetime.now(UTC),
        ttl=300,
    )
    return token


async def test_hs256_without_a_key_does_not_start_and_says_to_rotate(make_server: Any) -> None:
    with pytest.raises(ConfigurationError, match="run `keyfob keys rotate` once"):
        async with make_server(token_algorithm="HS256"):
            pass  # pragma: no cover - the start fails


async def test_tokens_verify_with_the_printed_secret_and_never_with_the_master_secret(
    make_server: Any,
    node_clients: NodeClients,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    kid, secret, output = await _rotate_with_the_cli(database_url, tmp_path)
    assert output.count(secret) == 1  # printed once, on stdout
    assert len(secret) == 43
    assert secret != SECRET
    assert all(secret.encode() != derive_key(SECRET, p) for p in _PURPOSES)
    async with make_server(token_algorithm="HS256") as server:
        assert (await server.client.get("/.well-known/jwks.json")).json() == {"keys": []}
        tokens = await signed_in(server, node_clients)
        access = tokens["accessToken"]
        assert jwt.get_unverified_header(access) == {"alg": "HS256", "typ": "at+jwt", "kid": kid}
        claims = await _verifier(secret).verify(access)  # exactly what TokenVerifier takes
        assert claims.subject == tokens["user"]["id"]
        assert (await verify_bearer(server.runtime, access)).subject == tokens["user"]["id"]
        with pytest.raises(InvalidToken):
            await _verifier(SECRET).verify(access)

        # The master secret, and every key derived from it, forge nothing: under the real kid...
        keys = [SECRET.encode(), *(derive_key(SECRET, p) for p in _PURPOSES)]
        for forged_key in keys:
            me = await server.client.get("/auth/me", headers=bearer(_forged(kid, forged_key)))
            assert me.status_code == 401, me.text
            # ...or under the kid an app would compute for it.
            as_secret = _forged("hs256", forged_key)
            assert (
                await server.client.get("/auth/me", headers=bearer(as_secret))
            ).status_code == 401
    logged = caplog.text + capsys.readouterr().err
    assert secret not in logged  # not at rotate, start or sign-in
    assert SECRET not in logged


async def test_rotation_keeps_the_old_secret_verifying_until_its_tokens_expire(
    make_server: Any,
    node_clients: NodeClients,
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await rotate_signing_key(store, "HS256", SECRET, now=datetime.now(UTC))
    async with make_server(token_algorithm="HS256") as server:
        runtime = server.runtime
        before = (await signed_in(server, node_clients))["accessToken"]
        second = await rotate_signing_key(runtime.store, "HS256", SECRET, now=runtime.now())
        await runtime.keyring.load(now=runtime.now())
        after = (await signed_in(server, node_clients))["accessToken"]
        assert jwt.get_unverified_header(after)["kid"] == second.kid != first.kid

        both = _verifier(hs256_secret(second), hs256_secret(first))
        assert (await both.verify(before)).subject == (await both.verify(after)).subject
        with pytest.raises(InvalidToken):
            await _verifier(hs256_secret(second)).verify(before)
        assert (await verify_bearer(server.runtime, before)).subject
        assert (await verify_bearer(server.runtime, after)).subject

        server.clock.advance(901)  # the access-token lifetime: the old key's tokens are gone
        await runtime.keyring.load(now=runtime.now())
        assert list(runtime.keyring.current.by_kid) == [second.kid]
        assert (await server.client.get("/.well-known/jwks.json")).json() == {"keys": []}
    for key in (first, second):
        assert hs256_secret(key) not in caplog.text
