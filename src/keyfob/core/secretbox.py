"""Keys derived from ``KEYFOB_SECRET_KEY`` and AES-256-GCM encryption at rest under them.

One secret feeds many purposes (sealing signing keys, HMAC-signed nonces, challenge JWTs); HKDF
with a per-purpose ``info`` gives each its own independent key, so a key leaked or misused for one
purpose says nothing about the others.

A sealed blob is bound to its purpose *and* to the row that holds it (the kid of a signing key,
the id of a client): the associated data is ``purpose NUL row``, so a blob copied into another
row of the same table does not unseal there. Blobs of format 1 (bound to the purpose only) are
read by :func:`upgrade` alone, which re-seals them in format 2 once.
"""

from __future__ import annotations

import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keyfob.errors import ConfigurationError

FORMAT = 2
_VERSION = bytes([FORMAT])
_LEGACY_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16


class SealedDataError(ConfigurationError):
    """A sealed blob does not unseal: altered, moved from another row, or the secret changed."""

    code = "sealed_data_error"


@functools.lru_cache(maxsize=64)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose``: HKDF-SHA256 of the secret, info ``"keyfob:" + purpose``.

    Cached: a client secret is unsealed on every token request, and the server holds the
    secret key in memory anyway."""
    if not isinstance(secret_key, str) or not secret_key:
        raise ConfigurationError("The secret key must be a non-empty string.")
    if not purpose:
        raise ConfigurationError("A derived key needs a purpose.")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyfob:" + purpose.encode())
    return hkdf.derive(secret_key.encode("utf-8"))


def _associated_data(purpose: str, row: str) -> bytes:
    if not purpose or "\0" in purpose:
        raise ConfigurationError("A sealing purpose is a non-empty text without NUL.")
    if not isinstance(row, str) or not row:
        raise ConfigurationError("A sealed blob is bound to a row id; give a non-empty one.")
    return purpose.encode() + b"\0" + row.encode("utf-8", "surrogatepass")


def seal(secret_key: str, plaintext: bytes, *, purpose: str, row: str) -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM under the key derived for ``purpose``.

    The result is ``version (1, = 2) | nonce (12) | ciphertext | tag (16)``; the associated data
    is ``purpose NUL row``, so the blob unseals only for the same purpose in the same row.
    """
    nonce = os.urandom(_NONCE_SIZE)
    aead = AESGCM(derive_key(secret_key, purpose))
    return _VERSION + nonce + aead.encrypt(nonce, plaintext, _associated_data(purpose, row))


def unseal(secret_key: str, sealed: bytes, *, purpose: str, row: str) -> bytes:
    """Decrypt what :func:`seal` produced for this ``purpose`` and ``row``.

    :class:`SealedDataError` if the blob was altered, belongs to another row, or
    ``KEYFOB_SECRET_KEY`` changed since it was sealed.
    """
    nonce, body = _split(sealed, _VERSION, purpose, row)
    return _decrypt(secret_key, nonce, body, purpose, _associated_data(purpose, row), row)


def is_legacy(sealed: bytes) -> bool:
    """Whether ``sealed`` is in format 1 (bound to its purpose only) and needs :func:`upgrade`."""
    return isinstance(sealed, bytes | bytearray) and sealed[:1] == _LEGACY_VERSION


def upgrade(secret_key: str, sealed: bytes, *, purpose: str, row: str) -> bytes:
    """Re-seal a format-1 blob in format 2, bound to ``row``; the plaintext is unchanged."""
    nonce, body = _split(sealed, _LEGACY_VERSION, purpose, row)
    plaintext = _decrypt(secret_key, nonce, body, purpose, purpose.encode(), row)
    return seal(secret_key, plaintext, purpose=purpose, row=row)


def _split(sealed: bytes, version: bytes, purpose: str, row: str) -> tuple[bytes, bytes]:
    if not isinstance(sealed, bytes | bytearray) or len(sealed) < 1 + _NONCE_SIZE + _TAG_SIZE:
        raise SealedDataError(f"The sealed {purpose} of {row!r} is not in keyfob's sealed format.")
    if sealed[:1] != version:
        if sealed[:1] == _LEGACY_VERSION:
            raise SealedDataError(
                f"The sealed {purpose} of {row!r} is in the old format 1, not bound to its row; "
                "`keyfob migrate` upgrades it."
            )
        raise SealedDataError(f"The sealed {purpose} of {row!r} is not in keyfob's sealed format.")
    return bytes(sealed[1 : 1 + _NONCE_SIZE]), bytes(sealed[1 + _NONCE_SIZE :])


def _decrypt(
    secret_key: str, nonce: bytes, body: bytes, purpose: str, associated: bytes, row: str
) -> bytes:
    try:
        return AESGCM(derive_key(secret_key, purpose)).decrypt(nonce, body, associated)
    except InvalidTag as exc:
        raise SealedDataError(
            f"The sealed {purpose} of {row!r} cannot be decrypted: it was altered or copied from "
            "another row, or KEYFOB_SECRET_KEY changed since it was sealed."
        ) from exc
