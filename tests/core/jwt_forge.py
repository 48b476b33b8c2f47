"""Hand-made JWTs for the negative tables of the OpenID Connect token tests: any header and
claims, signed with one of our keys, an HMAC over any bytes, or not signed at all."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from keyfob.core.keys import SigningKey


def b64(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The signing input ``header.claims`` of a compact JWS."""
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())


def drop_none(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` without the members set to None (how the tables remove a claim)."""
    return {name: value for name, value in claims.items() if value is not None}


def signed(key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Signed with ``key`` by PyJWT; header members set to None are left out."""
    headers = {name: value for name, value in header.items() if value is not None}
    headers["typ"] = header.get("typ")  # None: PyJWT leaves typ out rather than add "JWT"
    return jwt.encode(drop_none(claims), key.private_key, algorithm=key.alg, headers=headers)  # type: ignore[arg-type]


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``alg: none``, empty signature."""
    return segments({**header, "alg": "none"}, drop_none(claims)) + "."


def hmac_with(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """HS256 over ``secret`` (a public key's PEM, say: the algorithm-confusion attack)."""
    signing_input = segments({**header, "alg": "HS256"}, drop_none(claims))
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def public_pem(key: SigningKey) -> bytes:
    """The PEM of ``key``'s public key."""
    return key.verify_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def tampered(token: str, **changes: Any) -> str:
    """``token`` with claims changed and the old signature kept."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{head}.{b64(json.dumps({**claims, **changes}).encode())}.{signature}"
