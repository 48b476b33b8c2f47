"""Admin pages for users: search, a user's page, disable, enable, delete, client permissions,
one-time recovery links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.errors import Forbidden, NotFound
from keyfob.server.admin.guard import (
    ADMIN_ROLE,
    Admin,
    admin_endpoint,
    admin_form,
    current_admin,
    form_text,
)
from keyfob.server.admin.views import page, see_other
from keyfob.server.services.clients import get_client
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.recovery import create_recovery_link, recovery_codes_status
from keyfob.store.records import UserRecord

SEARCH_LIMIT = 50


async def _user(admin: Admin, request: Request) -> UserRecord:
    user = await admin.runtime.store.get_user(request.path_params["user_id"])
    if user is None:
        raise NotFound("There is no such user.")
    return user


def _not_self(admin: Admin, user: UserRecord, what: str) -> None:
    """An admin may not lock themselves out."""
    if user.id == admin.user.id:
        raise Forbidden(f"You cannot {what} your own account.")


@admin_endpoint
async def search_users(request: Request) -> Response:
    """``GET /admin/users?q=``: users by id, username or address (newest first)."""
    admin = await current_admin(request)
    query = request.query_params.get("q", "")
    users = await admin.runtime.store.search_users(query, limit=SEARCH_LIMIT)
    return page(request, admin, "users.html", {"query": query, "users": users})


@admin_endpoint
async def show_user(request: Request) -> Response:
    """``GET /admin/users/{user_id}``: sign-in methods, roles, permissions, actions."""
    admin = await current_admin(request)
    store = admin.runtime.store
    user = await _user(admin, request)
    permitted_ids = set(await store.permissions_of_user(user.id))
    clients = await store.list_clients()
    context = {
        "user": user,
        "permitted": [client for client in clients if client.id in permitted_ids],
        "grantable": [client for client in clients if client.id not in permitted_ids],
        "is_self": user.id == admin.user.id,
        "recovery_codes": await recovery_codes_status(admin.runtime, user),
        "recovery_link_ttl": f"{admin.runtime.settings.recovery_link_ttl // 60} minutes",
    }
    return page(request, admin, "user.html", context)


@admin_endpoint
async def disable_user(request: Request) -> Response:
    """``POST /admin/users/{user_id}/disable``: disable, revoking every session and token."""
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    _not_self(admin, user, "disable")
    runtime = admin.runtime
    if not await runtime.store.disable_user(
        user.id, now=runtime.now(), deny_until=deny_until(runtime)
    ):
        raise NotFound("There is no such user.")
    await admin.audit("user_disabled", user_id=user.id)
    return see_other(f"/admin/users/{user.id}", "user_disabled")


@admin_endpoint
async def enable_user(request: Request) -> Response:
    """``POST /admin/users/{user_id}/enable``: let a disabled user sign in again."""
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    if not await admin.runtime.store.enable_user(user.id):
        raise NotFound("There is no such user.")
    await admin.audit("user_enabled", user_id=user.id)
    return see_other(f"/admin/users/{user.id}", "user_enabled")


@admin_endpoint
async def confirm_delete(request: Request) -> Response:
    """``GET /admin/users/{user_id}/delete``: are you sure?"""
    admin = await current_admin(request)
    user = await _user(admin, request)
    _not_self(admin, user, "delete")
    return page(request, admin, "user_delete.html", {"user": user})


@admin_endpoint
async def delete_user(request: Request) -> Response:
    """``POST /admin/users/{user_id}/delete``: delete the user (the audit log stays)."""
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    _not_self(admin, user, "delete")
    runtime = admin.runtime
    if not await runtime.store.delete_user(
        user.id, now=runtime.now(), deny_until=deny_until(runtime)
    ):
        raise NotFound("There is no such user.")
    await admin.audit("user_deleted", user_id=user.id)
    return see_other("/admin/users", "user_deleted")


@admin_endpoint
async def grant_permission(request: Request) -> Response:
    """``POST /admin/users/{user_id}/grant``: let the user sign in to the chosen client."""
    admin, form = await admin_form(request)
    user = await _user(admin, request)
    client = await get_client(admin.runtime, form_text(form, "client_id"))
    await admin.runtime.store.grant_permission(user.id, client.id, now=admin.runtime.now())
    await admin.audit("permission_granted", user_id=user.id, client_id=client.id)
    return see_other(f"/admin/users/{user.id}", "permission_granted")


@admin_endpoint
async def revoke_permission(request: Request) -> Response:
    """``POST /admin/users/{user_id}/revoke``: withdraw the user's permission for a client."""
    admin, form = await admin_form(request)
    user = await _user(admin, request)
    client_id = form_text(form, "client_id")
    if not await admin.runtime.store.revoke_permission(user.id, client_id):
        raise NotFound("This user has no permission for this client.")
    await admin.audit("permission_revoked", user_id=user.id, client_id=client_id)
    return see_other(f"/admin/users/{user.id}", "permission_revoked")


async def _set_admin(request: Request, *, admin_role: bool) -> Response:
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    _not_self(admin, user, "change the roles of")
    others = tuple(role for role in user.roles if role != ADMIN_ROLE)
    roles = (*others, ADMIN_ROLE) if admin_role else others
    if not await admin.runtime.store.set_roles(user.id, roles):
        raise NotFound("There is no such user.")
    action = "admin_role_granted" if admin_role else "admin_role_revoked"
    await admin.audit(action, user_id=user.id)
    return see_other(f"/admin/users/{user.id}", action)


@admin_endpoint
async def make_admin(request: Request) -> Response:
    """``POST /admin/users/{user_id}/make-admin``: give another user the admin role."""
    return await _set_admin(request, admin_role=True)


@admin_endpoint
async def remove_admin(request: Request) -> Response:
    """``POST /admin/users/{user_id}/remove-admin``: take the admin role from another user
    (their open panel pages stop working at their next request)."""
    return await _set_admin(request, admin_role=False)


@admin_endpoint
async def remove_method(request: Request) -> Response:
    """``POST /admin/users/{user_id}/methods/{identity_id}/remove``: remove one sign-in method
    (a lost passkey, say) and end the sessions it opened; never the user's last one."""
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    identity_id = request.path_params["identity_id"]
    identity = next((i for i in user.identities if i.id == identity_id), None)
    if identity is None:
        raise NotFound("This user has no sign-in method with this id.")
    runtime = admin.runtime
    await runtime.store.remove_identity(
        user_id=user.id, identity_id=identity.id, now=runtime.now(), deny_until=deny_until(runtime)
    )
    await admin.audit(
        "sign_in_method_removed",
        user_id=user.id,
        identity=identity.id,
        kind=identity.kind,
        address=identity.address,
    )
    return see_other(f"/admin/users/{user.id}", "sign_in_method_removed")


@admin_endpoint
async def recovery_link(request: Request) -> Response:
    """``POST /admin/users/{user_id}/recovery-link``: a one-time link that signs the user in
    once (``KEYFOB_RECOVERY_LINK_TTL``), shown on this answer only; audited, never the link."""
    admin, _ = await admin_form(request)
    user = await _user(admin, request)
    link, expires_at = await create_recovery_link(admin.runtime, user)
    await admin.audit("recovery_link_created", user_id=user.id, expires_at=expires_at.isoformat())
    context = {"user": user, "link": link, "expires_at": expires_at}
    return page(request, admin, "user_recovery_link.html", context)
