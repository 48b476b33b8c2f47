"""Keys derived from ``KEYFOB_SECRET_KEY`` and AES-256-GCM encryption at rest under them.

One secret feeds many purposes (sealing signing keys, HMAC-signed nonces, challenge JWTs); HKDF
with a per-purpose ``info`` gives each its own independent key, so a key leaked or misused for one
purpose says nothing about the others.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keyfob.errors import ConfigurationError

_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose``: HKDF-SHA256 of the secret, info ``"keyfob:" + purpose``."""
    if not isinstance(secret_key, str) or not secret_key:
        raise ConfigurationError("The secret key must be a non-empty string.")
    if not purpose:
        raise ConfigurationError("A derived key needs a purpose.")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyfob:" + purpose.encode())
    return hkdf.derive(secret_key.encode("utf-8"))


def seal(secret_key: str, plaintext: bytes, *, purpose: str) -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM under the key derived for ``purpose``.

    The result is ``version (1) | nonce (12) | ciphertext | tag (16)``; ``purpose`` is also the
    associated data, so a blob sealed for one purpose cannot be unsealed as another.
    """
    nonce = os.urandom(_NONCE_SIZE)
    aead = AESGCM(derive_key(secret_key, purpose))
    return _VERSION + nonce + aead.encrypt(nonce, plaintext, purpose.encode())


def unseal(secret_key: str, sealed: bytes, *, purpose: str) -> bytes:
    """Decrypt what :func:`seal` produced; :class:`ConfigurationError` if it was altered.

    A failure here almost always means ``KEYFOB_SECRET_KEY`` changed since the data was sealed.
    """
    if (
        not isinstance(sealed, bytes | bytearray)
        or len(sealed) < 1 + _NONCE_SIZE + _TAG_SIZE
        or sealed[:1] != _VERSION
    ):
        raise ConfigurationError(f"The sealed {purpose} is not in keyfob's sealed format.")
    nonce, body = bytes(sealed[1 : 1 + _NONCE_SIZE]), bytes(sealed[1 + _NONCE_SIZE :])
    try:
        return AESGCM(derive_key(secret_key, purpose)).decrypt(nonce, body, purpose.encode())
    except InvalidTag as exc:
        raise ConfigurationError(
            f"The sealed {purpose} cannot be decrypted: it was altered, or KEYFOB_SECRET_KEY "
            "changed since it was sealed."
        ) from exc
