"""Admin pages for client apps: list, create, edit, rotate the secret, delete.

A client's form holds both its hosted-redirect (seed 003) fields and its OpenID Connect
settings (:mod:`~keyfob.server.admin.client_oidc_form`); all of them are checked before
anything is stored, which is one write: a bad value saves nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyfob.core.redirects import DELIVERIES
from keyfob.errors import InvalidRequest, UnknownClient, blame
from keyfob.server.admin import client_oidc_form
from keyfob.server.admin.guard import (
    Admin,
    admin_endpoint,
    admin_form,
    current_admin,
    form_text,
)
from keyfob.server.admin.views import page, see_other
from keyfob.server.services.clients import (
    DELIVERY_NOTES,
    check_client_fields,
    check_logo_uri,
    create_client,
    default_lifetimes,
    get_client,
    parse_minutes,
    rotate_client_secret,
)
from keyfob.server.services.oidc_clients import (
    as_changes,
    audited,
    changed_settings,
    secret_use,
)
from keyfob.store.clients import CLEAR
from keyfob.store.records import ClientRecord


def _minutes(form: FormData, name: str, what: str) -> int | None:
    """A lifetime field: None when left empty, else 1 to a year."""
    text = form_text(form, name).strip()
    with blame(name):
        return parse_minutes(text, what) if text else None


def _fields(form: FormData) -> dict[str, Any]:
    """The client fields of a create or edit form, checked (lifetimes may be None)."""
    name, uris = check_client_fields(
        name=form_text(form, "name"),
        redirect_uris=[
            uri.strip() for uri in form_text(form, "redirect_uris").splitlines() if uri.strip()
        ],
        token_delivery=form_text(form, "token_delivery"),
    )
    return {
        "name": name,
        "redirect_uris": uris,
        "registration_enabled": form_text(form, "registration_enabled") == "on",
        "open_to_all": form_text(form, "access") == "open",
        "token_lifetime_minutes": _minutes(form, "token_lifetime_minutes", "The token lifetime"),
        "authorized_client_lifetime_minutes": _minutes(
            form, "authorized_client_lifetime_minutes", "The sign-in session lifetime"
        ),
        "token_delivery": form_text(form, "token_delivery"),
        "require_state": form_text(form, "require_state") == "on",
        "logo_uri": check_logo_uri(form_text(form, "logo_uri")),
    }


def _form_values(form: FormData) -> dict[str, Any]:
    """What the admin typed, to show the form again after an error."""
    return {
        "name": form_text(form, "name"),
        "redirect_uris": form_text(form, "redirect_uris"),
        "registration_enabled": form_text(form, "registration_enabled") == "on",
        "open_to_all": form_text(form, "access") == "open",
        "token_lifetime_minutes": form_text(form, "token_lifetime_minutes"),
        "authorized_client_lifetime_minutes": form_text(form, "authorized_client_lifetime_minutes"),
        "token_delivery": form_text(form, "token_delivery"),
        "require_state": form_text(form, "require_state") == "on",
        "logo_uri": form_text(form, "logo_uri"),
    } | client_oidc_form.typed_values(form)


async def _client_form(
    request: Request,
    admin: Admin,
    values: dict[str, Any],
    client: ClientRecord | None,
    *,
    error: InvalidRequest | None = None,
) -> Response:
    """The client form (new, or ``client``'s with its permitted users), 422 with ``error``."""
    context: dict[str, Any] = {
        "values": values,
        "deliveries": DELIVERIES,
        "delivery_notes": DELIVERY_NOTES,
        "client": client,
        **client_oidc_form.CHOICES,
    }
    if client is not None:
        context["permitted"] = await admin.runtime.store.users_permitted(client.id)
        context["secret_use"] = secret_use(client.token_endpoint_auth_method)
    if error is None:
        return page(request, admin, "client_form.html", context)
    context["error"], context["error_field"] = error.message, error.field
    return page(request, admin, "client_form.html", context, status=422)


def _record_values(client: ClientRecord) -> dict[str, Any]:
    return {
        "name": client.name,
        "redirect_uris": "\n".join(client.redirect_uris),
        "registration_enabled": client.registration_enabled,
        "open_to_all": client.open_to_all,
        "token_lifetime_minutes": str(client.token_lifetime_minutes),
        "authorized_client_lifetime_minutes": str(client.authorized_client_lifetime_minutes),
        "token_delivery": client.token_delivery,
        "require_state": client.require_state,
        "logo_uri": client.logo_uri or "",
    } | client_oidc_form.record_values(client)


@admin_endpoint
async def list_clients(request: Request) -> Response:
    """``GET /admin/clients``: every client app."""
    admin = await current_admin(request)
    clients = await admin.runtime.store.list_clients()
    return page(request, admin, "clients.html", {"clients": clients})


@admin_endpoint
async def new_client(request: Request) -> Response:
    """``GET /admin/clients/new``: the empty form, lifetimes at the defaults."""
    admin = await current_admin(request)
    token, sso = await default_lifetimes(admin.runtime)
    values = {
        "name": "",
        "redirect_uris": "",
        "registration_enabled": False,
        "open_to_all": False,
        "token_lifetime_minutes": str(token),
        "authorized_client_lifetime_minutes": str(sso),
        "token_delivery": DELIVERIES[0],
        "require_state": False,
        "logo_uri": "",
    } | client_oidc_form.default_values()
    return await _client_form(request, admin, values, None)


@admin_endpoint
async def add_client(request: Request) -> Response:
    """``POST /admin/clients/new``: create the client; show its secret, once."""
    admin, form = await admin_form(request)
    try:
        fields = _fields(form)
        oidc = client_oidc_form.form_settings(form, fields["redirect_uris"])
        client, secret = await create_client(admin.runtime, **fields, oidc=oidc)
    except InvalidRequest as error:
        return await _client_form(request, admin, _form_values(form), None, error=error)
    await admin.audit(
        "client_created",
        client_id=client.id,
        name=client.name,
        logo_uri=client.logo_uri,
        oidc=audited(oidc),
    )
    return _secret_page(request, admin, client, secret, new=True)


@admin_endpoint
async def edit_client(request: Request) -> Response:
    """``GET /admin/clients/{client_id}``: the client's form, actions and permitted users."""
    admin = await current_admin(request)
    client = await get_client(admin.runtime, request.path_params["client_id"])
    return await _client_form(request, admin, _record_values(client), client)


@admin_endpoint
async def update_client(request: Request) -> Response:
    """``POST /admin/clients/{client_id}``: save the form."""
    admin, form = await admin_form(request)
    runtime = admin.runtime
    client = await get_client(runtime, request.path_params["client_id"])
    try:
        fields = _fields(form)
        for key in ("token_lifetime_minutes", "authorized_client_lifetime_minutes"):
            if fields[key] is None:
                with blame(key):
                    raise InvalidRequest("Both lifetimes are required.")
        sector = client.sector_identifier
        oidc = client_oidc_form.form_settings(form, fields["redirect_uris"], sector=sector)
        changes = fields | as_changes(oidc) | {"logo_uri": fields["logo_uri"] or CLEAR}
        updated = await runtime.store.update_client(client.id, now=runtime.now(), **changes)
    except InvalidRequest as error:
        return await _client_form(request, admin, _form_values(form), client, error=error)
    if updated is None:
        raise UnknownClient()
    changed = changed_settings(client, oidc)
    # A changed logo is audited; a removed one as "" (the log drops None).
    logo = {"logo_uri": updated.logo_uri or ""} if updated.logo_uri != client.logo_uri else {}
    await admin.audit(
        "client_updated", client_id=client.id, name=fields["name"], oidc=changed or None, **logo
    )
    return see_other(f"/admin/clients/{client.id}", "client_updated")


@admin_endpoint
async def rotate_secret(request: Request) -> Response:
    """``POST /admin/clients/{client_id}/rotate``: a new secret, shown once."""
    admin, _ = await admin_form(request)
    client = await get_client(admin.runtime, request.path_params["client_id"])
    secret = await rotate_client_secret(admin.runtime, client.id)
    await admin.audit("client_secret_rotated", client_id=client.id)
    return _secret_page(request, admin, client, secret, new=False)


def _secret_page(
    request: Request, admin: Admin, client: ClientRecord, secret: str, *, new: bool
) -> Response:
    """The client's secret, shown once, and whether OpenID Connect uses it."""
    use = secret_use(client.token_endpoint_auth_method)
    context = {"client": client, "secret": secret, "new": new, "secret_use": use}
    return page(request, admin, "client_secret.html", context)


@admin_endpoint
async def confirm_delete(request: Request) -> Response:
    """``GET /admin/clients/{client_id}/delete``: are you sure?"""
    admin = await current_admin(request)
    client = await get_client(admin.runtime, request.path_params["client_id"])
    return page(request, admin, "client_delete.html", {"client": client})


@admin_endpoint
async def delete_client(request: Request) -> Response:
    """``POST /admin/clients/{client_id}/delete``: delete it (its permissions go with it)."""
    admin, _ = await admin_form(request)
    client = await get_client(admin.runtime, request.path_params["client_id"])
    if not await admin.runtime.store.delete_client(client.id):
        raise UnknownClient()
    await admin.audit("client_deleted", client_id=client.id, name=client.name)
    return see_other("/admin/clients", "client_deleted")
