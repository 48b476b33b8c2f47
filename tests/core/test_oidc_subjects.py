"""Tests for keyfob.core.oidc_subjects: OpenID Connect Core 1.0 §8 subject identifier types."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from keyfob.core.oidc_subjects import (
    SUBJECT_TYPES,
    check_sector_document,
    pairwise_subject,
    public_subject,
    sector_identifier,
    subject_for,
)
from keyfob.core.secretbox import derive_key
from keyfob.errors import ConfigurationError, InvalidRequest, KeyfobError

KEY = bytes(range(32))
DERIVED_KEY = derive_key("a-test-secret-that-is-long-enough-0123456789", "pairwise-subject")
ALICE = "3f2b8e0c-7a4d-4f7e-9c1a-2b5d6e8f9a01"
BOB = "a1b2c3d4-0000-4000-8000-000000000002"
SECTOR = "client.example.org"
OTHER_SECTOR = "other.example.net"


def reference_subject(key: bytes, sector: str, user_id: str) -> str:
    """The construction written out with the standard library alone, not keyfob's helpers."""
    digest = hmac.new(key, sector.encode() + b"\x00" + user_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# Known answers, pinned: a pairwise subject must never change once an RP has stored it. Computed
# for keyfob with Python 3.11's hmac/hashlib/base64 (reference_subject above), not with keyfob.
KNOWN_ANSWERS = [
    (KEY, SECTOR, ALICE, "MVKkkkWQGx4-XkBDwaLjMfone4dOcGZjGeIV1ZlNZ9o"),
    (KEY, OTHER_SECTOR, ALICE, "1zY_b2Y2HMlGuASg1kX4MuBJ6Gf3rn8Qjsc-13oVF4M"),
    (KEY, SECTOR, BOB, "xx4Y2xtsrHtBq_7apFOElcVWr6o_J2omgvjk3dayMbg"),
    (DERIVED_KEY, SECTOR, ALICE, "HymBaOw7CIv9EmDz3GaMCqCrT8zbhMJDY-MObWjPurE"),
    (DERIVED_KEY, OTHER_SECTOR, ALICE, "maFNpAJCNpEEs8pRfDHV3pGve7fE0LbxHEIW5BEtUuk"),
    (DERIVED_KEY, SECTOR, BOB, "tYOGi9CL1Be5H_-ovxxMKg8Q_E7l41PlyZV4dmP6qz8"),
]


@pytest.mark.parametrize(("key", "sector", "user_id", "expected"), KNOWN_ANSWERS)
def test_pairwise_known_answers(key: bytes, sector: str, user_id: str, expected: str) -> None:
    assert pairwise_subject(user_id, key=key, sector=sector) == expected
    assert reference_subject(key, sector, user_id) == expected


def test_pairwise_is_stable_and_separates_sectors_users_and_keys() -> None:
    first = pairwise_subject(ALICE, key=KEY, sector=SECTOR)
    assert all(pairwise_subject(ALICE, key=KEY, sector=SECTOR) == first for _ in range(3))
    assert pairwise_subject(ALICE, key=KEY, sector=OTHER_SECTOR) != first
    assert pairwise_subject(BOB, key=KEY, sector=SECTOR) != first
    assert pairwise_subject(ALICE, key=DERIVED_KEY, sector=SECTOR) != first
    assert first != ALICE
    assert ALICE not in first
    assert len(first) == 43
    assert first.isascii()


def test_pairwise_never_equals_the_local_id() -> None:
    users = [f"00000000-0000-4000-8000-{n:012d}" for n in range(200)]
    subjects = {pairwise_subject(user, key=KEY, sector=SECTOR) for user in users}
    assert len(subjects) == len(users)
    assert not subjects & set(users)


def test_two_clients_of_one_sector_share_subjects() -> None:
    # Two clients on one host (no sector_identifier_uri), and a third on other hosts that
    # registered a sector_identifier_uri on that host: all three are one sector.
    web = sector_identifier(
        redirect_uris=["https://client.example.org/cb"], sector_identifier_uri=None
    )
    admin = sector_identifier(
        redirect_uris=["https://CLIENT.example.org:8443/admin/cb", "https://client.example.org./x"],
        sector_identifier_uri=None,
    )
    spread = sector_identifier(
        redirect_uris=["https://a.example.com/cb", "https://b.example.net/cb"],
        sector_identifier_uri="https://client.example.org/sector.json",
    )
    assert web == admin == spread == SECTOR
    subjects = {pairwise_subject(ALICE, key=KEY, sector=s) for s in (web, admin, spread)}
    assert subjects == {KNOWN_ANSWERS[0][3]}


def test_sector_identifier_uri_wins_over_a_single_redirect_host() -> None:
    sector = sector_identifier(
        redirect_uris=["https://app.example.com/cb"],
        sector_identifier_uri="https://ids.example.org/.well-known/sector.json",
    )
    assert sector == "ids.example.org"


def test_public_subject_is_the_user_id() -> None:
    assert public_subject(ALICE) == ALICE
    assert subject_for(ALICE, subject_type="public") == ALICE
    assert (
        subject_for(ALICE, subject_type="pairwise", key=KEY, sector=SECTOR) == (KNOWN_ANSWERS[0][3])
    )
    assert SUBJECT_TYPES == ("public", "pairwise")


def test_check_sector_document() -> None:
    uris = ["https://a.example.com/cb", "https://b.example.net/cb"]
    check_sector_document([*uris, "https://c.example.org/cb"], expected_redirect_uris=uris)
    with pytest.raises(InvalidRequest, match=r"b\.example\.net"):
        check_sector_document(uris[:1], expected_redirect_uris=uris)
    with pytest.raises(InvalidRequest, match="not listed"):  # exact matching: no trailing slash
        check_sector_document(["https://a.example.com/cb/"], expected_redirect_uris=uris[:1])
    for document in ({"redirect_uris": uris}, "https://a.example.com/cb", [1], None):
        with pytest.raises(InvalidRequest, match="JSON array"):
            check_sector_document(document, expected_redirect_uris=uris)


ONE = ["https://client.example.org/cb"]
SECTOR_NEGATIVE: list[tuple[str, dict[str, Any], str]] = [
    ("no-redirect-uri", {"redirect_uris": []}, "needs a redirect URI"),
    (
        "several-hosts-without-sector-uri",
        {"redirect_uris": ["https://a.example.com/cb", "https://b.example.net/cb"]},
        "must register a sector_identifier_uri",
    ),
    (
        "subdomains-are-other-hosts",
        {"redirect_uris": ["https://example.com/cb", "https://www.example.com/cb"]},
        "must register a sector_identifier_uri",
    ),
    ("http-sector-uri", {"sector_identifier_uri": "http://client.example.org/s.json"}, "https"),
    ("empty-sector-uri", {"sector_identifier_uri": ""}, "not a usable URL"),
    ("relative-sector-uri", {"sector_identifier_uri": "/sector.json"}, "not a usable URL"),
    ("sector-uri-userinfo", {"sector_identifier_uri": "https://u@x.example/s"}, "not a usable"),
    ("sector-uri-fragment", {"sector_identifier_uri": "https://x.example/s#f"}, "not a usable"),
    ("sector-uri-not-text", {"sector_identifier_uri": b"https://x.example/s"}, "must be a URL"),
    ("redirect-uris-a-string", {"redirect_uris": "https://client.example.org/cb"}, "a list"),
    ("redirect-uris-not-a-list", {"redirect_uris": None}, "a list"),
    ("redirect-uri-not-text", {"redirect_uris": [42]}, "must be a URL"),
    ("redirect-uri-custom-scheme", {"redirect_uris": ["com.example.app:/cb"]}, "absolute"),
    ("non-ascii-host", {"redirect_uris": ["https://bücher.example/cb"]}, "punycode"),
    ("odd-host", {"redirect_uris": ["https://a!b.example/cb"]}, "cannot be a sector"),
]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [(c, r) for _, c, r in SECTOR_NEGATIVE],
    ids=[n for n, *_ in SECTOR_NEGATIVE],
)
def test_sector_identifier_refuses(changes: dict[str, Any], reason: str) -> None:
    args: dict[str, Any] = {"redirect_uris": ONE, "sector_identifier_uri": None, **changes}
    with pytest.raises(InvalidRequest) as info:
        sector_identifier(**args)
    assert reason in info.value.message


