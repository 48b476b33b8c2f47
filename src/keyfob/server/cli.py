"""The ``keyfob`` command: ``serve``, ``migrate``, ``keys rotate``, ``keys list``."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from keyfob.server.keyring import Keyring, rotate_signing_key
from keyfob.server.runtime import utc_now
from keyfob.server.settings import Settings
from keyfob.store import Store
from keyfob.store.migrate import migrate

cli = typer.Typer(
    help="keyfob: passwordless sign-in with wallets and passkeys.", no_args_is_help=True
)
keys_cli = typer.Typer(help="Token-signing keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def _prepare(settings: Settings) -> None:
    """Migrate the database and make sure a signing key exists, once, before any worker starts."""
    secret_key = settings.resolved_secret_key()
    url = settings.resolved_database_url
    await migrate(url)
    store = Store.from_url(url)
    try:
        keyring = Keyring(
            store,
            algorithm=settings.token_algorithm,
            secret_key=secret_key,
            access_ttl=settings.access_token_ttl,
        )
        await keyring.load(now=utc_now())
    finally:
        await store.close()


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Migrate, generate keys if needed, and serve the API."""
    import uvicorn

    settings = Settings()
    _configure_logging(settings)
    asyncio.run(_prepare(settings))
    uvicorn.run(
        "keyfob.server.app:prepared_app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )


@cli.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations and exit."""
    settings = Settings()
    _configure_logging(settings)
    asyncio.run(migrate(settings.resolved_database_url))
    typer.echo("Database is up to date.")


@keys_cli.command("rotate")
def rotate() -> None:
    """Make a new signing key; old public keys stay in the JWKS until their tokens expire."""
    settings = Settings()
    _configure_logging(settings)
    if settings.token_algorithm == "HS256":
        typer.echo("Tokens are HS256: rotate by changing KEYFOB_SECRET_KEY.", err=True)
        raise typer.Exit(1)

    async def run() -> str:
        secret_key = settings.resolved_secret_key()
        await migrate(settings.resolved_database_url)
        store = Store.from_url(settings.resolved_database_url)
        try:
            key = await rotate_signing_key(
                store, settings.token_algorithm, secret_key, now=utc_now()
            )
        finally:
            await store.close()
        return key.kid

    typer.echo(f"New {settings.token_algorithm} signing key: {asyncio.run(run())}")


@keys_cli.command("list")
def list_keys() -> None:
    """Show the signing keys: kid, algorithm, created, retired."""
    settings = Settings()

    async def run() -> None:
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

    asyncio.run(run())


def main() -> None:
    """Console-script entry point."""
    cli()
