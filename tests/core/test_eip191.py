"""EIP-191 personal_sign: published hashes, recovery of real wallet signatures, refusals."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from coincurve import PublicKey

from keyfob.core.eip191 import (
    SECP256K1_N,
    personal_sign_hash,
    recover_address,
    recover_public_key,
)
from keyfob.core.eip4361 import build_siwe_message
from keyfob.errors import InvalidSignature
from tests.paths import VECTORS

_CAMEL = {"chainId": "chain_id", "issuedAt": "issued_at", "expirationTime": "expiration_time"}
_CAMEL |= {"notBefore": "not_before", "requestId": "request_id"}


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        # viem's hashMessage documentation.
        (b"hello world", "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"),
        # ethers' hashMessage documentation.
        (b"Hello World", "a1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2"),
        # alloy's eip191_hash_message example.
        (b"hello_world", "d52de6e039c023a7c77752126e4d9d99e2a7dacea3d19e97e9c2ebcb3ecf1c00"),
    ],
)
def test_personal_sign_hash_matches_published_values(message: bytes, digest: str) -> None:
    assert personal_sign_hash(message).hex() == digest


def _wallet_vectors() -> list[Any]:
    """(message bytes, 65-byte signature, address) signed by real wallets: the official SIWE
    verification vectors, the message rebuilt from their fields as the siwe library does."""
    data = json.loads((VECTORS / "siwe" / "verification_positive.json").read_text())
    cases = []
    for name, vector in data.items():
        fields = {_CAMEL.get(key, key): value for key, value in vector.items()}
        signature = bytes.fromhex(fields.pop("signature")[2:])
        fields.pop("time", None)
        text = build_siwe_message(**fields).to_text()
        cases.append(pytest.param(text.encode(), signature, vector["address"], id=name))
    return cases


WALLET_VECTORS = _wallet_vectors()


@pytest.mark.parametrize(("message", "signature", "address"), WALLET_VECTORS)
def test_recovers_real_wallet_signatures(message: bytes, signature: bytes, address: str) -> None:
    assert recover_address(message, signature) == address


@pytest.mark.parametrize(("message", "signature", "address"), WALLET_VECTORS)
def test_v_as_0_1_or_27_28_is_the_same_signature(
    message: bytes, signature: bytes, address: str
) -> None:
    recovery_id = signature[64] - 27 if signature[64] >= 27 else signature[64]
    raw = signature[:64] + bytes([recovery_id])
    legacy = signature[:64] + bytes([recovery_id + 27])
    assert recover_address(message, raw) == recover_address(message, legacy) == address
    assert len(recover_public_key(message, raw)) == 65


def _with(
    signature: bytes, *, r: int | None = None, s: int | None = None, v: int | None = None
) -> bytes:
    r_bytes = signature[:32] if r is None else r.to_bytes(32, "big")
    s_bytes = signature[32:64] if s is None else s.to_bytes(32, "big")
    return r_bytes + s_bytes + bytes([signature[64] if v is None else v])


MESSAGE, SIGNATURE, ADDRESS = WALLET_VECTORS[0].values
_S = int.from_bytes(SIGNATURE[32:64], "big")
_V = SIGNATURE[64]
# The malleable twin (r, n - s, v flipped): a valid signature of the same key, but high-s.
HIGH_S_TWIN = _with(SIGNATURE, s=SECP256K1_N - _S, v=55 - _V if _V >= 27 else 1 - _V)


def test_high_s_twin_is_mathematically_valid() -> None:
    # Without the low-s rule the twin would recover the same signer; this is what is refused.
    compact = HIGH_S_TWIN[:64] + bytes([HIGH_S_TWIN[64] - 27])
    key = PublicKey.from_signature_and_message(compact, personal_sign_hash(MESSAGE), hasher=None)
    assert key.format(compressed=False) == recover_public_key(MESSAGE, SIGNATURE)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(HIGH_S_TWIN, id="high-s-twin"),
        pytest.param(SIGNATURE[:64], id="64-bytes"),
        pytest.param(SIGNATURE + b"\x00", id="66-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(bytearray(SIGNATURE), id="bytearray"),
        pytest.param("0x" + SIGNATURE.hex(), id="hex-text"),
        pytest.param(_with(SIGNATURE, v=2), id="v-2"),
        pytest.param(_with(SIGNATURE, v=26), id="v-26"),
        pytest.param(_with(SIGNATURE, v=29), id="v-29"),
        pytest.param(_with(SIGNATURE, v=37), id="v-eip155"),
        pytest.param(_with(SIGNATURE, r=0), id="r-zero"),
        pytest.param(_with(SIGNATURE, s=0), id="s-zero"),
        pytest.param(_with(SIGNATURE, r=SECP256K1_N), id="r-equals-n"),
        pytest.param(_with(SIGNATURE, r=2**256 - 1), id="r-too-big"),
        pytest.param(_with(SIGNATURE, s=SECP256K1_N // 2 + 1), id="s-just-above-half"),
        pytest.param(bytes(65), id="all-zero"),
    ],
)
def test_refuses_malformed_or_malleable_signatures(signature: Any) -> None:
    with pytest.raises(InvalidSignature):
        recover_public_key(MESSAGE, signature)


def test_another_message_recovers_another_signer() -> None:
    tampered = MESSAGE.replace(b"Version: 1", b"Version: 2")
    with contextlib.suppress(InvalidSignature):  # or no key recovers at all: refused as well
        assert recover_address(tampered, SIGNATURE) != ADDRESS
