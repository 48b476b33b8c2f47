"""``keyfob check``: the settings, the data directory and secret key, the database, one line each.

Each finding is one line, ``subject: what``: what is fine on stdout, each problem on stderr,
and exit code 1 when there is one. Nothing is created or changed: a missing secret key or
SQLite file is said to be made by the first start, pending migrations are named (``keyfob
serve`` applies them). An invalid setting is reset to its default for the checks after it, so
one bad setting does not hide a dead database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import URL

from keyfob.core.secretbox import SealedDataError, is_legacy, unseal
from keyfob.errors import ConfigurationError
from keyfob.server.infra.cli_support import database_failure, setting_problems
from keyfob.server.infra.keyring import NO_HS256_KEY
from keyfob.server.infra.keyring import SEAL_PURPOSE as KEY_PURPOSE
from keyfob.server.infra.public_url import passkeys_unavailable
from keyfob.server.infra.sealing import CLIENT_PURPOSE
from keyfob.server.infra.settings import Settings
from keyfob.store import Store
from keyfob.store.engine import is_memory_sqlite, normalize_url
from keyfob.store.migrate import schema_state
from keyfob.store.reachability import display_url

CONNECT_TIMEOUT = 10.0
_SETTING = re.compile(r"KEYFOB_[A-Z0-9_]+")
_MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Finding:
    """One line of the report: its subject, what was found, and whether it is a problem."""

    subject: str
    text: str
    problem: bool = False

    def __str__(self) -> str:
        return f"{self.subject}: {self.text}"


def checked_settings() -> tuple[Settings | None, list[Finding]]:
    """The settings, each invalid one named and reset to its default for the other checks
    (resetting one may show the next: checks across settings run once each is valid); None
    if a problem names no setting to reset."""
    findings: list[Finding] = []
    defaults: dict[str, Any] = {}
    while True:
        try:
            return Settings(**defaults), findings or [Finding("settings", "ok")]
        except ValidationError as exc:
            problems = [Finding(*_split(line), problem=True) for line in setting_problems(exc)]
        findings += problems
        invalid = {problem.subject.removeprefix("KEYFOB_").lower() for problem in problems}
        fresh = invalid & Settings.model_fields.keys() - defaults.keys()
        if not fresh:
            return None, [*findings, Finding("checks", "the rest needs valid settings first")]
        defaults |= {name: Settings.model_fields[name].default for name in fresh}


def _split(line: str) -> tuple[str, str]:
    """``KEYFOB_X: why`` or ``KEYFOB_X must ...`` as the subject ``KEYFOB_X`` and the rest."""
    named = _SETTING.match(line)
    subject = named[0] if named else "settings"
    return subject, line.removeprefix(subject).removeprefix(":").strip()


def public_url_findings(settings: Settings) -> list[Finding]:
    """The public URL, whether ``keyfob serve`` derives it, and whether passkeys work there."""
    if "public_url" in settings.model_fields_set:
        findings = [Finding("public URL", settings.public_url)]
    else:
        text = "not set: `keyfob serve` uses http://localhost:<port> (--host, --port)"
        findings = [Finding("public URL", text)]
    refused = passkeys_unavailable(settings.public_url)
    if refused is not None and "public_url" in settings.model_fields_set:
        findings.append(Finding("public URL", f"passkeys will not work: {refused}"))
    return findings


def secret_findings(settings: Settings) -> tuple[str | None, list[Finding]]:
    """The secret key if there is one, and what was found about it and the data directory."""
    data_dir = settings.data_dir.resolve()
    if data_dir.exists() and not data_dir.is_dir():
        return None, [Finding("data dir", f"{data_dir} is not a directory", problem=True)]
    findings = [Finding("data dir", str(data_dir))]
    if settings.secret_key is not None:
        if len(settings.secret_key) < _MIN_SECRET_LENGTH:
            why = f"must be at least {_MIN_SECRET_LENGTH} characters long"
            return None, [*findings, Finding("KEYFOB_SECRET_KEY", why, problem=True)]
        return settings.secret_key, [*findings, Finding("secret key", "from KEYFOB_SECRET_KEY")]
    path = data_dir / "secret.key"
    if not path.exists():
        if not _creatable(data_dir):
            why = f"{data_dir} cannot be created or written to (secret.key goes there)"
            return None, [Finding("data dir", why, problem=True)]
        return None, [*findings, Finding("secret key", f"none yet; the first start makes {path}")]
    try:
        secret = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return None, [*findings, Finding("secret key", f"cannot read {path}: {exc}", True)]
    if len(secret) < _MIN_SECRET_LENGTH:
        why = f"{path} holds no key of {_MIN_SECRET_LENGTH} characters or more"
        return None, [*findings, Finding("secret key", why, problem=True)]
    if path.stat().st_mode & 0o077:
        why = f"{path} is readable by other users: chmod 600 {path}"
        return secret, [*findings, Finding("secret key", why, problem=True)]
    return secret, [*findings, Finding("secret key", str(path))]


def _creatable(folder: Path) -> bool:
    while not folder.exists():
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


async def database_findings(settings: Settings, secret: str | None) -> list[Finding]:
    """Whether the database answers, how its schema stands, and whether the secret key opens
    what is sealed in it."""
    url = settings.resolved_database_url
    try:
        parsed = normalize_url(url)
    except ConfigurationError as exc:
        return [Finding("KEYFOB_DATABASE_URL", exc.message, problem=True)]
    shown = display_url(url)
    missing = _missing_sqlite_file(parsed)
    if missing is not None:
        return [missing]
    try:
        state = await asyncio.wait_for(schema_state(url), CONNECT_TIMEOUT)
    except Exception as exc:
        line = database_failure(url, exc)
        if line is None:
            return [Finding("database", f"{shown}: {exc}".splitlines()[0], problem=True)]
        subject, _, text = line.partition(": ")
        return [Finding(subject, text, problem=True)]
    if state.unknown:
        why = f"{shown} is at {', '.join(state.unknown)}, newer than this keyfob knows"
        return [Finding("database", why, problem=True)]
    if state.pending:
        count = len(state.pending)
        text = (
            f"ok, {shown} ({count} migration{'s' if count > 1 else ''} pending: "
            f"{', '.join(state.pending)}; `keyfob serve` applies them, or `keyfob migrate`)"
        )
        return [Finding("database", text)]
    found = [Finding("database", f"ok, {shown} (schema {', '.join(state.current)}, up to date)")]
    return found + await sealed_findings(settings, url, secret)


def _missing_sqlite_file(parsed: URL) -> Finding | None:
    """What to say of a SQLite file that does not exist yet (connecting would create it)."""
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(parsed):
        return None
    path = Path(str(parsed.database)).expanduser().resolve()
    if path.exists():
        return None
    if not _creatable(path.parent):
        return Finding("database", f"{path} cannot be created", problem=True)
    return Finding("database", f"none yet; `keyfob serve` or `keyfob migrate` makes {path}")


async def sealed_findings(settings: Settings, url: str, secret: str | None) -> list[Finding]:
    """Whether ``secret`` opens the sealed signing keys and client secrets; HS256's key."""
    store = Store.from_url(url)
    try:
        keys, clients = await store.signing_keys(), await store.list_clients()
    finally:
        await store.close()
    sealed = [(KEY_PURPOSE, key.kid, key.sealed_private_key) for key in keys]
    sealed += [(CLIENT_PURPOSE, client.id, client.sealed_secret) for client in clients]
    findings = []
    if secret is None and sealed:
        why = (
            f"{settings.data_dir.resolve() / 'secret.key'} is missing, but the database holds "
            "secrets sealed with one: restore it from your backup (a new key cannot open them)"
        )
        findings.append(Finding("secret key", why, problem=True))
    elif secret is not None and not _opens(secret, sealed):
        why = (
            "it does not open the signing keys and client secrets sealed in the database: "
            "restore the secret.key (or KEYFOB_SECRET_KEY) they were sealed with"
        )
        findings.append(Finding("secret key", why, problem=True))
    active = [key for key in keys if key.alg == "HS256" and key.retired_at is None]
    if settings.token_algorithm == "HS256" and not active:
        findings.append(Finding("token keys", NO_HS256_KEY, problem=True))
    return findings


def _opens(secret: str, sealed: list[tuple[str, str, bytes]]) -> bool:
    try:
        for purpose, row, blob in sealed:
            if not is_legacy(blob):  # format 1 is `keyfob migrate`'s to open, once
                unseal(secret, blob, purpose=purpose, row=row)
    except SealedDataError:
        return False
    return True


def check() -> None:
    """Check the settings, the data directory and secret key, and the database (reachable,
    migrated, opened by the secret key); one line each, problems on stderr, exit code 1."""
    logging.basicConfig(level=logging.WARNING)
    settings, findings = checked_settings()
    if settings is not None:
        findings += public_url_findings(settings)
        secret, found = secret_findings(settings)
        findings += found
        findings += asyncio.run(database_findings(settings, secret))
    for finding in findings:
        typer.echo(str(finding), err=finding.problem)
    if any(finding.problem for finding in findings):
        raise typer.Exit(1)
