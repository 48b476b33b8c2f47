"""Token-signing keys: loaded from the store, generated on first start, rotated by the CLI.

Every key lives sealed in the ``signing_keys`` table, bound to its kid. EdDSA and ES256 keys are
generated on first start; an HS256 key is a shared secret the apps must be given, so it is only
ever made by ``keyfob keys rotate``, which prints it once (a server started with HS256 and no key
refuses to start and says so). No HS256 key is ever ``KEYFOB_SECRET_KEY`` or derived from it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    load_signing_key,
    private_key_bytes,
    public_jwk,
)
from keyfob.core.secretbox import seal, unseal
from keyfob.errors import ConfigurationError
from keyfob.store import Store
from keyfob.store.records import SigningKeyRecord

log = logging.getLogger("keyfob")

SEAL_PURPOSE = "signing-key"
RELOAD_INTERVAL = 60.0
UNKNOWN_KID_COOLDOWN = 5.0
NO_HS256_KEY = (
    "KEYFOB_TOKEN_ALGORITHM=HS256 and there is no HS256 token key yet: run `keyfob keys rotate` "
    "once; it makes one and prints its secret for the apps that verify tokens."
)


@dataclass(frozen=True)
class KeySet:
    """The key that signs new tokens, every key that still verifies, and the public JWKS."""

    current: SigningKey
    by_kid: dict[str, SigningKey]
    jwks: dict[str, Any]


class Keyring:
    """Holds the signing keys of a running server and reloads them now and then.

    Rotation (``keyfob keys rotate``) writes a new key and retires the old ones in the store; a
    running server picks the change up within :data:`RELOAD_INTERVAL` seconds, or sooner when it
    meets a token with an unknown ``kid`` (:meth:`reload_for_unknown_kid`: at most one reload
    per :data:`UNKNOWN_KID_COOLDOWN` seconds, shared by every request that asks meanwhile).
    ``monotonic`` is the clock of those intervals (tests move it).
    """

    def __init__(
        self,
        store: Store,
        *,
        algorithm: str,
        secret_key: str,
        access_ttl: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._algorithm = algorithm
        self._secret_key = secret_key
        self._access_ttl = access_ttl
        self.monotonic = monotonic
        self._loaded_at = float("-inf")
        self._unknown_kid_reload_at = float("-inf")
        self._lock = asyncio.Lock()
        self.keys: KeySet | None = None

    @property
    def store(self) -> Store:
        """The store the keys live in."""
        return self._store

    @property
    def algorithm(self) -> str:
        """The algorithm of this keyring's keys."""
        return self._algorithm

    @property
    def current(self) -> KeySet:
        """The loaded key set (``load`` must have run)."""
        assert self.keys is not None, "Keyring.load() was not awaited"
        return self.keys

    async def load(self, *, now: datetime, create: bool = True) -> KeySet:
        """Read keys from the store, generating the first EdDSA/ES256 key if there is none.

        :class:`ConfigurationError` for HS256 without a key (see :data:`NO_HS256_KEY`).
        """
        records = [r for r in await self._store.signing_keys() if r.alg == self._algorithm]
        active = [r for r in records if r.retired_at is None]
        if not active and self._algorithm == "HS256":
            raise ConfigurationError(NO_HS256_KEY)
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
        published = [r for r in still_verifying if r.alg != "HS256"]  # a secret is never published
        jwks = {"keys": [json.loads(r.public_jwk) for r in published]}
        self.keys = KeySet(current=current, by_kid=by_kid, jwks=jwks)
        self._loaded_at = self.monotonic()
        return self.keys

    async def refresh_if_stale(self, *, now: datetime) -> KeySet:
        """Reload when the keys are older than the reload interval."""
        if self.monotonic() - self._loaded_at > RELOAD_INTERVAL:
            return await self.load(now=now)
        return self.current

    async def reload_for_unknown_kid(self, kid: str, *, now: datetime) -> KeySet:
        """The keys, reloaded for a token whose ``kid`` is not among them (a rotation elsewhere).

        Single-flight and rate limited: concurrent callers share one reload, and there is at
        most one per :data:`UNKNOWN_KID_COOLDOWN` seconds, so made-up kids cannot turn every
        request into a database read.
        """
        if kid in self.current.by_kid:
            return self.current
        async with self._lock:
            if kid in self.current.by_kid:
                return self.current
            if self.monotonic() - self._unknown_kid_reload_at < UNKNOWN_KID_COOLDOWN:
                return self.current
            self._unknown_kid_reload_at = self.monotonic()
            return await self.load(now=now)

    def _unseal(self, record: SigningKeyRecord) -> SigningKey:
        material = unseal(
            self._secret_key, record.sealed_private_key, purpose=SEAL_PURPOSE, row=record.kid
        )
        return load_signing_key(record.alg, record.kid, material)  # type: ignore[arg-type]


def _stored_jwk(key: SigningKey) -> str:
    if key.alg == "HS256":
        description = {"kty": "oct", "kid": key.kid, "alg": "HS256"}  # no "k": it stays sealed
    else:
        description = public_jwk(key)
    return json.dumps(description, separators=(",", ":"))


async def add_signing_key(
    store: Store, algorithm: str, secret_key: str, *, now: datetime
) -> SigningKey:
    """Generate a key of ``algorithm``, seal its private part and save it as the newest key."""
    key = generate_signing_key(algorithm)  # type: ignore[arg-type]
    sealed = seal(secret_key, private_key_bytes(key), purpose=SEAL_PURPOSE, row=key.kid)
    await store.add_signing_key(
        SigningKeyRecord(
            kid=key.kid,
            alg=key.alg,
            sealed_private_key=sealed,
            public_jwk=_stored_jwk(key),
            created_at=now,
            retired_at=None,
        )
    )
    return key


async def rotate_signing_key(
    store: Store, algorithm: str, secret_key: str, *, now: datetime
) -> SigningKey:
    """Make a new current key of ``algorithm``; the old ones of that algorithm keep verifying
    until their tokens expire (the other algorithms' keys, e.g. ID-token keys, stay current)."""
    key = await add_signing_key(store, algorithm, secret_key, now=now)
    await store.retire_signing_keys(now=now, except_kid=key.kid, alg=algorithm)
    return key
