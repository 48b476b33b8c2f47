"""Byte encodings the protocols use: base64url (JOSE), base58 (Solana), hex (Ethereum, Nimiq)."""

from __future__ import annotations

import base64
import binascii
import re

from keyfob.errors import InvalidRequest

_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url; raise :class:`InvalidRequest` on bad input."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise InvalidRequest("Expected base64url text.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("Expected base64url text.") from exc


def b58encode(data: bytes) -> str:
    """Encode bytes in Bitcoin/Solana base58 (leading zero bytes become '1')."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58_ALPHABET[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58 text; raise :class:`InvalidRequest` on a character outside the alphabet."""
    number = 0
    for char in text:
        index = _B58_INDEX.get(char)
        if index is None:
            raise InvalidRequest("Expected base58 text.")
        number = number * 58 + index
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def hex_decode(text: str, *, length: int | None = None) -> bytes:
    """Decode hex with or without a ``0x`` prefix, optionally requiring an exact byte length."""
    if not isinstance(text, str):
        raise InvalidRequest("Expected hex text.")
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if not body.isascii() or not body.isalnum():  # bytes.fromhex would skip whitespace
        raise InvalidRequest("Expected hex text.")
    try:
        data = bytes.fromhex(body)
    except ValueError as exc:
        raise InvalidRequest("Expected hex text.") from exc
    if length is not None and len(data) != length:
        raise InvalidRequest(f"Expected {length} bytes of hex, got {len(data)}.")
    return data
