"""Admin pages for the audit log and the panel's settings (default lifetimes of new clients)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.errors import InvalidRequest, blame
from keyfob.server.admin.guard import admin_endpoint, admin_form, current_admin, form_text
from keyfob.server.admin.views import page, see_other
from keyfob.server.services.clients import default_lifetimes, parse_minutes

PAGE_SIZE = 50
LIFETIME_SETTINGS = {
    "token_lifetime_minutes": "The token lifetime",
    "authorized_client_lifetime_minutes": "The sign-in session lifetime",
}


@admin_endpoint
async def audit_log(request: Request) -> Response:
    """``GET /admin/audit``: events newest first; filter by event (a trailing ``*`` makes it a
    prefix), user id, client id; ``before`` pages back."""
    admin = await current_admin(request)
    params = request.query_params
    event = params.get("event", "").strip()
    user_id = params.get("user_id", "").strip() or None
    client_id = params.get("client_id", "").strip() or None
    before = params.get("before", "").strip()
    if before and not before.isdigit():
        raise InvalidRequest("`before` is an event id.")
    prefix = event.endswith("*")
    events = await admin.runtime.store.audit_events(
        event=None if prefix or not event else event,
        event_prefix=event[:-1] or None if prefix else None,
        user_id=user_id,
        client_id=client_id,
        before_id=int(before) if before else None,
        limit=PAGE_SIZE,
    )
    filters = {"event": event, "user_id": user_id or "", "client_id": client_id or ""}
    older = events[-1].id if len(events) == PAGE_SIZE else None
    store = admin.runtime.store
    ids = {i for event in events for i in (event.user_id, event.actor_id) if i is not None}
    people = await store.users_by_id(ids)  # names and addresses beside the ids
    client_names = {client.id: client.name for client in await store.list_clients()}
    context = {
        "events": events,
        "filters": filters,
        "older": older,
        "people": people,
        "client_names": client_names,
    }
    return page(request, admin, "audit.html", context)


@admin_endpoint
async def show_settings(request: Request) -> Response:
    """``GET /admin/settings``: the default lifetimes of new clients."""
    admin = await current_admin(request)
    token, sso = await default_lifetimes(admin.runtime)
    values = {"token_lifetime_minutes": str(token), "authorized_client_lifetime_minutes": str(sso)}
    return page(request, admin, "settings.html", {"values": values})


@admin_endpoint
async def save_settings(request: Request) -> Response:
    """``POST /admin/settings``: save both lifetimes (each 1 to 527040 minutes) or neither."""
    admin, form = await admin_form(request)
    values = {key: form_text(form, key).strip() for key in LIFETIME_SETTINGS}
    try:
        for key, what in LIFETIME_SETTINGS.items():
            with blame(key):
                parse_minutes(values[key], what)
    except InvalidRequest as error:
        context = {"values": values, "error": error.message, "error_field": error.field}
        return page(request, admin, "settings.html", context, status=422)
    for key in LIFETIME_SETTINGS:
        await admin.runtime.store.set_admin_setting(key, str(int(values[key])))
    await admin.audit(
        "settings_changed",
        token_lifetime_minutes=int(values["token_lifetime_minutes"]),
        authorized_client_lifetime_minutes=int(values["authorized_client_lifetime_minutes"]),
    )
    return see_other("/admin/settings", "settings_saved")
