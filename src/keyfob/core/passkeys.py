"""Passkeys: keyfob's pure WebAuthn layer over py_webauthn.

Builds the options the browser passes to ``navigator.credentials.create()`` / ``.get()``, reads a
credential without verifying it (to find the challenge and passkey to verify it against), and
verifies registrations and assertions. Every failure, from py_webauthn or from malformed input,
becomes :class:`InvalidCredential`. The signature counter is deliberately not judged here: the
caller compares it with :func:`check_sign_count` atomically against its store.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

try:
    import webauthn
except ModuleNotFoundError as error:  # the library without the passkeys extra
    raise ModuleNotFoundError(
        "keyfob.core.passkeys needs py_webauthn: pip install 'keyfob[passkeys]'"
        " (keyfob[server] includes it)",
        name=error.name,
    ) from error
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    options_to_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.core.passkey_parsing import ParsedCredential as ParsedCredential
from keyfob.core.passkey_parsing import parse_credential as parse_credential
from keyfob.core.passkey_parsing import transports_of
from keyfob.errors import InvalidCredential, InvalidRequest, KeyfobError, SignCountRegression

SUPPORTED_ALGORITHMS: tuple[COSEAlgorithmIdentifier, ...] = (
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)
UserVerification = Literal["required", "preferred", "discouraged"]

_MAX_CREDENTIAL_ID = 1023  # WebAuthn L3 §7.1 step 24
# What py_webauthn (and cbor2, cryptography, base64 underneath) raise on hostile input.
_FAILURES = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, RecursionError)


@dataclass(frozen=True, slots=True)
class PasskeyOptions:
    """Options for the browser (JSON form) and the challenge in them (unpadded base64url)."""

    options: dict[str, Any]
    challenge: str


@dataclass(frozen=True, slots=True)
class RegisteredPasskey:
    """A verified new passkey, ready to store (``public_key`` is the COSE key)."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    backed_up: bool
    device_type: str
    user_verified: bool
    algorithm: int


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """A verified sign-in; ``sign_count`` still has to pass :func:`check_sign_count`."""

    credential_id: str
    sign_count: int
    user_verified: bool
    backed_up: bool
    user_handle: bytes | None
    backup_eligible: bool


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    user_name: str,
    user_display_name: str,
    exclude_credential_ids: Sequence[str] = (),
    user_verification: UserVerification = "preferred",
    attestation: Literal["none", "indirect", "direct"] = "none",
    timeout_ms: int = 300_000,
    challenge: bytes | None = None,
) -> PasskeyOptions:
    """Options for ``navigator.credentials.create()``: a discoverable credential (so sign-in
    works without a username) using one of :data:`SUPPORTED_ALGORITHMS`."""
    if not 1 <= len(user_handle) <= 64:
        raise InvalidRequest("A WebAuthn user handle must be 1 to 64 bytes.")
    challenge = _challenge(challenge, timeout_ms)
    try:
        options = webauthn.generate_registration_options(
            rp_id=rp_id,
            rp_name=rp_name,
            user_id=user_handle,
            user_name=user_name,
            user_display_name=user_display_name,
            challenge=challenge,
            timeout=timeout_ms,
            attestation=AttestationConveyancePreference(attestation),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement(user_verification),
            ),
            exclude_credentials=_descriptors(exclude_credential_ids),
            supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
        )
    except ValueError as exc:
        raise InvalidRequest(f"Cannot build passkey registration options: {exc}.") from exc
    return _to_json(options, challenge)


def authentication_options(
    *,
    rp_id: str,
    allow_credential_ids: Sequence[str] = (),
    user_verification: UserVerification = "preferred",
    timeout_ms: int = 300_000,
    challenge: bytes | None = None,
) -> PasskeyOptions:
    """Options for ``navigator.credentials.get()``; no allowed ids asks for a discoverable
    credential (usernameless sign-in)."""
    challenge = _challenge(challenge, timeout_ms)
    try:
        options = webauthn.generate_authentication_options(
            rp_id=rp_id,
            challenge=challenge,
            timeout=timeout_ms,
            allow_credentials=_descriptors(allow_credential_ids),
            user_verification=UserVerificationRequirement(user_verification),
        )
    except ValueError as exc:
        raise InvalidRequest(f"Cannot build passkey sign-in options: {exc}.") from exc
    return _to_json(options, challenge)


