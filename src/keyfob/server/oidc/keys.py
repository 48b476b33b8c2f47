"""The signing keys of OpenID Connect: one keyring per ID-token algorithm, one JWKS for all.

ID tokens are RS256 unless a client asks for ES256 or EdDSA; access tokens for clients are
signed by the server's token key (``KEYFOB_TOKEN_ALGORITHM``, EdDSA by default: a tenth of an
RSA signature's cost, on every code exchange and refresh). Each algorithm has its own
:class:`~keyfob.server.keyring.Keyring` over the same ``signing_keys`` table, so each rotates
on its own and every key keeps a unique ``kid``; the server's token keyring is reused for its
own algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from keyfob.core.keys import SigningKey
from keyfob.errors import ConfigurationError
from keyfob.server.keyring import Keyring

ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")


class OidcKeys:
    """The keyrings of :data:`ID_TOKEN_ALGORITHMS` next to the server's token keyring."""

    def __init__(self, token_keyring: Keyring, make_keyring: Any) -> None:
        """``make_keyring(alg)`` builds the keyring of an algorithm the token keyring lacks."""
        self.token_keyring = token_keyring
        self._rings: dict[str, Keyring] = {
            alg: token_keyring if alg == token_keyring.algorithm else make_keyring(alg)
            for alg in ID_TOKEN_ALGORITHMS
        }

    async def load(self, *, now: datetime) -> None:
        """Load (and on first start generate) the key of every ID-token algorithm."""
        for ring in self._rings.values():
            if ring is not self.token_keyring:
                await ring.load(now=now)

    async def refresh_if_stale(self, *, now: datetime) -> None:
        """Reload the keyrings whose keys are older than the reload interval."""
        for ring in self._rings.values():
            if ring is not self.token_keyring:
                await ring.refresh_if_stale(now=now)

    def id_token_key(self, alg: str) -> SigningKey:
        """The current key that signs ID tokens of ``alg``."""
        ring = self._rings.get(alg)
        if ring is None:
            raise ConfigurationError(f"keyfob does not sign ID tokens with {alg!r}.")
        return ring.current.current

    def access_token_key(self) -> SigningKey:
        """The current key of access tokens for clients (the server's token algorithm)."""
        return self.token_keyring.current.current

    def verification_keys(self) -> Mapping[str, SigningKey]:
        """Every key that still verifies, by ``kid`` (never an HS256 key: not ours to share)."""
        keys: dict[str, SigningKey] = {}
        for ring in self._rings.values():
            keys.update((kid, key) for kid, key in ring.current.by_kid.items())
        return {kid: key for kid, key in keys.items() if key.alg != "HS256"}

    def jwks(self) -> dict[str, Any]:
        """The public JWKS of the token keyring and every ID-token keyring, each kid once."""
        seen: dict[str, dict[str, Any]] = {}
        for ring in (self.token_keyring, *self._rings.values()):
            for jwk in ring.current.jwks["keys"]:
                seen.setdefault(jwk["kid"], jwk)
        return {"keys": list(seen.values())}
