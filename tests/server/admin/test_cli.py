"""``keyfob clients add|list`` and ``keyfob admin create`` against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from keyfob.core.secretbox import unseal
from keyfob.server.infra.cli import cli
from keyfob.server.infra.settings import Settings
from keyfob.server.services.enrollment import consume_enrollment
from keyfob.store import Store
from keyfob.store.records import AuditEvent, ClientRecord


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEYFOB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KEYFOB_PUBLIC_URL", "https://auth.example.com")
    monkeypatch.delenv("KEYFOB_SECRET_KEY", raising=False)
    monkeypatch.delenv("KEYFOB_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def stored_client(client_id: str) -> tuple[ClientRecord | None, list[AuditEvent]]:
    async def run() -> tuple[ClientRecord | None, list[AuditEvent]]:
        store = Store.from_url(Settings().resolved_database_url)
        try:
            return await store.get_client(client_id), await store.audit_events(client_id=client_id)
        finally:
            await store.close()

    return asyncio.run(run())


def fields(output: str) -> dict[str, str]:
    pairs = (line.split(": ", 1) for line in output.splitlines() if ": " in line)
    return {key: value for key, value in pairs}


def test_clients_add_prints_the_id_and_a_secret_that_is_stored_sealed(env: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "clients", "add", "--name", "Notes",
            "--redirect-uri", "https://notes.example/callback",
            "--redirect-uri", "http://127.0.0.1:8080/cb",
            "--registration", "--token-delivery", "fragment",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = fields(result.output)
    client_id, secret = printed["clientId"], printed["secretKey"]
    assert str(uuid.UUID(client_id)) == client_id
    assert len(secret) >= 43
    assert "shown only once" in result.output
    client, events = stored_client(client_id)
    assert client is not None
    assert client.name == "Notes"
    assert client.redirect_uris == ("https://notes.example/callback", "http://127.0.0.1:8080/cb")
    assert client.registration_enabled
    assert not client.open_to_all
    assert client.token_delivery == "fragment"
    assert (client.token_lifetime_minutes, client.authorized_client_lifetime_minutes) == (5, 1440)
    key = Settings().resolved_secret_key()
    assert (
        unseal(key, client.sealed_secret, purpose="client-secret", row=client.id).decode() == secret
    )
    assert secret.encode() not in client.sealed_secret
    assert [event.event for event in events] == ["admin.client_created"]

    listed = CliRunner().invoke(cli, ["clients", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.split() == [
        client_id,
        "Notes",
        "fragment",
        "state",
        "optional",
        "https://notes.example/callback",
        "http://127.0.0.1:8080/cb",
    ]


def test_clients_add_open_and_defaults(env: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["clients", "add", "--name", "Wiki", "--redirect-uri", "https://wiki.example/", "--open"],
    )
    assert result.exit_code == 0, result.output
    client, _ = stored_client(fields(result.output)["clientId"])
    assert client is not None
    assert client.open_to_all
    assert not client.registration_enabled
    assert client.token_delivery == "query"
    assert not client.require_state
    # query stays the default for seed 003's apps, but the command says what it costs.
    assert "bearer token in URLs" in result.output
    assert "form_post does not" in result.output
    listed = CliRunner().invoke(cli, ["clients", "list"])
    assert "state optional" in listed.output
    assert "bearer token in URLs (browser history, server and proxy logs, Referer)" in (
        listed.output
    )


def test_clients_add_require_state_and_the_delivery_help(env: Path) -> None:
    """``--require-state`` stores the switch; ``--help`` says what each delivery exposes."""
    result = CliRunner().invoke(
        cli,
        [
            "clients", "add", "--name", "Strict", "--redirect-uri", "https://s.example/cb",
            "--require-state", "--token-delivery", "form_post",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bearer token in URLs" not in result.output
    client, _ = stored_client(fields(result.output)["clientId"])
    assert client is not None
    assert client.require_state
    listed = CliRunner().invoke(cli, ["clients", "list"])
    assert "form_post  state required" in listed.output
    assert "Warning" not in listed.output
    helped = CliRunner().invoke(cli, ["clients", "add", "--help"])
    text = "".join(helped.output.replace("\u2502", "").split())  # rich's box, wrapped lines
    assert "--require-state" in text
    assert "serverandproxylogs" in text
    assert "noURL,history,logorReferercarriesit" in text


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--name", " ", "--redirect-uri", "https://a.example/"], "name"),
        (
            ["--name", "A", "--redirect-uri", "https://a.example/", "--token-delivery", "mail"],
            "query",
        ),
        (["--name", "A", "--redirect-uri", "javascript:alert(1)"], ""),
    ],
)
def test_clients_add_refuses_bad_input_in_one_line(
    env: Path, args: list[str], complaint: str
) -> None:
    result = CliRunner().invoke(cli, ["clients", "add", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("keyfob: ")
    assert complaint in lines[0]
    assert CliRunner().invoke(cli, ["clients", "list"]).output == ""


def test_admin_create_prints_a_one_time_link(env: Path) -> None:
    before = datetime.now(UTC)
    result = CliRunner().invoke(cli, ["admin", "create"])
    assert result.exit_code == 0, result.output
    intro, link = result.output.strip().splitlines()
    assert "15 minutes" in intro
    expires = datetime.fromisoformat(intro.split("until ", 1)[1].split(")", 1)[0])
    assert before + timedelta(minutes=14) < expires <= datetime.now(UTC) + timedelta(minutes=15)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "auth.example.com",
        "/admin/enroll",
    )
    (token,) = parse_qs(parts.query)["token"]
    assert len(token) >= 43

    async def consume_twice() -> tuple[object, object]:
        store = Store.from_url(Settings().resolved_database_url)
        try:
            now = datetime.now(UTC)
            return await consume_enrollment(store, token, now=now), await consume_enrollment(
                store, token, now=now
            )
        finally:
            await store.close()

    assert asyncio.run(consume_twice()) == (("admin",), None)


def test_admin_create_with_bad_settings_is_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYFOB_SECRET_KEY", "short")
    result = CliRunner().invoke(cli, ["admin", "create"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_clients_add_registers_an_oidc_client(env: Path, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", '
        '"x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
    )
    result = CliRunner().invoke(
        cli,
        [
            "clients", "add", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb",
            "--scope", "openid profile wallet offline_access",
            "--post-logout-redirect-uri", "https://wiki.example/bye",
            "--subject-type", "pairwise", "--id-token-alg", "ES256", "--first-party",
            "--auth-method", "private_key_jwt", "--jwks-file", str(jwks),
            "--backchannel-logout-uri", "https://wiki.example/backchannel",
            "--resource", "https://api.wiki.example/", "--resource", "urn:wiki:api",
            "--refresh-lifetime-minutes", "90",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client, events = stored_client(fields(result.output)["clientId"])
    assert client is not None
    assert client.scopes == ("openid", "profile", "wallet", "offline_access")
    assert client.post_logout_redirect_uris == ("https://wiki.example/bye",)
    assert (client.subject_type, client.sector_identifier) == ("pairwise", "wiki.example")
    assert (client.id_token_alg, client.first_party) == ("ES256", True)
    assert client.token_endpoint_auth_method == "private_key_jwt"
    assert client.backchannel_logout_uri == "https://wiki.example/backchannel"
    assert client.jwks is not None
    assert client.resources == ("https://api.wiki.example/", "urn:wiki:api")
    assert client.refresh_lifetime_minutes == 90
    assert "with its keys (private_key_jwt), not with the secret" in result.output
    (created,) = events
    detail = json.loads(created.detail)["oidc"]
    assert (detail["jwks_keys"], detail["sector_identifier"]) == (1, "wiki.example")
    assert "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" not in created.detail


@pytest.mark.parametrize(
    "args",
    [
        ["--scope", "profile"],  # no openid
        ["--scope", "openid calendar"],
        ["--subject-type", "secret"],
        ["--id-token-alg", "HS256"],
        ["--auth-method", "private_key_jwt"],  # without keys
        ["--public", "--auth-method", "client_secret_basic"],
        ["--post-logout-redirect-uri", "javascript:alert(1)"],
        ["--resource", "api"],
        ["--refresh-lifetime-minutes", "0"],
    ],
)
def test_clients_add_refuses_bad_oidc_settings_and_keeps_nothing(
    env: Path, args: list[str]
) -> None:
    base = ["clients", "add", "--name", "Bad", "--redirect-uri", "https://bad.example/cb"]
    result = CliRunner().invoke(cli, [*base, *args])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert CliRunner().invoke(cli, ["clients", "list"]).output == ""


def test_clients_add_public_says_oidc_needs_no_secret(env: Path) -> None:
    """A public client still gets a secretKey (the hosted redirect's tokens need one): the
    command says OpenID Connect does not use it, in the words of the admin panel."""
    result = CliRunner().invoke(
        cli,
        ["clients", "add", "--name", "App", "--redirect-uri", "https://app.example/cb", "--public"],
    )
    assert result.exit_code == 0, result.output
    printed = fields(result.output)
    assert len(printed["secretKey"]) >= 43
    assert "This is a public client: OpenID Connect needs no secret for it" in result.output
    assert "The secret only signs the tokens of keyfob's hosted redirect" in result.output
    client, events = stored_client(printed["clientId"])
    assert client is not None
    assert (client.client_type, client.token_endpoint_auth_method) == ("public", "none")
    (created,) = events
    detail = json.loads(created.detail)
    assert (detail["via"], detail["name"]) == ("cli", "App")
    assert detail["oidc"]["client_type"] == "public"
    assert printed["secretKey"] not in created.detail

    confidential = CliRunner().invoke(
        cli, ["clients", "add", "--name", "Web", "--redirect-uri", "https://web.example/cb"]
    )
    assert "is the client secret of OpenID Connect (client_secret_basic)" in confidential.output
    assert "needs no secret" not in confidential.output
    helped = CliRunner().invoke(cli, ["clients", "add", "--help"])
    assert "needsnosecret" in "".join(helped.output.replace("\u2502", "").split())


def test_clients_add_logo_uri(env: Path) -> None:
    """``--logo-uri`` is checked before anything is stored, then stored and audited."""
    for bad in ("http://cdn.example/logo.png", "https://cdn.example/a;b.png"):
        refused = CliRunner().invoke(
            cli,
            ["clients", "add", "--name", "A", "--redirect-uri", "https://a.example/",
             "--logo-uri", bad],
        )  # fmt: skip
        assert refused.exit_code == 2
        assert refused.output.startswith("keyfob: The logo URL")
    assert CliRunner().invoke(cli, ["clients", "list"]).output == ""
    logo = "https://cdn.example/logo.png"
    result = CliRunner().invoke(
        cli,
        ["clients", "add", "--name", "A", "--redirect-uri", "https://a.example/",
         "--logo-uri", logo, "--token-delivery", "form_post"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client, events = stored_client(fields(result.output)["clientId"])
    assert client is not None
    assert client.logo_uri == logo
    (event,) = events
    assert json.loads(event.detail)["logo_uri"] == logo
    helped = CliRunner().invoke(cli, ["clients", "add", "--help"])
    assert "--logo-uri" in helped.output
