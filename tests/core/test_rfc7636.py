"""Tests for keyfob.core.rfc7636: PKCE with S256 only."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from keyfob.core.encoding import b64url_encode
from keyfob.core.rfc7636 import (
    S256,
    CodeChallenge,
    check_code_challenge,
    s256_challenge,
    verify_code_verifier,
)
from keyfob.errors import InvalidGrant, InvalidRequest, KeyfobError

# RFC 7636 Appendix B ("Example for the S256 code_challenge_method"): the 32 random octets, the
# code_verifier they encode to, the SHA-256 octets of that verifier and the code_challenge.
RFC7636_B_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
     22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)  # fmt: skip
RFC7636_B_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_B_HASH = bytes(
    [19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8,
     118, 168, 120, 173, 109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195]
)  # fmt: skip
RFC7636_B_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
# Every unreserved character (RFC 3986 section 2.3), 66 of them, in a verifier of legal length.
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def test_rfc7636_appendix_b() -> None:
    assert b64url_encode(RFC7636_B_OCTETS) == RFC7636_B_VERIFIER
    assert hashlib.sha256(RFC7636_B_VERIFIER.encode("ascii")).digest() == RFC7636_B_HASH
    assert s256_challenge(RFC7636_B_VERIFIER) == RFC7636_B_CHALLENGE
    stored = check_code_challenge(RFC7636_B_CHALLENGE, "S256")
    assert stored == CodeChallenge(RFC7636_B_CHALLENGE, S256)
    proved = verify_code_verifier(
        RFC7636_B_VERIFIER, expected_challenge=stored.challenge, expected_method=stored.method
    )
    assert proved == stored


@pytest.mark.parametrize("verifier", ["a" * 43, "a" * 128, UNRESERVED, UNRESERVED[-43:]])
def test_verifiers_of_every_legal_shape(verifier: str) -> None:
    challenge = s256_challenge(verifier)
    assert check_code_challenge(challenge, "S256") == CodeChallenge(challenge)
    assert verify_code_verifier(verifier, expected_challenge=challenge, expected_method="S256")


@pytest.mark.parametrize(("challenge", "method"), [(None, None), ("", ""), ("", None)])
def test_no_pkce_at_all(challenge: str | None, method: str | None) -> None:
    # RFC 6749 section 3.1: a parameter sent without a value is treated as omitted.
    assert check_code_challenge(challenge, method) is None
    for verifier in (None, ""):
        assert verify_code_verifier(verifier, expected_challenge=None, expected_method=None) is None


C = RFC7636_B_CHALLENGE
CHALLENGE_REFUSED: list[tuple[str, Any, Any, str]] = [
    ("plain", C, "plain", "plain code_challenge_method is not supported"),
    ("plain-with-verifier-as-challenge", RFC7636_B_VERIFIER, "plain", "plain"),
    ("method-missing-means-plain", C, None, "reads as plain"),
    ("method-empty-means-plain", C, "", "reads as plain"),
    ("lowercase-s256", C, "s256", "supports only S256"),
    ("unknown-method", C, "S512", "supports only S256"),
    ("method-with-spaces", C, " S256", "supports only S256"),
    ("method-without-challenge", None, "S256", "without a code_challenge"),
    ("challenge-too-short", C[:-1], "S256", "43 base64url"),
    ("challenge-too-long", C + "A", "S256", "43 base64url"),
    ("challenge-padded", C + "=", "S256", "43 base64url"),
    ("challenge-standard-base64", C.replace("-", "+"), "S256", "43 base64url"),
    ("challenge-slash", "/" + C[1:], "S256", "43 base64url"),
    ("challenge-non-canonical-last-char", C[:-1] + "N", "S256", "43 base64url"),
    ("challenge-hex-sha256", hashlib.sha256(b"x").hexdigest(), "S256", "43 base64url"),
    ("challenge-trailing-newline", C[:-1] + "M\n", "S256", "43 base64url"),
    ("challenge-nul", C[:-1] + "\x00", "S256", "43 base64url"),
    ("challenge-unicode-letter", "é" + C[1:], "S256", "43 base64url"),
    ("challenge-not-str", C.encode(), "S256", "code_challenge must be a string"),
    ("challenge-list", [C], "S256", "code_challenge must be a string"),
    ("method-not-str", C, b"S256", "code_challenge_method must be a string"),
]


@pytest.mark.parametrize(
    ("challenge", "method", "reason"),
    [(c, m, r) for _, c, m, r in CHALLENGE_REFUSED],
    ids=[n for n, *_ in CHALLENGE_REFUSED],
)
def test_check_code_challenge_refuses(challenge: Any, method: Any, reason: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_code_challenge(challenge, method)
    assert info.value.code == "invalid_request"
    assert reason in info.value.message


V = RFC7636_B_VERIFIER
# (name, verifier, stored challenge, stored method, error class, words of the message)
VERIFIER_REFUSED: list[tuple[str, Any, Any, Any, type[KeyfobError], str]] = [
    ("wrong-verifier", "a" * 43, C, "S256", InvalidGrant, "does not match"),
    ("verifier-one-char-changed", V[:-1] + "l", C, "S256", InvalidGrant, "does not match"),
    ("challenge-as-verifier", C, C, "S256", InvalidGrant, "does not match"),
    ("verifier-missing", None, C, "S256", InvalidGrant, "needs the code_verifier"),
    ("verifier-empty", "", C, "S256", InvalidGrant, "needs the code_verifier"),
    ("downgrade-verifier-without-challenge", V, None, None, InvalidGrant, "without a code_"),
    ("stored-plain", V, V, "plain", InvalidGrant, "unsupported PKCE method"),
    ("stored-method-missing", V, C, None, InvalidGrant, "unsupported PKCE method"),
    ("stored-challenge-missing", V, None, "S256", InvalidGrant, "malformed code_challenge"),
    ("stored-challenge-malformed", V, C + "=", "S256", InvalidGrant, "malformed code_challenge"),
    ("too-short", "a" * 42, C, "S256", InvalidRequest, "43 to 128"),
    ("too-long", "a" * 129, C, "S256", InvalidRequest, "43 to 128"),
    ("nul", V[:-1] + "\x00", C, "S256", InvalidRequest, "43 to 128"),
    ("space", V[:-1] + " ", C, "S256", InvalidRequest, "43 to 128"),
    ("plus", V[:-1] + "+", C, "S256", InvalidRequest, "43 to 128"),
    ("slash", V[:-1] + "/", C, "S256", InvalidRequest, "43 to 128"),
    ("equals-padding", V + "=", C, "S256", InvalidRequest, "43 to 128"),
    ("percent-encoded", V[:-3] + "%7E", C, "S256", InvalidRequest, "43 to 128"),
    ("trailing-newline", V + "\n", C, "S256", InvalidRequest, "43 to 128"),
    ("unicode-digit", V[:-1] + "٣", C, "S256", InvalidRequest, "43 to 128"),
    ("bytes", V.encode(), C, "S256", InvalidRequest, "code_verifier must be a string"),
    ("int", 12345, C, "S256", InvalidRequest, "code_verifier must be a string"),
    # A malformed verifier is refused as malformed even where no PKCE was used.
    ("malformed-without-challenge", "short", None, None, InvalidRequest, "43 to 128"),
]


@pytest.mark.parametrize(
    ("verifier", "challenge", "method", "error", "reason"),
    [case[1:] for case in VERIFIER_REFUSED],
    ids=[case[0] for case in VERIFIER_REFUSED],
)
def test_verify_code_verifier_refuses(
    verifier: Any, challenge: Any, method: Any, error: type[KeyfobError], reason: str
) -> None:
    with pytest.raises(error) as info:
        verify_code_verifier(verifier, expected_challenge=challenge, expected_method=method)
    assert type(info.value) is error
    assert info.value.code == ("invalid_grant" if error is InvalidGrant else "invalid_request")
    assert reason in info.value.message


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, V + " ", None, b"x" * 43])
def test_s256_challenge_refuses_what_is_no_verifier(verifier: Any) -> None:
    with pytest.raises(InvalidRequest, match="43 to 128"):
        s256_challenge(verifier)


def test_invalid_grant_is_an_oauth_error() -> None:
    # RFC 6749 section 5.2: invalid_grant is answered with HTTP 400.
    assert (InvalidGrant.code, InvalidGrant.status) == ("invalid_grant", 400)
