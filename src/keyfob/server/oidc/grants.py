"""Turning a grant into tokens: the RFC 9068 access token, the ID token, a refresh token.

Access tokens are signed with the server's token key and say which grant they belong to
(``gid``), so userinfo and introspection stop honouring them the moment the grant is revoked
(a reused code or refresh token, a logout, a disabled user). The ID token is signed with the
client's algorithm and carries ``at_hash`` of the access token issued with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keyfob.core.oidc_id_token import issue_id_token
from keyfob.core.rfc9068 import issue_client_access_token
from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.server.oidc.provider import Provider
from keyfob.server.oidc.subjects import subject_of
from keyfob.server.services.lifetimes import max_age
from keyfob.store.records import ClientRecord
from keyfob.store.records_oidc import OidcGrantRecord


@dataclass(frozen=True)
class IssuedTokens:
    """A token response's tokens and how long the access token lives."""

    access_token: str
    id_token: str | None
    refresh_token: str | None
    expires_in: int
    scope: tuple[str, ...]

    def response(self) -> dict[str, Any]:
        """The RFC 6749 §5.1 JSON body."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(self.scope),
        }
        if self.id_token is not None:
            body["id_token"] = self.id_token
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


def wants_refresh(client: ClientRecord, scope: tuple[str, ...]) -> bool:
    """Refresh tokens go to a grant with ``offline_access`` or to a client set to get them."""
    return "offline_access" in scope or client.issue_refresh_tokens


def grant_end(provider: Provider, now: datetime) -> datetime:
    """When a new grant ends at the latest (``KEYFOB_SESSION_MAX_AGE``)."""
    return now + max_age(provider.runtime.settings)


def refresh_expiry(provider: Provider, client: ClientRecord, now: datetime) -> datetime:
    """A new refresh token's end: the client's refresh lifetime, else the server's (the
    store caps it at the grant's end)."""
    minutes = client.refresh_lifetime_minutes
    if minutes:
        return now + timedelta(minutes=minutes)
    return now + timedelta(seconds=provider.runtime.settings.refresh_token_ttl)


async def mint_tokens(
    provider: Provider,
    client: ClientRecord,
    grant: OidcGrantRecord,
    *,
    scope: tuple[str, ...],
    now: datetime,
    nonce: str | None = None,
    refresh: bool,
) -> tuple[IssuedTokens, str | None]:
    """The tokens of ``grant`` for ``scope``; also the new refresh token's hash, to store."""
    subject = subject_of(provider, client, grant.user_id)
    lifetime = client.token_lifetime_minutes * 60
    remaining = int((grant.expires_at - now).total_seconds())
    lifetime = max(1, min(lifetime, remaining))
    access = issue_client_access_token(
        provider.keys.access_token_key(),
        issuer=provider.issuer,
        subject=subject,
        audience=grant.resource or client.id,
        client_id=client.id,
        scope=scope,
        now=now,
        lifetime_seconds=lifetime,
        auth_time=grant.auth_time,
        grant_id=grant.id,
        sid=grant.sid,
        amr=grant.amr,
    )
    id_token = None
    if "openid" in scope:
        id_token = issue_id_token(
            await provider.keys.id_token_key(client.id_token_alg, now=now),
            issuer=provider.issuer,
            subject=subject,
            audience=client.id,
            now=now,
            lifetime_seconds=lifetime,
            auth_time=grant.auth_time,
            nonce=nonce,
            amr=grant.amr,
            sid=grant.sid,
            access_token=access,
        )
    refresh_token = new_refresh_token() if refresh else None
    tokens = IssuedTokens(access, id_token, refresh_token, lifetime, scope)
    return tokens, None if refresh_token is None else hash_refresh_token(refresh_token)
