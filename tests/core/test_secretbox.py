"""Tests for keyfob.core.secretbox: HKDF key derivation and AES-256-GCM sealing."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from keyfob.core.secretbox import derive_key, seal, unseal
from keyfob.errors import ConfigurationError

SECRET = "a-test-secret-that-is-long-enough-0123456789"


def _hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 written out with the standard library, as an independent reference."""
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()  # no salt: HashLen zeros
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def test_rfc5869_reference_agrees_with_test_case_3() -> None:
    # RFC 5869 A.3 (no salt, no info) validates the reference implementation above.
    okm = _hkdf_sha256(b"\x0b" * 22, b"", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


@pytest.mark.parametrize("purpose", ["signing-key", "challenge", "signed-nonce"])
def test_derive_key_is_hkdf_sha256_with_keyfob_info(purpose: str) -> None:
    key = derive_key(SECRET, purpose)
    assert len(key) == 32
    assert key == _hkdf_sha256(SECRET.encode(), b"keyfob:" + purpose.encode())


def test_purposes_and_secrets_give_independent_keys() -> None:
    assert derive_key(SECRET, "a") != derive_key(SECRET, "b")
    assert derive_key(SECRET, "a") != derive_key(SECRET + "x", "a")


@pytest.mark.parametrize(("secret", "purpose"), [("", "x"), (SECRET, "")])
def test_derive_key_refuses_empty_inputs(secret: str, purpose: str) -> None:
    with pytest.raises(ConfigurationError):
        derive_key(secret, purpose)


@pytest.mark.parametrize("plaintext", [b"", b"x", bytes(range(256)) * 10])
def test_seal_unseal_round_trip(plaintext: bytes) -> None:
    sealed = seal(SECRET, plaintext, purpose="signing-key")
    assert unseal(SECRET, sealed, purpose="signing-key") == plaintext


def test_each_seal_uses_a_fresh_nonce() -> None:
    first, second = (seal(SECRET, b"same", purpose="p") for _ in range(2))
    assert first != second
    assert first[1:13] != second[1:13]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


SEALED = seal(SECRET, b"private key bytes", purpose="signing-key")


@pytest.mark.parametrize(
    ("secret", "sealed", "purpose"),
    [
        pytest.param(SECRET, _flip(SEALED, 5), "signing-key", id="nonce-flipped"),
        pytest.param(SECRET, _flip(SEALED, 20), "signing-key", id="ciphertext-flipped"),
        pytest.param(SECRET, _flip(SEALED, len(SEALED) - 1), "signing-key", id="tag-flipped"),
        pytest.param(SECRET, SEALED[:-1], "signing-key", id="truncated"),
        pytest.param(SECRET, SEALED[:20], "signing-key", id="too-short"),
        pytest.param(SECRET, b"", "signing-key", id="empty"),
        pytest.param(SECRET, b"\x02" + SEALED[1:], "signing-key", id="unknown-version"),
        pytest.param(SECRET, SEALED, "other-purpose", id="wrong-purpose"),
        pytest.param(SECRET + "!", SEALED, "signing-key", id="wrong-secret"),
    ],
)
def test_unseal_refuses_tampering(secret: str, sealed: bytes, purpose: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        unseal(secret, sealed, purpose=purpose)
    assert info.value.message.endswith(".")
