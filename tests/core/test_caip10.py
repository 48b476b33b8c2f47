"""Tests for keyfob.core.caip10: CAIP-2 chain ids and CAIP-10 account ids."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.core.caip10 import (
    AccountId,
    ChainId,
    KeyfobAccount,
    chain_id,
    format_account_id,
    parse_account_id,
    parse_chain_id,
    parse_keyfob_account_id,
)
from keyfob.errors import InvalidRequest

# CAIP-2 (ChainAgnostic/CAIPs, CAIPs/caip-2.md, status Final, updated 2021-08-25), "Test Cases".
CAIP2_EXAMPLES = [
    "eip155:1",
    "bip122:000000000019d6689c085ae165831e93",
    "bip122:12a765e31ffd4059bada1e25190f6e98",
    "bip122:fdbe99b90c90bae7505796461471d89a",
    "cosmos:cosmoshub-2",
    "cosmos:cosmoshub-3",
    "cosmos:Binance-Chain-Tigris",
    "cosmos:iov-mainnet",
    "starknet:SN_GOERLI",
    "lip9:9ee11e9df416b18b",
    "chainstd:8c3444cf8970a9e41a706fab93e7a6c4",  # "Dummy max length (8+1+32 = 41 chars)"
]

# CAIP-10 (ChainAgnostic/CAIPs, CAIPs/caip-10.md, status Final, updated 2022-10-23), "Test Cases".
CAIP10_EXAMPLES = [
    "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb",
    "bip122:000000000019d6689c085ae165831e93:128Lkh3S7CkDTBZ8W7BbpsN3YYizJMp8p6",
    "cosmos:cosmoshub-3:cosmos1t2uflqwqe0fsj0shcfkrvpukewcw40yjj6hdc0",
    "polkadot:b0a8d493285c2df73290dfb7e61f870f:5hmuyxw9xdgbpptgypokw4thfyoe3ryenebr381z9iaegmfy",
    "starknet:SN_GOERLI:0x02dd1b492765c064eac4039e3841aa5f382773b598097a40073bd8b48170ab57",
    "chainstd:8c3444cf8970a9e41a706fab93e7a6c4:"
    "6d9b0b4b9994e8a6afbd3dc3ed983cd51c755afb27cd1dc7825ef59c134a39f7",
    "hedera:mainnet:0.0.1234567890-zbhlt",  # HIP-15 checksum suffix: the 2022 charset's '.', '-'
]

# CASA namespaces (ChainAgnostic/namespaces): eip155/caip10.md and solana/caip10.md "Test Cases".
EIP155_PROFILE = [
    "eip155:0:0x839395e20bbB182fa440d08F850E6c7A8f6F0780",
    "eip155:1:0x22227A31dd842196A246d8f3b775998560eAa61d",
    "eip155:137:0x0495766cD136138Fc492Dd499B8DC87A92D6685b",
]
SOLANA_PROFILE = [
    (
        "mainnet",
        "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv",
    ),
    (
        "devnet",
        "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1:DYw8jCTfwHNRJhhmFcbXvVDTqWMEVFBX6ZKUmG5CNSKK",
    ),
    (
        "testnet",
        "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z:6LmSRCiu3z6NCSpF19oz1pHXkYkN4jWbj9K1nVELpDkT",
    ),
]
# Nimiq's Keyguard tests (see tests/vectors/README.md): a real address, here in keyfob's form.
NIMIQ_GROUPED = "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U"
NIMIQ_ID = "nimiq:mainnet:NQ71CT4K7R9REHSB7HY9TSTPXNRQL2RK8U4U"


@pytest.mark.parametrize("text", CAIP2_EXAMPLES)
def test_caip2_examples_parse_and_round_trip(text: str) -> None:
    parsed = parse_chain_id(text)
    assert str(parsed) == text
    assert parsed == ChainId(*text.split(":"))


@pytest.mark.parametrize("text", CAIP10_EXAMPLES + EIP155_PROFILE + [s for _, s in SOLANA_PROFILE])
def test_caip10_examples_parse_and_round_trip(text: str) -> None:
    parsed = parse_account_id(text)
    assert str(parsed) == text
    namespace, reference, address = text.split(":")
    assert parsed == AccountId(ChainId(namespace, reference), address)


def test_caip10_longest_id() -> None:
    # 8 + 1 + 32 + 1 + 128: the longest id the grammar allows.
    longest = "abcdefgh:" + "R" * 32 + ":" + "a.%-" * 32
    assert str(parse_account_id(longest)) == longest


@pytest.mark.parametrize("text", [*EIP155_PROFILE, CAIP10_EXAMPLES[0]])
def test_keyfob_reads_ethereum_profile(text: str) -> None:
    account = parse_keyfob_account_id(text)
    _, reference, address = text.split(":")
    assert account == KeyfobAccount("ethereum", reference, address, parse_account_id(text))
    assert format_account_id("ethereum", int(reference), address.lower()) == text


def test_keyfob_reads_lowercase_ethereum_and_writes_checksum_case() -> None:
    # eip155/caip10.md: SHOULD produce checksum case and accept legacy lowercase.
    lower = "eip155:1:0x22227a31dd842196a246d8f3b775998560eaa61d"
    account = parse_keyfob_account_id(lower)
    assert str(account.account_id) == EIP155_PROFILE[1]
    assert account.address == "0x22227A31dd842196A246d8f3b775998560eAa61d"


@pytest.mark.parametrize(("network", "text"), SOLANA_PROFILE)
def test_keyfob_solana_networks(network: str, text: str) -> None:
    address = text.rsplit(":", 1)[1]
    reference = text.split(":")[1]
    assert format_account_id("solana", network, address) == text
    assert format_account_id("solana", f"solana:{network}", address) == text  # SIWS's chainId
    assert format_account_id("solana", reference, address) == text
    assert parse_keyfob_account_id(text) == KeyfobAccount(
        "solana", network, address, parse_account_id(text)
    )


def test_keyfob_nimiq() -> None:
    for written in (NIMIQ_GROUPED, NIMIQ_GROUPED.replace(" ", ""), NIMIQ_GROUPED.lower()):
        assert format_account_id("nimiq", "mainnet", written) == NIMIQ_ID
    account = parse_keyfob_account_id(NIMIQ_ID)
    assert account == KeyfobAccount("nimiq", "mainnet", NIMIQ_GROUPED, parse_account_id(NIMIQ_ID))
    testnet = format_account_id("nimiq", "testnet", NIMIQ_GROUPED)
    assert testnet == NIMIQ_ID.replace("mainnet", "testnet")
    assert parse_keyfob_account_id(testnet).network == "testnet"


def test_chain_ids() -> None:
    assert chain_id("ethereum", 1) == ChainId("eip155", "1")
    assert str(chain_id("ethereum", "8453")) == "eip155:8453"
    assert str(chain_id("solana", "mainnet")) == "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    assert str(chain_id("solana", "devnet")) == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
    assert str(chain_id("solana", "testnet")) == "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"
    assert str(chain_id("nimiq", "mainnet")) == "nimiq:mainnet"
    for keyfob_chain in (chain_id("ethereum", 1), chain_id("solana", "devnet")):
        assert parse_chain_id(str(keyfob_chain)) == keyfob_chain


PARSE_NEGATIVE: list[tuple[str, Any]] = [
    ("empty", ""),
    ("only-namespace", "eip155"),
    ("missing-address", "eip155:1"),
    ("empty-address", "eip155:1:"),
    ("empty-reference", "eip155::0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"),
    ("empty-namespace", ":1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"),
    ("extra-colon-in-address", "hedera:mainnet:0.0.1:extra"),
    ("trailing-colon", "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb:"),
    ("legacy-at-form", "0xab16a96d359ec26a11e2c2b3d8f8b8942d5bfcdb@eip155:1"),
    ("namespace-uppercase", "EIP155:1:0xab16"),
    ("namespace-too-short", "ei:1:0xab16"),
    ("namespace-too-long", "abcdefghi:1:0xab16"),
    ("namespace-underscore", "eip_155:1:0xab16"),
    ("reference-too-long", "chainstd:" + "a" * 33 + ":addr"),
    ("reference-dot", "cosmos:hub.3:addr"),
    ("address-too-long", "chainstd:ref:" + "a" * 129),
    ("address-slash", "chainstd:ref:a/b"),
    ("address-backslash", "chainstd:ref:a\\b"),
    ("address-space", "chainstd:ref:a b"),
    ("address-nul", "chainstd:ref:ab\x00"),
    ("address-newline", "chainstd:ref:ab\n"),
    ("leading-newline", "\nchainstd:ref:ab"),
    ("reference-nul", "chainstd:r\x00f:ab"),
    ("non-ascii-letter", "chainstd:ref:\u0430b"),  # Cyrillic a: a homograph
    ("non-ascii-digit", "eip155:\u0661:ab"),  # Arabic-Indic one
    ("not-text", b"eip155:1:0xab"),
    ("none", None),
]


@pytest.mark.parametrize("text", [t for _, t in PARSE_NEGATIVE], ids=[n for n, _ in PARSE_NEGATIVE])
def test_parse_account_id_refuses(text: Any) -> None:
    with pytest.raises(InvalidRequest, match="namespace:reference:address"):
        parse_account_id(text)


@pytest.mark.parametrize(
    "text",
    ["", "eip155", "eip155:", ":1", "eip155:1:0xab", "EIP155:1", "eip155:1\n", "ab:1", None],
)
def test_parse_chain_id_refuses(text: Any) -> None:
    with pytest.raises(InvalidRequest, match="namespace:reference"):
        parse_chain_id(text)


ADDRESS = "0x22227A31dd842196A246d8f3b775998560eAa61d"
KEYFOB_NEGATIVE: list[tuple[str, str, str]] = [
    ("other-namespace", CAIP10_EXAMPLES[1], "no accounts on bip122"),
    ("unknown-solana-cluster", "solana:" + "A" * 32 + ":" + ADDRESS[2:], "no accounts on solana"),
    ("nimiq-other-network", "nimiq:devnet:NQ71CT4K7R9REHSB7HY9TSTPXNRQL2RK8U4U", "no accounts"),
    ("eip155-bad-checksum", "eip155:1:" + ADDRESS.replace("A", "a", 1), "EIP-55"),
    ("eip155-all-uppercase", "eip155:137:0x0495766CD136138FC492DD499B8DC87A92D6685B", "EIP-55"),
    ("eip155-short-address", "eip155:1:" + ADDRESS.lower()[:-1], "0x followed by 40 hex"),
    ("eip155-leading-zero-chain", "eip155:01:" + ADDRESS, "decimal number"),
    ("eip155-named-chain", "eip155:mainnet:" + ADDRESS, "decimal number"),
    ("solana-not-32-bytes", SOLANA_PROFILE[0][1][:-4], "32-byte key"),
    ("solana-not-base58", SOLANA_PROFILE[0][1][:-1] + "0", "32-byte key"),
    ("nimiq-lowercase", "nimiq:mainnet:" + NIMIQ_GROUPED.replace(" ", "").lower(), "compact"),
    ("nimiq-bad-check-digits", NIMIQ_ID.replace("NQ71", "NQ72"), "check digits"),
    ("nimiq-spaces-escaped", NIMIQ_ID.replace("CT4K", "%20CT4K"), "Nimiq address"),
]


@pytest.mark.parametrize(
    ("text", "reason"),
    [(t, r) for _, t, r in KEYFOB_NEGATIVE],
    ids=[n for n, *_ in KEYFOB_NEGATIVE],
)
def test_parse_keyfob_account_id_refuses(text: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_keyfob_account_id(text)
    assert reason in info.value.message


FORMAT_NEGATIVE: list[tuple[str, Any, Any, str]] = [
    ("bitcoin", "mainnet", "1abc", "Unknown chain"),
    ("ethereum", -1, ADDRESS, "decimal number"),
    ("ethereum", True, ADDRESS, "decimal number"),
    ("ethereum", "1 ", ADDRESS, "decimal number"),
    ("ethereum", 10**32, ADDRESS, "decimal number"),  # 33 digits: over CAIP-2's 32
    ("ethereum", 1, ADDRESS[2:], "0x followed by 40 hex"),
    ("ethereum", 1, None, "is text"),
    ("solana", "localnet", "7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv", "Solana network"),
    ("solana", None, "7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv", "Solana network"),
    ("solana", "mainnet", ADDRESS, "32-byte key"),
    ("nimiq", "devnet", NIMIQ_GROUPED, "mainnet or testnet"),
    ("nimiq", 1, NIMIQ_GROUPED, "mainnet or testnet"),
    ("nimiq", "mainnet", "NQ71 CT4K", "Nimiq address"),
]


@pytest.mark.parametrize(("chain", "network", "address", "reason"), FORMAT_NEGATIVE)
def test_format_account_id_refuses(chain: str, network: Any, address: Any, reason: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        format_account_id(chain, network, address)
    assert reason in info.value.message
