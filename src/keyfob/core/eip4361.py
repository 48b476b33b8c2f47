"""Sign-In with Ethereum (EIP-4361): the strict ABNF parser, a validating builder, the verify step.

The layout is :mod:`keyfob.core.signin_message`'s; on top of it EIP-4361's ABNF wants an EIP-55
address, a statement of RFC 3986 reserved/unreserved characters and spaces, ``Version: 1``, a
decimal ``Chain ID``, a nonce of at least 8 letters and digits and a Request ID of ``*pchar``.
Signatures are EIP-191 ``personal_sign`` over the UTF-8 message text, by an externally owned
account; EIP-1271 contract wallets would need a chain to ask and are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TypeVar

from keyfob.core.eip55 import is_checksum_address
from keyfob.core.eip191 import address_hex_of, recover_public_key
from keyfob.core.signin_message import (
    SignInMessage,
    VerifiedSignIn,
    check_sign_in_message,
    parse_sign_in_message,
)
from keyfob.errors import InvalidMessage, InvalidSignature

_T = TypeVar("_T")
_NONCE = re.compile(r"[A-Za-z0-9]{8,}")
_CHAIN_ID = re.compile(r"[0-9]+")
# statement = *( reserved / unreserved / " " ), RFC 3986 section 2.
_STATEMENT = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]*")
# request-id = *pchar
_REQUEST_ID = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


def _check_grammar(message: SignInMessage) -> None:
    if not is_checksum_address(message.address):
        raise InvalidMessage(
            "The address must be 0x and 40 hex digits in EIP-55 checksum (mixed) case."
        )
    if message.statement is not None and not _STATEMENT.fullmatch(message.statement):
        raise InvalidMessage(
            "The statement may only hold letters, digits, spaces and the URI punctuation "
            "-._~:/?#[]@!$&'()*+,;= (EIP-4361)."
        )
    if message.version != "1":
        raise InvalidMessage('EIP-4361 messages have "Version: 1".')
    if message.chain_id is None:
        raise InvalidMessage('The message has no "Chain ID:" line; EIP-4361 requires it.')
    if not _CHAIN_ID.fullmatch(message.chain_id):
        raise InvalidMessage("The Chain ID must be a decimal number.")
    if not _NONCE.fullmatch(message.nonce):
        raise InvalidMessage("The nonce must be at least 8 letters and digits.")
    if message.request_id is not None and not _REQUEST_ID.fullmatch(message.request_id):
        raise InvalidMessage("The Request ID may only hold RFC 3986 path characters.")


def parse_siwe_message(text: str) -> SignInMessage:
    """Parse an EIP-4361 message strictly; raise :class:`InvalidMessage` naming the problem."""
    message = parse_sign_in_message(text, chain="ethereum")
    _check_grammar(message)
    return message


def _required(name: str, value: _T | None) -> _T:
    if value is None:
        raise InvalidMessage(f"The {name} field is required.")
    return value


def build_siwe_message(
    *,
    domain: str | None = None,
    address: str | None = None,
    uri: str | None = None,
    version: str | None = None,
    chain_id: int | str | None = None,
    nonce: str | None = None,
    issued_at: str | None = None,
    statement: str | None = None,
    expiration_time: str | None = None,
    not_before: str | None = None,
    request_id: str | None = None,
    resources: Iterable[str] = (),
    scheme: str | None = None,
) -> SignInMessage:
    """Build a message from its fields, refusing (:class:`InvalidMessage`) any the grammar does.

    A field is valid when the text it formats to parses back to the same fields, so a line
    feed smuggled into a field is caught along with every grammar rule.
    """
    chain_text = chain_id if chain_id is None or isinstance(chain_id, str) else str(chain_id)
    try:
        message = SignInMessage(
            chain="ethereum",
            domain=_required("domain", domain),
            address=_required("address", address),
            uri=_required("uri", uri),
            version=_required("version", version),
            nonce=_required("nonce", nonce),
            issued_at=_required("issued_at", issued_at),
            statement=statement,
            chain_id=_required("chain_id", chain_text),
            expiration_time=expiration_time,
            not_before=not_before,
            request_id=request_id,
            resources=tuple(resources),
            scheme=scheme,
        )
        parsed = parse_siwe_message(message.to_text())
    except TypeError as exc:
        raise InvalidMessage("Every field must be text (the chain id may be a number).") from exc
    if parsed != message:
        raise InvalidMessage("A field holds a line break or text the message grammar refuses.")
    return parsed


def decode_signature(signature: str) -> bytes:
    """Decode ``0x`` + 130 hex digits into the 65 signature bytes; :class:`InvalidSignature`."""
    if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
        raise InvalidSignature("An Ethereum signature is 0x followed by 130 hex digits.")
    return bytes.fromhex(signature[2:])


def verify_ethereum_sign_in(
    message: str,
    signature: str,
    *,
    expected_domain: str,
    expected_origin: str,
    expected_chain_ids: Collection[int],
    now: datetime,
) -> VerifiedSignIn:
    """Verify a Sign-In with Ethereum message and its EIP-191 signature.

    Parses strictly, checks domain, URI origin, version, chain id and time window (see
    :func:`keyfob.core.signin_message.check_sign_in_message`), then recovers the signer, which
    must be the message's address. ``public_key`` in the result is the signer's 65-byte
    uncompressed secp256k1 key (``04 || X || Y``); ``address`` is EIP-55.
    """
    parsed = parse_siwe_message(message)
    check_sign_in_message(
        parsed,
        expected_domain=expected_domain,
        expected_origin=expected_origin,
        now=now,
        expected_chain_ids={str(chain_id) for chain_id in expected_chain_ids},
    )
    public_key = recover_public_key(message.encode("utf-8"), decode_signature(signature))
    if address_hex_of(public_key) != parsed.address[2:].lower():
        raise InvalidSignature("The signature was not made by the address in the message.")
    return VerifiedSignIn(
        chain="ethereum", address=parsed.address, public_key=public_key, message=parsed
    )
