"""Token-signing keys: Ed25519 (EdDSA), P-256 (ES256), RSA (RS256) or a shared secret (HS256).

A :class:`SigningKey` knows its algorithm, so verification never trusts a token's ``alg`` header
to pick one (RFC 8725 section 2.1). Every key is identified by its RFC 7638 thumbprint; an HS256
key's is the thumbprint of its ``oct`` JWK, so an app that holds the secret finds the kid itself.
An HS256 secret is 256 random bits of its own (:func:`generate_signing_key`), never
``KEYFOB_SECRET_KEY`` nor anything derived from it. A key built from a public JWK alone
(:func:`verification_key_from_jwk`) verifies but cannot sign.

RS256 is there for OpenID Connect, whose Discovery 1.0 section 3 makes RS256 the one ID token
algorithm every provider must offer. keyfob generates RSA keys of 2048 bits with e = 65537 and
refuses RSA keys under 2048 bits (NIST SP 800-131A), over 8192 bits, or with an exponent that
is even or 2**32 or more: every real key uses 65537, and a large exponent makes each
verification slow for nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.errors import ConfigurationError, InvalidRequest, KeyfobError

Algorithm: TypeAlias = Literal["EdDSA", "ES256", "HS256", "RS256"]
AsymmetricPrivateKey: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
)
AsymmetricPublicKey: TypeAlias = (
    ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
)
PrivateKey: TypeAlias = AsymmetricPrivateKey | bytes | None
VerifyKey: TypeAlias = AsymmetricPublicKey | bytes

ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256", "HS256", "RS256")
HS256_SECRET_BYTES = 32  # 256 random bits, base64url: 43 characters
RSA_KEY_BITS = 2048  # what keyfob generates
RSA_PUBLIC_EXPONENT = 65537
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
_MAX_RSA_EXPONENT = 2**32
_MIN_HMAC_KEY = 32  # RFC 7518 section 3.2: at least the hash output size
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
}


@dataclass(frozen=True)
class SigningKey:
    """A key that signs (and verifies) tokens; ``private_key`` is None for a verify-only key."""

    kid: str
    alg: Algorithm
    private_key: PrivateKey
    public_jwk: dict[str, Any] | None
    verify_key: VerifyKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: PyJWT accepts key objects as they are, so verify does no parsing per call.
        object.__setattr__(self, "verify_key", _verify_key(self))


def _verify_key(key: SigningKey) -> VerifyKey:
    private = key.private_key
    if key.alg == "HS256":
        if not isinstance(private, bytes) or len(private) < _MIN_HMAC_KEY:
            raise ConfigurationError(f"An HS256 key needs at least {_MIN_HMAC_KEY} bytes.")
        return private
    if key.alg == "EdDSA" and isinstance(private, ed25519.Ed25519PrivateKey):
        return private.public_key()
    if key.alg == "ES256" and isinstance(private, ec.EllipticCurvePrivateKey):
        if not isinstance(private.curve, ec.SECP256R1):
            raise ConfigurationError("An ES256 key must be on the P-256 curve.")
        return private.public_key()
    if key.alg == "RS256" and isinstance(private, rsa.RSAPrivateKey):
        if not MIN_RSA_BITS <= private.key_size <= MAX_RSA_BITS:
            raise ConfigurationError(
                f"An RS256 key must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, not "
                f"{private.key_size}."
            )
        return private.public_key()
    if private is None and key.public_jwk is not None:
        return _public_key_from_jwk(key.public_jwk, key.alg)
    raise ConfigurationError(f"The key {key.kid!r} does not fit the algorithm {key.alg}.")


def generate_signing_key(alg: Algorithm) -> SigningKey:
    """Generate a new Ed25519 (``EdDSA``), P-256 (``ES256``) or RSA 2048-bit, e = 65537
    (``RS256``) key, or a random HS256 secret (256 bits, base64url text); its kid is its
    thumbprint."""
    private: AsymmetricPrivateKey
    if alg == "HS256":
        return hs256_signing_key(secrets.token_urlsafe(HS256_SECRET_BYTES))
    if alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private = rsa.generate_private_key(RSA_PUBLIC_EXPONENT, RSA_KEY_BITS)
    else:
        raise ConfigurationError(
            f"Cannot generate a key for {alg!r}; use EdDSA, ES256, RS256 or HS256."
        )
    return _asymmetric_key(alg, private, kid=None)


def hs256_kid(secret: str) -> str:
    """The kid of an HS256 secret: the RFC 7638 thumbprint of its ``oct`` JWK (one-way)."""
    return jwk_thumbprint({"kty": "oct", "k": b64url_encode(secret.encode())})


def hs256_signing_key(secret: str) -> SigningKey:
    """The HS256 key of ``secret`` (its UTF-8 bytes as they are, so apps verify with the same
    text); its kid is :func:`hs256_kid`."""
    if not isinstance(secret, str):
        raise ConfigurationError("The HS256 secret must be a string.")
    return SigningKey(
        kid=hs256_kid(secret), alg="HS256", private_key=secret.encode(), public_jwk=None
    )


def hs256_secret(key: SigningKey) -> str:
    """The text of an HS256 key: what apps pass as ``TokenVerifier(secret=...)``."""
    if key.alg != "HS256" or not isinstance(key.private_key, bytes):
        raise ConfigurationError(f"The key {key.kid!r} is not an HS256 secret.")
    return key.private_key.decode()


def private_key_bytes(key: SigningKey) -> bytes:
    """The private key as unencrypted PKCS#8 DER, or an HS256 secret's UTF-8 bytes (seal it with
    :mod:`keyfob.core.secretbox`)."""
    private = key.private_key
    if key.alg == "HS256" and isinstance(private, bytes):
        return private
    if not isinstance(private, AsymmetricPrivateKey):
        raise ConfigurationError(f"The {key.alg} key {key.kid!r} has no private key to export.")
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_key(alg: Algorithm, kid: str, der: bytes) -> SigningKey:
    """Rebuild a key saved with :func:`private_key_bytes` (for HS256: the secret's text)."""
    if alg == "HS256":
        try:
            key = hs256_signing_key(der.decode())
        except UnicodeDecodeError as exc:
            raise ConfigurationError(f"The stored HS256 key {kid!r} is not text.") from exc
        if key.kid != kid:
            raise ConfigurationError(f"The stored HS256 key {kid!r} does not match its kid.")
        return key
    try:
        private = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"The stored key {kid!r} is not a PKCS#8 private key.") from exc
    if not isinstance(private, AsymmetricPrivateKey):
        raise ConfigurationError(f"The stored key {kid!r} is neither Ed25519, P-256 nor RSA.")
    return _asymmetric_key(alg, private, kid=kid)


