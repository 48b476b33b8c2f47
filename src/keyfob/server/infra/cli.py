"""The ``keyfob`` command: ``serve``, ``check``, ``migrate``, ``keys rotate|list``,
``clients add|list``, ``admin create``, ``--version``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Annotated

import typer

from keyfob import __version__
from keyfob.core.keys import SigningKey, hs256_secret
from keyfob.core.redirects import DELIVERIES
from keyfob.server.infra.cli_check import check
from keyfob.server.infra.cli_serve import serve
from keyfob.server.infra.cli_support import load_settings, run
from keyfob.server.infra.keyring import rotate_signing_key
from keyfob.server.infra.runtime import open_runtime, utc_now
from keyfob.server.services.audit import record_event
from keyfob.server.services.clients import DELIVERY_NOTES, check_logo_uri, create_client
from keyfob.server.services.enrollment import LINK_LIFETIME, create_enrollment_link
from keyfob.server.services.oidc_clients import audited, oidc_settings, secret_use
from keyfob.store import Store
from keyfob.store.migrate import migrate
from keyfob.store.records import ClientRecord

QUERY_WARNING = (
    "Warning: query delivery puts a bearer token in URLs (browser history, server and proxy "
    "logs, Referer); form_post does not. query is the default only for apps written for "
    "Passokey's redirect protocol."
)

cli = typer.Typer(
    help="keyfob: passwordless sign-in with wallets and passkeys.", no_args_is_help=True
)
keys_cli = typer.Typer(help="Token-signing keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
clients_cli = typer.Typer(help="Client apps of the hosted sign-in pages.", no_args_is_help=True)
cli.add_typer(clients_cli, name="clients")
admin_cli = typer.Typer(help="Administrators of the admin panel.", no_args_is_help=True)
cli.add_typer(admin_cli, name="admin")


def package_version() -> str:
    """The installed distribution's version (``keyfob.__version__`` when run from a checkout)."""
    try:
        return installed_version("keyfob")
    except PackageNotFoundError:
        return __version__


def _version(show: bool) -> None:
    if show:
        typer.echo(f"keyfob {package_version()}")
        raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print keyfob's version and exit."
        ),
    ] = False,
) -> None:
    """keyfob: passwordless sign-in with wallets and passkeys."""


cli.command("serve")(serve)
cli.command("check")(check)


