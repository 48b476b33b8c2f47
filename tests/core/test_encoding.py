"""Byte encodings: base64url, base58 (known answers), strict hex."""

from __future__ import annotations

import pytest

from keyfob.core.encoding import b58decode, b58encode, b64url_decode, b64url_encode, hex_decode
from keyfob.errors import InvalidRequest


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
        (bytes(32), "11111111111111111111111111111111"),  # Solana's system program id
    ],
)
def test_base58_known_answers(raw: bytes, text: str) -> None:
    assert b58encode(raw) == text
    assert b58decode(text) == raw


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc+", " 1"])
def test_base58_refuses_characters_outside_the_alphabet(text: str) -> None:
    with pytest.raises(InvalidRequest):
        b58decode(text)


def test_base64url_round_trip_without_padding() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"
    assert b64url_decode("-_8=") == b"\xfb\xff"


@pytest.mark.parametrize("text", ["+/8", "a b", "a\n", "@@"])
def test_base64url_refuses_other_alphabets(text: str) -> None:
    with pytest.raises(InvalidRequest):
        b64url_decode(text)


@pytest.mark.parametrize(("text", "raw"), [("0xAbcd", b"\xab\xcd"), ("abcd", b"\xab\xcd")])
def test_hex_accepts_with_or_without_prefix(text: str, raw: bytes) -> None:
    assert hex_decode(text) == raw


@pytest.mark.parametrize("text", ["", "0x", "ab cd", " abcd", "abc", "zz", "0xab\n", "éé"])
def test_hex_is_strict(text: str) -> None:
    with pytest.raises(InvalidRequest):
        hex_decode(text)


def test_hex_length_is_checked() -> None:
    with pytest.raises(InvalidRequest, match="Expected 2 bytes"):
        hex_decode("abcdef", length=2)