def _asymmetric_key(alg: Algorithm, private: AsymmetricPrivateKey, kid: str | None) -> SigningKey:
    if isinstance(private, ec.EllipticCurvePrivateKey) and not isinstance(
        private.curve, ec.SECP256R1
    ):
        raise ConfigurationError("An ES256 key must be on the P-256 curve.")
    jwk = _public_members(private.public_key())
    if kid is None:
        kid = jwk_thumbprint(jwk)
    return SigningKey(kid=kid, alg=alg, private_key=private, public_jwk={**jwk, "kid": kid})


def _public_members(public: AsymmetricPublicKey) -> dict[str, Any]:
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    if isinstance(public, rsa.RSAPublicKey):
        rsa_numbers = public.public_numbers()
        return {"kty": "RSA", "n": _uint(rsa_numbers.n), "e": _uint(rsa_numbers.e)}
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def _uint(value: int) -> str:
    # RFC 7518 section 6.3.1.1: big-endian, in the fewest octets that hold the value.
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(key: SigningKey) -> dict[str, Any]:
    """The key's public JWK for the JWKS: key members plus ``kid``, ``alg`` and ``use: "sig"``."""
    if key.alg == "HS256" or key.public_jwk is None:
        raise ConfigurationError("An HS256 key is a shared secret and is never published.")
    members = {k: key.public_jwk[k] for k in _THUMBPRINT_MEMBERS[key.public_jwk["kty"]]}
    return {**members, "kid": key.kid, "alg": key.alg, "use": "sig"}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the required members, sorted, without whitespace."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise InvalidRequest("A JWK needs a kty of OKP, EC, RSA or oct.")
    if not all(isinstance(jwk.get(name), str) for name in members):
        raise InvalidRequest(f"A {kty} JWK needs the members {', '.join(members)}.")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def verification_key_from_jwk(jwk: Mapping[str, Any]) -> SigningKey:
    """A verify-only key from a published JWK (Ed25519, P-256 or RSA, with ``kid``).

    The algorithm comes from the key type, never from the token: EdDSA for ``OKP``/``Ed25519``,
    ES256 for ``EC``/``P-256``, RS256 for ``RSA``. A JWK whose ``alg`` names another algorithm
    (PS256 on an RSA key, say), whose ``use`` is not ``sig``, that holds private members, or
    whose RSA key is under 2048 bits is refused (:class:`InvalidRequest`).
    """
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidRequest("A published JWK needs a kid.")
    if any(name in jwk for name in _PRIVATE_MEMBERS):
        raise InvalidRequest(f"The JWK {kid!r} holds private key members; publish the public key.")
    alg: Algorithm
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        alg = "EdDSA"
    elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        alg = "ES256"
    elif jwk.get("kty") == "RSA":
        alg = "RS256"
    else:
        raise InvalidRequest("Only Ed25519 (OKP), P-256 (EC) and RSA keys verify keyfob tokens.")
    if jwk.get("alg", alg) != alg or jwk.get("use", "sig") != "sig":
        raise InvalidRequest(f"The JWK {kid!r} is not an {alg} signing key.")
    return SigningKey(kid=kid, alg=alg, private_key=None, public_jwk=dict(jwk))


