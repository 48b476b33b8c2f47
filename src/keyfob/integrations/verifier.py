"""Verifying keyfob access tokens in an app: keys from keyfob's JWKS, or the shared HS256 secret.

The JWKS is fetched on first use and again when a token names a ``kid`` we do not know (keyfob
rotated its key), but at most once per ``refetch_cooldown`` seconds, so a flood of tokens with
made-up kids cannot turn into a flood of requests to keyfob. Verified tokens are remembered in
a small bounded cache; expiry and the denylist are still checked on every call.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio
import anyio.to_thread

from keyfob.core.keys import SigningKey, hs256_signing_key, verification_key_from_jwk
from keyfob.core.tokens import AccessTokenClaims, unverified_kid, verify_access_token
from keyfob.errors import ConfigurationError, InvalidToken, KeyfobError, TokenRevoked
from keyfob.integrations.urls import require_secure_url

log = logging.getLogger("keyfob.integrations")

MAX_JWKS_BYTES = 256 * 1024


class Denylist(Protocol):
    """Revoked access tokens, by token id (``jti``) and by session (``sid``), e.g. a
    ``RemoteDenylist``. Both are checked on every verification, so they must be cheap; either
    may raise a :class:`KeyfobError` (it refuses the token), as ``RemoteDenylist`` does when it
    has not been able to read keyfob's list for too long.
    """

    async def contains(self, jti: str) -> bool:
        """Whether the token with this ``jti`` has been revoked."""
        ...

    async def contains_session(self, sid: str) -> bool:
        """Whether every token of the session ``sid`` has been revoked (logout, refresh-token
        reuse, a disabled user, a removed sign-in method)."""
        ...


class TokenVerifier:
    """Verifies keyfob access tokens for one issuer and audience, by ``jwks_url`` or ``secret``.

    ``secret`` is the HS256 secret ``keyfob keys rotate`` printed (never ``KEYFOB_SECRET_KEY``),
    or several of them while a rotation is under way: each token is checked with the secret its
    ``kid`` names (the kid is the secret's RFC 7638 thumbprint, so none has to be configured).

    ``issuer`` and ``audience`` must equal keyfob's ``iss`` (its public URL) and ``aud``.
    ``leeway`` is the clock skew allowed, in seconds; ``cache_size`` bounds the cache of verified
    tokens; ``clock`` returns the current aware UTC time (tests move it). ``fetch_count`` counts
    JWKS fetches. ``jwks_url`` is https, or plain http only to a loopback host (localhost,
    127.0.0.0/8, ::1): anything else is a :class:`ConfigurationError`. With a ``denylist`` a
    token is refused when its ``jti`` or its session (``sid``) is on it.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        secret: str | Sequence[str] | None = None,
        denylist: Denylist | None = None,
        leeway: int = 0,
        refetch_cooldown: float = 30.0,
        cache_size: int = 4096,
        fetch_timeout: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if (jwks_url is None) == (secret is None):
            raise ConfigurationError("Give TokenVerifier exactly one of jwks_url or secret.")
        if jwks_url is not None:
            require_secure_url(jwks_url, what="jwks_url")
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.denylist = denylist
        self.leeway = leeway
        self.refetch_cooldown = refetch_cooldown
        self.fetch_timeout = fetch_timeout
        self.clock = clock
        self.fetch_count = 0
        self._keys: dict[str, SigningKey] | None = None
        if secret is not None:
            secrets = [secret] if isinstance(secret, str) else list(secret)
            if not secrets:
                raise ConfigurationError("Give TokenVerifier at least one HS256 secret.")
            self._keys = {key.kid: key for key in map(hs256_signing_key, secrets)}
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()
        self._cache: OrderedDict[str, AccessTokenClaims] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str) -> AccessTokenClaims:
        """The verified claims of ``token``; :class:`InvalidToken` or ``TokenRevoked`` if not."""
        now = self.clock()
        claims = self._cache.get(token)
        if claims is not None:
            if now.timestamp() >= claims.expires_at + self.leeway:
                del self._cache[token]
                raise InvalidToken("The access token has expired.")
        else:
            claims = await self._verify_uncached(token, now)
        if self.denylist is not None:
            if await self.denylist.contains(claims.jti):
                raise TokenRevoked("The access token has been revoked.")
            sid = claims.session_id
            if sid is not None and await self.denylist.contains_session(sid):
                raise TokenRevoked("The session of this access token has ended.")
        return claims

    async def _verify_uncached(self, token: str, now: datetime) -> AccessTokenClaims:
        kid = unverified_kid(token)
        if self._keys is None or (kid is not None and kid not in self._keys):
            await self._refresh_keys(kid)
        claims = verify_access_token(
            token,
            keys=self._keys or {},
            expected_issuer=self.issuer,
            expected_audience=self.audience,
            now=now,
            leeway=self.leeway,
        )
        self._cache[token] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    async def _refresh_keys(self, kid: str | None) -> None:
        if self.jwks_url is None:
            return
        async with self._lock:
            # Another task may have fetched while we waited for the lock.
            if self._keys is not None and (kid is None or kid in self._keys):
                return
            if (
                self._keys is not None
                and time.monotonic() - self._fetched_at < self.refetch_cooldown
            ):
                return
            self._fetched_at = time.monotonic()
            self.fetch_count += 1
            try:
                document = await anyio.to_thread.run_sync(self._fetch_jwks, self.jwks_url)
                keys = parse_jwks(document)
            except (OSError, ValueError, KeyfobError) as exc:
                log.warning("Could not fetch keyfob's JWKS from %s: %s", self.jwks_url, exc)
                return
            if keys != self._keys:
                self._cache.clear()
            self._keys = keys

    def _fetch_jwks(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.fetch_timeout) as response:  # noqa: S310
                body = response.read(MAX_JWKS_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()  # an error answer holds the connection open until collected otherwise
            raise
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("the JWKS is too large")
        return json.loads(body)


def parse_jwks(document: Any) -> dict[str, SigningKey]:
    """The usable verification keys of a JWKS document, by ``kid`` (others are skipped)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError('a JWKS is an object with a "keys" list')
    keys: dict[str, SigningKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping):
            continue
        try:
            key = verification_key_from_jwk(jwk)
        except KeyfobError as exc:
            log.info("Skipping a JWK keyfob tokens cannot use: %s", exc.message)
            continue
        keys[key.kid] = key
    return keys
