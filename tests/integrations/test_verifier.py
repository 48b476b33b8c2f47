"""Tests for keyfob.integrations.verifier against a real JWKS server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    hs256_secret,
    hs256_signing_key,
    public_jwk,
)
from keyfob.core.tokens import AccessTokenClaims, issue_access_token
from keyfob.errors import ConfigurationError, InvalidToken, TokenRevoked
from keyfob.integrations.denylist import StaticDenylist
from keyfob.integrations.verifier import TokenVerifier

ISS = "https://auth.example.com"
AUD = "https://api.example.com"
SECRET = "an-hs256-secret-of-at-least-32-bytes!"


class KeyfobStub:
    """A tiny real HTTP server standing in for keyfob: serves documents by path, counts hits."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.status: dict[str, int] = {}
        self.hits: Counter[str] = Counter()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.hits[self.path] += 1
                status = stub.status.get(self.path, 200 if self.path in stub.documents else 404)
                body = json.dumps(stub.documents.get(self.path, {})).encode()
                if isinstance(stub.documents.get(self.path), bytes):
                    body = stub.documents[self.path]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def publish(self, *keys: SigningKey, extra: list[Any] | None = None) -> None:
        """Serve these keys at /.well-known/jwks.json."""
        self.documents["/.well-known/jwks.json"] = {
            "keys": [public_jwk(k) for k in keys] + (extra or [])
        }

    @property
    def jwks_url(self) -> str:
        return self.url + "/.well-known/jwks.json"

    def __enter__(self) -> KeyfobStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def open_sockets() -> int:
    """How many sockets this process holds open (Linux: /proc/self/fd)."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):  # an fd closed since the listing
            count += os.readlink(fd).startswith("socket:")
    return count


def wait_for_sockets(expected: int, *, timeout: float = 2.0) -> int:
    """Wait until this process holds ``expected`` open sockets (the stub's thread closes its end
    of a connection after answering), at most ``timeout`` seconds; return the last count."""
    deadline = time.monotonic() + timeout
    while (count := open_sockets()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return count


COUNTS_SOCKETS = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="counts open sockets in /proc/self/fd"
)


@pytest.fixture
def stub() -> Iterator[KeyfobStub]:
    with KeyfobStub() as server:
        yield server


def issue(key: SigningKey, *, now: datetime | None = None, ttl: int = 900, **changes: Any) -> str:
    """An access token as keyfob would issue it."""
    args: dict[str, Any] = {
        "key": key,
        "issuer": ISS,
        "audience": AUD,
        "subject": "user-1",
        "session_id": "s1",
        "amr": ("ethereum",),
        "chain": "ethereum",
        "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "now": now or datetime.now(UTC),
        "ttl": ttl,
    }
    token, _ = issue_access_token(**{**args, **changes})
    return token


def _verifier(stub: KeyfobStub, **options: Any) -> TokenVerifier:
    return TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url, **options)


async def test_verifies_with_jwks_fetched_once(stub: KeyfobStub) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    verifier = _verifier(stub)
    claims = await verifier.verify(issue(key))
    assert isinstance(claims, AccessTokenClaims)
    assert claims.subject == "user-1"
    for _ in range(5):
        await verifier.verify(issue(key))
    assert stub.hits["/.well-known/jwks.json"] == 1
    assert verifier.fetch_count == 1


async def test_rotation_unknown_kid_refetches_once(stub: KeyfobStub) -> None:
    old, new = generate_signing_key("EdDSA"), generate_signing_key("ES256")
    stub.publish(old)
    verifier = _verifier(stub, refetch_cooldown=0)
    await verifier.verify(issue(old))
    stub.publish(old, new)  # keyfob rotated
    assert (await verifier.verify(issue(new))).subject == "user-1"
    await verifier.verify(issue(new))
    await verifier.verify(issue(old))
    assert stub.hits["/.well-known/jwks.json"] == 2


async def test_cooldown_limits_refetches_of_unknown_kids(stub: KeyfobStub) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    verifier = _verifier(stub, refetch_cooldown=60)
    await verifier.verify(issue(key))
    strangers = [issue(generate_signing_key("EdDSA")) for _ in range(10)]
    for token in strangers:
        with pytest.raises(InvalidToken, match="key we do not know"):
            await verifier.verify(token)
    assert stub.hits["/.well-known/jwks.json"] == 1
    # Even a genuinely new key waits for the cooldown.
    fresh = generate_signing_key("EdDSA")
    stub.publish(key, fresh)
    with pytest.raises(InvalidToken):
        await verifier.verify(issue(fresh))
    assert stub.hits["/.well-known/jwks.json"] == 1


async def test_concurrent_misses_fetch_once(stub: KeyfobStub) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    verifier = _verifier(stub, refetch_cooldown=0)
    tokens = [issue(key) for _ in range(20)]
    results: list[AccessTokenClaims] = []

    async def verify(token: str) -> None:
        results.append(await verifier.verify(token))

    async with anyio.create_task_group() as group:
        for token in tokens:
            group.start_soon(verify, token)
    assert len(results) == 20
    assert stub.hits["/.well-known/jwks.json"] == 1


async def test_removed_key_stops_verifying_even_cached_tokens(stub: KeyfobStub) -> None:
    old, new = generate_signing_key("EdDSA"), generate_signing_key("EdDSA")
    stub.publish(old)
    verifier = _verifier(stub, refetch_cooldown=0)
    old_token = issue(old)
    await verifier.verify(old_token)
    stub.publish(new)
    await verifier.verify(issue(new))
    with pytest.raises(InvalidToken, match="key we do not know"):
        await verifier.verify(old_token)


async def test_unusable_jwks_entries_are_skipped(stub: KeyfobStub) -> None:
    key = generate_signing_key("ES256")
    junk = [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hs256"},
        {**public_jwk(generate_signing_key("EdDSA")), "kid": None},
        "not an object",
    ]
    stub.publish(key, extra=junk)
    verifier = _verifier(stub)
    assert (await verifier.verify(issue(key))).subject == "user-1"


@pytest.mark.parametrize(
    ("path", "document", "status"),
    [
        ("/.well-known/jwks.json", {"keys": "nope"}, 200),
        ("/.well-known/jwks.json", b"not json", 200),
        ("/.well-known/jwks.json", {"keys": []}, 500),
        ("/elsewhere", {}, 200),
    ],
    ids=["keys-not-list", "not-json", "server-error", "not-found"],
)
async def test_broken_jwks_means_unknown_key_and_a_warning(
    stub: KeyfobStub,
    caplog: pytest.LogCaptureFixture,
    path: str,
    document: Any,
    status: int,
) -> None:
    stub.documents[path] = document
    stub.status[path] = status
    verifier = _verifier(stub)
    with (
        caplog.at_level(logging.WARNING, "keyfob.integrations"),
        pytest.raises(InvalidToken, match="key we do not know"),
    ):
        await verifier.verify(issue(generate_signing_key("EdDSA")))
    assert "JWKS" in caplog.text


async def test_unreachable_keyfob() -> None:
    with KeyfobStub() as closed:
        url = closed.jwks_url
    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=url, fetch_timeout=2)
    with pytest.raises(InvalidToken):
        await verifier.verify(issue(generate_signing_key("EdDSA")))


async def test_secret_mode_verifies_hs256() -> None:
    verifier = TokenVerifier(issuer=ISS, audience=AUD, secret=SECRET)
    assert (await verifier.verify(issue(hs256_signing_key(SECRET)))).subject == "user-1"
    with pytest.raises(InvalidToken):
        await verifier.verify(issue(hs256_signing_key(SECRET + "x")))
    with pytest.raises(InvalidToken, match="key we do not know"):
        await verifier.verify(issue(generate_signing_key("EdDSA")))
    assert verifier.fetch_count == 0


async def test_secret_mode_takes_several_secrets_during_a_rotation() -> None:
    old, new = generate_signing_key("HS256"), generate_signing_key("HS256")
    both = TokenVerifier(issuer=ISS, audience=AUD, secret=[hs256_secret(new), hs256_secret(old)])
    assert (await both.verify(issue(old))).subject == "user-1"
    assert (await both.verify(issue(new))).subject == "user-1"
    only_new = TokenVerifier(issuer=ISS, audience=AUD, secret=[hs256_secret(new)])
    with pytest.raises(InvalidToken, match="key we do not know"):
        await only_new.verify(issue(old))
    with pytest.raises(ConfigurationError):
        TokenVerifier(issuer=ISS, audience=AUD, secret=[])


async def test_cached_tokens_still_expire_and_can_be_revoked(stub: KeyfobStub) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    moment = [datetime.now(UTC)]
    denylist = StaticDenylist()
    verifier = _verifier(stub, denylist=denylist, clock=lambda: moment[0])
    token = issue(key, now=moment[0], ttl=60)
    claims = await verifier.verify(token)
    assert await verifier.verify(token) == claims
    denylist.add(claims.jti)
    with pytest.raises(TokenRevoked):
        await verifier.verify(token)
    other = issue(key, now=moment[0], ttl=60)
    await verifier.verify(other)
    moment[0] += timedelta(seconds=61)
    with pytest.raises(InvalidToken, match=r"^The access token has expired\.$"):
        await verifier.verify(other)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(other)  # and again, once it is out of the cache


async def test_cache_is_bounded(stub: KeyfobStub) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    verifier = _verifier(stub, cache_size=3)
    for _ in range(10):
        await verifier.verify(issue(key))
    assert len(verifier._cache) == 3


@pytest.mark.parametrize(
    ("token_changes", "reason"),
    [
        ({"issuer": "https://evil.example.com"}, "someone else"),
        ({"audience": "https://other.example.com"}, "another audience"),
    ],
)
async def test_expectations_still_apply(
    stub: KeyfobStub, token_changes: dict[str, Any], reason: str
) -> None:
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    with pytest.raises(InvalidToken, match=reason):
        await _verifier(stub).verify(issue(key, **token_changes))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"jwks_url": "http://127.0.0.1/jwks", "secret": SECRET},
        {"jwks_url": "file:///etc/passwd"},
        {"secret": "too-short"},
    ],
    ids=["neither", "both", "file-url", "short-secret"],
)
def test_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        TokenVerifier(issuer=ISS, audience=AUD, **options)


async def test_a_revoked_session_refuses_every_token_of_it(stub: KeyfobStub) -> None:
    """Every token carrying a revoked ``sid`` is refused, cached or not, whatever its jti."""
    key = generate_signing_key("EdDSA")
    stub.publish(key)
    denylist = StaticDenylist()
    verifier = _verifier(stub, denylist=denylist)
    first, second = issue(key), issue(key)
    other_session = issue(key, session_id="s2")
    await verifier.verify(first)
    denylist.add_session("s1")
    for token in (first, second):
        with pytest.raises(TokenRevoked, match="session"):
            await verifier.verify(token)
    assert (await verifier.verify(other_session)).session_id == "s2"


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.example.com/.well-known/jwks.json",
        "http://10.0.0.1/.well-known/jwks.json",
        "http://localhost.example.com/jwks",
        "http://128.0.0.1/jwks",
        "ftp://localhost/jwks",
        "https:///jwks",
    ],
)
def test_jwks_url_must_be_https_unless_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="jwks_url must be an https URL"):
        TokenVerifier(issuer=ISS, audience=AUD, jwks_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://auth.example.com/.well-known/jwks.json",
        "http://localhost:8000/.well-known/jwks.json",
        "http://LOCALHOST/jwks",
        "http://127.0.0.1:8000/jwks",
        "http://127.3.2.1/jwks",
        "http://[::1]:8000/jwks",
    ],
)
def test_jwks_url_over_https_or_loopback_is_accepted(url: str) -> None:
    assert TokenVerifier(issuer=ISS, audience=AUD, jwks_url=url).jwks_url == url


@COUNTS_SOCKETS
async def test_a_refused_jwks_fetch_closes_its_connection(stub: KeyfobStub) -> None:
    """An HTTP error answer's connection is closed at once, not left open until the garbage
    collector finds it (then warning, as an unclosed socket, in whichever test that is)."""
    stub.status["/.well-known/jwks.json"] = 404
    verifier = _verifier(stub)
    key = generate_signing_key("EdDSA")
    gc.disable()  # only the fix may close the connection
    try:
        before = open_sockets()
        with pytest.raises(InvalidToken):
            await verifier.verify(issue(key))
        assert verifier.fetch_count == 1
        assert wait_for_sockets(before) == before
    finally:
        gc.enable()
