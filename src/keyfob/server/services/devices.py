"""Where a session is: its device and browser, and its network, as the account page shows them.

:func:`describe_device` sums a ``User-Agent`` header up with ua-parser (the uap-core rules):
"Firefox 121 on Windows", "Mobile Safari 17 on iOS, iPhone". A client no rule knows is named
by its first product token ("python-httpx 0.27.0"), or not at all. Only the summary is stored
(at most :data:`MAX_DEVICE` characters), never the header.

:func:`ip_area` keeps the client's network, never its address: an IPv4 /24 ("203.0.113.x"),
an IPv6 /48 ("2001:db8:85a3::/48"). keyfob has no geolocation database, so it names no place.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

import anyio.to_thread
import ua_parser

from keyfob.server.infra.client_address import MAX_USER_AGENT, Caller
from keyfob.store.records import SessionDevice

MAX_DEVICE = 128  # sessions.device and sso_sessions.device are String(128)
# Device families that say nothing the system does not ("Mac" on macOS) or nothing at all.
_VAGUE_DEVICES = frozenset({"Other", "Mac", "Spider"})
_PRODUCT = re.compile(r"([A-Za-z][A-Za-z0-9._-]{0,31})/([0-9][A-Za-z0-9.]{0,15})")
_parser_loaded = False


def _known(family: str | None) -> str | None:
    return None if family is None or family == "Other" else family


def describe_device(user_agent: str | None) -> str | None:
    """A short summary of the browser, system and device a ``User-Agent`` header names, or
    None when it names nothing recognisable."""
    if not user_agent:
        return None
    text = user_agent[:MAX_USER_AGENT]
    result = ua_parser.parse(text)
    browser = None
    if result.user_agent is not None and _known(result.user_agent.family):
        major = result.user_agent.major
        browser = result.user_agent.family + (f" {major}" if major else "")
    system = _known(result.os.family) if result.os is not None else None
    device = result.device.family if result.device is not None else None
    if device in _VAGUE_DEVICES or (device or "").startswith("Generic") or device == system:
        device = None
    summary = " on ".join(part for part in (browser, system) if part)
    if summary and device:
        summary = f"{summary}, {device}"
    if not summary:
        product = _PRODUCT.fullmatch(text.split(maxsplit=1)[0])
        if product is None or product[1] == "Mozilla":
            return None
        summary = f"{product[1]} {product[2]}"
    return "".join(char for char in summary if char.isprintable())[:MAX_DEVICE] or None


def ip_area(address: str | None) -> str | None:
    """The network of ``address``: ``a.b.c.x`` for IPv4 (its /24), ``prefix::/48`` for IPv6;
    None for no address or something that is not one."""
    if not address:
        return None
    try:
        parsed = ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if isinstance(parsed, IPv4Address):
        return ".".join(str(parsed).split(".")[:3]) + ".x"
    return str(IPv6Network((int(parsed) >> 80 << 80, 48)))


def _load_parser() -> None:
    ua_parser.parser  # noqa: B018 (the module builds its parser on first access)


async def device_seen(caller: Caller) -> SessionDevice:
    """The device and network of ``caller``, for a session it opens."""
    global _parser_loaded
    if caller.user_agent and not _parser_loaded:
        # ua-parser builds its rules at first use (a quarter of a second): not on the loop.
        await anyio.to_thread.run_sync(_load_parser)
        _parser_loaded = True
    return SessionDevice(device=describe_device(caller.user_agent), ip_area=ip_area(caller.ip))
