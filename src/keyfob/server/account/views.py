"""Rendering the account page: what it lists, the flash after a change, errors beside forms.

A change that fails renders the whole page again with its error's status (422 for a bad
name, 403 without a fresh proof, 409 for the last method) and the sentence next to the form
that was sent (found by its action, the path of the request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from keyfob.errors import KeyfobError
from keyfob.server.account.guard import HOME, Holder, account_endpoint
from keyfob.server.pages.render import render
from keyfob.server.services.account_sessions import sessions_of
from keyfob.server.services.connected_apps import connected_apps
from keyfob.store.passkeys import PASSKEY

# A redirect names what was done by a code, never by free text, so that a crafted link can
# only show one of these sentences.
FLASHES = {
    "signed_in": "You are signed in.",
    "session_ended": "The session has ended.",
    "app_revoked": "The app is disconnected; it asks again at its next sign-in.",
}
CHAINS = {"ethereum": "Ethereum", "solana": "Solana", "nimiq": "Nimiq"}


@dataclass(frozen=True, slots=True)
class PasskeyView:
    """A passkey as the page shows it."""

    id: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WalletView:
    """A wallet as the page shows it (``ens_name`` is never known yet: keyfob has no Ethereum
    node to resolve one)."""

    id: str
    chain: str
    address: str
    created_at: datetime
    last_used_at: datetime | None
    ens_name: str | None = None


async def methods_of(holder: Holder) -> tuple[list[PasskeyView], list[WalletView]]:
    """The holder's passkeys (oldest first) and wallets."""
    user, store = holder.user, holder.runtime.store
    passkeys = [
        PasskeyView(
            id=record.identity.id,
            name=None,
            created_at=record.identity.created_at,
            last_used_at=record.identity.last_used_at,
            backed_up=record.backed_up,
            transports=record.transports,
        )
        for record in await store.passkeys_of_user(user.id)
    ]
    wallets = [
        WalletView(
            id=identity.id,
            chain=CHAINS.get(identity.kind, identity.kind),
            address=identity.address,
            created_at=identity.created_at,
            last_used_at=identity.last_used_at,
        )
        for identity in user.identities
        if identity.kind != PASSKEY
    ]
    return passkeys, wallets


async def account_page(
    request: Request,
    holder: Holder,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The account page for ``holder``; ``errors`` maps a form's action to its error."""
    passkeys, wallets = await methods_of(holder)
    runtime, user = holder.runtime, holder.user
    context: dict[str, Any] = {
        "title": "Your account",
        "user": holder.user,
        "csrf": holder.csrf,
        "flash": FLASHES.get(request.query_params.get("done", "")),
        "passkeys": passkeys,
        "wallets": wallets,
        "method_count": len(passkeys) + len(wallets),
        "errors": errors or {},
        "sessions": await sessions_of(runtime, user.id, current=holder.sso.token_hash),
        "apps": await connected_apps(runtime, user.id),
    }
    return render(request, "account/home.html", context, status=status)


async def failed(request: Request, holder: Holder, error: KeyfobError) -> Response:
    """The account page again with ``error`` beside the form that was sent."""
    status = error.status if 400 <= error.status < 500 else 400
    return await account_page(
        request, holder, errors={request.url.path: error.message}, status=status
    )


#: How the account page's endpoints are decorated (see :func:`account_endpoint`).
page_endpoint = account_endpoint(failed)


def see_other(done: str | None = None) -> RedirectResponse:
    """Post/redirect/get: back to the account page with a flash code."""
    path = HOME
    if done is not None:
        assert done in FLASHES, done
        path = f"{path}?{urlencode({'done': done})}"
    return RedirectResponse(path, status_code=303)
