"""Nimiq addresses, the Keyguard signed-message envelope and the sign-in verify step.

Positive vectors: tests/vectors/nimiq/fixed_vector.json and nimiq_login.json,
both signed by @nimiq/core 2.21.0 the way Keyguard's signMessage does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keyfob.core.nimiq import (
    nimiq_address_from_public_key,
    nimiq_login_message,
    nimiq_signed_message_digest,
    normalize_nimiq_address,
    verify_nimiq_challenge_signature,
    verify_nimiq_sign_in,
    verify_nimiq_signature,
)
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

FIXED = json.loads((VECTORS / "nimiq" / "fixed_vector.json").read_text())
LOGIN = {
    v["name"]: v
    for v in json.loads((VECTORS / "nimiq" / "nimiq_login.json").read_text())["vectors"]
}
KEYGUARD_PRIVATE = "682df035c30e8c55bda4ab517213792c2af4b4e9c23ac2cf11bd28b237a6544e"
KEYGUARD_PUBLIC = "0a9b55420d3664996800f1d48f5683ced9b6666fd7d09e61641826f177350980"
KEYGUARD_ADDRESS = "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U"
NOW = datetime(2025, 6, 1, 12, 1, tzinfo=UTC)
DOMAIN = {"login_unicode_statement": "localhost:8000", "login_resources": "keyfob.example.com"}
ORIGIN = {
    "login_unicode_statement": "http://localhost:8000",
    "login_resources": "https://keyfob.example.com",
}


def test_fixed_vector_address() -> None:
    public_key = bytes.fromhex(FIXED["publicKey"])
    assert nimiq_address_from_public_key(public_key) == FIXED["address"]


def test_keyguard_test_key_address() -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYGUARD_PRIVATE))
    public_key = private.public_key().public_bytes_raw()
    assert public_key.hex() == KEYGUARD_PUBLIC
    assert nimiq_address_from_public_key(public_key) == KEYGUARD_ADDRESS


def test_fixed_vector_signature_verifies() -> None:
    verify_nimiq_signature(
        FIXED["message"],
        signature=bytes.fromhex(FIXED["signature"]),
        public_key=bytes.fromhex(FIXED["publicKey"]),
    )


def test_connect_challenge_signature_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify_nimiq_signature(
            FIXED["message"],
            signature=bytes.fromhex(FIXED["signatureConnectChallenge"]),
            public_key=bytes.fromhex(FIXED["publicKey"]),
        )


@pytest.mark.parametrize("name", sorted(LOGIN))
def test_digest_matches_nimiq_core(name: str) -> None:
    vector = LOGIN[name]
    assert nimiq_signed_message_digest(vector["message"]).hex() == vector["digest"]
    assert nimiq_signed_message_digest(vector["message"].encode()).hex() == vector["digest"]


@pytest.mark.parametrize(
    "text",
    [
        "NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY",
        "NQ31FUKCB86246FMHAXBQBMV5NHLKB5H0VRY",
        "nq31 fukc b862 46fm haxb qbmv 5nhl kb5h 0vry",
        " NQ31  FUKC B86246FMHAXBQBMV5NHLKB5H 0VRY ",
    ],
)
def test_normalize_address_variants(text: str) -> None:
    assert normalize_nimiq_address(text) == FIXED["address"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("NQ32 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY", id="check-digits"),
        pytest.param("NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRX", id="body-typo"),
        pytest.param("DE31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY", id="country"),
        pytest.param("NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VR", id="short"),
        pytest.param("NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRYY", id="long"),
        pytest.param("NQ31 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRZ", id="not-in-alphabet"),
        pytest.param("NQ\u0663\u0661 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY", id="unicode-digits"),
        pytest.param("", id="empty"),
        pytest.param(None, id="not-text"),
    ],
)
def test_normalize_address_rejects(text: Any) -> None:
    with pytest.raises(InvalidRequest):
        normalize_nimiq_address(text)


@pytest.mark.parametrize("name", sorted(DOMAIN))
@pytest.mark.parametrize("prefix", ["", "0x"])
def test_sign_in_vectors_verify(name: str, prefix: str) -> None:
    vector = LOGIN[name]
    result = verify_nimiq_sign_in(
        vector["message"],
        prefix + vector["signature"],
        prefix + vector["publicKey"],
        expected_domain=DOMAIN[name],
        expected_origin=ORIGIN[name],
        now=NOW,
    )
    assert result.chain == "nimiq"
    assert result.address == vector["address"]
    assert result.public_key == bytes.fromhex(vector["publicKey"])
    assert result.message is not None
    assert result.message.to_text() == vector["message"]


def test_login_message_is_what_the_client_signed() -> None:
    text = nimiq_login_message(
        domain="localhost:8000",
        address=KEYGUARD_ADDRESS.replace(" ", "").lower(),
        uri="http://localhost:8000",
        nonce="n1mIqN0nce2025ab",
        issued_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
        expiration_time=datetime(2025, 6, 1, 12, 10, tzinfo=UTC),
        statement="Willkommen \u2013 Anmeldung bei keyfob \u2713",
    )
    assert text == LOGIN["login_unicode_statement"]["message"]


def test_login_message_rejects_bad_address() -> None:
    with pytest.raises(InvalidRequest):
        nimiq_login_message(
            domain="localhost:8000",
            address="NQ00 FUKC B862 46FM HAXB QBMV 5NHL KB5H 0VRY",
            uri="http://localhost:8000",
            nonce="n1mIqN0nce2025ab",
            issued_at=NOW,
            expiration_time=NOW,
        )


def _resign(message: str, private_hex: str) -> str:
    """A genuine Keyguard-style signature by ``private_hex`` (for mismatched-key cases)."""
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return key.sign(nimiq_signed_message_digest(message)).hex()


BASE = LOGIN["login_unicode_statement"]
OTHER = LOGIN["login_resources"]


def _foreign_key(attempt: dict[str, Any]) -> None:
    # The other key really signed this message, but it does not own the message's address.
    attempt["signature"] = _resign(attempt["message"], OTHER["privateKey"])
    attempt["public_key"] = OTHER["publicKey"]


NEGATIVE: list[Any] = [
    pytest.param(
        replace_in("message", "n1mIqN0nce2025ab", "n1mIqN0nce2025ac"),
        InvalidSignature,
        id="tampered-message",
    ),
    pytest.param(_foreign_key, InvalidSignature, id="wrong-public-key-for-address"),
    pytest.param(
        set_fields(public_key=OTHER["publicKey"]), InvalidSignature, id="other-public-key"
    ),
    pytest.param(set_fields(signature=OTHER["signature"]), InvalidSignature, id="other-signature"),
    pytest.param(
        set_fields(signature=BASE["signature"][:-2]), InvalidSignature, id="truncated-sig"
    ),
    pytest.param(
        set_fields(signature="zz" + BASE["signature"][2:]), InvalidSignature, id="bad-hex-sig"
    ),
    pytest.param(set_fields(signature=None), InvalidSignature, id="sig-not-text"),
    pytest.param(set_fields(public_key="0x" + "gg" * 32), InvalidRequest, id="bad-hex-key"),
    pytest.param(set_fields(public_key=KEYGUARD_PUBLIC[:-2]), InvalidRequest, id="short-key"),
    pytest.param(
        replace_in("message", "NQ71 CT4K", "NQ72 CT4K"), InvalidMessage, id="bad-check-digits"
    ),
    pytest.param(
        replace_in("message", "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U", "me"),
        InvalidMessage,
        id="not-an-address",
    ),
    pytest.param(
        replace_in("message", "Nimiq account", "Solana account"),
        InvalidMessage,
        id="other-chain-header",
    ),
    pytest.param(set_fields(message=b"bytes"), InvalidRequest, id="message-not-text"),
    pytest.param(
        replace_in("message", "keyfob ✓", "keyfob \ud800"), InvalidMessage, id="lone-surrogate"
    ),
    pytest.param(set_fields(expected_domain="evil.example"), MessageMismatch, id="wrong-domain"),
    pytest.param(
        replace_in("message", "URI: http://localhost:8000", "URI: http://evil.example"),
        MessageMismatch,
        id="uri-off-origin",
    ),
    pytest.param(
        set_fields(now=datetime(2025, 6, 1, 12, 10, tzinfo=UTC)), MessageExpired, id="expired"
    ),
    pytest.param(
        set_fields(now=datetime(2025, 6, 1, 11, 58, tzinfo=UTC)),
        MessageExpired,
        id="issued-in-future",
    ),
]


@pytest.mark.parametrize(("change", "error"), NEGATIVE)
def test_sign_in_rejects(change: Case, error: type[KeyfobError]) -> None:
    attempt: dict[str, Any] = {
        "message": BASE["message"],
        "signature": BASE["signature"],
        "public_key": BASE["publicKey"],
        "expected_domain": "localhost:8000",
        "expected_origin": "http://localhost:8000",
        "now": NOW,
    }
    change(attempt)
    with pytest.raises(error):
        verify_nimiq_sign_in(
            attempt.pop("message"), attempt.pop("signature"), attempt.pop("public_key"), **attempt
        )


def test_challenge_signature_verifies() -> None:
    vector = LOGIN["challenge_jwt"]
    result = verify_nimiq_challenge_signature(
        vector["message"], vector["signature"], "0x" + vector["publicKey"]
    )
    assert result.chain == "nimiq"
    assert result.address == vector["address"] == FIXED["address"]
    assert result.public_key == bytes.fromhex(vector["publicKey"])
    assert result.message is None


@pytest.mark.parametrize(
    ("challenge", "signature", "public_key", "error"),
    [
        pytest.param(
            LOGIN["challenge_jwt"]["message"] + "x",
            LOGIN["challenge_jwt"]["signature"],
            FIXED["publicKey"],
            InvalidSignature,
            id="tampered-challenge",
        ),
        pytest.param(
            LOGIN["challenge_jwt"]["message"],
            LOGIN["challenge_jwt"]["signature"],
            KEYGUARD_PUBLIC,
            InvalidSignature,
            id="wrong-key",
        ),
        pytest.param(
            FIXED["message"],
            FIXED["signatureConnectChallenge"],
            FIXED["publicKey"],
            InvalidSignature,
            id="connect-challenge-prefix",
        ),
        pytest.param("", FIXED["signature"], FIXED["publicKey"], InvalidRequest, id="empty"),
        pytest.param(
            FIXED["message"],
            FIXED["signature"][:64],
            FIXED["publicKey"],
            InvalidSignature,
            id="truncated-signature",
        ),
        pytest.param(
            FIXED["message"], FIXED["signature"], "nothex", InvalidRequest, id="bad-key-hex"
        ),
    ],
)
def test_challenge_signature_rejects(
    challenge: str, signature: str, public_key: str, error: type[KeyfobError]
) -> None:
    with pytest.raises(error):
        verify_nimiq_challenge_signature(challenge, signature, public_key)


def test_fixed_vector_via_challenge_flow() -> None:
    result = verify_nimiq_challenge_signature(
        FIXED["message"], FIXED["signature"], FIXED["publicKey"]
    )
    assert result.address == FIXED["address"]
