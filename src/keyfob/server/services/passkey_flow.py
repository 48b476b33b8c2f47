"""Passkey registration and sign-in, step by step; shared by the JSON API and hosted pages.

Every challenge is stored server-side and consumed atomically with what it authorises (the
new passkey, the sign-in), so a response can be replayed neither here nor against another
account. The sign counter is checked atomically in the sign-in transaction, after the challenge
is spent: so a replayed assertion is an invalid challenge rather than a clone alarm, and of two
concurrent sign-ins at most one passes. A regression is then audited with its figures.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from keyfob.core.amr import passkey_amr
from keyfob.core.passkey_parsing import ParsedCredential
from keyfob.core.passkeys import (
    PasskeyOptions,
    UserVerification,
    VerifiedAssertion,
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
from keyfob.server.infra.inputs import USERNAME
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import failures_audited, record_event, sign_in_event
from keyfob.server.services.lifetimes import first_refresh_expiry
from keyfob.store import NonceSpend, SignInOutcome
from keyfob.store.passkeys import PASSKEY, NewPasskey
from keyfob.store.records import (
    PasskeyChallengeRecord,
    PasskeyRecord,
    SessionDevice,
    UserRecord,
)

NO_SUCH_NAME = "-"  # no username matches USERNAME's first character rule
#: The longest credential id stored: its column holds 255 base64url characters (191 bytes);
#: WebAuthn allows 1023 bytes, real authenticators use 16 to 128.
MAX_CREDENTIAL_ID = 255


@dataclass(frozen=True, slots=True)
class PasskeySignIn:
    """A completed passkey ceremony: the outcome and, when a session was opened, its token."""

    outcome: SignInOutcome
    refresh_token: str | None
    amr: tuple[str, ...]


def user_handle(user_id: str) -> bytes:
    """The WebAuthn user handle of a user: the 16 bytes of their UUID (no personal data)."""
    return uuid.UUID(user_id).bytes


def check_assertion(
    runtime: Runtime,
    parsed: ParsedCredential,
    passkey: PasskeyRecord,
    *,
    require_user_verification: bool,
) -> VerifiedAssertion:
    """Check an assertion against the stored ``passkey`` (py_webauthn: challenge echo, origin,
    RP ID, flags, signature); its user handle, when sent, must be the passkey's account's."""
    if parsed.user_handle is not None and parsed.user_handle != user_handle(
        passkey.identity.user_id
    ):
        raise InvalidCredential("The passkey's user handle does not match its account.")
    assert passkey.identity.public_key is not None
    settings = runtime.settings
    return verify_passkey_assertion(
        parsed.raw,
        expected_challenge=parsed.challenge,
        expected_rp_id=settings.rp_id,
        expected_origins=settings.passkey_origins,
        credential_public_key=passkey.identity.public_key,
        require_user_verification=require_user_verification,
    )


def check_username(username: str) -> str:
    """A username as given, if it is 1 to 64 letters, digits or ``. _ @ + -``."""
    if not USERNAME.fullmatch(username):  # the whole name: "alice\n" is not one
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
    user_verification: UserVerification | None = None,
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
        user_verification=user_verification or settings.webauthn_user_verification,
        attestation=settings.webauthn_attestation,
        timeout_ms=settings.webauthn_timeout * 1000,
    )
    await _remember(runtime, options, "register", user_id, None if user else username, roles)
    return options


async def begin_sign_in(
    runtime: Runtime,
    *,
    username: str | None = None,
    user_verification: UserVerification | None = None,
) -> PasskeyOptions:
    """Request options for a discoverable credential (never ``allowCredentials``), the same
    for a known, an unknown and no username but for the random challenge: they tell nobody
    who has an account nor leak credential ids before proof. A username only narrows, on the
    server, whose passkey must answer (kept with the challenge). ``user_verification``
    overrides ``KEYFOB_WEBAUTHN_USER_VERIFICATION`` (the admin sign-in requires it)."""
    settings, store = runtime.settings, runtime.store
    valid = username is not None and USERNAME.fullmatch(username) is not None
    user_id = await store.user_id_by_username(username) if username and valid else None
    # Kept with the challenge; a name no account can have (bad characters) is kept as "-",
    # which pins nobody either.
    pinned = username if valid else (None if username is None else NO_SUCH_NAME)
    options = authentication_options(
        rp_id=settings.rp_id,
        user_verification=user_verification or settings.webauthn_user_verification,
        timeout_ms=settings.webauthn_timeout * 1000,
    )
    await _remember(runtime, options, "login", user_id, pinned, ())
    return options


async def finish_registration(
    runtime: Runtime,
    credential: Mapping[str, Any],
    *,
    user: UserRecord | None = None,
    open_session: bool = True,
    ip: str | None = None,
    require_user_verification: bool = False,
    name: str | None = None,
    device: SessionDevice | None = None,
) -> PasskeySignIn:
    """Verify a registration response and store the passkey (creating the account unless
    ``user`` is adding it to theirs), under ``name`` if given; open a session (seen on
    ``device``) when
    ``open_session``. User verification is required when the settings say so or
    ``require_user_verification``."""
    settings, now = runtime.settings, runtime.now()
    required = require_user_verification or settings.webauthn_user_verification == "required"
    parsed = parse_credential(credential)
    if len(parsed.credential_id) > MAX_CREDENTIAL_ID:
        raise InvalidRequest(
            "This passkey's credential id is longer than keyfob keeps (191 bytes)."
        )
    registered = verify_passkey_registration(
        parsed.raw,
        expected_challenge=parsed.challenge,
        expected_rp_id=settings.rp_id,
        expected_origins=settings.passkey_origins,
        require_user_verification=required,
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
            name=name,
        ),
        now=now,
        refresh_token_hash=hash_refresh_token(refresh_token) if refresh_token else None,
        refresh_expires_at=first_refresh_expiry(settings, now),
        adding=user is not None,
        amr=amr,
        device=device,
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
    require_user_verification: bool = False,
    device: SessionDevice | None = None,
) -> PasskeySignIn:
    """Verify an assertion against the stored passkey, spend its challenge, move the counter
    on and sign the user in (with a new session, seen on ``device``, when ``open_session``).
    Failures are audited.
    User verification is required when the settings say so or ``require_user_verification``."""
    required = require_user_verification or runtime.settings.webauthn_user_verification == (
        "required"
    )
    async with failures_audited(runtime, PASSKEY, ip=ip, client_id=client_id):
        return await _finish_sign_in(
            runtime, credential, open_session, ip, client_id, required, device
        )


async def _finish_sign_in(
    runtime: Runtime,
    credential: Mapping[str, Any],
    open_session: bool,
    ip: str | None,
    client_id: str | None,
    require_user_verification: bool,
    device: SessionDevice | None,
) -> PasskeySignIn:
    settings, store, now = runtime.settings, runtime.store, runtime.now()
    parsed = parse_credential(credential)
    passkey = await store.get_passkey(parsed.credential_id)
    if passkey is None:
        raise InvalidCredential("This passkey is not registered here.")
    owner = passkey.identity.user_id
    verified = check_assertion(
        runtime, parsed, passkey, require_user_verification=require_user_verification
    )

    def check(record: PasskeyChallengeRecord) -> None:
        if record.purpose != "login":
            raise InvalidChallenge("This challenge was not issued for signing in.")
        named = record.user_id is not None or record.username is not None
        if named and record.user_id != owner:  # a username no account has pins None
            raise InvalidCredential("This passkey belongs to another account.")
        if record.user_id is None and parsed.user_handle is None:  # WebAuthn L3 §7.2 step 6
            raise InvalidCredential(
                "A sign-in without a username needs the passkey's user handle, and this "
                "response carries none."
            )

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
            refresh_expires_at=first_refresh_expiry(settings, now),
            audit=sign_in_event(runtime, PASSKEY, ip=ip, client_id=client_id),
            device=device,
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
