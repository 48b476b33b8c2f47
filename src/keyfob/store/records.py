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
    kind: str  # "ethereum" | "nimiq" | "solana" | "passkey"
    address: str  # canonical form: EIP-55, "NQxx xxxx ...", base58, base64url credential id
    public_key: bytes | None  # Nimiq/Solana key; a passkey's COSE key
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
    username: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One sign-in: the refresh-token family, its session keys and its access tokens' ``sid``."""

    id: str
    user_id: str
    identity_id: str
    amr: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    # Where it was seen (migration 0007; None for a session from before it).
    device: str | None = None
    ip_area: str | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionDevice:
    """Where a session is opened or used from: ``device``, a short summary of the User-Agent
    (browser and system, never the header itself), and ``ip_area``, the client's network (an
    IPv4 /24 or IPv6 /48, never its address). Either may be unknown."""

    device: str | None = None
    ip_area: str | None = None


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
    session: SessionRecord | None  # None when the sign-in opened no API session (hosted pages)


@dataclass(frozen=True, slots=True)
class PasskeyRecord:
    """A registered passkey: its identity (credential id, COSE key), owner and counter."""

    identity: IdentityRecord
    user_disabled: bool
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    backed_up: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PasskeyChallengeRecord:
    """A WebAuthn challenge keyfob issued, single-use; or a one-time admin enrolment link.

    ``purpose`` is ``"register"`` or ``"login"``. For a registration, ``user_id`` is the id the
    new account will get (or the signed-in account a passkey is added to), ``username`` its
    name, ``roles`` the roles a new account is given. For a sign-in, a ``user_id`` pins whose
    passkey must answer (the username was given)."""

    challenge: str
    purpose: str
    user_id: str | None
    username: str | None
    roles: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A client app of the hosted sign-in pages (seed 003's "client")."""

    id: str
    name: str
    sealed_secret: bytes  # the HS256 secret, sealed with KEYFOB_SECRET_KEY
    redirect_uris: tuple[str, ...]
    registration_enabled: bool
    open_to_all: bool  # False: only users granted permission may sign in
    token_lifetime_minutes: int
    authorized_client_lifetime_minutes: int
    token_delivery: str  # "query" | "fragment" | "form_post"
    created_at: datetime
    updated_at: datetime
    require_state: bool = False  # refuse hosted requests without a non-empty state
    # OpenID Connect (migration 0004); the defaults are the columns' server defaults.
    client_type: str = "confidential"  # "confidential" | "public"
    # "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none"
    token_endpoint_auth_method: str = "client_secret_basic"
    post_logout_redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("openid", "profile")  # the scopes it may ask for
    subject_type: str = "public"  # "public" | "pairwise"
    sector_identifier: str | None = None  # the host pairwise subjects are computed for
    id_token_alg: str = "RS256"  # "RS256" | "ES256" | "EdDSA"
    backchannel_logout_uri: str | None = None
    first_party: bool = False  # no consent page
    issue_refresh_tokens: bool = False  # refresh tokens even without offline_access
    jwks: str | None = None  # its public JWKS as JSON (private_key_jwt)
    resources: tuple[str, ...] = ()  # RFC 8707 resource indicators it may ask for
    synthetic_email: bool = False
    refresh_lifetime_minutes: int | None = None  # None: the server's default
    logo_uri: str | None = None  # shown on its sign-in and consent pages (migration 0007)


@dataclass(frozen=True, slots=True)
class SsoSessionRecord:
    """A browser's single-sign-on session on the hosted pages (the cookie holds the token)."""

    token_hash: str
    user_id: str
    amr: tuple[str, ...]
    authenticated_at: datetime
    expires_at: datetime
    sid: str | None = None  # the public OIDC session id (``sid`` claim); None before 0004
    # Where it was seen, as :class:`SessionRecord`'s (migration 0007).
    device: str | None = None
    ip_area: str | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EndedSessions:
    """What signing a user out everywhere ended: how many API sessions, and which SSO sessions
    (for their end hooks)."""

    sessions: int
    sso_sessions: tuple[SsoSessionRecord, ...]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit log. ``id`` is None until stored."""

    at: datetime
    event: str  # e.g. "sign_in", "sign_in_failed", "sso_redirect", "admin.client_created"
    user_id: str | None = None
    client_id: str | None = None
    actor_id: str | None = None
    ip: str | None = None
    detail: str = "{}"  # compact JSON object
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RecoveryCodesStatus:
    """A user's recovery codes: how many were made, how many are left, and when they were made
    (None without codes)."""

    total: int
    remaining: int
    generated_at: datetime | None
