"""Passkey registration and sign-in, step by step; shared by the JSON API and hosted pages.

Every challenge is stored server-side and consumed atomically with what it authorises (the
new passkey, the sign-in), so a response can be replayed neither here nor against another
account. The sign counter is checked atomically in the sign-in transaction, after the challenge
is spent: so a replayed assertion is an invalid challenge rather than a clone alarm, and of two
concurrent sign-ins at most one passes. A regression is then audited with its figures.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from keyfob.core.amr import passkey_amr
from keyfob.core.passkeys import (
    PasskeyOptions,
    authentication_options,
    check_sign_count,
    parse_credential,
    registration_options,
    verify_passkey_assertion,
    verify_passkey_registration,
)
from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.errors import (
    Conflict,
    InvalidChallenge,
    InvalidCredential,
    InvalidRequest,
    SignCountRegression,
)
from keyfob.server.audit import failures_audited, record_event, sign_in_event
from keyfob.server.runtime import Runtime
from keyfob.store import NonceSpend, SignInOutcome
from keyfob.store.passkeys import PASSKEY, NewPasskey
from keyfob.store.records import PasskeyChallengeRecord, UserRecord

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class PasskeySignIn:
    """A completed passkey ceremony: the outcome and, when a session was opened, its token."""

    outcome: SignInOutcome
    refresh_token: str | None
    amr: tuple[str, ...]


def user_handle(user_id: str) -> bytes:
    """The WebAuthn user handle of a user: the 16 bytes of their UUID (no personal data)."""
    return uuid.UUID(user_id).bytes


def check_username(username: str) -> str:
    """A username as given, if it is 1 to 64 letters, digits or ``. _ @ + -``."""
    if not USERNAME.match(username):
        raise InvalidRequest(
            "A username is 1 to 64 letters, digits or . _ @ + - and starts with a letter or digit."
        )
    return username


async def begin_registration(
    runtime: Runtime,
    *,
    username: str | None = None,
    user: UserRecord | None = None,
    roles: tuple[str, ...] = (),
) -> PasskeyOptions:
    """Creation options for a new account (``username`` optional) or, given the signed-in
    ``user``, for a passkey added to their account; the challenge is stored."""
    settings, store = runtime.settings, runtime.store
    exclude: list[str] = []
    if user is not None:
        user_id, name = user.id, user.username or f"user-{user.id[:8]}"
        exclude = [p.identity.address for p in await store.passkeys_of_user(user.id)]
    else:
        if username is not None:
            check_username(username)
            if await store.user_id_by_username(username) is not None:
                raise Conflict("This username is taken; choose another.")
        user_id = str(uuid.uuid4())
        name = username or f"user-{user_id[:8]}"
    options = registration_options(
        rp_id=settings.rp_id,
        rp_name=settings.webauthn_rp_name,
        user_handle=user_handle(user_id),
        user_name=name,
        user_display_name=name,
        exclude_credential_ids=exclude,
        user_verification=settings.webauthn_user_verification,
        attestation=settings.webauthn_attestation,
        timeout_ms=settings.webauthn_timeout * 1000,
    )
    await _remember(runtime, options, "register", user_id, None if user else username, roles)
    return options


async def begin_sign_in(runtime: Runtime, *, username: str | None = None) -> PasskeyOptions:
    """Request options: for ``username``'s passkeys, or discoverable (usernameless) when None.

    An unknown username gets usernameless options rather than an error, so the endpoint does
    not tell who has an account."""
    settings, store = runtime.settings, runtime.store
    user_id = await store.user_id_by_username(username) if username else None
    allow = [p.identity.address for p in await store.passkeys_of_user(user_id)] if user_id else []
    options = authentication_options(
        rp_id=settings.rp_id,
        allow_credential_ids=allow,
        user_verification=settings.webauthn_user_verification,
        timeout_ms=settings.webauthn_timeout * 1000,
    )
    await _remember(runtime, options, "login", user_id, None, ())
    return options


async def finish_registration(
    runtime: Runtime,
    credential: Mapping[str, Any],
    *,
    user: UserRecord | None = None,
    open_session: bool = True,
    ip: str | None = None,
) -> PasskeySignIn:
    """Verify a registration response and store the passkey (creating the account unless
    ``user`` is adding it to theirs); open a session when ``open_session``."""
    settings, now = runtime.settings, runtime.now()
    parsed = parse_credential(credential)
    registered = verify_passkey_registration(
        parsed.raw,
        expected_challenge=parsed.challenge,
        expected_rp_id=settings.rp_id,
        expected_origins=settings.passkey_origins,
        require_user_verification=settings.webauthn_user_verification == "required",
    )

    def check(record: PasskeyChallengeRecord) -> None:
        if record.purpose != "register":
            raise InvalidChallenge("This challenge was not issued for registering a passkey.")
        if user is not None and record.user_id != user.id:
            raise InvalidChallenge("This challenge was issued for another account.")

    refresh_token = new_refresh_token() if open_session else None
    amr = passkey_amr(
        backup_eligible=registered.device_type == "multi_device",
        backed_up=registered.backed_up,
        user_verified=registered.user_verified,
    )
    outcome = await runtime.store.register_passkey(
        challenge=parsed.challenge,
        check=check,
        passkey=NewPasskey(
            credential_id=registered.credential_id,
            public_key=registered.public_key,
            sign_count=registered.sign_count,
            transports=registered.transports,
            aaguid=registered.aaguid,
            backed_up=registered.backed_up,
        ),
        now=now,
        refresh_token_hash=hash_refresh_token(refresh_token) if refresh_token else None,
        refresh_expires_at=now + timedelta(seconds=settings.refresh_token_ttl),
        adding=user is not None,
        amr=amr,
    )
    event = "passkey_added" if user is not None else "passkey_registered"
    await record_event(runtime, event, user_id=outcome.user.id, ip=ip, method=PASSKEY)
    return PasskeySignIn(outcome=outcome, refresh_token=refresh_token, amr=amr)


async def finish_sign_in(
    runtime: Runtime,
    credential: Mapping[str, Any],
    *,
    open_session: bool = True,
    ip: str | None = None,
    client_id: str | None = None,
) -> PasskeySignIn:
    """Verify an assertion against the stored passkey, spend its challenge, move the counter
    on and sign the user in (with a new session when ``open_session``). Failures are audited."""
    async with failures_audited(runtime, PASSKEY, ip=ip, client_id=client_id):
        return await _finish_sign_in(runtime, credential, open_session, ip, client_id)


async def _finish_sign_in(
    runtime: Runtime,
    credential: Mapping[str, Any],
    open_session: bool,
    ip: str | None,
    client_id: str | None,
) -> PasskeySignIn:
    settings, store, now = runtime.settings, runtime.store, runtime.now()
    parsed = parse_credential(credential)
    passkey = await store.get_passkey(parsed.credential_id)
    if passkey is None:
        raise InvalidCredential("This passkey is not registered here.")
    owner = passkey.identity.user_id
    if parsed.user_handle is not None and parsed.user_handle != user_handle(owner):
        raise InvalidCredential("The passkey's user handle does not match its account.")
    assert passkey.identity.public_key is not None
    verified = verify_passkey_assertion(
        parsed.raw,
        expected_challenge=parsed.challenge,
        expected_rp_id=settings.rp_id,
        expected_origins=settings.passkey_origins,
        credential_public_key=passkey.identity.public_key,
        require_user_verification=settings.webauthn_user_verification == "required",
    )

    def check(record: PasskeyChallengeRecord) -> None:
        if record.purpose != "login":
            raise InvalidChallenge("This challenge was not issued for signing in.")
        if record.user_id is not None and record.user_id != owner:
            raise InvalidCredential("This passkey belongs to another account.")

    refresh_token = new_refresh_token() if open_session else None
    amr = passkey_amr(
        backup_eligible=verified.backup_eligible,
        backed_up=verified.backed_up,
        user_verified=verified.user_verified,
    )
    try:
        outcome = await store.complete_sign_in(
            spend=NonceSpend(
                challenge=parsed.challenge, challenge_check=check, sign_count=verified.sign_count
            ),
            kind=PASSKEY,
            address=parsed.credential_id,
            public_key=None,
            amr=amr,
            refresh_token_hash=hash_refresh_token(refresh_token) if refresh_token else None,
            now=now,
            refresh_expires_at=now + timedelta(seconds=settings.refresh_token_ttl),
            audit=sign_in_event(runtime, PASSKEY, ip=ip, client_id=client_id),
        )
    except SignCountRegression:
        current = await store.get_passkey(parsed.credential_id)
        stored = passkey.sign_count if current is None else current.sign_count
        await record_event(
            runtime,
            "passkey_sign_count_regression",
            user_id=owner,
            ip=ip,
            client_id=client_id,
            credential=parsed.credential_id,
            stored=stored,
            received=verified.sign_count,
        )
        check_sign_count(stored=stored, received=verified.sign_count)  # raises, with figures
        raise
    return PasskeySignIn(outcome=outcome, refresh_token=refresh_token, amr=amr)


async def _remember(
    runtime: Runtime,
    options: PasskeyOptions,
    purpose: str,
    user_id: str | None,
    username: str | None,
    roles: tuple[str, ...],
) -> None:
    record = PasskeyChallengeRecord(
        challenge=options.challenge,
        purpose=purpose,
        user_id=user_id,
        username=username,
        roles=roles,
        expires_at=runtime.now() + timedelta(seconds=runtime.settings.webauthn_timeout),
    )
    await runtime.store.add_passkey_challenge(record)
