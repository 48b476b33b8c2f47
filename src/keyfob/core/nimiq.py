"""Nimiq: user-friendly addresses, Keyguard's signed-message envelope and the sign-in verify step.

The Nimiq Hub's ``signMessage`` has the Keyguard sign
``SHA-256("\\x16Nimiq Signed Message:\\n" + decimal UTF-8 byte length + message)`` with plain
Ed25519 and returns the signature and public key as bytes. An address is the first 20 bytes of
unkeyed BLAKE2b-256 of the public key, written ``NQ`` + IBAN check digits + Nimiq base32.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keyfob.core.encoding import hex_decode
from keyfob.core.signin_message import (
    SignInMessage,
    VerifiedSignIn,
    check_sign_in_message,
    format_time,
    parse_sign_in_message,
)
from keyfob.errors import InvalidMessage, InvalidRequest, InvalidSignature, KeyfobError

_PREFIX = b"\x16Nimiq Signed Message:\n"
_COUNTRY = "NQ"
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVXY"
# Nimiq base32 is RFC 4648 base32 (same bit order) under another alphabet; 20 bytes need no padding.
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET)
_TO_RFC4648 = str.maketrans(_ALPHABET, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _iban_remainder(text: str) -> int:
    """IBAN mod-97 of ``text`` with letters read as 10..35 (ISO 13616)."""
    return int("".join(c if c.isdigit() else str(ord(c) - 55) for c in text)) % 97


def _format_address(address_bytes: bytes) -> str:
    body = base64.b32encode(address_bytes).decode("ascii").translate(_FROM_RFC4648)
    check = f"{98 - _iban_remainder(body + _COUNTRY + '00'):02d}"
    compact = _COUNTRY + check + body
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def nimiq_address_from_public_key(public_key: bytes) -> str:
    """Return the user-friendly address ("NQ.. .... ...") of a 32-byte Ed25519 public key."""
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise InvalidRequest("A Nimiq public key is 32 bytes.")
    return _format_address(hashlib.blake2b(public_key, digest_size=32).digest()[:20])


def normalize_nimiq_address(text: str) -> str:
    """Validate a user-friendly address in any spacing or case; return its canonical grouped form.

    Raises :class:`InvalidRequest` on a malformed address or wrong check digits.
    """
    compact = text.replace(" ", "").upper() if isinstance(text, str) else ""
    body = compact[4:]
    if (
        len(compact) != 36
        or not compact.startswith(_COUNTRY)
        or not compact[2:4].isdecimal()
        or not compact[2:4].isascii()
        or any(c not in _ALPHABET for c in body)
    ):
        raise InvalidRequest("Expected a Nimiq address like 'NQ07 0000 0000 ...'.")
    if _iban_remainder(body + compact[:4]) != 1:
        raise InvalidRequest("The Nimiq address has wrong check digits.")
    return _format_address(base64.b32decode(body.translate(_TO_RFC4648)))


def nimiq_signed_message_digest(message: str | bytes) -> bytes:
    """Return the 32 bytes Keyguard signs for ``message`` (its signed-message envelope)."""
    try:
        data = message.encode("utf-8") if isinstance(message, str) else message
    except UnicodeEncodeError as exc:
        raise InvalidMessage("The signed message is not valid Unicode text.") from exc
    return hashlib.sha256(_PREFIX + str(len(data)).encode("ascii") + data).digest()


def verify_nimiq_signature(message: str | bytes, *, signature: bytes, public_key: bytes) -> None:
    """Check a Keyguard signed-message signature; raise :class:`InvalidSignature` if it fails."""
    if not isinstance(signature, bytes) or not isinstance(public_key, bytes):
        raise InvalidSignature("A Nimiq signature and public key are bytes.")
    if len(signature) != 64 or len(public_key) != 32:
        raise InvalidSignature("A Nimiq signature is 64 bytes over a 32-byte public key.")
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(signature, nimiq_signed_message_digest(message))
    except (_CryptoInvalidSignature, ValueError) as exc:
        raise InvalidSignature() from exc


def _decode_pair(signature: str, public_key: str) -> tuple[bytes, bytes]:
    """Decode the Hub's hex signature (64 bytes) and public key (32 bytes)."""
    try:
        signature_bytes = hex_decode(signature, length=64)
    except InvalidRequest as exc:
        raise InvalidSignature("The signature must be 64 bytes of hex.") from exc
    try:
        key_bytes = hex_decode(public_key, length=32)
    except InvalidRequest as exc:
        raise InvalidRequest("The public key must be 32 bytes of hex.") from exc
    return signature_bytes, key_bytes


def verify_nimiq_sign_in(
    message: str,
    signature: str,
    public_key: str,
    *,
    expected_domain: str,
    expected_origin: str,
    now: datetime,
) -> VerifiedSignIn:
    """Verify a Nimiq sign-in: parse and check the message, then the Keyguard signature.

    ``signature`` (64 bytes) and ``public_key`` (32 bytes) are hex, with or without ``0x``.
    The address in the message must be the one derived from ``public_key``.
    """
    if not isinstance(message, str):
        raise InvalidRequest("The sign-in message must be text.")
    parsed = parse_sign_in_message(message, chain="nimiq")
    try:
        claimed = normalize_nimiq_address(parsed.address)
    except KeyfobError as exc:
        raise InvalidMessage(f"The address in the message is invalid: {exc.message}") from exc
    check_sign_in_message(
        parsed, expected_domain=expected_domain, expected_origin=expected_origin, now=now
    )
    signature_bytes, key_bytes = _decode_pair(signature, public_key)
    verify_nimiq_signature(message, signature=signature_bytes, public_key=key_bytes)
    address = nimiq_address_from_public_key(key_bytes)
    if address != claimed:
        raise InvalidSignature("The public key does not belong to the address in the message.")
    return VerifiedSignIn(chain="nimiq", address=address, public_key=key_bytes, message=parsed)


def verify_nimiq_challenge_signature(
    challenge: str, signature: str, public_key: str
) -> VerifiedSignIn:
    """Verify seed 000's flow: the Keyguard signed the challenge JWT text itself.

    Only the signature is checked here; the challenge's own validity is
    :mod:`keyfob.core.challenge`'s job.
    """
    if not isinstance(challenge, str) or not challenge:
        raise InvalidRequest("The challenge must be text.")
    signature_bytes, key_bytes = _decode_pair(signature, public_key)
    verify_nimiq_signature(challenge, signature=signature_bytes, public_key=key_bytes)
    address = nimiq_address_from_public_key(key_bytes)
    return VerifiedSignIn(chain="nimiq", address=address, public_key=key_bytes, message=None)


def nimiq_login_message(
    *,
    domain: str,
    address: str,
    uri: str,
    nonce: str,
    issued_at: datetime,
    expiration_time: datetime,
    statement: str | None = None,
    resources: Iterable[str] = (),
) -> str:
    """Build the text of keyfob's Nimiq sign-in message for the client to have signed."""
    return SignInMessage(
        chain="nimiq",
        domain=domain,
        address=normalize_nimiq_address(address),
        uri=uri,
        version="1",
        nonce=nonce,
        issued_at=format_time(issued_at),
        statement=statement,
        expiration_time=format_time(expiration_time),
        resources=tuple(resources),
    ).to_text()
