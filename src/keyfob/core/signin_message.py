r"""The "<domain> wants you to sign in with your <X> account:" message and its shared checks.

EIP-4361 (Ethereum), Sign-In With Solana and keyfob's Nimiq login message share one layout
(``[...]`` is optional, ``\n`` a line feed)::

    [scheme://]<domain> wants you to sign in with your <Ethereum|Solana|Nimiq> account:
    <address>

    [<statement>\n\n]URI: <uri>
    Version: <version>
    [Chain ID: <chain id>\n]Nonce: <nonce>
    Issued At: <RFC 3339>[\nExpiration Time: <RFC 3339>][\nNot Before: <RFC 3339>]
    [\nRequest ID: <text>][\nResources:\n- <uri>\n- <uri>...]

EIP-4361 keeps the blank line of an absent statement (three line feeds after the address), SIWS
drops it (two). keyfob requires URI, Version, Nonce and Issued At on every chain. Parsing and
:meth:`SignInMessage.to_text` are exact inverses. This is the layout only:
:func:`keyfob.core.eip4361.parse_siwe_message` adds EIP-4361's stricter field grammar.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal, cast

from keyfob.errors import (
    ConfigurationError,
    InvalidMessage,
    InvalidRequest,
    MessageExpired,
    MessageMismatch,
)

Chain = Literal["ethereum", "solana", "nimiq"]

#: How far a client's clock may run ahead of ours when it writes "Issued At".
SKEW = timedelta(seconds=60)

_LABELS = {"ethereum": "Ethereum", "solana": "Solana", "nimiq": "Nimiq"}
# Attribute -> field tag ("Chain ID" is chain_id...), in the only order the fields may come.
_TAGS = ("URI", "Version", "Chain ID", "Nonce", "Issued At", "Expiration Time", "Not Before")
_TAG_OF = {tag.lower().replace(" ", "_"): tag for tag in (*_TAGS, "Request ID")}
_FIELDS = tuple((f"{tag}: ", name) for name, tag in _TAG_OF.items())
_ORDER = ", ".join(_TAG_OF.values()) + ", Resources"

# RFC 3986, appendix A.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
_AUTHORITY = (
    rf"(?:(?P<userinfo>(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*)@)?"
    rf"(?P<host>\[[0-9A-Fa-f:.]+\]|\[[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+\]"
    rf"|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
    r"(?::(?P<port>[0-9]*))?"
)
_SCHEME_RE = re.compile(_SCHEME)
_AUTHORITY_RE = re.compile(_AUTHORITY)
_URI_RE = re.compile(
    rf"(?P<scheme>{_SCHEME}):(?://{_AUTHORITY}(?:/{_PCHAR}*)*|(?!//)(?:{_PCHAR}|/)*)"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
# RFC 3339 section 5.6 date-time (ASCII digits only: \d would take any Unicode digit).
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:[Zz]|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))"
)


@dataclass(frozen=True)
class SignInMessage:
    """The fields of a sign-in message, each exactly as written in its text."""

    chain: Chain
    domain: str
    address: str
    uri: str
    version: str
    nonce: str
    issued_at: str
    statement: str | None = None
    chain_id: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()
    scheme: str | None = None

    def to_text(self) -> str:
        """Write the message text; parsing it gives back an equal :class:`SignInMessage`."""
        origin = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        header = f"{origin} wants you to sign in with your {_LABELS[self.chain]} account:"
        lines = [header, self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        elif self.chain == "ethereum":
            lines.append("")
        for tag, name in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                lines.append(tag + value)
        if self.resources:
            lines.append("Resources:")
            lines += ["- " + resource for resource in self.resources]
        return "\n".join(lines)

    @property
    def issued_at_time(self) -> datetime:
        """``Issued At`` as an aware datetime."""
        return parse_time(self.issued_at)

    @property
    def expiration_time_time(self) -> datetime | None:
        """``Expiration Time`` as an aware datetime, or None."""
        return None if self.expiration_time is None else parse_time(self.expiration_time)

    @property
    def not_before_time(self) -> datetime | None:
        """``Not Before`` as an aware datetime, or None."""
        return None if self.not_before is None else parse_time(self.not_before)


@dataclass(frozen=True)
class VerifiedSignIn:
    """What a chain's verify step proved: who signed in, with which key, over which message."""

    chain: str
    address: str
    public_key: bytes | None
    message: SignInMessage | None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _rfc3339(text: str) -> datetime | None:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    *date_time, fraction, sign, off_h, off_m = match.groups()
    year, month, day, hour, minute, second = map(int, date_time)
    tz = UTC
    if sign is not None:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(year, month, day, hour, minute, second, micros, tz)
    except ValueError:  # 31 February, a leap second, year 0: valid syntax, no such instant
        return None


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 date-time (offset kept); :class:`InvalidMessage` if it is not one."""
    moment = _rfc3339(text)
    if moment is None:
        raise InvalidMessage(f'"{_clip(text)}" is not an RFC 3339 date-time.')
    return moment


def format_time(moment: datetime) -> str:
    """Write an aware datetime as RFC 3339 UTC with milliseconds, as JavaScript's toISOString."""
    if moment.tzinfo is None:
        raise TypeError("format_time needs a timezone-aware datetime.")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _host_key(host: str) -> str | None:
    """The host lowercased (an IPv6 literal also compressed), or None if not a valid host."""
    host = host.lower()
    if host.startswith("[") and not host.startswith("[v"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    return host


def _port_key(port: str | None, scheme: str) -> str:
    port = (port or "").lstrip("0") or ("0" if port else "")
    return "" if _DEFAULT_PORTS.get(scheme) == port else port


def is_uri(text: str) -> bool:
    """Tell whether ``text`` is an RFC 3986 URI (absolute: it has a scheme)."""
    match = _URI_RE.fullmatch(text)
    return match is not None and (match["host"] is None or _host_key(match["host"]) is not None)


def _host_match(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str], str] | None:
    match = pattern.fullmatch(text)
    host = _host_key(match["host"]) if match is not None and match["host"] else None
    return None if match is None or host is None else (match, host)


