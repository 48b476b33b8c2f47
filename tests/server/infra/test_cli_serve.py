"""``keyfob serve``: the public URL derived from the bind address, and the line it prints.

The real command runs in a subprocess on a free port without ``KEYFOB_PUBLIC_URL``: every
address keyfob names (sign-in messages, the passkeys' relying party, the issuer) must then be
``localhost:<that port>``, not the default ``localhost:8000``.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import typer

from keyfob.server.infra.cli_serve import announcement, public_url_derived, storage
from keyfob.server.infra.settings import Settings
from tests.server.infra.cli_process import clean_env, free_port, serving

ADDRESS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
SECRET = "serve-test-secret-key-0123456789abcdefghij"


def test_serve_without_a_public_url_names_localhost_and_its_port_everywhere(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = clean_env(tmp_path)
    with (
        serving("--port", str(port), env=env, cwd=tmp_path, port=port) as server,
        httpx.Client(base_url=f"http://localhost:{port}", trust_env=False) as client,
    ):
        issued = client.post("/auth/nonce", json={"chain": "ethereum", "address": ADDRESS})
        options = client.post("/auth/passkey/login/options", json={})
        discovery = client.get("/.well-known/openid-configuration")
        by_address = client.get("/admin/login", headers={"host": f"127.0.0.1:{port}"})
    stdout, stderr = server.communicate()
    assert issued.status_code == 200, issued.text
    assert issued.json()["fields"]["domain"] == f"localhost:{port}"
    assert issued.json()["message"].startswith(f"localhost:{port} wants you to sign in")
    assert f"URI: http://localhost:{port}\n" in issued.json()["message"]
    assert options.status_code == 200, options.text
    assert options.json()["rpId"] == "localhost"
    assert discovery.json()["issuer"] == f"http://localhost:{port}"
    assert by_address.status_code == 421
    assert f"Open keyfob at http://localhost:{port} — this page was opened as" in by_address.text
    data = (tmp_path / "data").resolve()
    assert stdout.splitlines()[0] == f"keyfob is serving http://localhost:{port} (data in {data})"
    assert "Uvicorn running on" not in stderr  # its bind address is not the URL to open
    assert "127.0.0.1" not in stdout.splitlines()[0]


def test_an_explicit_public_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFOB_PUBLIC_URL", "https://auth.example.com")
    settings = Settings()
    with public_url_derived(settings, "0.0.0.0", 9000) as used:
        assert used is settings
    assert os.environ["KEYFOB_PUBLIC_URL"] == "https://auth.example.com"


def test_a_derived_public_url_is_in_the_environment_while_serving_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KEYFOB_PUBLIC_URL", raising=False)
    with public_url_derived(Settings(), "0.0.0.0", 9000) as used:
        assert used.public_url == "http://localhost:9000"
        assert used.domain == "localhost:9000"
        assert used.rp_id == "localhost"
        assert used.issuer == used.origin == "http://localhost:9000"
        assert Settings().public_url == "http://localhost:9000"  # what a worker reads
    assert "KEYFOB_PUBLIC_URL" not in os.environ


def test_a_host_that_makes_no_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KEYFOB_PUBLIC_URL", raising=False)
    with pytest.raises(typer.Exit), public_url_derived(Settings(), "not a host", 9000):
        pass
    assert capsys.readouterr().err == (
        "keyfob: --host 'not a host' gives no usable URL: set KEYFOB_PUBLIC_URL.\n"
    )
    assert "KEYFOB_PUBLIC_URL" not in os.environ


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "data in {data}"),
        ({"secret_key": SECRET}, "data in {data}"),
        (
            {"database_url": "postgresql://keyfob:hunter2@db.internal/keyfob"},
            "database postgresql://keyfob:***@db.internal/keyfob, secret key in {data}/secret.key",
        ),
        (
            {"database_url": "postgresql://db.internal/keyfob", "secret_key": SECRET},
            "database postgresql://db.internal/keyfob, secret key from KEYFOB_SECRET_KEY",
        ),
    ],
)
def test_storage_says_where_the_data_lives(
    tmp_path: Path, values: dict[str, str], expected: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]
    assert storage(settings) == expected.format(data=(tmp_path / "data").resolve())


def test_the_announcement_warns_where_passkeys_cannot_work(tmp_path: Path) -> None:
    local = Settings(public_url="http://localhost:8000", data_dir=tmp_path)
    assert announcement(local) == [f"keyfob is serving http://localhost:8000 (data in {tmp_path})"]
    lan = announcement(Settings(public_url="http://auth.lan:8000", data_dir=tmp_path))
    assert lan[0] == f"keyfob is serving http://auth.lan:8000 (data in {tmp_path})"
    assert lan[1].startswith("keyfob: passkeys will not work: http://auth.lan:8000 is plain http")
    assert "KEYFOB_PUBLIC_URL" in lan[1]
