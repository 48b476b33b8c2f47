"""Rendering the account page: what it lists, the flash after a change, errors beside forms,
and how long the browser's step-up grant has left (for the page script).

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

from keyfob.core.amr import RECOVERY
from keyfob.errors import KeyfobError, StepUpRequired
from keyfob.server.account.guard import HOME, Holder, account_endpoint
from keyfob.server.account.step_up import require_step_up
from keyfob.server.pages.i18n import N_, page_error_sentence
from keyfob.server.pages.render import render
from keyfob.server.services.account_sessions import sessions_of
from keyfob.server.services.connected_apps import connected_apps
from keyfob.server.services.recovery import recovery_codes_status
from keyfob.store.passkeys import PASSKEY

# A redirect names what was done by a code, never by free text, so that a crafted link can
# only show one of these sentences.
# Each is translated where the page shows it.
FLASHES = {
    "signed_in": N_("You are signed in."),
    "passkey_added": N_("Your new passkey is ready: you can sign in with it now."),
    "passkey_renamed": N_("The passkey was renamed."),
    "wallet_linked": N_("The wallet was linked: it signs in to this account now."),
    "method_removed": N_("The sign-in method was removed; the sessions it opened have ended."),
    "recovered": N_(
        "You are signed in by account recovery. Add a new passkey or wallet now (no further "
        "confirmation is asked for the next few minutes), then generate new recovery codes."
    ),
    "session_ended": N_("The session has ended."),
    "app_revoked": N_("The app is disconnected; it asks again at its next sign-in."),
}
#: The forms of the page that are always there (their errors are shown beside them).
SHOWN_ACTIONS = (
    "sign-out",
    "recovery-codes",
    "sessions/end",
    "sessions/end-all",
    "apps/revoke",
)
#: The chains' names, the same in every language.
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
            name=record.name,
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
    """The account page for ``holder``; ``errors`` maps a form's action to its error (one of
    a form the page no longer shows, another user's method say, is shown at the top)."""
    passkeys, wallets = await methods_of(holder)
    errors = _beside_forms(errors or {}, passkeys, wallets)
    runtime, user = holder.runtime, holder.user
    context: dict[str, Any] = {
        "title": N_("Your account"),
        "user": holder.user,
        "csrf": holder.csrf,
        "flash": FLASHES.get(request.query_params.get("done", "")),
        "passkeys": passkeys,
        "wallets": wallets,
        "method_count": len(passkeys) + len(wallets),
        "chains": CHAINS,
        "wallet_kinds": sorted({i.kind for i in holder.user.identities if i.kind != PASSKEY}),
        "step_up_left": step_up_left(request, holder),
        "recovery_codes": await recovery_codes_status(holder.runtime, holder.user),
        "recovered": RECOVERY in holder.sso.session.amr,
        "errors": errors or {},
        "sessions": await sessions_of(runtime, user.id, current=holder.sso.token_hash),
        "apps": await connected_apps(runtime, user.id),
    }
    return render(request, "account/home.html", context, status=status)


def _beside_forms(
    errors: dict[str, str], passkeys: list[PasskeyView], wallets: list[WalletView]
) -> dict[str, str]:
    shown = {f"{HOME}/{action}" for action in SHOWN_ACTIONS}
    shown |= {f"{HOME}/passkeys/{p.id}/rename" for p in passkeys}
    shown |= {f"{HOME}/methods/{p.id}/remove" for p in passkeys}
    shown |= {f"{HOME}/methods/{w.id}/remove" for w in wallets}
    placed: dict[str, str] = {}
    for action, message in errors.items():
        placed[action if action in shown else HOME] = message
    return placed


async def failed(request: Request, holder: Holder, error: KeyfobError) -> Response:
    """The account page again with ``error`` beside the form that was sent, its sentence in
    the page's language."""
    status = error.status if 400 <= error.status < 500 else 400
    message = page_error_sentence(request, error)
    return await account_page(request, holder, errors={request.url.path: message}, status=status)


#: How the account page's endpoints are decorated (see :func:`account_endpoint`).
page_endpoint = account_endpoint(failed)


def step_up_left(request: Request, holder: Holder) -> int:
    """Seconds the request's step-up grant has left (0 without a good one): the page script
    confirms before a change once it runs out."""
    try:
        grant = require_step_up(request, holder)
    except StepUpRequired:
        return 0
    return max(0, int(grant.expires_at - holder.runtime.now().timestamp()))


def done_url(done: str | None = None) -> str:
    """The account page, with the flash of ``done`` (a key of :data:`FLASHES`)."""
    if done is None:
        return HOME
    assert done in FLASHES, done
    return f"{HOME}?{urlencode({'done': done})}"


def see_other(done: str | None = None) -> RedirectResponse:
    """Post/redirect/get: back to the account page with a flash code."""
    return RedirectResponse(done_url(done), status_code=303)
