"""Token-signing keys: loaded from the store, generated on first start, rotated by the CLI."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    hs256_signing_key,
    load_signing_key,
    private_key_bytes,
    public_jwk,
)
from keyfob.core.secretbox import seal, unseal
from keyfob.store import Store
from keyfob.store.records import SigningKeyRecord

log = logging.getLogger("keyfob")

_SEAL_PURPOSE = "signing-key"
RELOAD_INTERVAL = 60.0


@dataclass(frozen=True)
class KeySet:
    """The key that signs new tokens, every key that still verifies, and the public JWKS."""

    current: SigningKey
    by_kid: dict[str, SigningKey]
    jwks: dict[str, Any]


class Keyring:
    """Holds the signing keys of a running server and reloads them now and then.

    Rotation (``keyfob keys rotate``) writes a new key and retires the old ones in the store; a
    running server picks the change up within :data:`RELOAD_INTERVAL` seconds, or at once when it
    meets a token with an unknown ``kid``.
    """

    def __init__(self, store: Store, *, algorithm: str, secret_key: str, access_ttl: int) -> None:
        self._store = store
        self._algorithm = algorithm
        self._secret_key = secret_key
        self._access_ttl = access_ttl
        self._loaded_at = 0.0
        self.keys: KeySet | None = None

    @property
    def current(self) -> KeySet:
        """The loaded key set (``load`` must have run)."""
        assert self.keys is not None, "Keyring.load() was not awaited"
        return self.keys

    async def load(self, *, now: datetime, create: bool = True) -> KeySet:
        """Read keys from the store, generating the first one if there is none."""
        if self._algorithm == "HS256":
            key = hs256_signing_key(self._secret_key)
            self.keys = KeySet(current=key, by_kid={key.kid: key}, jwks={"keys": []})
            return self.keys
        records = [r for r in await self._store.signing_keys() if r.alg == self._algorithm]
        active = [r for r in records if r.retired_at is None]
        if not active and create:
            await add_signing_key(self._store, self._algorithm, self._secret_key, now=now)
            log.warning("Generated a new %s token-signing key.", self._algorithm)
            return await self.load(now=now, create=False)
        if not active:
            raise RuntimeError("no active signing key")
        still_verifying = [
            r
            for r in records
            if r.retired_at is None or r.retired_at + timedelta(seconds=self._access_ttl) > now
        ]
        by_kid = {r.kid: self._unseal(r) for r in still_verifying}
        current = by_kid[active[0].kid]
        jwks = {"keys": [json.loads(r.public_jwk) for r in still_verifying]}
        self.keys = KeySet(current=current, by_kid=by_kid, jwks=jwks)
        self._loaded_at = time.monotonic()
        return self.keys

    async def refresh_if_stale(self, *, now: datetime, force: bool = False) -> KeySet:
        """Reload when the keys are older than the reload interval (or when forced)."""
        if self._algorithm != "HS256" and (
            force or time.monotonic() - self._loaded_at > RELOAD_INTERVAL
        ):
            return await self.load(now=now)
        return self.current

    def _unseal(self, record: SigningKeyRecord) -> SigningKey:
        der = unseal(self._secret_key, record.sealed_private_key, purpose=_SEAL_PURPOSE)
        return load_signing_key(record.alg, record.kid, der)  # type: ignore[arg-type]


async def add_signing_key(
    store: Store, algorithm: str, secret_key: str, *, now: datetime
) -> SigningKey:
    """Generate a key of ``algorithm``, seal its private part and save it as the newest key."""
    key = generate_signing_key(algorithm)  # type: ignore[arg-type]
    await store.add_signing_key(
        SigningKeyRecord(
            kid=key.kid,
            alg=key.alg,
            sealed_private_key=seal(secret_key, private_key_bytes(key), purpose=_SEAL_PURPOSE),
            public_jwk=json.dumps(public_jwk(key), separators=(",", ":")),
            created_at=now,
            retired_at=None,
        )
    )
    return key


async def rotate_signing_key(
    store: Store, algorithm: str, secret_key: str, *, now: datetime
) -> SigningKey:
    """Make a new current key; the old ones stay in the JWKS until their tokens expire."""
    key = await add_signing_key(store, algorithm, secret_key, now=now)
    await store.retire_signing_keys(now=now, except_kid=key.kid)
    return key