def _public_key_from_jwk(jwk: Mapping[str, Any], alg: Algorithm) -> AsymmetricPublicKey:
    if alg == "RS256" and jwk.get("kty") == "RSA":
        return _rsa_public_key(jwk)
    try:
        if alg == "EdDSA" and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            raw = _coordinate(jwk, "x")
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)
        if alg == "ES256" and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(_coordinate(jwk, "x"), "big")
            y = int.from_bytes(_coordinate(jwk, "y"), "big")
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyfobError, ValueError) as exc:
        raise InvalidRequest(f"The JWK is not a valid {alg} public key.") from exc
    raise InvalidRequest(f"The JWK is not an {alg} public key.")


def _coordinate(jwk: Mapping[str, Any], name: str) -> bytes:
    text = jwk.get(name)
    if not isinstance(text, str):
        raise InvalidRequest(f"The JWK has no {name!r} member.")
    value = b64url_decode(text)
    if len(value) != 32:
        raise InvalidRequest(f"The JWK member {name!r} must be 32 bytes.")
    return value


def _rsa_public_key(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    n, e = _big_integer(jwk, "n"), _big_integer(jwk, "e")
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
        raise InvalidRequest(
            f"An RSA key must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits; this one has "
            f"{n.bit_length()}."
        )
    if e % 2 == 0 or not 3 <= e < _MAX_RSA_EXPONENT:
        raise InvalidRequest("The RSA key's public exponent must be odd and below 2**32.")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise InvalidRequest("The JWK is not a valid RSA public key.") from exc


def _big_integer(jwk: Mapping[str, Any], name: str) -> int:
    text = jwk.get(name)
    if not isinstance(text, str) or not text:
        raise InvalidRequest(f"The RSA JWK has no {name!r} member.")
    try:
        # A leading zero octet (which RFC 7518 forbids but some libraries write) changes nothing.
        return int.from_bytes(b64url_decode(text), "big")
    except InvalidRequest as exc:
        raise InvalidRequest(f"The RSA JWK member {name!r} is not base64url.") from exc