def verify_passkey_registration(
    credential: Mapping[str, Any] | str,
    *,
    expected_challenge: str,
    expected_rp_id: str,
    expected_origins: Sequence[str],
    require_user_verification: bool,
) -> RegisteredPasskey:
    """Verify a ``navigator.credentials.create()`` response (origin, RP ID, challenge, flags,
    algorithm, attestation statement) and return the passkey to store."""
    parsed = _parse_for(credential, "webauthn.create")
    try:
        verified = webauthn.verify_registration_response(
            credential=parsed.raw,
            expected_challenge=b64url_decode(expected_challenge),
            expected_rp_id=expected_rp_id,
            expected_origin=_origins(expected_origins),
            require_user_verification=require_user_verification,
            supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
        )
        algorithm = int(decode_credential_public_key(verified.credential_public_key).alg)
    except KeyfobError:
        raise
    except _FAILURES as exc:
        raise _invalid("The passkey registration does not verify", exc) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if credential_id != parsed.credential_id:
        raise InvalidCredential("The authenticator data names another credential than rawId.")
    if len(verified.credential_id) > _MAX_CREDENTIAL_ID:
        raise InvalidCredential("The credential id is longer than 1023 bytes.")
    return RegisteredPasskey(
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports_of(parsed.raw["response"].get("transports")),
        aaguid=verified.aaguid,
        backed_up=verified.credential_backed_up,
        device_type=verified.credential_device_type.value,
        user_verified=verified.user_verified,
        algorithm=algorithm,
    )


def verify_passkey_assertion(
    credential: Mapping[str, Any] | str,
    *,
    expected_challenge: str,
    expected_rp_id: str,
    expected_origins: Sequence[str],
    credential_public_key: bytes,
    require_user_verification: bool,
) -> VerifiedAssertion:
    """Verify a ``navigator.credentials.get()`` response against the stored public key. The
    signature counter is returned, not judged: pass it to :func:`check_sign_count`."""
    parsed = _parse_for(credential, "webauthn.get")
    try:
        decoded_public_key_to_cryptography(decode_credential_public_key(credential_public_key))
    except _FAILURES as exc:
        raise InvalidCredential("The stored public key of this passkey cannot be read.") from exc
    try:
        verified = webauthn.verify_authentication_response(
            credential=parsed.raw,
            expected_challenge=b64url_decode(expected_challenge),
            expected_rp_id=expected_rp_id,
            expected_origin=_origins(expected_origins),
            credential_public_key=credential_public_key,
            # 0 disables py_webauthn's counter check; the caller's must be atomic with the store.
            credential_current_sign_count=0,
            require_user_verification=require_user_verification,
        )
    except KeyfobError:
        raise
    except _FAILURES as exc:
        raise _invalid("The passkey sign-in does not verify", exc) from exc
    return VerifiedAssertion(
        credential_id=parsed.credential_id,
        sign_count=verified.new_sign_count,
        user_verified=verified.user_verified,
        backed_up=verified.credential_backed_up,
        user_handle=parsed.user_handle,
        backup_eligible=verified.credential_device_type.value == "multi_device",
    )


def check_sign_count(*, stored: int, received: int) -> None:
    """Refuse a signature counter that did not grow (WebAuthn L3 §6.1.1); both 0 means the
    authenticator keeps no counter, which is fine."""
    if (stored or received) and received <= stored:
        raise SignCountRegression(
            f"This passkey's signature counter went from {stored} to {received}, a sign that it "
            "may have been cloned; the sign-in was refused."
        )


def _challenge(challenge: bytes | None, timeout_ms: int) -> bytes:
    if timeout_ms <= 0:
        raise InvalidRequest("A passkey ceremony needs a positive timeout.")
    if challenge is None:
        return secrets.token_bytes(32)
    if len(challenge) < 16:
        raise InvalidRequest("A WebAuthn challenge must be at least 16 bytes.")
    return challenge


def _descriptors(credential_ids: Sequence[str]) -> list[PublicKeyCredentialDescriptor]:
    if isinstance(credential_ids, str):
        raise InvalidRequest("Credential ids must be a list, not one string.")
    descriptors = []
    for credential_id in credential_ids:
        decoded = b64url_decode(credential_id)
        if not decoded:
            raise InvalidRequest("A credential id cannot be empty.")
        descriptors.append(PublicKeyCredentialDescriptor(id=decoded))
    return descriptors


def _to_json(
    options: PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions,
    challenge: bytes,
) -> PasskeyOptions:
    return PasskeyOptions(
        options=json.loads(options_to_json(options)), challenge=b64url_encode(challenge)
    )


def _origins(expected_origins: Sequence[str]) -> list[str]:
    # A lone string is a Sequence[str] too; list() would split it into characters.
    return [expected_origins] if isinstance(expected_origins, str) else list(expected_origins)


def _parse_for(credential: Mapping[str, Any] | str, ceremony: str) -> ParsedCredential:
    parsed = parse_credential(credential)
    if parsed.type != ceremony:
        raise InvalidCredential(f'The passkey response is a "{parsed.type}", not a "{ceremony}".')
    return parsed


def _invalid(prefix: str, exc: BaseException) -> InvalidCredential:
    if not isinstance(exc, WebAuthnException):  # KeyError(-1) and the like explain nothing
        return InvalidCredential(f"{prefix}: its data is malformed.")
    reason = str(exc).replace(". See __cause__ for more info", "").rstrip(".")
    cause = exc.__cause__
    if isinstance(cause, WebAuthnException | ValueError) and str(cause):
        reason = f"{reason} ({str(cause).rstrip('.')})"
    return InvalidCredential(f"{prefix}: {reason}." if reason else f"{prefix}.")
