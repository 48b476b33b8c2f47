"""Tests for keyfob.core.oidc_core: the at_hash and c_hash claims of ID tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keyfob.core.encoding import b64url_decode
from keyfob.core.oidc_core import at_hash, c_hash, hash_name, token_hash
from keyfob.errors import ConfigurationError, InvalidRequest

# OpenID Connect Core 1.0 incorporating errata set 2, Appendix A (the openid/connect repository's
# openid-connect-core-1_0.xml): the access token of A.3 (response_type=id_token token) and the
# code of A.4 (response_type=code id_token), both also in A.5 and A.6.
CORE_ACCESS_TOKEN = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
CORE_CODE = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
# The ID token of A.6 (response_type=code id_token token), signed RS256 with the key of A.7:
# its JOSE header and its claims, which carry the at_hash and c_hash of the two values above.
CORE_A6_HEADER = "eyJraWQiOiIxZTlnZGs3IiwiYWxnIjoiUlMyNTYifQ"
CORE_A6_CLAIMS = (
    "ewogImlzcyI6ICJodHRwczovL3NlcnZlci5leGFtcGxlLmNvbSIsCiAic3ViIjog"
    "IjI0ODI4OTc2MTAwMSIsCiAiYXVkIjogInM2QmhkUmtxdDMiLAogIm5vbmNlIjog"
    "Im4tMFM2X1d6QTJNaiIsCiAiZXhwIjogMTMxMTI4MTk3MCwKICJpYXQiOiAxMzEx"
    "MjgwOTcwLAogImF0X2hhc2giOiAiNzdRbVVQdGpQZnpXdEYyQW5wSzlSUSIsCiAi"
    "Y19oYXNoIjogIkxEa3RLZG9RYWszUGswY25YeENsdEEiCn0"
)

# OpenID Connect Token Hash Algorithm Implementer's Guide 1.0, draft 00 (openid/connect,
# openid-connect-token-hash-algorithms-1_0.xml), section 3 "Examples": one access token and its
# at_hash under each algorithm. panva/oidc-token-hash (the hashing of panva's oidc-provider)
# pins the same values in its test/generate.js.
GUIDE_ACCESS_TOKEN = "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL"
GUIDE_SHA256 = "xsZZrUssMXjL3FBlzoSh2g"
GUIDE_SHA384 = "adt46pcdiB-l6eTNifgoVM-5AIJAxq84"
GUIDE_SHA512 = "p2LHG4H-8pYDc0hyVOo3iIHvZJUqe9tbj3jESOuXbkY"
GUIDE: list[tuple[str, str | None, str]] = [
    *[(alg, None, GUIDE_SHA256) for alg in ("PS256", "RS256", "ES256", "ES256K", "HS256")],
    *[(alg, None, GUIDE_SHA384) for alg in ("PS384", "RS384", "ES384", "HS384")],
    *[(alg, None, GUIDE_SHA512) for alg in ("PS512", "RS512", "ES512", "HS512")],
    ("EdDSA", "Ed25519", GUIDE_SHA512),  # the key's JWK crv decides
    ("Ed25519", None, GUIDE_SHA512),  # RFC 9864's fully specified identifier
    ("Ed25519", "Ed25519", GUIDE_SHA512),
]


def test_core_appendix_a_hashes() -> None:
    header = json.loads(b64url_decode(CORE_A6_HEADER))
    claims = json.loads(b64url_decode(CORE_A6_CLAIMS))
    assert header == {"kid": "1e9gdk7", "alg": "RS256"}
    assert claims["at_hash"] == "77QmUPtjPfzWtF2AnpK9RQ"  # also A.3
    assert claims["c_hash"] == "LDktKdoQak3Pk0cnXxCltA"  # also A.4
    assert at_hash(CORE_ACCESS_TOKEN, alg=header["alg"]) == claims["at_hash"]
    assert c_hash(CORE_CODE, alg=header["alg"]) == claims["c_hash"]


@pytest.mark.parametrize(("alg", "crv", "expected"), GUIDE, ids=[f"{a}-{c}" for a, c, _ in GUIDE])
def test_token_hash_guide_examples(alg: str, crv: str | None, expected: str) -> None:
    assert at_hash(GUIDE_ACCESS_TOKEN, alg=alg, crv=crv) == expected
    assert c_hash(GUIDE_ACCESS_TOKEN, alg=alg, crv=crv) == expected
    # Half of 32, 48 or 64 octets: 16, 24 or 32, which base64url writes without padding.
    assert (
        len(b64url_decode(expected)) * 2
        == {"sha256": 32, "sha384": 48, "sha512": 64}[hash_name(alg, crv=crv)]
    )


def test_the_curve_matters_only_for_eddsa() -> None:
    # keyfob may pass the signing key's crv whatever the algorithm: P-256 for ES256, say.
    assert at_hash(GUIDE_ACCESS_TOKEN, alg="ES256", crv="P-256") == GUIDE_SHA256
    assert at_hash(GUIDE_ACCESS_TOKEN, alg="RS256", crv="Ed25519") == GUIDE_SHA256


ALG_REFUSED: list[tuple[str, Any, Any, str]] = [
    ("none", "none", None, "No hash is defined"),
    ("empty", "", None, "No hash is defined"),
    ("lowercase", "rs256", None, "No hash is defined"),
    ("unknown", "XS256", None, "No hash is defined"),
    ("hs1", "HS1", None, "No hash is defined"),
    ("ml-dsa", "ML-DSA-44", None, "No hash is defined"),
    ("ed448-alg", "Ed448", None, "No hash is defined"),
    ("eddsa-without-curve", "EdDSA", None, "pass crv"),
    ("eddsa-ed448", "EdDSA", "Ed448", "Ed25519 keys only"),
    ("eddsa-x25519", "EdDSA", "X25519", "Ed25519 keys only"),
    ("ed25519-with-ed448-key", "Ed25519", "Ed448", "needs an Ed25519 key"),
    ("alg-not-str", ["RS256"], None, "No hash is defined"),
    ("alg-none-object", None, None, "No hash is defined"),
]


@pytest.mark.parametrize(
    ("alg", "crv", "reason"),
    [(a, c, r) for _, a, c, r in ALG_REFUSED],
    ids=[n for n, *_ in ALG_REFUSED],
)
def test_unknown_algorithms_are_refused(alg: Any, crv: Any, reason: str) -> None:
    for compute in (at_hash, c_hash):
        with pytest.raises(ConfigurationError) as info:
            compute(CORE_ACCESS_TOKEN, alg=alg, crv=crv)
        assert reason in info.value.message


@pytest.mark.parametrize("value", ["", "café", None, b"token"])
def test_values_must_be_ascii_text(value: Any) -> None:
    with pytest.raises(InvalidRequest, match="non-empty ASCII string"):
        token_hash(value, alg="RS256")