def uri_origin(uri: str) -> str | None:
    """The origin ``scheme://host[:port]`` of a URI, lowercase and without a default port;
    None if it is not a URI or has no host."""
    if (found := _host_match(_URI_RE, uri)) is None:
        return None
    match, host = found
    scheme = match["scheme"].lower()
    port = _port_key(match["port"], scheme)
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _domain_key(domain: str, scheme: str) -> tuple[str | None, str, str] | None:
    if (found := _host_match(_AUTHORITY_RE, domain)) is None:
        return None
    match, host = found
    return match["userinfo"], host, _port_key(match["port"], scheme)


@lru_cache(maxsize=64)
def _expected_origin(expected_origin: str) -> tuple[str, str]:
    origin = uri_origin(expected_origin)
    if origin is None:
        raise ConfigurationError(f'The expected origin "{expected_origin}" is not a URL.')
    return origin.split(":", 1)[0], origin


@lru_cache(maxsize=64)
def _expected_domain(expected_domain: str, scheme: str) -> tuple[str | None, str, str]:
    key = _domain_key(expected_domain, scheme)
    if key is None:
        raise ConfigurationError(f'The expected domain "{expected_domain}" is not host[:port].')
    return key


def _split_origin(head: str) -> tuple[str | None, str]:
    scheme, separator, domain = head.partition("://")
    if not separator:
        scheme, domain = "", head
    elif not _SCHEME_RE.fullmatch(scheme):
        raise InvalidMessage(f'"{_clip(scheme)}" is not a URI scheme.')
    if _domain_key(domain, "") is None:
        raise InvalidMessage(f'The domain "{_clip(domain)}" is not an RFC 3986 authority.')
    return scheme or None, domain


def _statement(lines: list[str], *, ethereum: bool) -> tuple[str | None, int]:
    """The statement and the index of the first field line (``lines[2]`` is blank)."""
    if ethereum:
        if len(lines) > 3 and lines[3] == "":
            return None, 4
        if len(lines) > 4 and lines[3] and lines[4] == "":
            return lines[3], 5
        raise InvalidMessage(
            "EIP-4361 puts a one-line statement between two empty lines, and two empty lines "
            "between the address and the URI when there is no statement."
        )
    if len(lines) > 4 and lines[4] == "":
        if not lines[3]:
            raise InvalidMessage("The statement must not be empty.")
        return lines[3], 5
    return None, 3


def _fields(lines: list[str], index: int) -> tuple[dict[str, str], tuple[str, ...]]:
    values: dict[str, str] = {}
    count = len(lines)
    for tag, name in _FIELDS:
        if index < count and lines[index].startswith(tag):
            value = values[name] = lines[index][len(tag) :]
            if not value and name != "request_id":
                raise InvalidMessage(f'"{tag.rstrip()}" has no value.')
            index += 1
    resources: list[str] = []
    if index < count and lines[index] == "Resources:":
        index += 1
        while index < count and lines[index].startswith("- "):
            resources.append(lines[index][2:])
            index += 1
        if not resources:
            raise InvalidMessage('"Resources:" must be followed by "- <uri>" lines.')
    for name in ("uri", "version", "nonce", "issued_at"):
        if name not in values:
            raise InvalidMessage(
                f'The "{_TAG_OF[name]}:" line is missing or out of place; the fields come in the '
                f"order {_ORDER}."
            )
    if index < count:
        raise InvalidMessage(
            f'Line {index + 1} ("{_clip(lines[index])}") is out of place: after the statement '
            f"come the fields {_ORDER}, in that order, one per line."
        )
    return values, tuple(resources)


