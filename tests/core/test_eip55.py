"""EIP-55 checksum addresses: the specification's own test cases and malformed input."""

from __future__ import annotations

import json

import pytest

from keyfob.core.eip55 import is_checksum_address, keccak256, to_checksum_address
from keyfob.errors import InvalidRequest
from tests.paths import VECTORS

# The test cases listed in EIP-55 itself (all caps, all lower, normal).
SPEC_ADDRESSES = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def _wallet_addresses() -> list[str]:
    """Addresses real wallets wrote into the official SIWE verification vectors."""
    data = json.loads((VECTORS / "siwe" / "verification_positive.json").read_text())
    return [vector["address"] for vector in data.values()]


@pytest.mark.parametrize("address", SPEC_ADDRESSES + _wallet_addresses())
def test_checksum_of_lower_and_upper_case_is_the_vector(address: str) -> None:
    assert to_checksum_address("0x" + address[2:].lower()) == address
    assert to_checksum_address("0x" + address[2:].upper()) == address
    assert is_checksum_address(address)


def test_keccak256_is_the_pre_nist_keccak() -> None:
    # keccak256("") as every Ethereum library knows it (SHA3-256("") would be a7ffc6f8...).
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def _flip_one_letter(address: str) -> str:
    index = next(i for i, char in enumerate(address) if i > 1 and char.isalpha())
    return address[:index] + address[index].swapcase() + address[index + 1 :]


@pytest.mark.parametrize(
    "address",
    [
        pytest.param(_flip_one_letter("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), id="one-flip"),
        pytest.param("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", id="all-lower"),
        pytest.param("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", id="all-upper"),
        pytest.param("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", id="capital-0X"),
        pytest.param("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", id="no-prefix"),
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", id="39-digits"),
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0", id="41-digits"),
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", id="not-hex"),
        pytest.param("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n", id="trailing-newline"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(b"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", id="bytes"),
    ],
)
def test_not_a_checksum_address(address: object) -> None:
    assert is_checksum_address(address) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed ",
        "0x\u0665aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # an Arabic-Indic digit five
        "",
        None,
        42,
    ],
)
def test_to_checksum_address_refuses_malformed_input(address: object) -> None:
    with pytest.raises(InvalidRequest):
        to_checksum_address(address)  # type: ignore[arg-type]
