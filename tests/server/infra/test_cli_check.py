"""``keyfob check``, run for real in a subprocess: one line per finding, problems on stderr.

Each problem kind of the table below is set up on its own data directory; the command must
name it in exactly the line given (no traceback, nothing else on stderr) and exit with 1.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from keyfob.store.engine import create_engine
from keyfob.store.migrate import VERSION_TABLE, alembic_config
from tests.db_fixtures import PostgresServer
from tests.server.infra.cli_process import clean_env, keyfob

SECRET = "check-test-secret-key-0123456789abcdefghijk"
UNREACHABLE = "postgresql://127.0.0.1:1/x"
REVISIONS = tuple(
    reversed(
        [str(r.revision) for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    )
)
Setup = Callable[[Path], None]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose data directory has a migrated database, a secret key and a client app."""
    home = tmp_path_factory.mktemp("populated")
    env = clean_env(home)
    added = keyfob("clients", "add", "--name", "A", "--redirect-uri", "http://localhost:3/cb",
                   env=env, cwd=home)  # fmt: skip
    assert added.returncode == 0, added.stderr
    return home


def on_database(home: Path, change: Callable[[Connection], object]) -> None:
    async def run() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{home / 'data' / 'keyfob.db'}")
        try:
            async with engine.connect() as connection:
                await connection.run_sync(change)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


def fresh(home: Path) -> None:
    """Nothing: no data directory yet."""


def data_dir_is_a_file(home: Path) -> None:
    (home / "data").write_text("not a folder")


def readable_key(home: Path) -> None:
    (home / "data" / "secret.key").chmod(0o644)


def lost_key(home: Path) -> None:
    (home / "data" / "secret.key").unlink()


def another_key(home: Path) -> None:
    (home / "data" / "secret.key").write_text("another-secret-key-0123456789abcdefghijklmn\n")


def newer_schema(home: Path) -> None:
    on_database(home, lambda c: c.execute(text(f"UPDATE {VERSION_TABLE} SET version_num='9999'")))


POPULATED = {readable_key, lost_key, another_key, newer_schema}
CASES: list[tuple[Setup, dict[str, str], list[str]]] = [
    (
        fresh,
        {"nonce_mode": "sometimes"},
        ["KEYFOB_NONCE_MODE: Input should be 'stored' or 'signed' (got 'sometimes')"],
    ),
    (
        fresh,  # the second is checked across settings, once the first is reset
        {"nonce_ttl": "5", "token_audience": "http://localhost:8000/account"},
        [
            "KEYFOB_NONCE_TTL: Input should be greater than or equal to 30 (got '5')",
            "KEYFOB_TOKEN_AUDIENCE: must not be 'http://localhost:8000/account': that audience "
            "is keyfob's own account API, which apps' tokens must never reach",
        ],
    ),
    (fresh, {"secret_key": "short"}, ["KEYFOB_SECRET_KEY: must be at least 32 characters long"]),
    (
        fresh,
        {"database_url": UNREACHABLE, "secret_key": SECRET},
        ["database: cannot connect to postgresql://127.0.0.1:1/x (connection refused)"],
    ),
    (
        fresh,
        {"database_url": "mysql://db.internal/keyfob"},
        [
            "KEYFOB_DATABASE_URL: Unsupported database 'mysql': use sqlite+aiosqlite:// or "
            "postgresql+asyncpg://."
        ],
    ),
    (
        fresh,
        {"nonce_mode": "sometimes", "database_url": UNREACHABLE},  # one bad setting hides nothing
        [
            "KEYFOB_NONCE_MODE: Input should be 'stored' or 'signed' (got 'sometimes')",
            "database: cannot connect to postgresql://127.0.0.1:1/x (connection refused)",
        ],
    ),
    (
        data_dir_is_a_file,
        {},
        ["data dir: {data} is not a directory", "database: {data}/keyfob.db cannot be created"],
    ),
    (
        readable_key,
        {},
        ["secret key: {data}/secret.key is readable by other users: chmod 600 {data}/secret.key"],
    ),
    (
        lost_key,
        {},
        [
            "secret key: {data}/secret.key is missing, but the database holds secrets sealed "
            "with one: restore it from your backup (a new key cannot open them)"
        ],
    ),
    (
        another_key,
        {},
        [
            "secret key: it does not open the signing keys and client secrets sealed in the "
            "database: restore the secret.key (or KEYFOB_SECRET_KEY) they were sealed with"
        ],
    ),
    (
        newer_schema,
        {},
        ["database: sqlite+aiosqlite:///{data}/keyfob.db is at 9999, newer than this keyfob knows"],
    ),
]