def parse_sign_in_message(text: str, *, chain: str) -> SignInMessage:
    """Parse the shared layout for ``chain`` ("ethereum", "solana" or "nimiq").

    Checks layout, field order, that URI, Version, Nonce and Issued At are there, the domain is
    an RFC 3986 authority, URI and resources RFC 3986 URIs, times RFC 3339; the address line is
    taken whole. Raises :class:`InvalidMessage` (:class:`InvalidRequest` for an unknown chain).
    """
    label = _LABELS.get(chain)
    if label is None:
        raise InvalidRequest(f'Unknown chain "{_clip(str(chain))}".')
    if not isinstance(text, str):
        raise InvalidMessage("The sign-in message must be text.")
    lines = text.split("\n")
    suffix = f" wants you to sign in with your {label} account:"
    if not lines[0].endswith(suffix):
        raise InvalidMessage(f'The first line must read "<domain>{suffix}".')
    scheme, domain = _split_origin(lines[0][: -len(suffix)])
    if len(lines) < 3 or not lines[1]:
        raise InvalidMessage("The second line must hold the address.")
    if lines[2]:
        raise InvalidMessage("The address must be followed by an empty line.")
    statement, index = _statement(lines, ethereum=chain == "ethereum")
    values, resources = _fields(lines, index)
    if chain == "nimiq" and "chain_id" in values:
        raise InvalidMessage("A Nimiq sign-in message carries no Chain ID.")
    for name in ("issued_at", "expiration_time", "not_before"):
        if name in values and _rfc3339(values[name]) is None:
            raise InvalidMessage(
                f'{_TAG_OF[name]} "{_clip(values[name])}" is not an RFC 3339 date-time.'
            )
    for uri in (values["uri"], *resources):
        if not is_uri(uri):
            raise InvalidMessage(f'"{_clip(uri)}" is not an RFC 3986 URI.')
    return SignInMessage(
        chain=cast(Chain, chain),
        domain=domain,
        address=lines[1],
        statement=statement,
        resources=resources,
        scheme=scheme,
        **values,
    )


def check_validity_window(message: SignInMessage, *, now: datetime) -> None:
    """EIP-4361's time rule ``Not Before <= now < Expiration Time``, or :class:`MessageExpired`."""
    not_before = message.not_before_time
    if not_before is not None and now < not_before:
        raise MessageExpired(f"The sign-in message is not valid before {message.not_before}.")
    expiration = message.expiration_time_time
    if expiration is not None and now >= expiration:
        raise MessageExpired(f"The sign-in message expired at {message.expiration_time}.")


def check_issued_at(message: SignInMessage, *, now: datetime, skew: timedelta = SKEW) -> None:
    """keyfob's extra rule: ``Issued At`` may lie at most ``skew`` in the future."""
    if message.issued_at_time > now + skew:
        raise MessageExpired(f"The message's Issued At {message.issued_at} is in the future.")


def check_sign_in_message(
    message: SignInMessage,
    *,
    expected_domain: str,
    expected_origin: str,
    now: datetime,
    expected_chain_ids: Collection[str] | None = None,
) -> None:
    """Check a parsed message was made for us, now: :class:`MessageMismatch` if not for us,
    :class:`MessageExpired` if outside :func:`check_validity_window` or :func:`check_issued_at`.

    The domain must equal ``expected_domain`` (an authority like "localhost:8000"; host compared
    case-insensitively, a default port equals none), a scheme before it and the URI's origin
    must match ``expected_origin``, Version be "1", the chain id one of ``expected_chain_ids``.
    """
    origin_scheme, origin = _expected_origin(expected_origin)
    if message.scheme is not None and message.scheme.lower() != origin_scheme:
        raise MessageMismatch(
            f'The message is for scheme "{_clip(message.scheme)}", but this server is at '
            f"{expected_origin}."
        )
    domain = _expected_domain(expected_domain, origin_scheme)
    if _domain_key(message.domain, origin_scheme) != domain:
        raise MessageMismatch(
            f'The message is for domain "{_clip(message.domain)}", but this server is '
            f'"{expected_domain}".'
        )
    if uri_origin(message.uri) != origin:
        raise MessageMismatch(
            f"The message's URI \"{_clip(message.uri)}\" is not on this server's origin "
            f"{expected_origin}."
        )
    if message.version != "1":
        raise MessageMismatch(f'The message has Version "{_clip(message.version)}", not "1".')
    if expected_chain_ids is not None and message.chain_id not in expected_chain_ids:
        accepted = ", ".join(sorted(expected_chain_ids))
        raise MessageMismatch(
            f'The message is for chain ID "{_clip(message.chain_id or "")}", but this server '
            f"accepts {accepted or 'none'}."
        )
    check_validity_window(message, now=now)
    check_issued_at(message, now=now)
