"""Sign-In with Ethereum: every official spruceid/siwe vector, then keyfob's verify refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from coincurve import PrivateKey

from keyfob.core.eip55 import to_checksum_address
from keyfob.core.eip191 import SECP256K1_N, address_hex_of, personal_sign_hash, recover_address
from keyfob.core.eip4361 import build_siwe_message, parse_siwe_message, verify_ethereum_sign_in
from keyfob.core.signin_message import (
    SignInMessage,
    check_sign_in_message,
    check_validity_window,
    parse_time,
    uri_origin,
)
from keyfob.errors import (
    InvalidMessage,
    InvalidSignature,
    KeyfobError,
    MessageExpired,
    MessageMismatch,
)
from tests.paths import VECTORS

SIWE = VECTORS / "siwe"


def _load(name: str) -> dict[str, Any]:
    return json.loads((SIWE / name).read_text())  # type: ignore[no-any-return]


def _snake(fields: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), k): v for k, v in fields.items()}


# --- parsing vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        pytest.param(v["message"], v["fields"], id=k)
        for k, v in _load("parsing_positive.json").items()
    ],
)
def test_parsing_positive(text: str, fields: dict[str, Any]) -> None:
    message = parse_siwe_message(text)
    expected = _snake(fields)
    expected["chain_id"] = str(expected["chain_id"])
    expected["resources"] = tuple(expected.get("resources", ()))
    for name, value in expected.items():
        assert getattr(message, name) == value, name
    for name in {"statement", "expiration_time", "not_before", "request_id"} - expected.keys():
        assert getattr(message, name) is None, name
    assert message.to_text() == text
    assert build_siwe_message(**expected) == message


@pytest.mark.parametrize(
    "text", [pytest.param(text, id=name) for name, text in _load("parsing_negative.json").items()]
)
def test_parsing_negative(text: str) -> None:
    with pytest.raises(InvalidMessage):
        parse_siwe_message(text)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(fields, id=name)
        for name, fields in _load("parsing_negative_objects.json").items()
    ],
)
def test_building_from_negative_objects_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage):
        build_siwe_message(**_snake(fields))


# --- verification vectors ----------------------------------------------------------------------


def _verify_vector(vector: dict[str, Any]) -> tuple[SignInMessage, Any]:
    """Run the vector through keyfob with the vector's own domain, URI origin, chain and time.

    The message text is rebuilt from the fields, as the siwe library does before verifying.
    Without a "time" the vector means "now"; a minute after Issued At stands in for it.
    """
    fields = _snake(vector)
    signature = fields.pop("signature")
    time = fields.pop("time", None)
    expected_domain = fields.pop("domain_binding", fields["domain"])
    fields.pop("match_nonce", None)
    message = build_siwe_message(**fields)
    now = parse_time(time) if time else message.issued_at_time + timedelta(minutes=1)
    verified = verify_ethereum_sign_in(
        message.to_text(),
        signature,
        expected_domain=expected_domain,
        expected_origin=uri_origin(message.uri) or "",
        expected_chain_ids=[int(fields["chain_id"])],
        now=now,
    )
    return message, verified


POSITIVE = _load("verification_positive.json")
# siwe verifies "expired message" at a time *before* its own Issued At (2020 vs 2022). keyfob also
# refuses messages issued in the future (more than a minute of clock skew); this vector keeps
# only EIP-4361's own rules, checked piece by piece below.
ISSUED_IN_THE_FUTURE = {"expired message"}


@pytest.mark.parametrize("name", sorted(POSITIVE.keys() - ISSUED_IN_THE_FUTURE))
def test_verification_positive(name: str) -> None:
    message, verified = _verify_vector(POSITIVE[name])
    assert verified.chain == "ethereum"
    assert verified.address == POSITIVE[name]["address"]
    assert verified.message == message
    assert len(verified.public_key) == 65
    assert address_hex_of(verified.public_key) == verified.address[2:].lower()


@pytest.mark.parametrize("name", sorted(ISSUED_IN_THE_FUTURE))
def test_verification_positive_issued_in_the_future(name: str) -> None:
    vector = _snake(POSITIVE[name])
    signature = bytes.fromhex(vector.pop("signature")[2:])
    now = parse_time(vector.pop("time"))
    message = build_siwe_message(**vector)
    check_validity_window(message, now=now)  # EIP-4361's rules pass...
    assert recover_address(message.to_text().encode(), signature) == message.address
    with pytest.raises(MessageExpired, match="future"):  # ...keyfob's skew rule does not
        check_sign_in_message(
            message,
            expected_domain=message.domain,
            expected_origin=uri_origin(message.uri) or "",
            now=now,
        )


NEGATIVE = _load("verification_negative.json")
NEGATIVE_ERRORS: dict[str, type[KeyfobError]] = {
    "expired message": MessageExpired,
    "domain binding": MessageMismatch,
    "custom time": MessageExpired,
    "malformed signature": InvalidSignature,
    "wrong signature": InvalidSignature,
    "not yet valid": MessageExpired,
    "invalid issuedAt": InvalidMessage,
    "invalid notBefore": InvalidMessage,
    "invalid expirationTime": InvalidMessage,
}


@pytest.mark.parametrize("name", sorted(NEGATIVE_ERRORS))
def test_verification_negative(name: str) -> None:
    with pytest.raises(NEGATIVE_ERRORS[name]):
        _verify_vector(NEGATIVE[name])


def test_verification_negative_vectors_all_covered() -> None:
    assert NEGATIVE.keys() == NEGATIVE_ERRORS.keys() | {"custom nonce"}


def test_verification_negative_custom_nonce_is_the_servers_refusal() -> None:
    # The core does not know nonces (architecture.md): the signature is sound, and the server's
    # atomic nonce consumption is what refuses a nonce it did not issue.
    vector = NEGATIVE["custom nonce"]
    message, verified = _verify_vector(vector)
    assert verified.address == vector["address"]
    assert message.nonce != vector["matchNonce"]


# eip1271.json is not run as a positive vector: those signatures come from contract wallets
# (Argent, Loopring) whose validity only an Ethereum node can tell (EIP-1271 isValidSignature
# on chain 1). keyfob has no chain access and verifies EOA signatures only, so it must refuse
# them cleanly rather than crash or accept.
@pytest.mark.parametrize("name", ["argent", "loopring"])
def test_contract_wallet_signatures_are_refused(name: str) -> None:
    vector = _load("eip1271.json")[name]
    message = parse_siwe_message(vector["message"])
    with pytest.raises(InvalidSignature):
        verify_ethereum_sign_in(
            vector["message"],
            vector["signature"],
            expected_domain=message.domain,
            expected_origin=uri_origin(message.uri) or "",
            expected_chain_ids=[1],
            now=message.issued_at_time,
        )


# --- keyfob's verify step: a key of our own for the refusals ----------------------------------

KEY = PrivateKey(bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))
OTHER_KEY = PrivateKey(bytes(31) + b"\x07")
ADDRESS = to_checksum_address("0x" + address_hex_of(KEY.public_key.format(compressed=False)))
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BASE = SignInMessage(
    chain="ethereum",
    domain="localhost:8000",
    address=ADDRESS,
    statement="Sign in to keyfob.",
    uri="http://localhost:8000",
    version="1",
    chain_id="1",
    nonce="k3yf0bN0nce12345",
    issued_at="2025-06-01T11:59:00.000Z",
    expiration_time="2025-06-01T12:09:00.000Z",
)
EXPECTED: dict[str, Any] = {
    "expected_domain": "localhost:8000",
    "expected_origin": "http://localhost:8000",
    "expected_chain_ids": [1, 137],
    "now": NOW,
}


def _sign(text: str, key: PrivateKey = KEY, *, v_offset: int = 27) -> str:
    signature = key.sign_recoverable(personal_sign_hash(text.encode()), hasher=None)
    return "0x" + (signature[:64] + bytes([signature[64] + v_offset])).hex()


def _high_s_twin(signature: str) -> str:
    raw = bytes.fromhex(signature[2:])
    s = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def _verify(text: str, signature: str, **expected: Any) -> Any:
    return verify_ethereum_sign_in(text, signature, **(EXPECTED | expected))


@pytest.mark.parametrize("v_offset", [0, 27])
def test_verify_own_key_with_v_as_0_1_or_27_28(v_offset: int) -> None:
    text = BASE.to_text()
    verified = _verify(text, _sign(text, v_offset=v_offset))
    assert verified.address == ADDRESS
    assert verified.public_key == KEY.public_key.format(compressed=False)
    assert verified.message == BASE


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"domain": "LocalHost:8000"}, {}, id="host-case"),
        pytest.param({"uri": "http://LOCALHOST:8000/login?x=1#f"}, {}, id="uri-path-and-case"),
        pytest.param(
            {"uri": "https://example.com:443/"},
            {"expected_domain": "example.com", "expected_origin": "https://example.com"},
            id="default-port",
        ),
        pytest.param({"scheme": "http"}, {}, id="matching-scheme"),
        pytest.param({"issued_at": "2025-06-01T12:00:59Z"}, {}, id="issued-within-skew"),
        pytest.param({"chain_id": "137"}, {}, id="second-chain"),
        pytest.param({"statement": None, "expiration_time": None}, {}, id="minimal"),
    ],
)
def test_verify_accepts(change: dict[str, Any], expected: dict[str, Any]) -> None:
    if "expected_domain" in expected:
        change = change | {"domain": expected["expected_domain"]}
    text = replace(BASE, **change).to_text()
    assert _verify(text, _sign(text), **expected).address == ADDRESS


def _case(
    change: dict[str, Any] | None = None,
    *,
    expected: dict[str, Any] | None = None,
    sign: Callable[[str], str] = _sign,
    tamper: Callable[[str], str] = lambda text: text,
) -> tuple[str, str, dict[str, Any]]:
    text = replace(BASE, **(change or {})).to_text()
    return tamper(text), sign(text), expected or {}


@pytest.mark.parametrize(
    ("case", "error", "reason"),
    [
        pytest.param(
            _case(expected={"expected_domain": "example.com"}),
            MessageMismatch,
            "domain",
            id="wrong-domain",
        ),
        pytest.param(
            _case({"domain": "localhost:8001"}), MessageMismatch, "domain", id="wrong-port"
        ),
        pytest.param(
            _case({"domain": "me@localhost:8000"}), MessageMismatch, "domain", id="userinfo"
        ),
        pytest.param(_case({"scheme": "https"}), MessageMismatch, "scheme", id="wrong-scheme"),
        pytest.param(
            _case({"uri": "https://localhost:8000"}), MessageMismatch, "URI", id="uri-other-scheme"
        ),
        pytest.param(
            _case({"uri": "http://evil.example/login"}), MessageMismatch, "URI", id="uri-other-host"
        ),
        pytest.param(
            _case({"uri": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"}),
            MessageMismatch,
            "URI",
            id="uri-without-origin",
        ),
        pytest.param(_case({"chain_id": "5"}), MessageMismatch, "chain ID", id="wrong-chain-id"),
        pytest.param(
            _case(expected={"now": NOW + timedelta(minutes=9)}),
            MessageExpired,
            "expired",
            id="expired",
        ),
        pytest.param(
            _case({"not_before": "2025-06-01T12:00:01Z"}),
            MessageExpired,
            "not valid before",
            id="not-yet-valid",
        ),
        pytest.param(
            _case({"issued_at": "2025-06-01T12:01:01Z"}),
            MessageExpired,
            "future",
            id="issued-in-the-future",
        ),
        pytest.param(
            _case(tamper=lambda t: t.replace("k3yf0bN0nce12345", "k3yf0bN0nce12346")),
            InvalidSignature,
            "not made by",
            id="tampered-nonce",
        ),
        pytest.param(
            _case(tamper=lambda t: t.replace("Sign in", "Log in")),
            InvalidSignature,
            "not made by",
            id="tampered-statement",
        ),
        pytest.param(
            _case(sign=lambda t: _sign(t, OTHER_KEY)),
            InvalidSignature,
            "not made by",
            id="other-signer",
        ),
        pytest.param(
            _case(sign=lambda t: _sign(t)[:-2]), InvalidSignature, "130 hex", id="64-bytes"
        ),
        pytest.param(
            _case(sign=lambda t: _sign(t) + "00"), InvalidSignature, "130 hex", id="66-bytes"
        ),
        pytest.param(_case(sign=lambda t: _sign(t)[2:]), InvalidSignature, "130 hex", id="no-0x"),
        pytest.param(
            _case(sign=lambda t: _sign(t)[:-1] + "g"), InvalidSignature, "130 hex", id="not-hex"
        ),
        pytest.param(
            _case(sign=lambda t: _sign(t)[:-2] + "1d"), InvalidSignature, "v byte", id="v-29"
        ),
        pytest.param(
            _case(sign=lambda t: _high_s_twin(_sign(t))),
            InvalidSignature,
            "lower half",
            id="high-s-twin",
        ),
        pytest.param(
            _case({"address": ADDRESS.lower()}), InvalidMessage, "EIP-55", id="lowercase-address"
        ),
        pytest.param(
            _case({"nonce": "k3yf0b-n0nce"}), InvalidMessage, "nonce", id="nonce-not-alnum"
        ),
        pytest.param(
            _case({"statement": "100% sure"}), InvalidMessage, "statement", id="statement-charset"
        ),
    ],
)
def test_verify_refuses(
    case: tuple[str, str, dict[str, Any]], error: type[KeyfobError], reason: str
) -> None:
    text, signature, expected = case
    with pytest.raises(error, match=reason):
        _verify(text, signature, **expected)


@pytest.mark.parametrize("message", [None, b"bytes", 42])
def test_verify_refuses_non_text(message: Any) -> None:
    with pytest.raises(InvalidMessage):
        _verify(message, _sign(BASE.to_text()))


def test_build_refuses_line_breaks_in_fields() -> None:
    fields = {k: v for k, v in asdict(BASE).items() if k != "chain"} | {"chain_id": 1}
    assert build_siwe_message(**fields) == BASE
    with pytest.raises(InvalidMessage):
        build_siwe_message(**fields | {"request_id": "a\nURI: http://evil.example"})
    with pytest.raises(InvalidMessage):
        build_siwe_message(**fields | {"resources": ["https://a.example\n- https://b.example"]})
