"""Ethereum test wallets for the benchmark: EIP-55 addresses and EIP-191 ``personal_sign``.

Written against coincurve and pycryptodome directly rather than ``keyfob.core``, so the benchmark
signs the way an independent wallet does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from coincurve import PrivateKey
from Crypto.Hash import keccak


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's pre-standard SHA-3)."""
    digest: bytes = keccak.new(digest_bits=256, data=data).digest()
    return digest


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    lower = raw.hex()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


@dataclass(frozen=True)
class Wallet:
    """A secp256k1 key and its Ethereum address."""

    key: PrivateKey
    address: str

    def personal_sign(self, message: str) -> str:
        """The ``0x``-hex ``r || s || v`` signature ``personal_sign`` gives (v is 27 or 28)."""
        data = message.encode("utf-8")
        digest = keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
        signature = self.key.sign_recoverable(digest, hasher=None)
        return "0x" + signature[:64].hex() + f"{signature[64] + 27:02x}"


def wallet_from_secret(secret: bytes) -> Wallet:
    """The wallet whose private key is ``secret`` (32 bytes)."""
    key = PrivateKey(secret)
    public = key.public_key.format(compressed=False)
    return Wallet(key=key, address=checksum_address(keccak256(public[1:])[12:]))


def wallet_pool(size: int, *, seed: str = "keyfob-bench") -> list[Wallet]:
    """``size`` deterministic wallets, so repeated runs sign in the same users."""
    return [
        wallet_from_secret(hashlib.sha256(f"{seed}:{index}".encode()).digest())
        for index in range(size)
    ]
