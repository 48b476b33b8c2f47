"""Resource indicators for OAuth 2.0 (RFC 8707): the form of a ``resource`` parameter.

RFC 8707 section 2: a ``resource`` is an absolute URI (RFC 3986 section 4.3) without a fragment;
it should not have a query, but may. The RFC lets a request carry several; keyfob accepts one
per request (its tokens have a single audience), and says so with ``invalid_target``. Whether
the resource is one keyfob issues tokens for, and whether this client may ask for it, is the
server's policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from keyfob.errors import InvalidTarget

MAX_RESOURCE_LENGTH = 2048
# RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); then printable
# ASCII only: a URI has no spaces, controls or raw non-ASCII characters.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")


def check_resource(resource: str) -> str:
    """``resource`` if it is an absolute URI without a fragment and at most 2048 characters,
    else :class:`InvalidTarget` saying why."""
    if not isinstance(resource, str) or len(resource) > MAX_RESOURCE_LENGTH:
        raise InvalidTarget("The resource must be an absolute URI of at most 2048 characters.")
    if not _URI.fullmatch(resource):
        raise InvalidTarget("The resource must be an absolute URI (RFC 8707 section 2).")
    if "#" in resource:
        raise InvalidTarget("The resource must not have a fragment (RFC 8707 section 2).")
    try:
        parts = urlsplit(resource)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise InvalidTarget("The resource is not a valid URI.") from error
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise InvalidTarget("An http(s) resource must name a host.")
    return resource


def requested_resource(params: Sequence[tuple[str, str]]) -> str | None:
    """The one ``resource`` among a request's (name, value) pairs, checked; None if absent or
    empty. Sent more than once, or malformed, it raises :class:`InvalidTarget`."""
    values = [value for name, value in params if name == "resource"]
    if len(values) > 1:
        raise InvalidTarget("keyfob accepts one resource per request; this one has several.")
    if not values or values[0] == "":
        return None
    return check_resource(values[0])
