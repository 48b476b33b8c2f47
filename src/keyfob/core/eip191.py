"""EIP-191 ``personal_sign``: the message hash and secp256k1 public-key recovery.

A signature is 65 bytes, ``r || s || v``. Wallets write ``v`` as 27/28 (Ethereum's legacy
offset) or as the raw recovery id 0/1; both are accepted. As EIP-2 requires of transactions,
only low-s signatures (``s <= n/2``) are accepted, so a signature has exactly one valid
encoding: its malleable twin ``(r, n - s, v ^ 1)`` is refused.
"""

from __future__ import annotations

from coincurve import PublicKey
from Crypto.Hash import keccak

from keyfob.core.eip55 import keccak256, to_checksum_address
from keyfob.errors import InvalidSignature

_PREFIX = b"\x19Ethereum Signed Message:\n"
# Order of the secp256k1 group.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_RECOVERY_IDS = {0: b"\x00", 1: b"\x01", 27: b"\x00", 28: b"\x01"}


def personal_sign_hash(message: bytes) -> bytes:
    """Keccak-256 of ``"\\x19Ethereum Signed Message:\\n" + decimal length + message``."""
    hasher = keccak.new(digest_bits=256, data=_PREFIX + str(len(message)).encode("ascii"))
    hasher.update(message)
    return hasher.digest()


def recover_public_key(message: bytes, signature: bytes) -> bytes:
    """Recover the 65-byte uncompressed public key (``04 || X || Y``) that signed ``message``.

    Raises :class:`InvalidSignature` unless ``signature`` is 65 bytes with ``0 < r < n``,
    ``0 < s <= n/2`` and ``v`` in {0, 1, 27, 28}, and a key recovers from it.
    """
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise InvalidSignature("An Ethereum signature is 65 bytes: r, s and v.")
    recovery_id = _RECOVERY_IDS.get(signature[64])
    if recovery_id is None:
        raise InvalidSignature("The signature's v byte must be 27, 28, 0 or 1.")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not 0 < r < SECP256K1_N:
        raise InvalidSignature("The signature's r value is out of range.")
    if not 0 < s <= _HALF_N:
        raise InvalidSignature(
            "The signature's s value must be in the lower half of the curve order."
        )
    compact = signature if signature[64] < 2 else signature[:64] + recovery_id
    try:
        key = PublicKey.from_signature_and_message(
            compact, personal_sign_hash(message), hasher=None
        )
    except (ValueError, TypeError) as exc:
        raise InvalidSignature("No public key recovers from this signature.") from exc
    return key.format(compressed=False)


def address_hex_of(public_key: bytes) -> str:
    """The 40 lowercase hex digits of the address of a 65-byte uncompressed public key."""
    return keccak256(public_key[1:])[12:].hex()


def recover_address(message: bytes, signature: bytes) -> str:
    """Recover the EIP-55 address that ``personal_sign``-ed ``message`` with ``signature``."""
    return to_checksum_address("0x" + address_hex_of(recover_public_key(message, signature)))
