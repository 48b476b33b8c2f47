"""Rules of OpenID Connect Core 1.0 that need no I/O. So far: the ID token's hash claims.

``at_hash`` (section 3.1.3.6, 3.3.2.11) and ``c_hash`` (section 3.3.2.11) are the base64url
encoding, without padding, of the left-most half of the hash of the ASCII octets of the access
token or code, "where the hash algorithm used is the hash algorithm used in the alg Header
Parameter of the ID Token's JOSE Header".

Which hash that is follows the OpenID Connect Working Group's *Token Hash Algorithm
Implementer's Guide 1.0* (draft 00, June 2026, in the openid/connect repository), which settles
the case Core leaves open (bitbucket.org/openid/connect issue 1125): the ``*256`` algorithms
use SHA-256, ``*384`` SHA-384, ``*512`` SHA-512; ``EdDSA`` takes the hash of the key's EdDSA
parameter set, so SHA-512 for an Ed25519 key (RFC 8032 section 5.1), as does the fully
specified ``Ed25519`` (RFC 9864). panva's oidc-provider and zitadel/oidc do the same. keyfob signs
with Ed25519 only, so ``EdDSA`` needs ``crv="Ed25519"`` here; Ed448, ML-DSA and ``none`` are
refused.

keyfob computes these claims for the ID tokens it signs, with an algorithm of its own keyring:
an algorithm it cannot hash for is a misconfiguration (:class:`ConfigurationError`).
"""

from __future__ import annotations

import hashlib

from keyfob.core.encoding import b64url_encode
from keyfob.errors import ConfigurationError, InvalidRequest

_SHA256 = ("HS256", "RS256", "PS256", "ES256", "ES256K")
_SHA384 = ("HS384", "RS384", "PS384", "ES384")
_SHA512 = ("HS512", "RS512", "PS512", "ES512", "Ed25519")
_HASHES = {
    **dict.fromkeys(_SHA256, "sha256"),
    **dict.fromkeys(_SHA384, "sha384"),
    **dict.fromkeys(_SHA512, "sha512"),
}


def hash_name(alg: str, *, crv: str | None = None) -> str:
    """The hashlib name of the hash the ``*_hash`` claims of an ID token signed with ``alg``
    use (``crv``: the signing key's curve, needed for ``EdDSA`` and ignored otherwise)."""
    if alg == "EdDSA":
        if crv == "Ed25519":
            return "sha512"
        if crv is None:
            raise ConfigurationError("EdDSA's hash claims depend on the key's curve: pass crv.")
        raise ConfigurationError("keyfob computes EdDSA hash claims for Ed25519 keys only.")
    if alg == "Ed25519" and crv not in (None, "Ed25519"):
        raise ConfigurationError("An Ed25519 signature needs an Ed25519 key.")
    name = _HASHES.get(alg) if isinstance(alg, str) else None
    if name is None:
        raise ConfigurationError(
            "No hash is defined for ID token hash claims with this algorithm; sign ID tokens "
            "with RS256, ES256, EdDSA (Ed25519) or another algorithm keyfob supports."
        )
    return name


def token_hash(value: str, *, alg: str, crv: str | None = None) -> str:
    """The OIDC hash claim of ``value``: base64url of the left-most half of its hash."""
    if not isinstance(value, str) or not value or not value.isascii():
        raise InvalidRequest("A hashed token or code is a non-empty ASCII string.")
    digest = hashlib.new(hash_name(alg, crv=crv), value.encode("ascii")).digest()
    return b64url_encode(digest[: len(digest) // 2])


def at_hash(access_token: str, *, alg: str, crv: str | None = None) -> str:
    """The ``at_hash`` claim for ``access_token`` in an ID token signed with ``alg``."""
    return token_hash(access_token, alg=alg, crv=crv)


def c_hash(code: str, *, alg: str, crv: str | None = None) -> str:
    """The ``c_hash`` claim for the authorization ``code`` in an ID token signed with ``alg``."""
    return token_hash(code, alg=alg, crv=crv)
