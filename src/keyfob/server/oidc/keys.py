"""The signing keys of OpenID Connect: one keyring per ID-token algorithm, one JWKS for all.

ID tokens are RS256 unless a client asks for ES256 or EdDSA; access tokens for clients are
signed by the server's token key (``KEYFOB_TOKEN_ALGORITHM``, EdDSA by default: a tenth of an
RSA signature's cost, on every code exchange and refresh). Each algorithm has its own
:class:`~keyfob.server.infra.keyring.Keyring` over the same ``signing_keys`` table, so each rotates
on its own and every key keeps a unique ``kid``; the server's token keyring is reused for its
own algorithm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from keyfob.core.keys import SigningKey
from keyfob.errors import ConfigurationError
from keyfob.server.infra.keyring import Keyring
from keyfob.server.services.oidc_clients import ID_TOKEN_ALGORITHMS


class OidcKeys:
    """The keyrings of :data:`ID_TOKEN_ALGORITHMS` next to the server's token keyring.

    A keyring is loaded at start when the store has a key of its algorithm, and otherwise the
    first time a token of that algorithm is signed (an RSA key takes ~0.1 s to make, which no
    server that never signs RS256 should pay at every start).
    """

    def __init__(self, token_keyring: Keyring, make_keyring: Callable[[str], Keyring]) -> None:
        """``make_keyring(alg)`` builds the keyring of an algorithm the token keyring lacks."""
        self.token_keyring = token_keyring
        self._rings: dict[str, Keyring] = {
            alg: token_keyring if alg == token_keyring.algorithm else make_keyring(alg)
            for alg in ID_TOKEN_ALGORITHMS
        }
        self._lock = asyncio.Lock()

    def _own(self) -> list[Keyring]:
        return [ring for ring in self._rings.values() if ring is not self.token_keyring]

    async def load(self, *, now: datetime) -> None:
        """Load the keyrings whose algorithm has a key in the store."""
        stored = {record.alg for record in await self.token_keyring.store.signing_keys()}
        for ring in self._own():
            if ring.algorithm in stored:
                await ring.load(now=now)

    async def refresh_if_stale(self, *, now: datetime) -> None:
        """Reload the loaded keyrings whose keys are older than the reload interval, and load
        those another instance has made a key for meanwhile."""
        if any(ring.keys is None for ring in self._own()):
            await self.load(now=now)
        for ring in self._own():
            if ring.keys is not None:
                await ring.refresh_if_stale(now=now)

    async def id_token_key(self, alg: str, *, now: datetime) -> SigningKey:
        """The current key that signs ID tokens (and logout tokens) of ``alg``, made on first
        use."""
        ring = self._rings.get(alg)
        if ring is None:
            raise ConfigurationError(f"keyfob does not sign ID tokens with {alg!r}.")
        if ring.keys is None:
            async with self._lock:
                if ring.keys is None:
                    await ring.load(now=now)
        return ring.current.current

    def access_token_key(self) -> SigningKey:
        """The current key of access tokens for clients (the server's token algorithm)."""
        return self.token_keyring.current.current

    def _loaded(self) -> list[Keyring]:
        return [ring for ring in (self.token_keyring, *self._own()) if ring.keys is not None]

    def verification_keys(self) -> Mapping[str, SigningKey]:
        """Every key that still verifies, by ``kid`` (never an HS256 key: not ours to share)."""
        keys: dict[str, SigningKey] = {}
        for ring in self._loaded():
            keys.update(ring.current.by_kid)
        return {kid: key for kid, key in keys.items() if key.alg != "HS256"}

    async def published(self, now: datetime) -> dict[str, Any]:
        """:meth:`jwks` after reloading whatever keyring is stale (``/.well-known/jwks.json``)."""
        await self.token_keyring.refresh_if_stale(now=now)
        await self.refresh_if_stale(now=now)
        return self.jwks()

    def jwks(self) -> dict[str, Any]:
        """The public JWKS of the token keyring and every loaded ID-token keyring."""
        seen: dict[str, dict[str, Any]] = {}
        for ring in self._loaded():
            for jwk in ring.current.jwks["keys"]:
                seen.setdefault(jwk["kid"], jwk)
        return {"keys": list(seen.values())}
