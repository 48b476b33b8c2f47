"""A software WebAuthn authenticator (ES256, attestation "none") for the passkey benchmark.

It plays both the authenticator and the browser: it answers the JSON options keyfob sends with
the JSON a browser's ``PublicKeyCredential.toJSON()`` gives. Written against ``cryptography``
and ``cbor2`` directly rather than ``keyfob.core``, so the benchmark signs the way an
independent client does. Not for tests: those use real browsers and clients.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40
COSE_ES256 = -7
_SIGNATURE = ec.ECDSA(hashes.SHA256())


def b64url(data: bytes) -> str:
    """Unpadded base64url, as WebAuthn's JSON forms use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded (or padded) base64url text."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cose_es256_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The COSE_Key (EC2, P-256, ES256) of a public key, CBOR-encoded."""
    numbers = public_key.public_numbers()
    x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
    return cbor2.dumps({1: 2, 3: COSE_ES256, -1: 1, -2: x, -3: y})


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    """clientDataJSON as browsers serialise it (``crossOrigin`` false)."""
    fields = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    return json.dumps(fields, separators=(",", ":")).encode()


class Passkey:
    """One discoverable ES256 credential on a software authenticator, for one origin.

    Not safe for concurrent sign-ins: the sign counter grows with every assertion, so two
    in flight at once could reach the server out of order (a counter regression).
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.host = urlsplit(origin).hostname or ""
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.user_handle = b""
        self.rp_id = ""
        self.sign_count = 0

    def _rp_id_hash(self, rp_id: str) -> bytes:
        # A browser lets an origin use its own host or a registrable suffix of it as RP ID.
        if not rp_id or (self.host != rp_id and not self.host.endswith("." + rp_id)):
            raise ValueError(f"RP ID {rp_id!r} is not valid for origin {self.origin}")
        return hashlib.sha256(rp_id.encode()).digest()

    def create(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The registration response to ``PublicKeyCredentialCreationOptionsJSON``."""
        algorithms = [param.get("alg") for param in options.get("pubKeyCredParams", [])]
        if COSE_ES256 not in algorithms:
            raise ValueError(f"the RP does not accept ES256 (only {algorithms})")
        self.rp_id = options["rp"]["id"]
        self.user_handle = b64url_decode(options["user"]["id"])
        public_key = self.key.public_key()
        auth_data = (
            self._rp_id_hash(self.rp_id)
            + bytes([FLAG_UP | FLAG_UV | FLAG_AT])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # AAGUID: all zero for attestation "none"
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cose_es256_key(public_key)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        response = {
            "clientDataJSON": b64url(
                client_data("webauthn.create", options["challenge"], self.origin)
            ),
            "attestationObject": b64url(attestation),
            "authenticatorData": b64url(auth_data),
            "publicKey": b64url(spki),
            "publicKeyAlgorithm": COSE_ES256,
            "transports": ["hybrid", "internal"],
        }
        return self._credential(response)

    def get(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The assertion answering ``PublicKeyCredentialRequestOptionsJSON``; moves the
        sign counter on."""
        if not self.user_handle:
            raise ValueError("this passkey is not registered yet")
        allowed = [item["id"] for item in options.get("allowCredentials") or []]
        if allowed and b64url(self.credential_id) not in allowed:
            raise ValueError("the RP asks for other credentials than this one")
        self.sign_count += 1
        auth_data = (
            self._rp_id_hash(options.get("rpId", self.rp_id))
            + bytes([FLAG_UP | FLAG_UV])
            + struct.pack(">I", self.sign_count)
        )
        data = client_data("webauthn.get", options["challenge"], self.origin)
        signature = self.key.sign(auth_data + hashlib.sha256(data).digest(), _SIGNATURE)
        response = {
            "clientDataJSON": b64url(data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(self.user_handle),
        }
        return self._credential(response)

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        credential_id = b64url(self.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
