"""The "OpenID Connect" fieldset of the admin's client form: its values and their checking.

The fields are named as :class:`~keyfob.store.records.ClientRecord`'s settings (but
``client_type``, a radio of ``confidential`` and ``public``); every one is checked by
:func:`~keyfob.server.services.oidc_clients.oidc_settings`, before anything is stored.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData

from keyfob.errors import InvalidRequest, blame
from keyfob.server.admin.guard import form_text
from keyfob.server.services.clients import parse_minutes
from keyfob.server.services.oidc_clients import (
    AUTH_METHODS,
    ID_TOKEN_ALGORITHMS,
    SCOPES,
    SUBJECT_TYPES,
    OidcSettings,
    oidc_settings,
    settings_of,
)
from keyfob.store.records import ClientRecord

_CHECKBOXES = ("first_party", "issue_refresh_tokens", "synthetic_email")
#: What the fieldset's template needs besides the values.
CHOICES = {
    "scopes": SCOPES,
    "auth_methods": AUTH_METHODS,
    "id_token_algs": ID_TOKEN_ALGORITHMS,
    "subject_types": SUBJECT_TYPES,
}


def _lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in form_text(form, name).splitlines() if line.strip()]


def _refresh_minutes(text: str) -> int | None:
    """The refresh token lifetime field: None when left empty (the server's default)."""
    with blame("refresh_lifetime_minutes"):
        return parse_minutes(text, "The refresh token lifetime") if text else None


def form_settings(
    form: FormData, redirect_uris: tuple[str, ...], *, sector: str | None = None
) -> OidcSettings:
    """The checked settings the form asks for (``sector``: the client's pairwise sector, kept);
    :class:`InvalidRequest` for any bad one, blaming its field."""
    client_type = form_text(form, "client_type")
    with blame("client_type"):
        if client_type not in ("confidential", "public"):
            raise InvalidRequest("The client type is confidential or public.")
    jwks = form_text(form, "jwks").strip()
    backchannel = form_text(form, "backchannel_logout_uri").strip()
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    return oidc_settings(
        redirect_uris,
        public=client_type == "public",
        auth_method=form_text(form, "token_endpoint_auth_method") or None,
        scopes=" ".join(scopes),
        post_logout_redirect_uris=_lines(form, "post_logout_redirect_uris"),
        subject_type=form_text(form, "subject_type"),
        id_token_alg=form_text(form, "id_token_alg"),
        backchannel_logout_uri=backchannel or None,
        first_party=form_text(form, "first_party") == "on",
        issue_refresh_tokens=form_text(form, "issue_refresh_tokens") == "on",
        jwks=jwks or None,
        resources=_lines(form, "resources"),
        synthetic_email=form_text(form, "synthetic_email") == "on",
        refresh_lifetime_minutes=_refresh_minutes(
            form_text(form, "refresh_lifetime_minutes").strip()
        ),
        sector=sector,
    )


def typed_values(form: FormData) -> dict[str, Any]:
    """What the admin typed in the fieldset, to show it again after an error."""
    values: dict[str, Any] = {
        name: form_text(form, name)
        for name in (
            "client_type",
            "token_endpoint_auth_method",
            "post_logout_redirect_uris",
            "subject_type",
            "id_token_alg",
            "backchannel_logout_uri",
            "refresh_lifetime_minutes",
            "jwks",
            "resources",
        )
    }
    values["scopes"] = [value for value in form.getlist("scopes") if isinstance(value, str)]
    values |= {name: form_text(form, name) == "on" for name in _CHECKBOXES}
    return values


def _shown_jwks(jwks: str | None) -> str:
    """The stored JWKS indented, to read and edit (as stored if it is no JSON)."""
    if jwks is None:
        return ""
    try:
        return json.dumps(json.loads(jwks), indent=2)
    except (ValueError, RecursionError):
        return jwks


def settings_values(settings: OidcSettings) -> dict[str, Any]:
    """The fieldset's values for ``settings`` (a client's as stored, or the defaults)."""
    return {
        "client_type": settings["client_type"],
        "token_endpoint_auth_method": settings["token_endpoint_auth_method"],
        "scopes": list(settings["scopes"]),
        "post_logout_redirect_uris": "\n".join(settings["post_logout_redirect_uris"]),
        "subject_type": settings["subject_type"],
        "id_token_alg": settings["id_token_alg"],
        "backchannel_logout_uri": settings["backchannel_logout_uri"] or "",
        "first_party": settings["first_party"],
        "issue_refresh_tokens": settings["issue_refresh_tokens"],
        "refresh_lifetime_minutes": str(settings["refresh_lifetime_minutes"] or ""),
        "jwks": _shown_jwks(settings["jwks"]),
        "resources": "\n".join(settings["resources"]),
        "synthetic_email": settings["synthetic_email"],
    }


def record_values(client: ClientRecord) -> dict[str, Any]:
    """The fieldset's values for ``client`` as it is stored."""
    return settings_values(settings_of(client))


def default_values() -> dict[str, Any]:
    """The fieldset's values on an empty form: a new client's defaults, the authentication
    method left to follow the client type."""
    return settings_values(oidc_settings(())) | {"token_endpoint_auth_method": ""}
