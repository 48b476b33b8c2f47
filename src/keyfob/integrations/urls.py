"""Which URLs an app may fetch keyfob's keys and denylist from: https, or http on loopback."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from keyfob.errors import ConfigurationError


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, *, what: str) -> str:
    """``url`` if it is https, or plain http to a loopback host (a keyfob on the same machine,
    tests); :class:`ConfigurationError` naming ``what`` otherwise. Over plain http anyone on the
    path could hand the app their own keys or an empty denylist."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host and is_loopback(host):
        return url
    if parts.scheme == "http":
        raise ConfigurationError(
            f"{what} must be an https URL (plain http is allowed only to localhost, 127.0.0.0/8 "
            f"or ::1): {url!r}"
        )
    raise ConfigurationError(f"{what} must be an https URL: {url!r}")
