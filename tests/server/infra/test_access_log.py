"""Query secrets never reach the access log: ``keyfob serve`` run for real, in a subprocess.

Without the filter uvicorn logs ``GET /admin/enroll?token=<the link's token>``: whoever reads the
log can enrol as admin while the link lives. The test fails without it. Account recovery's
secrets (a recovery link's token, a recovery code) travel in no URL at all."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from keyfob.core.recovery import CODE_KIND, new_recovery_code, normalise_recovery_code, secret_hash
from keyfob.core.secretbox import derive_key
from keyfob.core.tokens import hash_refresh_token
from keyfob.server.infra.access_log import REDACTED, RedactQuerySecrets, redact_query
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store import Store
from keyfob.store.records import SsoSessionRecord

KEYFOB = Path(sys.executable).with_name("keyfob")


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/admin/enroll?token=abc", f"/admin/enroll?token={REDACTED}"),
        ("/a?x=1&State=s&y=2", f"/a?x=1&State={REDACTED}&y=2"),
        ("/a?%74oken=abc&code=c", f"/a?%74oken={REDACTED}&code={REDACTED}"),
        (
            "/a?client_secret=z&refresh_token=r",
            f"/a?client_secret={REDACTED}&refresh_token={REDACTED}",
        ),
        ("/a?token", "/a?token"),
        ("/a?redirectUri=https%3A%2F%2Fapp%2Fcb", "/a?redirectUri=https%3A%2F%2Fapp%2Fcb"),
        ("/healthz", "/healthz"),
    ],
)
def test_redact_query(target: str, logged: str) -> None:
    assert redact_query(target) == logged


def test_the_filter_rewrites_uvicorns_record_and_keeps_it() -> None:
    args = ("127.0.0.1:5", "GET", "/admin/enroll?token=abc", "1.1", 200)
    record = logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s HTTP/%s" %d', args, None)
    assert RedactQuerySecrets().filter(record)
    assert record.getMessage() == f'127.0.0.1:5 - "GET /admin/enroll?token={REDACTED} HTTP/1.1" 200'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KEYFOB_")}
    env |= {
        "KEYFOB_DATA_DIR": str(tmp_path / "data"),
        "KEYFOB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "KEYFOB_SECRET_KEY": "access-log-test-secret-key-0123456789abcdef",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
    }
    return env


def _wait_healthy(client: httpx.Client, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "keyfob serve exited"
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling for a condition: the server's socket is not up yet
    raise AssertionError("keyfob serve did not answer /healthz within 30 s")


def test_keyfob_serve_keeps_enrolment_tokens_and_state_out_of_its_log(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    created = subprocess.run(
        [str(KEYFOB), "admin", "create"],
        env=serve_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    link = created.stdout.strip().splitlines()[-1]
    token = link.split("token=", 1)[1]
    assert len(token) >= 20
    state = "app-session-bound-state-4f9c2a"
    server = subprocess.Popen(
        [str(KEYFOB), "serve", "--host", "127.0.0.1", "--port", serve_env["PORT"]],
        env=serve_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = serve_env["KEYFOB_PUBLIC_URL"]
        with httpx.Client(base_url=base, trust_env=False, timeout=10) as client:
            _wait_healthy(client, server)
            target = urlsplit(link)
            page = client.get(f"{target.path}?{target.query}")
            assert page.status_code == 200
            assert token in page.text  # the page got the token; only the log must not
            encoded = client.get(f"/admin/enroll?%74oken={token}")
            assert encoded.status_code == 200
            hosted = client.get("/auth/login/no-such-client", params={"state": state})
            assert hosted.status_code == 404
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"/admin/enroll?token={REDACTED}" in output, output
    assert f"/admin/enroll?%74oken={REDACTED}" in output, output
    assert f"/auth/login/no-such-client?state={REDACTED}" in output, output
    assert token not in output
    assert state not in output


async def _recovery_fixtures(database_url: str, secret: str) -> tuple[str, str, str, str]:
    """In ``keyfob serve``'s database: an admin with an SSO session, a user with a recovery
    code. The admin's session token, the user's id, the code and a second user's id."""
    store = Store.from_url(database_url)
    try:
        now = datetime.now(UTC)
        admin, _ = await store.sign_in_identity(
            kind="ethereum", address="0x" + "ad" * 20, public_key=None, now=now
        )
        assert await store.set_roles(admin.id, ("admin",))
        token = secrets.token_urlsafe(32)
        await store.create_sso_session(
            SsoSessionRecord(
                token_hash=hash_refresh_token(token),
                user_id=admin.id,
                amr=("pop",),
                authenticated_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        users = []
        for address in ("0x" + "a1" * 20, "0x" + "b2" * 20):
            user, _ = await store.sign_in_identity(
                kind="ethereum", address=address, public_key=None, now=now
            )
            users.append(user.id)
        # What generate_recovery_codes stores: the code's HMAC under the server's derived key.
        code = new_recovery_code()
        compact = normalise_recovery_code(code)
        assert compact is not None
        hashed = secret_hash(derive_key(secret, "recovery"), CODE_KIND, compact)
        await store.replace_recovery_codes(users[1], [hashed], now=now)
    finally:
        await store.close()
    return token, users[0], code, users[1]


def test_recovery_links_and_codes_never_reach_keyfob_serves_log(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    """The link's token is in the fragment, which no browser sends; the page posts it in the
    body, as the recovery form posts a code: neither is ever in a request line."""
    server = subprocess.Popen(
        [str(KEYFOB), "serve", "--host", "127.0.0.1", "--port", serve_env["PORT"]],
        env=serve_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = serve_env["KEYFOB_PUBLIC_URL"]
        with httpx.Client(base_url=base, trust_env=False, timeout=10) as client:
            _wait_healthy(client, server)
            url = f"sqlite+aiosqlite:///{Path(serve_env['KEYFOB_DATA_DIR']).resolve()}/keyfob.db"
            session, user_id, code, coded_user = asyncio.run(
                _recovery_fixtures(url, serve_env["KEYFOB_SECRET_KEY"])
            )
            same_origin = {"origin": base}
            client.cookies.set(PLAIN_COOKIE, session)
            page = client.get(f"/admin/users/{user_id}")
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            created = client.post(
                f"/admin/users/{user_id}/recovery-link", data={"csrf": csrf}, headers=same_origin
            )
            assert created.status_code == 200, created.text
            link = created.text.split('<code id="recovery-link">')[1].split("<")[0]
            path, token = urlsplit(link).path, urlsplit(link).fragment
            assert len(token) >= 43
            client.cookies.clear()
            assert client.get(path).status_code == 200  # what a browser requests: no fragment
            used = client.post(path, data={"token": token}, headers=same_origin)
            assert used.status_code == 303, used.text
            client.cookies.clear()
            form = {"identifier": coded_user, "code": code}
            recovered = client.post("/account/recover", data=form, headers=same_origin)
            assert recovered.status_code == 303, recovered.text
            # A link pasted into a query string by hand is still redacted.
            client.get(f"{path}?token={token}")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f'"POST {path} HTTP/1.1" 303' in output, output
    assert '"POST /account/recover HTTP/1.1" 303' in output, output
    assert f"{path}?token={REDACTED}" in output, output
    assert token not in output
    assert code not in output
    assert (normalise_recovery_code(code) or "-") not in output
