"""Frozen records of the OpenID Connect provider's store: codes, grants, consents, outcomes.

A *grant* is what one authorization code exchange started: the family of refresh tokens it
issues and the anchor every token of it (access tokens included, by ``grant_id``) is checked
against; revoking it ends them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class OidcCodeRecord:
    """An authorization code, known by the SHA-256 hex of the code (never the code itself)."""

    code_hash: str
    client_id: str
    user_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None  # S256 of the code_verifier (PKCE)
    resource: str | None  # RFC 8707 resource indicator
    sid: str | None  # the SSO session the code was issued in
    auth_time: datetime
    amr: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    grant_id: str | None = None  # the grant its exchange started
    reused_at: datetime | None = None  # first time it was presented again after use


@dataclass(frozen=True, slots=True)
class OidcGrantRecord:
    """What one code exchange started; dead once revoked or past ``expires_at``."""

    id: str
    client_id: str
    user_id: str
    sid: str | None
    scope: tuple[str, ...]
    resource: str | None
    auth_time: datetime
    amr: tuple[str, ...]
    created_at: datetime
    expires_at: datetime  # the absolute end of the grant and of every token of it
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """The scopes a user allowed a client, and when they last allowed any."""

    user_id: str
    client_id: str
    scopes: frozenset[str]
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class CodeUse:
    """What presenting an authorization code did.

    ``code`` is set only for the one call that consumed it. ``reused`` says the code had been
    consumed before: the grant its first exchange started, ``revoked_grant_id``, is revoked
    now (RFC 6749 section 4.1.2), and no grant can start from it any more. An unknown or
    expired code gives neither.
    """

    code: OidcCodeRecord | None
    reused: bool = False
    revoked_grant_id: str | None = None


#: How a refresh token rotation ended (see :class:`RefreshOutcome`).
RefreshKind = Literal["rotated", "invalid", "wrong_client", "reused"]


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """The outcome of one OIDC refresh token rotation.

    ``"rotated"``: the successor is stored; ``grant`` is the live grant. ``"reused"``: the
    token had already been rotated, so its whole grant is revoked now; ``grant`` is that grant
    (revoked). ``"wrong_client"``: the token is another client's; nothing changed.
    ``"invalid"``: unknown, expired, or its grant is revoked or over. Only ``"rotated"``
    may answer with tokens.
    """

    kind: RefreshKind
    grant: OidcGrantRecord | None = None
