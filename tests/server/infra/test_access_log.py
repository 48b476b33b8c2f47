"""Query secrets never reach the access log: ``keyfob serve`` run for real, in a subprocess.

Without the filter uvicorn logs ``GET /admin/enroll?token=<the link's token>``: whoever reads the
log can enrol as admin while the link lives. The test fails without it."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from keyfob.server.infra.access_log import REDACTED, RedactQuerySecrets, redact_query

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
