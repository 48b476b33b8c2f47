"""``keyfob serve``: migrate, make the first keys, say where to open keyfob, serve.

Without ``KEYFOB_PUBLIC_URL`` the public URL is derived from ``--host`` and ``--port``
(:mod:`keyfob.server.infra.public_url`) and handed to the workers through the environment, so
the issuer, the sign-in messages' domain, the passkeys' relying party and the cookies all
agree with the address served. The one line printed on start names that URL and where the
data lives; uvicorn's own "running on <bind address>" line is left out (see
:mod:`keyfob.server.infra.access_log`), since the bind address is not the URL to open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError

from keyfob.server.infra.access_log import log_config
from keyfob.server.infra.cli_support import echo_all, fail, load_settings, run
from keyfob.server.infra.public_url import derived_public_url, passkeys_unavailable
from keyfob.server.infra.runtime import open_runtime, utc_now
from keyfob.server.infra.settings import Settings
from keyfob.store.reachability import display_url


async def _prepare(settings: Settings) -> None:
    """Migrate the database and make sure a signing key exists, once, before any worker starts."""
    async with open_runtime(settings) as runtime:
        await runtime.keyring.load(now=utc_now())


def storage(settings: Settings) -> str:
    """Where the server's data lives: the data directory, or the database and the secret key."""
    data_dir = settings.data_dir.resolve()
    if not settings.database_url:
        return f"data in {data_dir}"
    key = (
        "secret key from KEYFOB_SECRET_KEY"
        if settings.secret_key is not None
        else f"secret key in {data_dir / 'secret.key'}"
    )
    return f"database {display_url(settings.database_url)}, {key}"


def announcement(settings: Settings) -> list[str]:
    """What ``keyfob serve`` prints on start: the URL to open and where the data is; and why
    passkeys will not work, when browsers refuse them at that URL."""
    lines = [f"keyfob is serving {settings.public_url} ({storage(settings)})"]
    refused = passkeys_unavailable(settings.public_url)
    if refused is not None:
        lines.append(
            f"keyfob: passkeys will not work: {refused}; wallets will. Set KEYFOB_PUBLIC_URL "
            "to the https URL people reach keyfob at (or serve on localhost)."
        )
    return lines


@contextmanager
def public_url_derived(settings: Settings, host: str, port: int) -> Iterator[Settings]:
    """``settings`` with the public URL derived from the bind address when none is set; the
    derived URL is in the environment meanwhile, where every worker reads its settings."""
    if "public_url" in settings.model_fields_set:
        yield settings
        return
    os.environ["KEYFOB_PUBLIC_URL"] = derived_public_url(host, port)
    try:
        try:
            derived = Settings()
        except ValidationError:
            fail(f"--host {host!r} gives no usable URL: set KEYFOB_PUBLIC_URL.")
        yield derived
    finally:
        os.environ.pop("KEYFOB_PUBLIC_URL", None)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Migrate, generate keys if needed, and serve. Without KEYFOB_PUBLIC_URL the public URL is
    http://localhost:<port> (a loopback or 0.0.0.0 bind) or http://<host>:<port>."""
    import uvicorn

    with public_url_derived(load_settings(serving=True), host, port) as settings:
        run(_prepare(settings), settings)
        echo_all(announcement(settings))
        uvicorn.run(
            "keyfob.server.infra.app:prepared_app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            log_config=log_config(),  # query secrets (enrolment tokens, state) redacted
            proxy_headers=False,
        )