@cli.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations and exit."""
    settings = load_settings()

    async def work() -> None:
        async with open_runtime(settings):  # migrates, then upgrades the sealed blobs once
            pass

    run(work(), settings)
    typer.echo("Database is up to date.")


@keys_cli.command("rotate")
def rotate(
    alg: Annotated[
        str | None,
        typer.Option(
            help="The algorithm to rotate: the token algorithm (default), or an ID-token "
            "algorithm of OpenID Connect (RS256, ES256, EdDSA)."
        ),
    ] = None,
) -> None:
    """Make a new signing key; old keys keep verifying until their tokens expire. With HS256 the
    new secret is printed once, for the apps that verify tokens."""
    settings = load_settings()
    algorithm = alg or settings.token_algorithm
    if algorithm not in ("RS256", "ES256", "EdDSA", settings.token_algorithm):
        raise typer.BadParameter(f"keyfob signs no tokens with {algorithm}.", param_hint="--alg")

    async def work() -> SigningKey:
        async with open_runtime(settings) as runtime:
            return await rotate_signing_key(
                runtime.store, algorithm, runtime.secret_key, now=utc_now()
            )

    key = run(work(), settings)
    typer.echo(f"New {algorithm} signing key: {key.kid}")
    if key.alg == "HS256":
        typer.echo(f"secret: {hs256_secret(key)}")
        typer.echo(
            "Copy the secret now: it is shown only once. Apps verify with "
            "TokenVerifier(secret=[new, old]) until the old key's tokens expire."
        )


@keys_cli.command("list")
def list_keys() -> None:
    """Show the signing keys: kid, algorithm, created, retired."""
    settings = load_settings()

    async def work() -> None:
        await migrate(settings.resolved_database_url)
        store = Store.from_url(settings.resolved_database_url)
        try:
            for record in await store.signing_keys():
                retired = record.retired_at.isoformat() if record.retired_at else "active"
                typer.echo(
                    f"{record.kid}  {record.alg}  {record.created_at.isoformat()}  {retired}"
                )
        finally:
            await store.close()

    run(work(), settings)


@clients_cli.command("add")
def add_client(
    name: Annotated[str, typer.Option(help="The app's name, shown to users.")],
    redirect_uri: Annotated[
        list[str], typer.Option(help="A redirect URI (repeat the option for more).")
    ],
    registration: Annotated[
        bool, typer.Option(help="Let new users register through this app.")
    ] = False,
    open_to_all: Annotated[
        bool, typer.Option("--open", help="Every user may sign in (else: only those permitted).")
    ] = False,
    token_delivery: Annotated[
        str,
        typer.Option(
            help="How the token reaches the app: "
            + "; ".join(DELIVERY_NOTES[delivery] for delivery in DELIVERIES)
            + "."
        ),
    ] = DELIVERIES[0],
    require_state: Annotated[
        bool,
        typer.Option(
            help="Refuse sign-in requests without a state (the app's login-CSRF defence)."
        ),
    ] = False,
    public: Annotated[
        bool,
        typer.Option(
            help="OpenID Connect: a public client (a browser or mobile app): OpenID Connect "
            "needs no secret for it (token endpoint authentication none, PKCE required); the "
            "secretKey printed only signs the hosted redirect's tokens."
        ),
    ] = False,
    auth_method: Annotated[
        str | None,
        typer.Option(
            help="OpenID Connect: client_secret_basic (default), client_secret_post, "
            "private_key_jwt (with --jwks-file) or none (--public)."
        ),
    ] = None,
    scope: Annotated[
        str, typer.Option(help="OpenID Connect: the scopes the client may ask for.")
    ] = "openid profile",
    post_logout_redirect_uri: Annotated[
        list[str] | None,
        typer.Option(help="OpenID Connect: a post-logout redirect URI (repeat for more)."),
    ] = None,
    subject_type: Annotated[
        str, typer.Option(help="OpenID Connect: public (the user id) or pairwise.")
    ] = "public",
    id_token_alg: Annotated[
        str, typer.Option(help="OpenID Connect: RS256, ES256 or EdDSA.")
    ] = "RS256",  # noqa: S107 (an algorithm name)
    backchannel_logout_uri: Annotated[
        str | None, typer.Option(help="OpenID Connect: where logout tokens are posted.")
    ] = None,
    first_party: Annotated[
        bool, typer.Option(help="OpenID Connect: skip the consent page (your own app).")
    ] = False,
    refresh_tokens: Annotated[
        bool,
        typer.Option(help="OpenID Connect: refresh tokens even without offline_access."),
    ] = False,
    jwks_file: Annotated[
        Path | None,
        typer.Option(help="OpenID Connect: the client's public JWKS (private_key_jwt)."),
    ] = None,
    synthetic_email: Annotated[
        bool,
        typer.Option(
            help="OpenID Connect: answer the email scope with <sub>@<keyfob host>, "
            "email_verified false, for apps that insist on an email."
        ),
    ] = False,
    resource: Annotated[
        list[str] | None,
        typer.Option(
            help="OpenID Connect: an RFC 8707 resource indicator (an API's absolute URI) the "
            "client may ask tokens for (repeat for more)."
        ),
    ] = None,
    refresh_lifetime_minutes: Annotated[
        int | None,
        typer.Option(
            help="OpenID Connect: the lifetime of its refresh tokens (default: "
            "KEYFOB_REFRESH_TOKEN_TTL)."
        ),
    ] = None,
    logo_uri: Annotated[
        str | None,
        typer.Option(
            help="The app's logo on its sign-in, registration and consent pages: an https URL "
            "(http only on localhost)."
        ),
    ] = None,
) -> None:
    """Register a client app; print its clientId and secretKey (the secret is shown once) and
    what the secret is for.

    Every client serves both the hosted sign-in redirect (clientId + HS256 token) and
    OpenID Connect (discovery at /.well-known/openid-configuration). Every setting is checked
    before the client is stored: a bad one registers nothing."""
    settings = load_settings()
    jwks = None if jwks_file is None else jwks_file.read_text(encoding="utf-8")

    async def work() -> tuple[ClientRecord, str]:
        oidc = oidc_settings(
            redirect_uri,
            public=public,
            auth_method=auth_method,
            scopes=scope,
            post_logout_redirect_uris=post_logout_redirect_uri or (),
            subject_type=subject_type,
            id_token_alg=id_token_alg,
            backchannel_logout_uri=backchannel_logout_uri,
            first_party=first_party,
            issue_refresh_tokens=refresh_tokens,
            jwks=jwks,
            resources=resource or (),
            synthetic_email=synthetic_email,
            refresh_lifetime_minutes=refresh_lifetime_minutes,
        )
        logo = check_logo_uri(logo_uri)
        async with open_runtime(settings) as runtime:
            client, secret = await create_client(
                runtime,
                name=name,
                redirect_uris=redirect_uri,
                registration_enabled=registration,
                open_to_all=open_to_all,
                token_delivery=token_delivery,
                require_state=require_state,
                oidc=oidc,
                logo_uri=logo,
            )
            await record_event(
                runtime,
                "admin.client_created",
                client_id=client.id,
                via="cli",
                name=client.name,
                logo_uri=client.logo_uri,
                oidc=audited(oidc),
            )
            return client, secret

    client, secret = run(work(), settings)
    typer.echo(f"clientId: {client.id}")
    typer.echo(f"secretKey: {secret}")
    typer.echo("Copy the secret now: it is shown only once (rotate it in /admin if lost).")
    typer.echo(secret_use(client.token_endpoint_auth_method))
    if token_delivery == "query":
        typer.echo(QUERY_WARNING)


@clients_cli.command("list")
def list_clients() -> None:
    """Show the client apps: id, name, token delivery, whether state is required, redirect URIs;
    then a warning if any delivers its token in the query."""
    settings = load_settings()

    async def work() -> bool:
        async with open_runtime(settings) as runtime:
            clients = await runtime.store.list_clients()
        for client in clients:
            uris = " ".join(client.redirect_uris) or "-"
            state = "state required" if client.require_state else "state optional"
            typer.echo(f"{client.id}  {client.name}  {client.token_delivery}  {state}  {uris}")
        return any(client.token_delivery == "query" for client in clients)

    if run(work(), settings):
        typer.echo(QUERY_WARNING)


@admin_cli.command("create")
def create_admin() -> None:
    """Print a one-time link that lets whoever opens it register a passkey as an admin."""
    settings = load_settings()

    async def work() -> tuple[str, str]:
        async with open_runtime(settings) as runtime:
            link, expires_at = await create_enrollment_link(
                runtime.store, public_url=settings.public_url, now=runtime.now()
            )
            await record_event(runtime, "admin.enrollment_link_created", via="cli")
            return link, expires_at.isoformat(timespec="seconds")

    link, expires = run(work(), settings)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    if "public_url" not in settings.model_fields_set:
        typer.echo(
            f"KEYFOB_PUBLIC_URL is not set: this link is for `keyfob serve` on its default "
            f"address, {settings.public_url}; set KEYFOB_PUBLIC_URL when keyfob serves elsewhere."
        )
    typer.echo(f"Open this link within {minutes} minutes (until {expires}); it works once:")
    typer.echo(link)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="keyfob")
