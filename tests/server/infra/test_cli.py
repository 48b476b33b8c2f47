"""The ``keyfob`` command: migrate, keys rotate, keys list, --version, and that every command
prints its own output only (``serve``: tests/server/infra/test_cli_serve.py)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyfob.server.infra.cli import cli
from tests.server.infra.cli_process import clean_env, keyfob

UNREACHABLE = "postgresql://127.0.0.1:1/x"  # nothing listens on port 1
SECRET = "cli-test-secret-key-0123456789abcdefghijkl"


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


# The real command in a subprocess, on a fresh data directory: each prints its own output and
# nothing else (no migration, audit or secret-key log lines), on stdout; stderr stays empty.


def test_commands_print_only_their_own_output(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    listed = keyfob("clients", "list", env=env, cwd=tmp_path)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "")
    assert (tmp_path / "data" / "secret.key").exists()  # generated, silently
    keys = keyfob("keys", "list", env=env, cwd=tmp_path)
    assert (keys.returncode, keys.stdout, keys.stderr) == (0, "", "")
    migrated = keyfob("migrate", env=env, cwd=tmp_path)
    assert (migrated.returncode, migrated.stdout, migrated.stderr) == (
        0,
        "Database is up to date.\n",
        "",
    )
    added = keyfob(
        "clients", "add", "--name", "Notes", "--redirect-uri", "http://localhost:3000/cb",
        "--token-delivery", "form_post", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stderr == ""
    lines = added.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines[:2]] == ["clientId", "secretKey"]
    assert len(lines) == 4, lines
    client_id = lines[0].split(": ", 1)[1]
    listed = keyfob("clients", "list", env=env, cwd=tmp_path)
    assert listed.stderr == ""
    assert listed.stdout == (
        f"{client_id}  Notes  form_post  state optional  http://localhost:3000/cb\n"
    )
    created = keyfob("admin", "create", env=env, cwd=tmp_path)
    assert created.stderr == ""
    assert len(created.stdout.splitlines()) == 3  # the public URL note, the deadline, the link


def test_version(tmp_path: Path) -> None:
    shown = keyfob("--version", env=clean_env(tmp_path), cwd=tmp_path)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout == f"keyfob {version('keyfob')}\n"
    assert not (tmp_path / "data").exists()  # it reads no settings and touches nothing


@pytest.mark.parametrize(
    "command", [("clients", "list"), ("keys", "list"), ("migrate",), ("admin", "create")]
)
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    env = clean_env(tmp_path, database_url=UNREACHABLE, secret_key=SECRET)
    failed = keyfob(*command, env=env, cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr == (
        "keyfob: database: cannot connect to postgresql://127.0.0.1:1/x (connection refused)\n"
    )
