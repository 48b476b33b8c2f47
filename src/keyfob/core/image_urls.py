"""Addresses of logos keyfob's pages show: the operator's and each client app's.

A logo is an ``<img>`` on pages whose Content-Security-Policy allows images from keyfob's
origin alone; a logo elsewhere adds its origin to that page's ``img-src``. So an address must
be one a CSP source can name exactly: https (or plain http on a loopback host, for
development), a plain host name or IP literal, no user name or password, and none of the
characters that separate CSP directives or values.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from keyfob.errors import InvalidRequest

_MAX_LENGTH = 2048
# Printable ASCII but space, quotes, <, >, backslash, backtick, comma and semicolon.
_SAFE = re.compile(r"[!#-&(-+\--:=?-\[\]-_a-~]+")
_NETLOC = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def check_image_url(url: str, *, what: str, allow_path: bool = False) -> str:
    """``url`` if it may be shown as a logo, else :class:`InvalidRequest` naming ``what``.

    An https URL with a host; an http URL on a loopback host; with ``allow_path``, also a
    path on keyfob's own origin such as ``/static/logo.svg`` (never ``//host/...``)."""
    if not url or len(url) > _MAX_LENGTH or not _SAFE.fullmatch(url):
        raise InvalidRequest(
            f"{what} is a URL of at most {_MAX_LENGTH} characters without spaces, quotes, "
            "commas or semicolons."
        )
    if allow_path and url.startswith("/") and not url.startswith("//"):
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidRequest(f"{what} {url!r} is not a valid URL.") from None
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    )
    where = "https (or http on localhost)" + (", or a path such as /static/logo.svg" * allow_path)
    if not secure or not parts.hostname:
        raise InvalidRequest(f"{what} must be {where}.")
    if not _NETLOC.fullmatch(parts.netloc):
        raise InvalidRequest(f"{what} must name a plain host, without a user name or password.")
    if parts.fragment or url.endswith("#"):
        raise InvalidRequest(f"{what} must not have a fragment.")
    return url


def image_source(url: str) -> str | None:
    """The CSP source that allows the image at ``url`` (checked by :func:`check_image_url`):
    its origin, or None for a path on keyfob's own origin (``'self'`` covers it)."""
    if url.startswith("/"):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
