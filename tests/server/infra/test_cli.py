"""The ``keyfob`` command: migrate, keys rotate, keys list (serve is exercised by the bench)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyfob.server.infra.cli import cli


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEYFOB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KEYFOB_SECRET_KEY", raising=False)
    monkeypatch.delenv("KEYFOB_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def test_migrate_creates_the_sqlite_database(env: Path) -> None:
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (env / "keyfob.db").exists()


def test_keys_rotate_then_list(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["keys", "rotate"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["keys", "rotate"])
    assert second.exit_code == 0
    listed = runner.invoke(cli, ["keys", "list"]).output.strip().splitlines()
    assert len(listed) == 2
    assert listed[0].endswith("active")
    assert not listed[1].endswith("active")
    assert (env / "secret.key").exists()  # generated on first use


def test_hs256_rotate_prints_the_secret_once_and_serve_without_one_says_so(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYFOB_TOKEN_ALGORITHM", "HS256")
    runner = CliRunner()
    refused = runner.invoke(cli, ["serve"])
    assert refused.exit_code == 2
    assert "run `keyfob keys rotate` once" in refused.output
    assert "Traceback" not in refused.output
    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    secret = rotated.stdout.split("secret: ", 1)[1].split()[0]
    assert len(secret) == 43
    assert rotated.output.count(secret) == 1
    assert secret not in runner.invoke(cli, ["keys", "list"]).output
    assert secret not in (env / "secret.key").read_text()


def test_short_secret_key_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFOB_SECRET_KEY", "short")
    result = CliRunner().invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 2
    assert "at least 32 characters" in result.output
    assert "Traceback" not in result.output


def test_bad_setting_is_one_clear_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFOB_NONCE_MODE", "sometimes")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 2
    assert "KEYFOB_NONCE_MODE" in result.output
