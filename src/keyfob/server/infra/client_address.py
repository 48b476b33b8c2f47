"""Who is asking: the client address behind trusted reverse proxies, one answer per request.

The rate limiter, the audit log and every page ask :func:`client_address`, so they never
disagree. Forwarding headers are believed only from ``KEYFOB_TRUSTED_PROXIES`` (nothing by
default), and only the one header ``KEYFOB_FORWARDED_HEADER`` names: a proxy appends to the
header it writes and passes any other through untouched, so believing both would let a client
write the other one itself.

The walk goes from the right: the socket peer, then each address the header lists, right to
left, for as long as the address reached is a trusted proxy. The first address that is not a
trusted proxy is the client. An entry that is not an address (garbage, ``unknown``, an
obfuscated identifier such as ``_hidden``) stops the walk: the last trusted proxy reached is
then the client, since nothing it forwarded can be read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any, Literal

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
ForwardedHeader = Literal["x-forwarded-for", "forwarded"]

SCOPE_KEY = "keyfob.client_address"
"""Where the answer for a request is kept in its ASGI scope (computed once)."""
MAX_USER_AGENT = 512
"""How much of a ``User-Agent`` header is read: every browser's fits, the rest is cut."""

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf'\s*({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
_PORT = re.compile(r"[0-9]{1,5}|_[A-Za-z0-9._-]+")  # RFC 7239 node-port, obfuscated or not


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The proxies whose forwarding header (``header``) is believed; none by default."""

    networks: tuple[IPNetwork, ...] = ()
    header: ForwardedHeader = "x-forwarded-for"

    def trusts(self, address: IPAddress) -> bool:
        """True if ``address`` is one of the trusted proxies."""
        return any(address in network for network in self.networks)


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR networks (IPv4 or IPv6), each checked; ``ValueError`` names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ip_network(entry))
        except ValueError:
            try:
                loose = ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"KEYFOB_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network "
                    "such as 10.0.0.1, 10.0.0.0/8 or fd00::/8"
                ) from None
            raise ValueError(
                f"KEYFOB_TRUSTED_PROXIES: {entry!r} has host bits set; did you mean {loose}?"
            ) from None
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _with_port(text: str) -> IPAddress | None:
    """An address written as ``v4``, ``v4:port``, ``[v6]`` or ``[v6]:port``, else None."""
    if text.startswith("["):
        inside, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port[0] == ":" and _PORT.fullmatch(port[1:]))):
            return None
        return _address(inside) if ":" in inside else None
    host, colon, port = text.partition(":")
    if colon and not _PORT.fullmatch(port):
        return None
    address = _address(host)
    return address if isinstance(address, IPv4Address) else None


def x_forwarded_for_entry(entry: str) -> IPAddress | None:
    """One ``X-Forwarded-For`` entry: an address (a port is allowed), else None."""
    entry = entry.strip()
    address = _address(entry)
    return address if address is not None else _with_port(entry)


def forwarded_element(element: str) -> IPAddress | None:
    """The ``for=`` address of one RFC 7239 ``Forwarded`` element, or None when the element is
    malformed or names no address (``unknown``, an obfuscated identifier such as ``_hidden``)."""
    found = None
    for pair in element.split(";"):
        match = _PAIR.fullmatch(pair)
        if match is None:
            return None
        if match[1].lower() != "for":
            continue
        if found is not None:  # a parameter occurs once per element (RFC 7239 section 4)
            return None
        value = match[2]
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found = value
    if found is None:
        return None
    return _with_port(found)


def _hops(scope: MutableMapping[str, Any], header: ForwardedHeader) -> Iterator[IPAddress | None]:
    """The header's addresses, right-most first (all lines of the header, in order)."""
    name = header.encode()
    lines = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    if not lines:
        return
    parse = x_forwarded_for_entry if header == "x-forwarded-for" else forwarded_element
    # Split on every comma, quoted or not: a client's own unbalanced quote then cannot swallow
    # the entry a trusted proxy appended after it.
    for entry in reversed(",".join(lines).split(",")):
        yield parse(entry)


def resolve_client_address(scope: MutableMapping[str, Any], proxies: TrustedProxies) -> str | None:
    """The client's address for this request (see the module docstring), without caching."""
    client = scope.get("client")
    peer_text: str | None = client[0] if client else None
    if not proxies.networks or peer_text is None:
        return peer_text
    current = _address(peer_text)
    if current is None:
        return peer_text
    for hop in _hops(scope, proxies.header):
        if not proxies.trusts(current) or hop is None:
            break
        current = hop
    return str(current)


def client_address(scope: MutableMapping[str, Any], proxies: TrustedProxies) -> str | None:
    """The client's address for this request, computed once and kept in the scope: what the
    rate limiter counts and the audit log records."""
    if SCOPE_KEY in scope:
        known: str | None = scope[SCOPE_KEY]
        return known
    address = scope[SCOPE_KEY] = resolve_client_address(scope, proxies)
    return address


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the client's address (:func:`client_address`) and the first
    :data:`MAX_USER_AGENT` characters of its ``User-Agent`` header (None without one)."""

    ip: str | None
    user_agent: str | None = None


def caller(scope: MutableMapping[str, Any], proxies: TrustedProxies) -> Caller:
    """The :class:`Caller` of this request."""
    agent = next((value for key, value in scope["headers"] if key == b"user-agent"), None)
    text = None if agent is None else agent[:MAX_USER_AGENT].decode("latin-1")
    return Caller(ip=client_address(scope, proxies), user_agent=text)


def rate_limit_key(address: str | None) -> str:
    """What the rate limiter counts under: the address, an IPv6 client's /64 network (one host
    usually holds a whole /64, so per-address budgets would be free to multiply)."""
    if address is None:
        return "-"
    if ":" not in address:
        return address
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, IPv4Address):
        return str(parsed)
    return f"{IPv6Address(int(parsed) >> 64 << 64)}/64"


def forwarded_host(scope: MutableMapping[str, Any], proxies: TrustedProxies) -> str | None:
    """The host the browser asked for, as a trusted proxy forwards it: ``X-Forwarded-Host``
    (beside ``X-Forwarded-For``) or the ``host=`` of ``Forwarded``, per ``proxies.header``;
    None when the socket peer is no trusted proxy or it forwards no host.

    The first entry counts: the host the outermost proxy was asked for. Unlike the client
    address it decides no budget and no permission (only which page keyfob shows, see
    :mod:`keyfob.server.infra.public_host`), so a client writing its own misleads only itself.
    """
    client = scope.get("client")
    peer = _address(client[0]) if client else None
    if peer is None or not proxies.trusts(peer):
        return None
    name = b"x-forwarded-host" if proxies.header == "x-forwarded-for" else b"forwarded"
    lines = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    first = ",".join(lines).split(",")[0].strip()
    if proxies.header == "x-forwarded-for":
        return first or None
    for pair in first.split(";"):
        match = _PAIR.fullmatch(pair)
        if match is not None and match[1].lower() == "host":
            value = match[2]
            return re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
    return None
