"""Nonces for sign-in messages: random ones (stored by the server) and stateless signed ones.

EIP-4361 allows only ``[a-zA-Z0-9]{8,}`` in a nonce, so both kinds are alphanumeric. A signed
nonce (seed 001's "cryptographically signed nonce") is 82 lowercase hex digits::

    random (16) | issued at (4) | expires at (4) | chain (1) | HMAC-SHA256 truncated (16)

It needs no storage to check; making it single-use is still the server's job (``mark_used``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from keyfob.errors import ConfigurationError, InvalidNonce, InvalidRequest

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NONCE_LENGTH = 22  # 22 * log2(62) = 131 bits
_CHAINS = {"ethereum": 1, "solana": 2, "nimiq": 3}
_DOMAIN = b"keyfob-signed-nonce-v1"
_BODY = struct.Struct(">16sIIB")
_MAC_SIZE = 16
_SIGNED_LENGTH = 2 * (_BODY.size + _MAC_SIZE)
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class SignedNonce:
    """A verified signed nonce and the window it is valid in."""

    nonce: str
    issued_at: datetime
    expires_at: datetime


def new_nonce() -> str:
    """A random alphanumeric nonce of 22 base62 characters (over 128 bits)."""
    # One read of 24 random bytes reduced to 22 base62 digits (62**22 > 2**130): 192 bits drawn
    # for a range of ~2**131 leaves a modulo bias below 2**-60. secrets.choice per character
    # would cost 22 system calls.
    number = int.from_bytes(secrets.token_bytes(24), "big") % (62**_NONCE_LENGTH)
    digits = []
    for _ in range(_NONCE_LENGTH):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(digits)


def issue_signed_nonce(*, key: bytes, chain: str, now: datetime, ttl: int) -> str:
    """A stateless nonce for ``chain`` valid ``ttl`` seconds, authenticated with HMAC-SHA256."""
    _check_key(key)
    code = _CHAINS.get(chain)
    if code is None:
        raise InvalidRequest(f"Unknown chain {chain!r}; use one of {', '.join(_CHAINS)}.")
    if ttl <= 0:
        raise ConfigurationError("A nonce needs a positive lifetime.")
    issued_at = int(_timestamp(now))
    body = _BODY.pack(secrets.token_bytes(16), issued_at, issued_at + ttl, code)
    return (body + _mac(key, body)).hex()


def is_signed_nonce_format(text: str) -> bool:
    """Whether ``text`` looks like a signed nonce (82 lowercase hex digits); nothing verified."""
    return (
        isinstance(text, str) and len(text) == _SIGNED_LENGTH and _HEX.fullmatch(text) is not None
    )


def verify_signed_nonce(
    nonce: str, *, key: bytes, expected_chain: str, now: datetime
) -> SignedNonce:
    """Check a signed nonce's MAC, chain and expiry; :class:`InvalidNonce` if any is wrong."""
    _check_key(key)
    if not is_signed_nonce_format(nonce):
        raise InvalidNonce("The nonce is not one keyfob signed.")
    raw = bytes.fromhex(nonce)
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise InvalidNonce("The nonce is not one keyfob signed.")
    _, issued_at, expires_at, code = _BODY.unpack(body)
    if code != _CHAINS.get(expected_chain):
        raise InvalidNonce(f"This nonce was not issued for {expected_chain}.")
    moment = _timestamp(now)
    if moment >= expires_at:
        raise InvalidNonce("The nonce has expired; ask for a new one.")
    if issued_at > moment + 60:  # tolerate a little skew between servers sharing the key
        raise InvalidNonce("The nonce was issued in the future; check the clocks.")
    return SignedNonce(
        nonce=nonce,
        issued_at=datetime.fromtimestamp(issued_at, UTC),
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + body, hashlib.sha256).digest()[:_MAC_SIZE]


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < 32:
        raise ConfigurationError("The nonce key must be 32 bytes (use derive_key).")


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    return now.timestamp()
