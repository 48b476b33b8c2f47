"""Tests for keyfob.core.oidc_claims: the UserInfo claims each scope releases."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.core.caip10 import parse_keyfob_account_id
from keyfob.core.oidc_claims import (
    ID_TOKEN_CLAIMS,
    SCOPE_CLAIMS,
    WalletClaim,
    claims_supported,
    released_claims,
    short_address,
    synthetic_email,
    userinfo_claims,
)
from keyfob.errors import ConfigurationError, InvalidRequest

USER_ID = "3f1c2b7e-0d5a-4c8e-9a61-2b7f0e4d9c11"
SUB = "pairwise-or-public-sub"
# EIP-55's own examples; the CASA solana profile's mainnet account; Nimiq's Keyguard vector.
ETH = WalletClaim("ethereum", 1, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
ETH_L2 = WalletClaim("ethereum", 10, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
SOL = WalletClaim("solana", "mainnet", "7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv")
NIM = WalletClaim("nimiq", "mainnet", "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U")
ALL_SCOPES = ("openid", "profile", "email", "wallet")


def _claims(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "subject": SUB,
        "scopes": ALL_SCOPES,
        "username": "alice",
        "wallets": [ETH, SOL, NIM],
        "synthetic_email_domain": "users.example.com",
        "user_id": USER_ID,
    }
    return userinfo_claims(**{**args, **changes})


def test_every_scope() -> None:
    assert _claims() == {
        "sub": SUB,
        "preferred_username": "alice",
        "name": "alice",
        "email": f"{USER_ID}@users.example.com",
        "email_verified": False,
        "wallets": [
            {
                "account": "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "chain": "eip155:1",
            },
            {
                "account": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:"
                "7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv",
                "chain": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
            },
            {
                "account": "nimiq:mainnet:NQ71CT4K7R9REHSB7HY9TSTPXNRQL2RK8U4U",
                "chain": "nimiq:mainnet",
            },
        ],
    }


def test_wallet_accounts_parse_back_as_keyfob_accounts() -> None:
    for item in _claims()["wallets"]:
        account = parse_keyfob_account_id(item["account"])
        assert str(account.account_id.chain_id) == item["chain"]


def test_openid_alone_releases_sub_only() -> None:
    assert _claims(scopes=("openid",)) == {"sub": SUB}
    assert _claims(scopes=()) == {"sub": SUB}


@pytest.mark.parametrize(
    ("wallets", "name"),
    [
        ([ETH, SOL], "0x5aAe\u2026eAed"),
        ([SOL, ETH], "7S3P\u2026AaKv"),
        ([NIM], "NQ71\u20268U4U"),
        ([ETH_L2], "0xfB69\u2026d359"),
    ],
)
def test_profile_without_username_names_the_first_wallet(
    wallets: list[WalletClaim], name: str
) -> None:
    claims = _claims(scopes=("openid", "profile"), username=None, wallets=wallets)
    assert claims == {"sub": SUB, "preferred_username": name, "name": name}


def test_passkey_only_user_without_username_gets_no_profile_nor_wallets() -> None:
    claims = _claims(username=None, wallets=[])
    assert claims == {
        "sub": SUB,
        "email": f"{USER_ID}@users.example.com",
        "email_verified": False,
    }
    assert _claims(username="", wallets=[], scopes=("openid", "profile")) == {"sub": SUB}


def test_email_only_with_a_synthetic_domain() -> None:
    assert "email" not in _claims(synthetic_email_domain=None)
    assert "email_verified" not in _claims(synthetic_email_domain=None)


def test_the_same_wallet_twice_is_listed_once_and_networks_are_kept_apart() -> None:
    same = WalletClaim("ethereum", 1, ETH.address.upper().replace("0X", "0x"))
    claims = _claims(wallets=[ETH, same, ETH_L2], scopes=("wallet",))
    assert [item["chain"] for item in claims["wallets"]] == ["eip155:1", "eip155:10"]


@pytest.mark.parametrize(
    ("wallet", "short"),
    [
        (ETH, "0x5aAe\u2026eAed"),
        (SOL, "7S3P\u2026AaKv"),
        (NIM, "NQ71\u20268U4U"),
    ],
)
def test_short_address(wallet: WalletClaim, short: str) -> None:
    assert short_address(wallet) == short
    assert len(short) == (11 if wallet.chain == "ethereum" else 9)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"wallets": [WalletClaim("bitcoin", "mainnet", "1abc")]}, id="unknown-chain"),
        pytest.param({"wallets": [WalletClaim("ethereum", 1, "0x1234")]}, id="bad-eth-address"),
        pytest.param({"wallets": [WalletClaim("solana", "mainnet", "0OIl")]}, id="bad-sol"),
        pytest.param({"wallets": [WalletClaim("nimiq", "devnet", NIM.address)]}, id="bad-net"),
        pytest.param({"wallets": [("ethereum", 1, ETH.address)]}, id="not-a-wallet-claim"),
        pytest.param({"user_id": "a b"}, id="user-id-not-local-part"),
        pytest.param({"user_id": "x" * 65}, id="user-id-too-long"),
        pytest.param({"subject": ""}, id="empty-sub"),
    ],
)
def test_invalid_input(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        _claims(**changes)


@pytest.mark.parametrize(
    "domain", ["", "localhost", "Users.Example.com", "a@b.com", "example.com.", "-x.com", "x..com"]
)
def test_synthetic_domain_must_be_a_host(domain: str) -> None:
    with pytest.raises(ConfigurationError):
        synthetic_email(USER_ID, domain=domain)


def test_scope_claims_and_claims_supported() -> None:
    assert dict(SCOPE_CLAIMS) == {
        "openid": ("sub",),
        "profile": ("name", "preferred_username"),
        "email": ("email", "email_verified"),
        "wallet": ("wallets",),
    }
    assert released_claims(["profile", "offline_access", "email"]) == (
        "name",
        "preferred_username",
        "email",
        "email_verified",
    )
    supported = claims_supported()
    assert supported[0] == "sub"
    assert set(supported) == {
        "sub",
        *ID_TOKEN_CLAIMS,
        *(c for cs in SCOPE_CLAIMS.values() for c in cs),
    }
    assert len(supported) == len(set(supported))
    assert "wallets" not in claims_supported(["openid", "profile"])
    # Every claim userinfo_claims can return is advertised.
    assert set(_claims()) <= set(supported)


def test_scopes_as_one_string_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        _claims(scopes="openid profile")
