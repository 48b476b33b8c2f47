"""Redirect URIs of client apps: what may be registered, exact matching, building the return.

Seed 003 accepted any ``redirectUri`` when a client had none configured: an open redirect that
hands the user's token to whoever wrote the link. Here a redirect URI must equal, character
for character, one the client registered (RFC 9700 §4.1.3: exact string matching).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode, urlsplit

from keyfob.errors import InvalidRequest, RedirectUriMismatch

TokenDelivery = str  # "query" | "fragment" | "form_post"
DELIVERIES = ("query", "fragment", "form_post")
_MAX_LENGTH = 2048


def check_redirect_uri(uri: str) -> str:
    """A redirect URI fit to register: absolute http(s), a host, no userinfo, no fragment.

    Raises :class:`InvalidRequest` saying what is wrong. Plain http is accepted (development
    servers, loopback); deployments should register https URIs.
    """
    if not uri or len(uri) > _MAX_LENGTH or uri != uri.strip() or any(c.isspace() for c in uri):
        raise InvalidRequest("A redirect URI is a non-empty URL without spaces.")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise InvalidRequest(f"The redirect URI {uri!r} is not a valid URL.") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"The redirect URI {uri!r} must be an absolute http(s) URL.")
    if "@" in parts.netloc:
        raise InvalidRequest(f"The redirect URI {uri!r} must not carry a user name or password.")
    if parts.fragment or uri.endswith("#"):
        raise InvalidRequest(f"The redirect URI {uri!r} must not have a fragment.")
    return uri


def match_redirect_uri(requested: str | None, *, registered: Sequence[str]) -> str:
    """The redirect URI to use: ``requested`` if it is exactly one of ``registered``; with
    none requested, the only registered one. Anything else raises RedirectUriMismatch."""
    if not registered:
        raise RedirectUriMismatch(
            "This app has no redirect URI registered, so keyfob cannot send you back to it. "
            "Its administrator must register one."
        )
    if requested is None or requested == "":
        if len(registered) == 1:
            return registered[0]
        raise RedirectUriMismatch(
            "This app has several redirect URIs; the link must say which one (redirectUri)."
        )
    if requested in registered:  # exact, case-sensitive string comparison on purpose
        return requested
    raise RedirectUriMismatch(
        "The redirect URI in this link is not registered for this app, so keyfob will not "
        "send your sign-in there."
    )


def redirect_with(uri: str, params: Mapping[str, str], *, delivery: TokenDelivery) -> str:
    """``uri`` with ``params`` added to its query (``query``) or as its fragment (``fragment``)."""
    encoded = urlencode(dict(params))
    if delivery == "fragment":
        return f"{uri}#{encoded}"
    if delivery != "query":
        raise ValueError(f"{delivery!r} is not delivered in a URL")
    separator = "&" if urlsplit(uri).query else ("" if uri.endswith("?") else "?")
    return f"{uri}{separator}{encoded}"
