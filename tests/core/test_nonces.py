"""Tests for keyfob.core.nonces: random nonces and stateless HMAC-signed nonces."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keyfob.core.nonces import (
    SignedNonce,
    is_signed_nonce_format,
    issue_signed_nonce,
    new_nonce,
    verify_signed_nonce,
)
from keyfob.core.secretbox import derive_key
from keyfob.errors import ConfigurationError, InvalidNonce, InvalidRequest

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY = derive_key("a-test-secret-that-is-long-enough-0123456789", "signed-nonce")
# EIP-4361's ABNF: nonce = 8*( ALPHA / DIGIT ).
EIP4361_NONCE = re.compile(r"[a-zA-Z0-9]{8,}")


def test_new_nonce_is_alphanumeric_and_unpredictable() -> None:
    nonces = [new_nonce() for _ in range(1000)]
    assert len(set(nonces)) == 1000
    assert all(EIP4361_NONCE.fullmatch(n) and len(n) == 22 for n in nonces)
    # All 62 symbols show up: the alphabet really is base62 (log2(62) * 22 > 128 bits).
    assert len(set("".join(nonces))) == 62
    assert not any(is_signed_nonce_format(n) for n in nonces)


@pytest.mark.parametrize("chain", ["ethereum", "solana", "nimiq"])
def test_signed_nonce_round_trip(chain: str) -> None:
    nonce = issue_signed_nonce(key=KEY, chain=chain, now=NOW, ttl=300)
    assert EIP4361_NONCE.fullmatch(nonce)
    assert is_signed_nonce_format(nonce)
    verified = verify_signed_nonce(nonce, key=KEY, expected_chain=chain, now=NOW)
    assert verified == SignedNonce(nonce, NOW, NOW + timedelta(seconds=300))
    later = NOW + timedelta(seconds=299)
    assert verify_signed_nonce(nonce, key=KEY, expected_chain=chain, now=later) == verified


def test_signed_nonces_differ() -> None:
    nonces = {issue_signed_nonce(key=KEY, chain="ethereum", now=NOW, ttl=60) for _ in range(100)}
    assert len(nonces) == 100


NONCE = issue_signed_nonce(key=KEY, chain="ethereum", now=NOW, ttl=300)


def _flip(index: int) -> str:
    digit = NONCE[index]
    return NONCE[:index] + ("0" if digit != "0" else "1") + NONCE[index + 1 :]


NEGATIVE: list[tuple[str, Callable[[], Any], dict[str, Any], str]] = [
    ("random-part-changed", lambda: _flip(3), {}, "not one keyfob signed"),
    ("issued-at-changed", lambda: _flip(33), {}, "not one keyfob signed"),
    ("expiry-extended", lambda: _flip(41), {}, "not one keyfob signed"),
    ("chain-byte-changed", lambda: _flip(49), {}, "not one keyfob signed"),
    ("mac-changed", lambda: _flip(70), {}, "not one keyfob signed"),
    (
        "other-key",
        lambda: NONCE,
        {"key": derive_key("another-secret-0123456789", "signed-nonce")},
        "not one keyfob signed",
    ),
    ("wrong-chain", lambda: NONCE, {"expected_chain": "solana"}, "not issued for solana"),
    ("unknown-chain", lambda: NONCE, {"expected_chain": "bitcoin"}, "not issued for bitcoin"),
    ("expired", lambda: NONCE, {"now": NOW + timedelta(seconds=300)}, "expired"),
    ("issued-in-future", lambda: NONCE, {"now": NOW - timedelta(seconds=61)}, "in the future"),
    ("uppercase", lambda: NONCE.upper(), {}, "not one keyfob signed"),
    ("truncated", lambda: NONCE[:-2], {}, "not one keyfob signed"),
    ("random-nonce", new_nonce, {}, "not one keyfob signed"),
    ("empty", lambda: "", {}, "not one keyfob signed"),
    ("not-string", lambda: None, {}, "not one keyfob signed"),
    ("non-ascii-digits", lambda: "٣" * 82, {}, "not one keyfob signed"),
]


@pytest.mark.parametrize(
    ("make", "changes", "reason"),
    [(m, c, r) for _, m, c, r in NEGATIVE],
    ids=[n for n, *_ in NEGATIVE],
)
def test_verify_signed_nonce_refuses(
    make: Callable[[], Any], changes: dict[str, Any], reason: str
) -> None:
    args: dict[str, Any] = {"key": KEY, "expected_chain": "ethereum", "now": NOW, **changes}
    with pytest.raises(InvalidNonce) as info:
        verify_signed_nonce(make(), **args)
    assert reason in info.value.message


def test_issue_refuses_unknown_chain_and_bad_config() -> None:
    with pytest.raises(InvalidRequest):
        issue_signed_nonce(key=KEY, chain="bitcoin", now=NOW, ttl=60)
    with pytest.raises(ConfigurationError):
        issue_signed_nonce(key=b"short", chain="ethereum", now=NOW, ttl=60)
    with pytest.raises(ConfigurationError):
        issue_signed_nonce(key=KEY, chain="ethereum", now=NOW.replace(tzinfo=None), ttl=60)
