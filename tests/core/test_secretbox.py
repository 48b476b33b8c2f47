"""Tests for keyfob.core.secretbox: HKDF key derivation and AES-256-GCM sealing."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keyfob.core.secretbox import (
    FORMAT,
    SealedDataError,
    derive_key,
    is_legacy,
    seal,
    unseal,
    upgrade,
)
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
    sealed = seal(SECRET, plaintext, purpose="signing-key", row="kid-1")
    assert unseal(SECRET, sealed, purpose="signing-key", row="kid-1") == plaintext


def test_format_2_is_aes_gcm_with_purpose_nul_row_as_associated_data() -> None:
    # Decrypted here with nothing but AES-GCM, the HKDF reference and the documented layout.
    sealed = seal(SECRET, b"the secret", purpose="client-secret", row="client-7")
    assert sealed[0] == FORMAT == 2
    assert len(sealed) == 1 + 12 + len(b"the secret") + 16
    key = _hkdf_sha256(SECRET.encode(), b"keyfob:client-secret")
    plain = AESGCM(key).decrypt(sealed[1:13], sealed[13:], b"client-secret\0client-7")
    assert plain == b"the secret"


def test_unseal_reads_a_format_2_blob_built_by_hand() -> None:
    nonce = bytes(range(12))
    key = _hkdf_sha256(SECRET.encode(), b"keyfob:signing-key")
    blob = b"\x02" + nonce + AESGCM(key).encrypt(nonce, b"der", b"signing-key\0kid-9")
    assert unseal(SECRET, blob, purpose="signing-key", row="kid-9") == b"der"
    # The same ciphertext framed as format 1 (purpose-only AD) does not pass the upgrade.
    with pytest.raises(SealedDataError):
        upgrade(SECRET, b"\x01" + blob[1:], purpose="signing-key", row="kid-9")


def test_each_seal_uses_a_fresh_nonce() -> None:
    first, second = (seal(SECRET, b"same", purpose="p", row="r") for _ in range(2))
    assert first != second
    assert first[1:13] != second[1:13]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


SEALED = seal(SECRET, b"private key bytes", purpose="signing-key", row="kid-1")


def _legacy_seal(plaintext: bytes, purpose: str) -> bytes:
    """Format 1 as keyfob wrote it before rows were bound: the purpose alone is the AD."""
    nonce = bytes(range(12))
    key = _hkdf_sha256(SECRET.encode(), b"keyfob:" + purpose.encode())
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode())


LEGACY = _legacy_seal(b"private key bytes", "signing-key")


@pytest.mark.parametrize(
    ("secret", "sealed", "purpose", "row"),
    [
        pytest.param(SECRET, _flip(SEALED, 5), "signing-key", "kid-1", id="nonce-flipped"),
        pytest.param(SECRET, _flip(SEALED, 20), "signing-key", "kid-1", id="ciphertext-flipped"),
        pytest.param(
            SECRET, _flip(SEALED, len(SEALED) - 1), "signing-key", "kid-1", id="tag-flipped"
        ),
        pytest.param(SECRET, SEALED[:-1], "signing-key", "kid-1", id="truncated"),
        pytest.param(SECRET, SEALED[:20], "signing-key", "kid-1", id="too-short"),
        pytest.param(SECRET, b"", "signing-key", "kid-1", id="empty"),
        pytest.param(SECRET, b"\x03" + SEALED[1:], "signing-key", "kid-1", id="unknown-version"),
        pytest.param(SECRET, SEALED, "other-purpose", "kid-1", id="wrong-purpose"),
        pytest.param(SECRET, SEALED, "signing-key", "kid-2", id="wrong-row"),
        pytest.param(SECRET, SEALED, "signing-key", "kid-", id="row-prefix"),
        pytest.param(SECRET + "!", SEALED, "signing-key", "kid-1", id="wrong-secret"),
        pytest.param(SECRET, LEGACY, "signing-key", "kid-1", id="format-1-not-upgraded"),
    ],
)
def test_unseal_refuses_tampering(secret: str, sealed: bytes, purpose: str, row: str) -> None:
    with pytest.raises(SealedDataError) as info:
        unseal(secret, sealed, purpose=purpose, row=row)
    assert isinstance(info.value, ConfigurationError)
    assert info.value.message.endswith(".")
    assert repr(row) in info.value.message


def test_format_1_upgrades_to_a_blob_bound_to_its_row() -> None:
    assert is_legacy(LEGACY)
    assert not is_legacy(SEALED)
    upgraded = upgrade(SECRET, LEGACY, purpose="signing-key", row="kid-1")
    assert not is_legacy(upgraded)
    assert unseal(SECRET, upgraded, purpose="signing-key", row="kid-1") == b"private key bytes"
    with pytest.raises(SealedDataError):  # moved to another row after the upgrade
        unseal(SECRET, upgraded, purpose="signing-key", row="kid-2")


@pytest.mark.parametrize(
    ("secret", "sealed", "purpose"),
    [
        pytest.param(SECRET + "!", LEGACY, "signing-key", id="wrong-secret"),
        pytest.param(SECRET, LEGACY, "client-secret", id="wrong-purpose"),
        pytest.param(SECRET, _flip(LEGACY, 20), "signing-key", id="altered"),
        pytest.param(SECRET, SEALED, "signing-key", id="already-format-2"),
    ],
)
def test_upgrade_refuses_what_is_not_a_good_format_1_blob(
    secret: str, sealed: bytes, purpose: str
) -> None:
    with pytest.raises(SealedDataError):
        upgrade(secret, sealed, purpose=purpose, row="kid-1")


@pytest.mark.parametrize(("purpose", "row"), [("p\0q", "r"), ("", "r"), ("p", "")])
def test_seal_refuses_ambiguous_associated_data(purpose: str, row: str) -> None:
    with pytest.raises(ConfigurationError):
        seal(SECRET, b"x", purpose=purpose, row=row)
