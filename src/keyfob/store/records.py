"""Frozen records the store hands out; plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NonceRecord:
    """A nonce issued in ``stored`` mode, bound to a chain and optionally an address."""

    nonce: str
    chain: str
    address: str | None
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One way a user signs in: a wallet address (or, later, a passkey credential)."""

    id: str
    user_id: str
    kind: str  # "ethereum" | "nimiq" | "solana" (| "passkey" later)
    address: str  # canonical form: EIP-55, "NQxx xxxx ...", base58
    public_key: bytes | None
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and all of their identities."""

    id: str
    created_at: datetime
    last_login: datetime | None
    disabled: bool
    roles: tuple[str, ...]
    identities: tuple[IdentityRecord, ...]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One sign-in: the refresh-token family, its session keys and its access tokens' ``sid``."""

    id: str
    user_id: str
    identity_id: str
    amr: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionKeyRecord:
    """An app session key (seed 001) authorised by a wallet signature, tied to a session."""

    thumbprint: str
    user_id: str
    session_id: str
    jwk: str  # the public JWK as compact JSON
    created_at: datetime
    expires_at: datetime
    last_timestamp_ms: int
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A token-signing key; the private part is sealed with the secret key (see secretbox)."""

    kid: str
    alg: str
    sealed_private_key: bytes
    public_jwk: str  # compact JSON
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """What one sign-in transaction made: the user, the identity used, the new session."""

    user: UserRecord
    identity: IdentityRecord
    session: SessionRecord
