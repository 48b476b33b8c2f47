"""Sign-In With Solana: the verify step and the message formatter.

Wallets (Phantom's SIWS, the wallet standard's ``solana:signIn``) sign the UTF-8 bytes of the
message text with plain Ed25519; the address in the message is the base58 public key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keyfob.core.encoding import b58decode, b58encode, hex_decode
from keyfob.core.signin_message import (
    SignInMessage,
    VerifiedSignIn,
    check_sign_in_message,
    format_time,
    parse_sign_in_message,
)
from keyfob.errors import InvalidMessage, InvalidRequest, InvalidSignature, KeyfobError

# base58 of 32 bytes is 32..44 characters; bounding the length first keeps decoding cheap.
_ADDRESS_LENGTHS = range(32, 45)
_MAX_SIGNATURE_CHARS = 130


def _public_key_of(address: object) -> bytes | None:
    """Return the 32-byte key an address encodes, or None unless it is canonical base58."""
    if not isinstance(address, str) or len(address) not in _ADDRESS_LENGTHS:
        return None
    try:
        key = b58decode(address)
    except InvalidRequest:
        return None
    return key if len(key) == 32 and b58encode(key) == address else None


def is_solana_address(text: str) -> bool:
    """Tell whether ``text`` is a canonical base58 Solana address (a 32-byte public key)."""
    return _public_key_of(text) is not None


def _decode_signature(signature: str) -> bytes:
    """Decode a 64-byte signature given as base58 or as hex (optional ``0x``).

    The two never collide: 64 bytes are at most 88 base58 characters but 128 hex digits.
    """
    if not isinstance(signature, str) or len(signature) > _MAX_SIGNATURE_CHARS:
        raise InvalidSignature("The signature must be 64 bytes of base58 or hex.")
    for decode in (b58decode, hex_decode):
        try:
            data = decode(signature)
        except KeyfobError:
            continue
        if len(data) == 64:
            return data
    raise InvalidSignature("The signature must be 64 bytes of base58 or hex.")


def verify_solana_sign_in(
    message: str,
    signature: str,
    *,
    expected_domain: str,
    expected_origin: str,
    now: datetime,
) -> VerifiedSignIn:
    """Verify a Sign-In With Solana message and its Ed25519 signature over the UTF-8 text.

    ``signature`` is base58 (as wallets return it) or hex. The public key is the message's
    address, so a valid signature proves the address.
    """
    if not isinstance(message, str):
        raise InvalidRequest("The sign-in message must be text.")
    parsed = parse_sign_in_message(message, chain="solana")
    public_key = _public_key_of(parsed.address)
    if public_key is None:
        raise InvalidMessage("The message does not contain a valid Solana address.")
    check_sign_in_message(
        parsed, expected_domain=expected_domain, expected_origin=expected_origin, now=now
    )
    signature_bytes = _decode_signature(signature)
    try:
        data = message.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMessage("The sign-in message is not valid Unicode text.") from exc
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature_bytes, data)
    except (_CryptoInvalidSignature, ValueError) as exc:
        raise InvalidSignature() from exc
    return VerifiedSignIn(
        chain="solana", address=parsed.address, public_key=public_key, message=parsed
    )


def solana_login_message(
    *,
    domain: str,
    address: str,
    uri: str,
    nonce: str,
    issued_at: datetime,
    expiration_time: datetime,
    statement: str | None = None,
    chain_id: str | None = None,
    resources: Iterable[str] = (),
) -> str:
    """Build the text of a Sign-In With Solana message (``chain_id`` e.g. ``"mainnet"``)."""
    if not is_solana_address(address):
        raise InvalidRequest("Expected a base58 Solana address.")
    return SignInMessage(
        chain="solana",
        domain=domain,
        address=address,
        uri=uri,
        version="1",
        nonce=nonce,
        issued_at=format_time(issued_at),
        statement=statement,
        chain_id=chain_id,
        expiration_time=format_time(expiration_time),
        resources=tuple(resources),
    ).to_text()
