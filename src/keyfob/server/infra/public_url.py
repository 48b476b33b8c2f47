"""The public URL ``keyfob serve`` implies when ``KEYFOB_PUBLIC_URL`` is not set.

Everything that names keyfob's address derives from the public URL: the token issuer, the
domain and URI every sign-in message must carry, the WebAuthn relying party id and origin, the
cookies' ``Secure`` flag. Without ``KEYFOB_PUBLIC_URL``, ``keyfob serve --host H --port P``
derives it from the address it binds:

- a loopback or every-interface bind (``127.0.0.1``, ``localhost``, ``::1``, ``0.0.0.0``,
  ``::``) gives ``http://localhost:P``. WebAuthn refuses an IP address as relying party id, and
  browsers treat plain-http ``localhost`` (alone) as a secure context, so passkeys work there;
- any other host gives ``http://H:P``: wallets work there, passkeys do not (plain http off
  localhost is no secure context, an IP address no relying party id). Serve https behind a
  proxy and set ``KEYFOB_PUBLIC_URL`` for them.

Port 80 is left out, as browsers write the origin.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

#: Binds whose browsers reach keyfob as ``localhost``.
_LOCAL_BINDS = frozenset({"", "localhost", "0.0.0.0", "::", "::1"})  # noqa: S104 (names)


def derived_public_url(host: str, port: int) -> str:
    """The public URL implied by binding ``host`` and ``port`` (see the module docstring)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name in _LOCAL_BINDS or _is_loopback(name):
        name = "localhost"
    elif ":" in name:  # an IPv6 address
        name = f"[{name}]"
    return f"http://{name}" if port == 80 else f"http://{name}:{port}"


def _is_loopback(name: str) -> bool:
    try:
        return ip_address(name).is_loopback
    except ValueError:
        return name.endswith(".localhost")


def passkeys_unavailable(public_url: str) -> str | None:
    """Why browsers refuse passkeys at ``public_url``, or None when they accept them there."""
    parts = urlsplit(public_url)
    host = parts.hostname or ""
    try:
        ip_address(host)
    except ValueError:
        pass
    else:
        return f"{public_url} names an IP address, which WebAuthn refuses as relying party id"
    if parts.scheme == "https" or host == "localhost" or host.endswith(".localhost"):
        return None
    return f"{public_url} is plain http off localhost, where browsers offer no passkeys"
