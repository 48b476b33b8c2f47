"""The shared sign-in message layout: real SIWE/SIWS messages, round trips, refusals, checks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from keyfob.core.signin_message import (
    SignInMessage,
    check_sign_in_message,
    format_time,
    is_uri,
    parse_sign_in_message,
    parse_time,
    uri_origin,
)
from keyfob.errors import (
    ConfigurationError,
    InvalidMessage,
    InvalidRequest,
    KeyfobError,
    MessageExpired,
    MessageMismatch,
)
from tests.paths import VECTORS

# Produced by @solana/wallet-standard-util's createSignInMessageText (see the file's "source").
SIWS = json.loads((VECTORS / "solana" / "solana_siws.json").read_text())
SIWE = json.loads((VECTORS / "siwe" / "parsing_positive.json").read_text())
_NAMES = {"chainId": "chain_id", "issuedAt": "issued_at", "expirationTime": "expiration_time"}
_NAMES |= {"notBefore": "not_before", "requestId": "request_id"}


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["name"]) for v in SIWS["vectors"]])
def test_sign_in_with_solana_messages(vector: dict[str, Any]) -> None:
    message = parse_sign_in_message(vector["message"], chain="solana")
    for key, value in vector["input"].items():
        expected = tuple(value) if key == "resources" else value
        assert getattr(message, _NAMES.get(key, key)) == expected, key
    assert message.to_text() == vector["message"]


@pytest.mark.parametrize("text", [pytest.param(v["message"], id=name) for name, v in SIWE.items()])
def test_sign_in_with_ethereum_messages_round_trip(text: str) -> None:
    assert parse_sign_in_message(text, chain="ethereum").to_text() == text


NIMIQ = SignInMessage(
    chain="nimiq",
    domain="localhost:8000",
    address="NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U",
    uri="http://localhost:8000",
    version="1",
    nonce="k3yf0bN0nce12345",
    issued_at="2025-06-01T12:00:00.000Z",
)
NIMIQ_TEXT = (
    "localhost:8000 wants you to sign in with your Nimiq account:\n"
    "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U\n\n"
    "URI: http://localhost:8000\nVersion: 1\nNonce: k3yf0bN0nce12345\n"
    "Issued At: 2025-06-01T12:00:00.000Z"
)


def test_nimiq_layout_takes_the_address_line_whole() -> None:
    assert NIMIQ.to_text() == NIMIQ_TEXT
    assert parse_sign_in_message(NIMIQ_TEXT, chain="nimiq") == NIMIQ


@pytest.mark.parametrize("chain", ["ethereum", "solana", "nimiq"])
@pytest.mark.parametrize(
    "change",
    [
        {},
        {"statement": "Sign in: 100% ✓ — «keyfob»"},
        {"expiration_time": "2025-06-01T12:10:00Z", "not_before": "2025-06-01T11:59:00+01:00"},
        {"request_id": ""},
        {"request_id": "req 42", "resources": ("https://a.example/x", "urn:keyfob:1")},
        {"scheme": "https", "domain": "user@[::1]:8443"},
        {"statement": "URI: http://looks.like/a-field"},
    ],
)
def test_to_text_and_parse_are_inverses(chain: str, change: dict[str, Any]) -> None:
    message = replace(NIMIQ, chain=chain, **change)  # type: ignore[arg-type]
    assert parse_sign_in_message(message.to_text(), chain=chain) == message


def test_statement_framing_differs_between_eip4361_and_siws() -> None:
    ethereum = replace(NIMIQ, chain="ethereum", address="0xab").to_text()
    solana = replace(NIMIQ, chain="solana", address="ab").to_text()
    assert "\n0xab\n\n\nURI: " in ethereum
    assert "\nab\n\nURI: " in solana


def test_times_parse_as_aware_datetimes() -> None:
    message = replace(
        NIMIQ, expiration_time="2025-06-01T12:10:00.5-02:00", not_before="2025-06-01t11:00:00z"
    )
    assert message.issued_at_time == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert message.expiration_time_time == datetime(2025, 6, 1, 14, 10, 0, 500000, tzinfo=UTC)
    assert message.not_before_time == datetime(2025, 6, 1, 11, tzinfo=UTC)
    assert NIMIQ.expiration_time_time is None
    assert NIMIQ.not_before_time is None


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2021-09-30T16:25:24Z", datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)),
        ("2021-09-30T16:25:24.123456789Z", datetime(2021, 9, 30, 16, 25, 24, 123456, tzinfo=UTC)),
        ("2021-09-30T16:25:24-00:00", datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)),
        (
            "2021-09-30T16:25:24+05:30",
            datetime(2021, 9, 30, 16, 25, 24, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_parse_time(text: str, moment: datetime) -> None:
    assert parse_time(text) == moment
    assert parse_time(text).tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "2021-09-30T16:25:24",  # no offset
        "2021-09-30 16:25:24Z",  # space for T
        "2021-09-30T16:25Z",  # no seconds
        "20210930T162524Z",  # ISO 8601 basic format
        "2021-02-29T16:25:24Z",  # no such day
        "2016-12-31T23:59:60Z",  # leap second: valid RFC 3339, no such datetime
        "2021-09-30T24:00:00Z",
        "2021-09-30T16:25:24+24:00",
        "2021-09-30T16:25:24+0200",
        "2021-09-30T16:25:24.Z",
        "0000-01-01T00:00:00Z",
        "\uff12\uff10\uff12\uff11-09-30T16:25:24Z",  # fullwidth digits
        "",
    ],
)
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(InvalidMessage):
        parse_time(text)


def test_format_time() -> None:
    moment = datetime(2025, 6, 1, 14, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2025-06-01T12:00:00.123Z"
    assert parse_time(format_time(moment)) == moment.replace(microsecond=123000)
    with pytest.raises(TypeError):
        format_time(datetime(2025, 6, 1))  # naive on purpose


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://Example.COM:443/a?b#c", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:0080/", "http://example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://user:pw@example.com/", "https://example.com"),
        ("https://[0:0::1]:8443/", "https://[::1]:8443"),
        ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", None),
        ("file:///etc/hosts", None),
        ("not a uri", None),
        ("https://[::zz]/", None),
    ],
)
def test_uri_origin(uri: str, origin: str | None) -> None:
    assert uri_origin(uri) == origin


@pytest.mark.parametrize(
    ("uri", "valid"),
    [
        ("ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/", True),
        ("did:pkh:eip155:1:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", True),
        ("https://[v1.fe]/", True),
        ("https://a.example/%41", True),
        ("https://a.example/%4", False),
        ("https://a example/", False),
        ("//a.example/", False),
        ("https://a.example/é", False),
        ("https://a.example:port/", False),
    ],
)
def test_is_uri(uri: str, valid: bool) -> None:
    assert is_uri(uri) is valid


TEXT = NIMIQ_TEXT.replace("Nimiq", "Solana")


def _refused(text: str, chain: str = "solana") -> tuple[str, str]:
    return text, chain


@pytest.mark.parametrize(
    ("text", "chain"),
    [
        pytest.param(*_refused(TEXT, "ethereum"), id="other-chain-label"),
        pytest.param(*_refused(TEXT.replace("localhost:8000 ", "")), id="no-domain"),
        pytest.param(*_refused(TEXT.replace("localhost:8000 ", "local host ")), id="bad-domain"),
        pytest.param(*_refused(TEXT.replace("localhost:8000 ", "1ttp://x ")), id="bad-scheme"),
        pytest.param(
            *_refused(TEXT.replace("NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U", "")),
            id="no-address",
        ),
        pytest.param(*_refused(TEXT.replace("U4U\n\n", "U4U\n")), id="no-blank-after-address"),
        pytest.param(*_refused(TEXT.split("\n")[0]), id="header-only"),
        pytest.param(*_refused(TEXT.replace("URI: http://localhost:8000\n", "")), id="no-uri"),
        pytest.param(*_refused(TEXT.replace("Version: 1\n", "")), id="no-version"),
        pytest.param(*_refused(TEXT.replace("Nonce: k3yf0bN0nce12345\n", "")), id="no-nonce"),
        pytest.param(
            *_refused(TEXT.replace("\nIssued At: 2025-06-01T12:00:00.000Z", "")), id="no-issued-at"
        ),
        pytest.param(
            *_refused(
                TEXT.replace("Version: 1\nNonce", "Nonce").replace("00.000Z", "00.000Z\nVersion: 1")
            ),
            id="out-of-order",
        ),
        pytest.param(*_refused(TEXT.replace("Version: 1", "Version: ")), id="empty-version"),
        pytest.param(*_refused(TEXT + "\n"), id="trailing-newline"),
        pytest.param(*_refused(TEXT.replace("\n", "\r\n")), id="crlf"),
        pytest.param(*_refused(TEXT + "\nFoo: bar"), id="unknown-field"),
        pytest.param(*_refused(TEXT + "\nResources:"), id="resources-empty"),
        pytest.param(*_refused(TEXT + "\nResources:\n-  "), id="resource-not-uri"),
        pytest.param(
            *_refused(TEXT.replace("URI: http://localhost:8000", "URI: localhost")),
            id="uri-not-uri",
        ),
        pytest.param(*_refused(TEXT.replace("00.000Z", "00.000")), id="issued-at-no-offset"),
        pytest.param(*_refused(TEXT.replace("U4U\n\n", "U4U\n\n\n\n")), id="empty-statement"),
        pytest.param(
            *_refused(TEXT.replace("U4U\n\n", "U4U\n\nA\nB\n\n")), id="two-line-statement"
        ),
        pytest.param(
            *_refused(NIMIQ_TEXT.replace("Version: 1", "Version: 1\nChain ID: 1"), "nimiq"),
            id="nimiq-chain-id",
        ),
        pytest.param(
            *_refused(
                TEXT.replace("U4U\n\n", "U4U\n\n\n\n").replace("Solana", "Ethereum"), "ethereum"
            ),
            id="eip4361-one-blank-too-many",
        ),
        pytest.param(
            *_refused(TEXT.replace("Solana", "Ethereum"), "ethereum"), id="eip4361-siws-framing"
        ),
    ],
)
def test_parse_refuses(text: str, chain: str) -> None:
    with pytest.raises(InvalidMessage):
        parse_sign_in_message(text, chain=chain)


def test_parse_refuses_unknown_chain_and_non_text() -> None:
    with pytest.raises(InvalidRequest):
        parse_sign_in_message(TEXT, chain="bitcoin")
    with pytest.raises(InvalidMessage):
        parse_sign_in_message(TEXT.encode(), chain="solana")  # type: ignore[arg-type]


NOW = datetime(2025, 6, 1, 12, 0, 30, tzinfo=UTC)
CHECKED = replace(
    NIMIQ, chain="solana", chain_id="1", address="x", expiration_time="2025-06-01T12:10:00Z"
)
EXPECTED: dict[str, Any] = {
    "expected_domain": "localhost:8000",
    "expected_origin": "http://localhost:8000",
    "now": NOW,
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({}, {}, id="exact"),
        pytest.param(
            {"domain": "LOCALHOST:8000", "uri": "HTTP://LocalHost:8000/x"},
            {},
            id="case-insensitive-host",
        ),
        pytest.param({}, {"expected_domain": "LocalHost:8000"}, id="expected-domain-case"),
        pytest.param({"scheme": "HTTP"}, {}, id="matching-scheme"),
        pytest.param(
            {"domain": "example.com", "uri": "https://example.com:443/"},
            {"expected_domain": "example.com:443", "expected_origin": "https://example.com"},
            id="default-ports",
        ),
        pytest.param({}, {"expected_chain_ids": {"1", "2"}}, id="chain-id-listed"),
        pytest.param({"issued_at": "2025-06-01T12:01:30Z"}, {}, id="issued-at-skew-edge"),
        pytest.param({"not_before": "2025-06-01T12:00:30Z"}, {}, id="not-before-edge"),
        pytest.param(
            {"expiration_time": None}, {"now": NOW + timedelta(days=999)}, id="no-expiration"
        ),
    ],
)
def test_check_accepts(change: dict[str, Any], expected: dict[str, Any]) -> None:
    check_sign_in_message(replace(CHECKED, **change), **(EXPECTED | expected))


@pytest.mark.parametrize(
    ("change", "expected", "error"),
    [
        pytest.param({}, {"expected_domain": "example.com"}, MessageMismatch, id="domain"),
        pytest.param({"domain": "localhost"}, {}, MessageMismatch, id="domain-no-port"),
        pytest.param({"domain": "localhost:8001"}, {}, MessageMismatch, id="domain-port"),
        pytest.param({"domain": "a@localhost:8000"}, {}, MessageMismatch, id="domain-userinfo"),
        pytest.param({"domain": "localhost:8000:1"}, {}, MessageMismatch, id="domain-garbage"),
        pytest.param({"scheme": "https"}, {}, MessageMismatch, id="scheme"),
        pytest.param({"uri": "https://localhost:8000"}, {}, MessageMismatch, id="uri-scheme"),
        pytest.param({"uri": "http://localhost:8001"}, {}, MessageMismatch, id="uri-port"),
        pytest.param({"uri": "http://localhost.evil:8000"}, {}, MessageMismatch, id="uri-host"),
        pytest.param({"uri": "urn:x:y"}, {}, MessageMismatch, id="uri-without-host"),
        pytest.param({"version": "2"}, {}, MessageMismatch, id="version"),
        pytest.param({}, {"expected_chain_ids": {"5"}}, MessageMismatch, id="chain-id"),
        pytest.param(
            {"chain_id": None},
            {"expected_chain_ids": {"1"}},
            MessageMismatch,
            id="chain-id-missing",
        ),
        pytest.param(
            {"expiration_time": "2025-06-01T12:00:30Z"},
            {},
            MessageExpired,
            id="expired-at-the-instant",
        ),
        pytest.param({"not_before": "2025-06-01T12:00:31Z"}, {}, MessageExpired, id="not-before"),
        pytest.param(
            {"issued_at": "2025-06-01T12:01:31Z"}, {}, MessageExpired, id="issued-at-beyond-skew"
        ),
        pytest.param(
            {"issued_at": "2025-06-01T14:01:31+02:00"},
            {},
            MessageExpired,
            id="issued-at-beyond-skew-offset",
        ),
    ],
)
def test_check_refuses(
    change: dict[str, Any], expected: dict[str, Any], error: type[KeyfobError]
) -> None:
    with pytest.raises(error):
        check_sign_in_message(replace(CHECKED, **change), **(EXPECTED | expected))


@pytest.mark.parametrize(
    "expected", [{"expected_origin": "localhost:8000"}, {"expected_domain": "local host"}]
)
def test_check_reports_bad_configuration(expected: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        check_sign_in_message(CHECKED, **(EXPECTED | expected))
