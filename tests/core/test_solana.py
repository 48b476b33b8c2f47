"""Sign-In With Solana verify step, formatter and address check.

Positive vectors: tests/vectors/solana/solana_siws.json, messages built by
@solana/wallet-standard-util's createSignInMessageText and signed with @noble/curves Ed25519
(see its ``source`` field and make_solana_vector.mjs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from keyfob.core.encoding import b58encode
from keyfob.core.solana import is_solana_address, solana_login_message, verify_solana_sign_in
from keyfob.errors import (
    InvalidMessage,
    InvalidRequest,
    InvalidSignature,
    KeyfobError,
    MessageExpired,
    MessageMismatch,
)
from tests.core.mutations import Case, replace_in, set_fields
from tests.paths import VECTORS

SIWS = {
    v["name"]: v
    for v in json.loads((VECTORS / "solana" / "solana_siws.json").read_text())["vectors"]
}
NOW = datetime(2025, 6, 1, 12, 1, tzinfo=UTC)
SERVER = {
    "full": ("localhost:8000", "http://localhost:8000"),
    "minimal": ("keyfob.example.com", "https://keyfob.example.com"),
    "unicode_statement": ("localhost:8000", "http://localhost:8000"),
}


@pytest.mark.parametrize("name", sorted(SIWS))
@pytest.mark.parametrize("encoding", ["base58", "hex", "0xhex"])
def test_wallet_standard_vectors_verify(name: str, encoding: str) -> None:
    vector = SIWS[name]
    signature = {
        "base58": vector["signatureBase58"],
        "hex": vector["signatureHex"],
        "0xhex": "0x" + vector["signatureHex"].upper(),
    }[encoding]
    domain, origin = SERVER[name]
    result = verify_solana_sign_in(
        vector["message"], signature, expected_domain=domain, expected_origin=origin, now=NOW
    )
    assert result.chain == "solana"
    assert result.address == vector["address"]
    assert result.public_key == bytes.fromhex(vector["publicKey"])
    assert result.message is not None
    assert result.message.to_text() == vector["message"]
    assert result.message.nonce == vector["input"]["nonce"]
    assert result.message.chain_id == vector["input"].get("chainId")
    assert result.message.statement == vector["input"].get("statement")
    assert result.message.resources == tuple(vector["input"].get("resources", ()))


def test_login_message_matches_wallet_standard_text() -> None:
    vector = SIWS["unicode_statement"]
    fields = vector["input"]
    text = solana_login_message(
        domain=fields["domain"],
        address=fields["address"],
        uri=fields["uri"],
        nonce=fields["nonce"],
        issued_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
        expiration_time=datetime(2025, 6, 1, 12, 5, tzinfo=UTC),
        statement=fields["statement"],
        chain_id=fields["chainId"],
    )
    assert text == vector["message"]


def test_login_message_rejects_bad_address() -> None:
    with pytest.raises(InvalidRequest):
        solana_login_message(
            domain="localhost:8000",
            address="0xdeadbeef",
            uri="http://localhost:8000",
            nonce="abcdef0123456789",
            issued_at=NOW,
            expiration_time=NOW,
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(SIWS["full"]["address"], True, id="vector-full"),
        pytest.param(SIWS["minimal"]["address"], True, id="vector-minimal"),
        pytest.param("11111111111111111111111111111111", True, id="system-program"),
        pytest.param(b58encode(b"\x00" * 31 + b"\x01"), True, id="leading-zeros"),
        pytest.param("1" + SIWS["full"]["address"], False, id="extra-leading-one"),
        pytest.param("1" * 31, False, id="31-zero-bytes"),
        pytest.param(b58encode(b"\xff" * 31), False, id="31-bytes"),
        pytest.param(b58encode(b"\xff" * 33), False, id="33-bytes"),
        pytest.param(SIWS["full"]["address"][:-1] + "0", False, id="zero-not-base58"),
        pytest.param(SIWS["full"]["address"][:-1] + "l", False, id="ell-not-base58"),
        pytest.param("0x" + "ab" * 32, False, id="hex"),
        pytest.param("", False, id="empty"),
        pytest.param(None, False, id="not-text"),
    ],
)
def test_is_solana_address(text: Any, expected: bool) -> None:
    assert is_solana_address(text) is expected


BASE = SIWS["full"]
OTHER = SIWS["minimal"]


NEGATIVE: list[Any] = [
    pytest.param(
        replace_in("message", "Sign in to keyfob.", "Sign in to keyfob!"),
        InvalidSignature,
        id="tampered-statement",
    ),
    pytest.param(
        replace_in("message", "Nonce: k3yf0bN0nce12345", "Nonce: k3yf0bN0nce12346"),
        InvalidSignature,
        id="tampered-nonce",
    ),
    pytest.param(
        replace_in("message", BASE["address"], OTHER["address"]), InvalidSignature, id="wrong-key"
    ),
    pytest.param(
        set_fields(signature=OTHER["signatureBase58"]), InvalidSignature, id="other-signature"
    ),
    pytest.param(
        set_fields(signature=BASE["signatureBase58"][:-1] + "0"), InvalidSignature, id="bad-base58"
    ),
    pytest.param(set_fields(signature=b58encode(b"\x07" * 63)), InvalidSignature, id="63-byte-sig"),
    pytest.param(set_fields(signature=BASE["signatureHex"][:-2]), InvalidSignature, id="short-hex"),
    pytest.param(set_fields(signature="1" * 5000), InvalidSignature, id="huge-signature"),
    pytest.param(set_fields(signature=""), InvalidSignature, id="empty-signature"),
    pytest.param(set_fields(signature=None), InvalidSignature, id="signature-not-text"),
    pytest.param(
        replace_in("message", BASE["address"], BASE["address"][:-1] + "0"),
        InvalidMessage,
        id="address-not-base58",
    ),
    pytest.param(
        replace_in("message", BASE["address"], BASE["publicKey"]),
        InvalidMessage,
        id="address-is-hex",
    ),
    pytest.param(
        replace_in("message", "Solana account", "Ethereum account"),
        InvalidMessage,
        id="other-chain-header",
    ),
    pytest.param(
        replace_in("message", "Sign in to keyfob.", "Sign in \ud800"),
        InvalidMessage,
        id="lone-surrogate",
    ),
    pytest.param(set_fields(message=b"bytes"), InvalidRequest, id="message-not-text"),
    pytest.param(set_fields(expected_domain="evil.example"), MessageMismatch, id="wrong-domain"),
    pytest.param(
        replace_in("message", "URI: http://localhost:8000", "URI: https://localhost:8000"),
        MessageMismatch,
        id="uri-off-origin",
    ),
    pytest.param(
        set_fields(now=datetime(2025, 6, 1, 12, 10, tzinfo=UTC)), MessageExpired, id="expired"
    ),
    pytest.param(
        set_fields(now=datetime(2025, 6, 1, 11, 59, 30, tzinfo=UTC)),
        MessageExpired,
        id="not-before",
    ),
]


@pytest.mark.parametrize(("change", "error"), NEGATIVE)
def test_sign_in_rejects(change: Case, error: type[KeyfobError]) -> None:
    attempt: dict[str, Any] = {
        "message": BASE["message"],
        "signature": BASE["signatureBase58"],
        "expected_domain": "localhost:8000",
        "expected_origin": "http://localhost:8000",
        "now": NOW,
    }
    change(attempt)
    with pytest.raises(error):
        verify_solana_sign_in(attempt.pop("message"), attempt.pop("signature"), **attempt)