@pytest.mark.parametrize(("setup", "settings", "lines"), CASES)
def test_each_problem_is_one_line_and_exit_code_1(
    tmp_path: Path, populated: Path, setup: Setup, settings: dict[str, str], lines: list[str]
) -> None:
    if setup in POPULATED:
        shutil.copytree(populated / "data", tmp_path / "data")
    setup(tmp_path)
    checked = keyfob("check", env=clean_env(tmp_path, **settings), cwd=tmp_path)
    data = (tmp_path / "data").resolve()
    assert checked.stderr.splitlines() == [line.format(data=data) for line in lines]
    assert checked.returncode == 1
    assert "Traceback" not in checked.stdout


def test_hs256_without_a_token_key(tmp_path: Path, populated: Path) -> None:
    shutil.copytree(populated / "data", tmp_path / "data")
    env = clean_env(tmp_path, token_algorithm="HS256")
    checked = keyfob("check", env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stderr == (
        "token keys: KEYFOB_TOKEN_ALGORITHM=HS256 and there is no HS256 token key yet: run "
        "`keyfob keys rotate` once; it makes one and prints its secret for the apps that "
        "verify tokens.\n"
    )


def test_a_postgresql_database_that_does_not_exist(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.url("keyfob_check_no_such_database")
    env = clean_env(tmp_path, database_url=url, secret_key=SECRET)
    checked = keyfob("check", env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stderr == (
        f"database: cannot connect to {url} "
        '(database "keyfob_check_no_such_database" does not exist)\n'
    )


def test_a_fresh_home_is_fine_and_stays_untouched(tmp_path: Path) -> None:
    checked = keyfob("check", env=clean_env(tmp_path), cwd=tmp_path)
    data = (tmp_path / "data").resolve()
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout.splitlines() == [
        "settings: ok",
        "public URL: not set: `keyfob serve` uses http://localhost:<port> (--host, --port)",
        f"data dir: {data}",
        f"secret key: none yet; the first start makes {data}/secret.key",
        f"database: none yet; `keyfob serve` or `keyfob migrate` makes {data}/keyfob.db",
    ]
    assert not (tmp_path / "data").exists()


def test_a_running_home_is_ok(tmp_path: Path, populated: Path) -> None:
    shutil.copytree(populated / "data", tmp_path / "data")
    env = clean_env(tmp_path, public_url="http://auth.lan:8000")
    checked = keyfob("check", env=env, cwd=tmp_path)
    data = (tmp_path / "data").resolve()
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout.splitlines() == [
        "settings: ok",
        "public URL: http://auth.lan:8000",
        "public URL: passkeys will not work: http://auth.lan:8000 is plain http off localhost, "
        "where browsers offer no passkeys",
        f"data dir: {data}",
        f"secret key: {data}/secret.key",
        f"database: ok, sqlite+aiosqlite:///{data}/keyfob.db (schema {REVISIONS[-1]}, up to date)",
    ]


def test_pending_migrations_are_named_not_failed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()

    def upgrade_to_second(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, REVISIONS[1])

    on_database(tmp_path, upgrade_to_second)
    checked = keyfob("check", env=clean_env(tmp_path), cwd=tmp_path)
    assert (checked.returncode, checked.stderr) == (0, "")
    pending = REVISIONS[2:]
    said = checked.stdout.splitlines()[-1]
    assert said.endswith(
        f"({len(pending)} migrations pending: {', '.join(pending)}; `keyfob serve` applies "
        "them, or `keyfob migrate`)"
    )
