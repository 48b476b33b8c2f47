"""EIP-55 mixed-case checksum addresses: ``0x`` + 40 hex digits whose letter case encodes
Keccak-256 of the lowercase hex."""

from __future__ import annotations

import functools
import re

from Crypto.Hash import keccak

from keyfob.errors import InvalidRequest

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_LETTERS = bytes(0x20 if byte in b"abcdef" else 0 for byte in range(256))
_HIGH_NIBBLES = bytes(0x20 if byte in b"89abcdef" else 0 for byte in range(256))


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (the original Keccak padding Ethereum uses, not NIST SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


# Sign-ins repeat the same few addresses (the message, the recovered key, the nonce's binding):
# remember recent checksums rather than hashing each one again.
@functools.lru_cache(maxsize=4096)
def _checksum(lower_hex: str) -> str:
    text = lower_hex.encode("ascii")
    nibbles = keccak256(text).hex()[:40].encode("ascii")
    # Upper-case every letter whose nibble of the hash is 8 or more, all 40 at once: the mask
    # has 0x20 in exactly those bytes, and subtracting it borrows nowhere.
    mask = int.from_bytes(text.translate(_LETTERS), "big") & int.from_bytes(
        nibbles.translate(_HIGH_NIBBLES), "big"
    )
    return "0x" + (int.from_bytes(text, "big") - mask).to_bytes(40, "big").decode("ascii")


def to_checksum_address(address: str) -> str:
    """Return the EIP-55 form of ``0x`` + 40 hex digits given in any letter case.

    Raises :class:`InvalidRequest` for anything else; the input's case is not checked.
    """
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise InvalidRequest("An Ethereum address is 0x followed by 40 hex digits.")
    return _checksum(address[2:].lower())


def is_checksum_address(address: str) -> bool:
    """Tell whether ``address`` is written exactly in its EIP-55 checksum form.

    All-lowercase or all-uppercase addresses only pass when the checksum happens to leave them
    so (as in EIP-55's own test cases): keyfob, like EIP-4361, wants the checksummed form.
    """
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        return False
    return _checksum(address[2:].lower()) == address
