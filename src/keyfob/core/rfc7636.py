"""PKCE, Proof Key for Code Exchange (RFC 7636), with the ``S256`` method only.

``plain`` sends the verifier itself as the challenge, so whoever reads the authorization request
can redeem the code; RFC 9700 section 2.1.1 says to use ``S256``, and issue 8 supports nothing
else. The authorization endpoint checks what it receives (:func:`check_code_challenge`, errors
``invalid_request`` as RFC 7636 section 4.4.1 says) and stores it with the code; the token
endpoint proves the verifier against it (:func:`verify_code_verifier`, errors ``invalid_grant``
as RFC 7636 section 4.6 says; a malformed verifier is ``invalid_request``, RFC 6749 section 5.2).

An empty parameter counts as an absent one (RFC 6749 section 3.1). Whether a client must use
PKCE (issue 8: every public client) is the server's policy, not decided here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from keyfob.core.encoding import b64url_encode
from keyfob.errors import InvalidGrant, InvalidRequest

S256 = "S256"
# RFC 7636 section 4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" /
# "." / "_" / "~" (RFC 3986 section 2.3). Explicit ASCII ranges: no Unicode digits or letters.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# BASE64URL(SHA-256(...)) is 32 octets: 43 characters, no padding. The last character carries
# 4 bits and 2 zero bits, so only 16 of the 64 symbols can end a real SHA-256 challenge.
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


@dataclass(frozen=True)
class CodeChallenge:
    """A checked ``code_challenge`` and its method, as stored with the authorization code."""

    challenge: str
    method: str = S256


def check_code_challenge(
    code_challenge: str | None, code_challenge_method: str | None
) -> CodeChallenge | None:
    """The authorization request's PKCE parameters, checked: None when it has neither.

    The method must be ``S256`` (case-sensitive), sent explicitly: RFC 7636 section 4.3 makes a
    missing method mean ``plain``. The challenge must be what SHA-256 gives, 43 base64url
    characters without padding. Anything else raises :class:`InvalidRequest`.
    """
    challenge = _present(code_challenge, "code_challenge")
    method = _present(code_challenge_method, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without a code_challenge.")
        return None
    if method is None:
        raise InvalidRequest(
            "code_challenge_method is missing, which RFC 7636 reads as plain; keyfob supports "
            "only S256: send code_challenge_method=S256."
        )
    if method == "plain":
        raise InvalidRequest(
            "The plain code_challenge_method is not supported (RFC 9700 section 2.1.1); use S256."
        )
    if method != S256:
        raise InvalidRequest("Unsupported code_challenge_method; keyfob supports only S256.")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest(
            "code_challenge must be BASE64URL(SHA-256(code_verifier)): 43 base64url "
            "characters, no padding."
        )
    return CodeChallenge(challenge=challenge, method=S256)


def s256_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` (RFC 7636 section 4.2) of a valid verifier;
    :class:`InvalidRequest` if the verifier is not 43 to 128 unreserved characters."""
    _check_verifier(code_verifier)
    return b64url_encode(hashlib.sha256(code_verifier.encode("ascii")).digest())


def verify_code_verifier(
    code_verifier: str | None, *, expected_challenge: str | None, expected_method: str | None
) -> CodeChallenge | None:
    """Prove the token request's ``code_verifier`` against the code's stored challenge.

    Returns the challenge it proved, or None for a code issued without PKCE and redeemed
    without a verifier. Raises :class:`InvalidRequest` for a malformed verifier and
    :class:`InvalidGrant` when it is missing, does not match (compared in constant time), or is
    sent for a code issued without a challenge: RFC 9700 section 2.1.1's defence against a PKCE
    downgrade.
    """
    verifier = _present(code_verifier, "code_verifier")
    if verifier is not None:
        _check_verifier(verifier)
    if expected_challenge is None and expected_method is None:
        if verifier is not None:
            raise InvalidGrant(
                "This authorization code was issued without a code_challenge, so it cannot be "
                "redeemed with a code_verifier."
            )
        return None
    if expected_method != S256:
        raise InvalidGrant("This authorization code is bound to an unsupported PKCE method.")
    if not isinstance(expected_challenge, str) or not _CHALLENGE.fullmatch(expected_challenge):
        raise InvalidGrant("This authorization code is bound to a malformed code_challenge.")
    if verifier is None:
        raise InvalidGrant("This authorization code needs the code_verifier of its request.")
    computed = s256_challenge(verifier).encode("ascii")
    if not hmac.compare_digest(computed, expected_challenge.encode("ascii")):
        raise InvalidGrant("PKCE verification failed: the code_verifier does not match.")
    return CodeChallenge(challenge=expected_challenge, method=S256)


def _present(value: object, name: str) -> str | None:
    """``value`` as a string, None when absent or empty (RFC 6749 section 3.1)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string.")
    return value


def _check_verifier(code_verifier: object) -> None:
    if not isinstance(code_verifier, str) or not _VERIFIER.fullmatch(code_verifier):
        raise InvalidRequest(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 "
            "section 4.1)."
        )