SUBJECT_NEGATIVE: list[tuple[str, dict[str, Any], type[KeyfobError], str]] = [
    ("empty-sector", {"sector": ""}, InvalidRequest, "lowercase host"),
    ("uppercase-sector", {"sector": "Client.example.org"}, InvalidRequest, "lowercase host"),
    ("nul-in-sector", {"sector": "a.example\x00b"}, InvalidRequest, "lowercase host"),
    ("url-as-sector", {"sector": "https://client.example.org"}, InvalidRequest, "lowercase"),
    ("sector-not-text", {"sector": b"client.example.org"}, InvalidRequest, "lowercase host"),
    ("empty-user", {"user_id": ""}, InvalidRequest, "printable ASCII"),
    ("user-with-space", {"user_id": "a b"}, InvalidRequest, "printable ASCII"),
    ("user-with-newline", {"user_id": "a\nb"}, InvalidRequest, "printable ASCII"),
    ("user-non-ascii", {"user_id": "ümlaut"}, InvalidRequest, "printable ASCII"),
    ("user-too-long", {"user_id": "a" * 256}, InvalidRequest, "printable ASCII"),
    ("user-not-text", {"user_id": 7}, InvalidRequest, "printable ASCII"),
    ("short-key", {"key": b"k" * 31}, ConfigurationError, "32 bytes"),
    ("key-as-text", {"key": "k" * 32}, ConfigurationError, "32 bytes"),
]


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [(c, e, r) for _, c, e, r in SUBJECT_NEGATIVE],
    ids=[n for n, *_ in SUBJECT_NEGATIVE],
)
def test_pairwise_subject_refuses(
    changes: dict[str, Any], error: type[KeyfobError], reason: str
) -> None:
    args: dict[str, Any] = {"user_id": ALICE, "key": KEY, "sector": SECTOR, **changes}
    user_id = args.pop("user_id")
    with pytest.raises(error) as info:
        pairwise_subject(user_id, **args)
    assert reason in info.value.message


def test_public_subject_and_subject_for_refuse() -> None:
    assert public_subject("a" * 255) == "a" * 255  # §2: at most 255 ASCII characters
    for bad in ("", "a" * 256, "tab\there", None):
        with pytest.raises(InvalidRequest, match="printable ASCII"):
            public_subject(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="public, pairwise"):
        subject_for(ALICE, subject_type="address")
    with pytest.raises(ConfigurationError, match="key and the client's sector"):
        subject_for(ALICE, subject_type="pairwise", key=KEY)
    with pytest.raises(ConfigurationError, match="key and the client's sector"):
        subject_for(ALICE, subject_type="pairwise", sector=SECTOR)
