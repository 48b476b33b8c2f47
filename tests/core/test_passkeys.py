"""Passkey options, credential parsing and WebAuthn verification.

Positive vectors: tests/vectors/webauthn/, a registration and a sign-in captured from a
Chromium 156 virtual authenticator (ES256, "none" attestation, origin http://localhost:33401, RP ID
localhost); the registration's public key verifies the sign-in. Both have the UP and UV flags set
(0x45 and 0x05), so cases without UV come from flipping the flag (which breaks the sign-in's
signature) or from credentials built here with real keys and "none" attestation.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.core.passkeys import (
    SUPPORTED_ALGORITHMS,
    authentication_options,
    check_sign_count,
    parse_credential,
    registration_options,
    verify_passkey_assertion,
    verify_passkey_registration,
)
from keyfob.errors import InvalidCredential, InvalidRequest, SignCountRegression
from tests.paths import VECTORS

DIR = VECTORS / "webauthn"
REGISTRATION: dict[str, Any] = json.loads((DIR / "sample_registration.json").read_text())
ASSERTION: dict[str, Any] = json.loads((DIR / "sample_authentication.json").read_text())
CHALLENGES: dict[str, str] = json.loads((DIR / "sample_challenges.json").read_text())
ORIGIN, RP_ID = CHALLENGES["origin"], CHALLENGES["rp_id"]
CREDENTIAL_ID = "fjwq_hhbtjCybhkkVerU4KUneh-HthkKAnsO9gKIla8"
ANDROID = "android:apk-key-hash:2jmj7l5rSw0yVb_vlWAYkK_YBwk"
UP, UV = 0x01, 0x04

Mutation = Callable[[dict[str, Any]], None]
VECTOR: Any = object()  # "use the vector": None is one of the bad inputs


def register(credential: Any = VECTOR, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "expected_challenge": CHALLENGES["reg_challenge_b64url"],
        "expected_rp_id": RP_ID,
        "expected_origins": [ORIGIN],
        "require_user_verification": True,
    }
    kwargs.update(overrides)
    return verify_passkey_registration(
        copy.deepcopy(REGISTRATION) if credential is VECTOR else credential, **kwargs
    )


def public_key() -> bytes:
    key: bytes = register().public_key
    return key


def assert_(credential: Any = VECTOR, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "expected_challenge": CHALLENGES["auth_challenge_b64url"],
        "expected_rp_id": RP_ID,
        "expected_origins": [ORIGIN],
        "credential_public_key": public_key(),
        "require_user_verification": True,
    }
    kwargs.update(overrides)
    return verify_passkey_assertion(
        copy.deepcopy(ASSERTION) if credential is VECTOR else credential, **kwargs
    )


# --- mutations of the vectors ---------------------------------------------------------------


def flip(field: str, index: int, mask: int) -> Mutation:
    """XOR one byte of a base64url response field (for registrations, also inside authData)."""

    def change(credential: dict[str, Any]) -> None:
        response = credential["response"]
        before = b64url_decode(response[field])
        after = bytearray(before)
        after[index] ^= mask
        response[field] = b64url_encode(bytes(after))
        if field == "authenticatorData" and "attestationObject" in response:
            attestation = b64url_decode(response["attestationObject"])
            assert attestation.count(before) == 1
            response["attestationObject"] = b64url_encode(attestation.replace(before, after))

    return change


def client_data(**changes: Any) -> Mutation:
    def change(credential: dict[str, Any]) -> None:
        data = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
        data.update(changes)
        encoded = json.dumps(data, separators=(",", ":")).encode()
        credential["response"]["clientDataJSON"] = b64url_encode(encoded)

    return change


def set_at(path: str, value: Any) -> Mutation:
    """Set (or with ``...`` delete) a dotted field such as ``response.signature``."""

    def change(credential: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = credential
        for key in parents:
            target = target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value

    return change


def copy_from(other: dict[str, Any], field: str) -> Mutation:
    return set_at(f"response.{field}", other["response"][field])


def garble(field: str) -> Mutation:
    """Put a character outside the base64url alphabet in the middle of a field."""

    def change(credential: dict[str, Any]) -> None:
        text = credential["response"][field]
        credential["response"][field] = text[:8] + "!" + text[8:]

    return change


def test_vector_flags_are_what_the_cases_assume() -> None:
    reg_flags = b64url_decode(REGISTRATION["response"]["authenticatorData"])[32]
    auth_flags = b64url_decode(ASSERTION["response"]["authenticatorData"])[32]
    assert (reg_flags, auth_flags) == (0x45, 0x05)  # UP | UV (| AT): UV is set in both


# --- positive vectors -----------------------------------------------------------------------


def test_registration_vector_verifies() -> None:
    passkey = register()
    assert passkey.credential_id == CREDENTIAL_ID
    assert passkey.sign_count == 1
    assert passkey.transports == ("internal",)
    assert passkey.aaguid == "01020304-0506-0708-0102-030405060708"
    assert (passkey.backed_up, passkey.device_type) == (False, "single_device")
    assert passkey.user_verified is True
    assert passkey.algorithm == -7
    # The COSE key is the same P-256 point Chromium reported as SPKI in response.publicKey.
    spki = serialization.load_der_public_key(b64url_decode(REGISTRATION["response"]["publicKey"]))
    assert isinstance(spki, ec.EllipticCurvePublicKey)
    cose = cbor2.loads(passkey.public_key)
    numbers = spki.public_numbers()
    assert (cose[1], cose[3], cose[-1]) == (2, -7, 1)
    assert cose[-2] == numbers.x.to_bytes(32, "big")
    assert cose[-3] == numbers.y.to_bytes(32, "big")


@pytest.mark.parametrize(
    "as_input",
    [json.dumps, lambda c: MappingProxyType(c), lambda c: c],
    ids=["json_text", "mapping", "dict"],
)
def test_any_credential_form_verifies(as_input: Callable[[dict[str, Any]], Any]) -> None:
    assert register(as_input(copy.deepcopy(REGISTRATION))).credential_id == CREDENTIAL_ID
    assert assert_(as_input(copy.deepcopy(ASSERTION))).credential_id == CREDENTIAL_ID


def test_assertion_vector_verifies_with_the_registered_key() -> None:
    result = assert_()
    assert result.credential_id == CREDENTIAL_ID
    assert result.sign_count == 2
    assert (result.user_verified, result.backed_up) == (True, False)
    assert result.user_handle == b64url_decode(ASSERTION["response"]["userHandle"])
    assert len(result.user_handle or b"") == 64
    assert assert_(require_user_verification=False) == result


def test_assertion_leaves_the_counter_to_the_caller() -> None:
    # py_webauthn would refuse 2 against a stored 2; keyfob returns it and check_sign_count decides.
    result = assert_()
    with pytest.raises(SignCountRegression):
        check_sign_count(stored=2, received=result.sign_count)
    check_sign_count(stored=1, received=result.sign_count)


@pytest.mark.parametrize(
    "origins",
    [
        [ORIGIN],
        ["https://keyfob.example", ORIGIN],
        [ANDROID, ORIGIN, "http://localhost:8000"],
        ORIGIN,  # a lone string is one origin, not a list of characters
    ],
)
def test_origin_lists_containing_the_origin_pass(origins: Any) -> None:
    assert register(expected_origins=origins).credential_id == CREDENTIAL_ID
    assert assert_(expected_origins=origins).sign_count == 2


def test_android_origins_are_compared_exactly() -> None:
    credential = copy.deepcopy(REGISTRATION)
    client_data(origin=ANDROID)(credential)
    assert register(credential, expected_origins=[ORIGIN, ANDROID]).credential_id == CREDENTIAL_ID
    for near in (ANDROID + "=", ANDROID.lower(), "android:apk-key-hash:"):
        with pytest.raises(InvalidCredential, match="origin"):
            register(copy.deepcopy(credential), expected_origins=[ORIGIN, near])


def test_parse_reads_without_verifying() -> None:
    reg = parse_credential(json.dumps(REGISTRATION))
    assert (reg.credential_id, reg.type, reg.origin) == (CREDENTIAL_ID, "webauthn.create", ORIGIN)
    assert reg.challenge == CHALLENGES["reg_challenge_b64url"]
    assert reg.user_handle is None
    assert reg.raw == REGISTRATION
    auth = parse_credential(ASSERTION)
    assert (auth.type, auth.challenge) == ("webauthn.get", CHALLENGES["auth_challenge_b64url"])
    assert auth.user_handle == b64url_decode(ASSERTION["response"]["userHandle"])
    empty_handle = copy.deepcopy(ASSERTION)
    empty_handle["response"]["userHandle"] = ""
    assert parse_credential(empty_handle).user_handle is None


# --- negative table -------------------------------------------------------------------------

NO_CHANGE: Mutation = lambda credential: None  # noqa: E731
WRONG_CHALLENGE = b64url_encode(b"\x07" * 32)
BAD_CURVE = cbor2.dumps({1: 2, 3: -7, -1: 99, -2: b"\x01" * 32, -3: b"\x02" * 32})
OTHER_ORIGINS = ["https://keyfob.example", ANDROID, "http://localhost:33402"]

NEGATIVE: list[Any] = [
    # (kind, mutation, verify overrides, message pattern)
    (
        "reg",
        NO_CHANGE,
        {"expected_origins": ["http://localhost:33402"]},
        "Unexpected client data origin",
    ),
    (
        "auth",
        NO_CHANGE,
        {"expected_origins": ["https://localhost:33401"]},
        "Unexpected client data origin",
    ),
    ("reg", NO_CHANGE, {"expected_origins": OTHER_ORIGINS}, "expected one of"),
    ("auth", NO_CHANGE, {"expected_origins": OTHER_ORIGINS}, "expected one of"),
    ("reg", NO_CHANGE, {"expected_origins": []}, "origin"),
    ("reg", NO_CHANGE, {"expected_rp_id": "example.com"}, "RP ID hash"),
    ("auth", NO_CHANGE, {"expected_rp_id": "localhost.example"}, "RP ID hash"),
    ("reg", NO_CHANGE, {"expected_challenge": WRONG_CHALLENGE}, "challenge was not expected"),
    ("auth", NO_CHANGE, {"expected_challenge": CHALLENGES["reg_challenge_b64url"]}, "challenge"),
    ("auth", flip("signature", 10, 0x01), {}, "Could not verify authentication signature"),
    ("auth", flip("signature", 0, 0xFF), {}, "Could not verify authentication signature"),
    ("auth", flip("authenticatorData", 36, 0x01), {}, "signature"),  # sign count 2 -> 3
    ("auth", flip("authenticatorData", 32, 0x08), {}, "signature"),  # BE flag
    ("auth", client_data(crossOrigin=True), {}, "signature"),
    ("auth", flip("clientDataJSON", 40, 0x01), {}, "challenge"),  # lands in the challenge
    ("auth", flip("authenticatorData", 0, 0x01), {}, "RP ID hash"),
    # "none" attestation signs nothing, so a registration's authData is checked field by field.
    ("reg", flip("authenticatorData", 0, 0x01), {}, "RP ID hash"),
    ("reg", flip("authenticatorData", 32, UP), {}, "User presence was required"),
    ("reg", flip("authenticatorData", 32, UV), {}, "User verification is required"),
    ("reg", client_data(origin="https://evil.example"), {}, "Unexpected client data origin"),
    ("reg", client_data(challenge=WRONG_CHALLENGE), {}, "challenge was not expected"),
    # UV is checked before the signature: with UV required the flag fires first, else the signature.
    ("auth", flip("authenticatorData", 32, UV), {}, "User verification is required"),
    ("auth", flip("authenticatorData", 32, UV), {"require_user_verification": False}, "signature"),
    ("auth", flip("authenticatorData", 32, UP), {}, "User was not present"),
    # A registration presented as a sign-in and the other way round.
    ("auth", "registration+signature", {}, 'a "webauthn.create", not a "webauthn.get"'),
    ("reg", "assertion+attestationObject", {}, 'a "webauthn.get", not a "webauthn.create"'),
    ("auth", "registration", {}, "webauthn.create"),
    ("reg", "assertion", {}, "webauthn.get"),
    ("auth", client_data(type="webauthn.create"), {}, "not a"),
    ("reg", client_data(type="payment.get"), {}, "not a"),
    ("auth", NO_CHANGE, {"credential_public_key": b"\xa1\x01"}, "stored public key"),
    ("auth", NO_CHANGE, {"credential_public_key": b""}, "stored public key"),
    ("auth", NO_CHANGE, {"credential_public_key": cbor2.dumps({1: 2, 3: -7})}, "stored public key"),
    ("auth", NO_CHANGE, {"credential_public_key": BAD_CURVE}, "stored public key"),
    # Shape: ids, base64url, missing fields, wrong types.
    ("reg", set_at("id", "AAAA"), {}, "id and rawId differ"),
    ("auth", set_at("rawId", CREDENTIAL_ID[:-1] + "9"), {}, "id and rawId differ"),
    ("reg", lambda c: c.update(id="AAAA", rawId="AAAA"), {}, "another credential"),
    ("auth", garble("signature"), {}, "signature is not base64url"),
    ("auth", garble("authenticatorData"), {}, "authenticatorData is not base64url"),
    ("reg", garble("attestationObject"), {}, "attestationObject is not base64url"),
    ("reg", garble("clientDataJSON"), {}, "clientDataJSON is not base64url"),
    ("auth", set_at("response.userHandle", "***"), {}, "userHandle is not base64url"),
    ("auth", set_at("response.userHandle", 7), {}, "userHandle"),
    ("auth", lambda c: c.update(id="a+b/c=", rawId="a+b/c="), {}, "id is not base64url"),
    ("auth", set_at("response.clientDataJSON", b64url_encode(b"not json")), {}, "not JSON"),
    ("auth", set_at("response.clientDataJSON", b64url_encode(b"[1]")), {}, "lacks"),
    ("reg", client_data(challenge="%%%"), {}, "challenge is not base64url"),
    ("reg", client_data(origin=None), {}, "lacks"),
    ("reg", set_at("response.attestationObject", b64url_encode(b"\xff")), {}, "does not verify"),
    ("reg", set_at("response.attestationObject", b64url_encode(cbor2.dumps([1]))), {}, "verify"),
    ("auth", set_at("response.authenticatorData", "AAAA"), {}, "does not verify"),
    ("auth", set_at("id", ...), {}, "no credential id"),
    ("auth", set_at("rawId", ...), {}, "no rawId"),
    ("auth", set_at("type", "password"), {}, '"public-key"'),
    ("auth", set_at("response", ...), {}, "no response object"),
    ("auth", set_at("response", "abc"), {}, "no response object"),
    ("auth", set_at("response.clientDataJSON", ...), {}, "clientDataJSON is missing"),
    ("auth", set_at("response.authenticatorData", ...), {}, "authenticatorData"),
    ("auth", set_at("response.signature", 12), {}, "signature is missing or not text"),
    ("reg", set_at("response.attestationObject", None), {}, "attestationObject"),
]


def _credential_for(kind: str, mutation: Mutation | str) -> dict[str, Any]:
    named = {
        "registration": REGISTRATION,
        "assertion": ASSERTION,
        "registration+signature": REGISTRATION,
        "assertion+attestationObject": ASSERTION,
    }
    if isinstance(mutation, str):
        credential = copy.deepcopy(named[mutation])
        if mutation == "registration+signature":
            copy_from(ASSERTION, "signature")(credential)
        elif mutation == "assertion+attestationObject":
            copy_from(REGISTRATION, "attestationObject")(credential)
        return credential
    credential = copy.deepcopy(REGISTRATION if kind == "reg" else ASSERTION)
    mutation(credential)
    return credential


@pytest.mark.parametrize(("kind", "mutation", "overrides", "message"), NEGATIVE)
def test_negative_cases_are_refused(
    kind: str, mutation: Mutation | str, overrides: dict[str, Any], message: str
) -> None:
    credential = _credential_for(kind, mutation)
    verify = register if kind == "reg" else assert_
    with pytest.raises(InvalidCredential, match=message) as caught:
        verify(credential, **overrides)
    assert caught.value.code == "invalid_credential"
    assert "__cause__" not in caught.value.message


@pytest.mark.parametrize(
    "credential",
    ["", "not json", "[]", "42", '"text"', "null", "[" * 100_000, [], 42, None],
)
def test_non_objects_are_refused(credential: Any) -> None:
    for function in (parse_credential, register, assert_):
        with pytest.raises(InvalidCredential, match="JSON"):
            function(credential)


def test_malformed_expected_challenge_is_a_caller_error() -> None:
    with pytest.raises(InvalidRequest):
        register(expected_challenge="not base64!")


@pytest.mark.parametrize("kind", ["reg", "auth"])
def test_random_corruption_never_escapes_as_another_error(kind: str) -> None:
    rng = random.Random(kind)  # deterministic
    fields = {
        "reg": ["attestationObject", "clientDataJSON"],
        "auth": ["authenticatorData", "signature", "clientDataJSON"],
    }[kind]
    for _ in range(300):
        credential = copy.deepcopy(REGISTRATION if kind == "reg" else ASSERTION)
        field = rng.choice(fields)
        data = bytearray(b64url_decode(credential["response"][field]))
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        else:
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        credential["response"][field] = b64url_encode(bytes(data))
        try:
            (register if kind == "reg" else assert_)(credential)
        except InvalidCredential:
            continue
        # Only registrations can survive: "none" attestation leaves some bytes unchecked.
        assert kind == "reg"


# --- credentials built here with real keys ("none" attestation) -----------------------------

Signer = Callable[[bytes], bytes]


def _ed25519() -> tuple[dict[int, Any], Signer]:
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {1: 1, 3: -8, -1: 6, -2: raw}, key.sign


def _ec(
    curve: ec.EllipticCurve, alg: int, crv: int, digest: hashes.HashAlgorithm
) -> tuple[dict[int, Any], Signer]:
    key = ec.generate_private_key(curve)
    numbers = key.public_key().public_numbers()
    size = (curve.key_size + 7) // 8
    cose = {1: 2, 3: alg, -1: crv, -2: numbers.x.to_bytes(size, "big")}
    cose[-3] = numbers.y.to_bytes(size, "big")
    return cose, lambda data: key.sign(data, ec.ECDSA(digest))


def _rs256() -> tuple[dict[int, Any], Signer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    cose = {1: 3, 3: -257, -1: numbers.n.to_bytes(256, "big"), -2: numbers.e.to_bytes(3, "big")}
    return cose, lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


KEYS: dict[str, Callable[[], tuple[dict[int, Any], Signer]]] = {
    "EdDSA": _ed25519,
    "ES256": lambda: _ec(ec.SECP256R1(), -7, 1, hashes.SHA256()),
    "RS256": _rs256,
}
CHALLENGE = b"\x42" * 32
CRED_ID = bytes(range(20))


def _auth_data(flags: int, count: int, attested: bytes = b"") -> bytes:
    return (
        hashlib.sha256(RP_ID.encode()).digest()
        + bytes([flags])
        + count.to_bytes(4, "big")
        + attested
    )


def _client_data(kind: str) -> bytes:
    fields = {"type": kind, "challenge": b64url_encode(CHALLENGE), "origin": ORIGIN}
    return json.dumps(fields).encode()


def built_registration(
    cose: dict[int, Any], flags: int = UP | 0x40, credential_id: bytes = CRED_ID
) -> dict[str, Any]:
    attested = bytes(16) + len(credential_id).to_bytes(2, "big") + credential_id + cbor2.dumps(cose)
    auth_data = _auth_data(flags, 0, attested)
    attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
    return {
        "id": b64url_encode(credential_id),
        "rawId": b64url_encode(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url_encode(_client_data("webauthn.create")),
            "attestationObject": b64url_encode(attestation),
            "transports": ["hybrid", "teleport", "internal", "hybrid", 7],
        },
    }


def built_assertion(sign: Signer, flags: int = UP, count: int = 0) -> dict[str, Any]:
    auth_data = _auth_data(flags, count)
    data = _client_data("webauthn.get")
    signature = sign(auth_data + hashlib.sha256(data).digest())
    return {
        "id": b64url_encode(CRED_ID),
        "rawId": b64url_encode(CRED_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url_encode(data),
            "authenticatorData": b64url_encode(auth_data),
            "signature": b64url_encode(signature),
            "userHandle": b64url_encode(b"user-1"),
        },
    }


@pytest.mark.parametrize("name", list(KEYS))
def test_supported_algorithms_register_and_sign_in(name: str) -> None:
    cose, sign = KEYS[name]()
    expected = {"expected_challenge": b64url_encode(CHALLENGE), "require_user_verification": False}
    passkey = register(built_registration(cose), **expected)
    assert passkey.algorithm == cose[3]
    assert passkey.credential_id == b64url_encode(CRED_ID)
    assert passkey.transports == ("hybrid", "internal")
    assert (passkey.user_verified, passkey.sign_count) == (False, 0)
    assert passkey.aaguid == "00000000-0000-0000-0000-000000000000"
    result = assert_(built_assertion(sign), credential_public_key=passkey.public_key, **expected)
    assert (result.user_verified, result.sign_count, result.user_handle) == (False, 0, b"user-1")
    check_sign_count(stored=passkey.sign_count, received=result.sign_count)
    # Without UV and with a valid signature, only require_user_verification refuses it.
    with pytest.raises(InvalidCredential, match="User verification is required"):
        assert_(
            built_assertion(sign),
            credential_public_key=passkey.public_key,
            expected_challenge=b64url_encode(CHALLENGE),
        )
    with pytest.raises(InvalidCredential, match="User verification is required"):
        register(built_registration(cose), expected_challenge=b64url_encode(CHALLENGE))
    # Backed-up multi-device passkeys (BE | BS) are reported as such.
    synced = assert_(
        built_assertion(sign, flags=UP | UV | 0x18, count=9),
        credential_public_key=passkey.public_key,
        **expected,
    )
    assert (synced.backed_up, synced.user_verified, synced.sign_count) == (True, True, 9)
    assert (synced.backup_eligible, result.backup_eligible) == (True, False)
    # Backup eligible but not (yet) backed up: still a passkey that may sync (amr swk).
    eligible = assert_(
        built_assertion(sign, flags=UP | 0x08, count=10),
        credential_public_key=passkey.public_key,
        **expected,
    )
    assert (eligible.backup_eligible, eligible.backed_up) == (True, False)
    # A key from another passkey does not verify this one's signature.
    other = register(built_registration(KEYS[name]()[0]), **expected).public_key
    with pytest.raises(InvalidCredential, match="signature"):
        assert_(built_assertion(sign), credential_public_key=other, **expected)


@pytest.mark.parametrize(
    "cose",
    [
        _ec(ec.SECP521R1(), -36, 3, hashes.SHA512())[0],
        _ec(ec.SECP384R1(), -35, 2, hashes.SHA384())[0],
        {**_rs256()[0], 3: -37},  # PS256
    ],
    ids=["ES512", "ES384", "PS256"],
)
def test_other_algorithms_are_refused(cose: dict[int, Any]) -> None:
    with pytest.raises(InvalidCredential, match="Unsupported credential public key alg"):
        register(
            built_registration(cose),
            expected_challenge=b64url_encode(CHALLENGE),
            require_user_verification=False,
        )


def test_single_device_backed_up_is_refused() -> None:
    cose, _ = _ed25519()
    with pytest.raises(InvalidCredential, match="backed up"):
        register(
            built_registration(cose, flags=UP | 0x40 | 0x10),
            expected_challenge=b64url_encode(CHALLENGE),
            require_user_verification=False,
        )


@pytest.mark.parametrize(("length", "ok"), [(1023, True), (1024, False)])
def test_credential_id_length_is_limited(length: int, ok: bool) -> None:
    credential = built_registration(_ed25519()[0], credential_id=b"\x05" * length)
    expected = {"expected_challenge": b64url_encode(CHALLENGE), "require_user_verification": False}
    if ok:
        assert register(credential, **expected).credential_id == credential["id"]
        return
    with pytest.raises(InvalidCredential, match="1023"):
        register(credential, **expected)


# --- sign counter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "received", "ok"),
    [(0, 0, True), (1, 2, True), (0, 1, True), (2, 2, False), (5, 2, False), (3, 0, False)],
)
def test_check_sign_count(stored: int, received: int, ok: bool) -> None:
    if ok:
        check_sign_count(stored=stored, received=received)
        return
    with pytest.raises(SignCountRegression, match=f"from {stored} to {received}") as caught:
        check_sign_count(stored=stored, received=received)
    assert isinstance(caught.value, InvalidCredential)
    assert caught.value.code == "sign_count_regression"


# --- options --------------------------------------------------------------------------------

USER: dict[str, Any] = {
    "rp_id": RP_ID,
    "rp_name": "keyfob",
    "user_handle": b"\x01" * 32,
    "user_name": "ada",
    "user_display_name": "Ada Lovelace",
}


def test_registration_options() -> None:
    first = registration_options(**USER, exclude_credential_ids=[CREDENTIAL_ID, "AAEC"])
    options = first.options
    assert len(b64url_decode(first.challenge)) == 32
    assert "=" not in first.challenge
    assert options["challenge"] == first.challenge
    assert options["rp"] == {"id": RP_ID, "name": "keyfob"}
    assert options["user"] == {
        "id": b64url_encode(b"\x01" * 32),
        "name": "ada",
        "displayName": "Ada Lovelace",
    }
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "preferred",
    }
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7, -257]
    assert [int(alg) for alg in SUPPORTED_ALGORITHMS] == [-8, -7, -257]
    assert options["excludeCredentials"] == [
        {"id": CREDENTIAL_ID, "type": "public-key"},
        {"id": "AAEC", "type": "public-key"},
    ]
    assert (options["timeout"], options["attestation"]) == (300_000, "none")
    assert json.loads(json.dumps(options)) == options
    assert registration_options(**USER).challenge != first.challenge


def test_registration_options_pass_choices_through() -> None:
    chosen = registration_options(
        **USER,
        user_verification="required",
        attestation="direct",
        timeout_ms=60_000,
        challenge=b"\x09" * 16,
    )
    assert chosen.challenge == b64url_encode(b"\x09" * 16) == chosen.options["challenge"]
    assert chosen.options["authenticatorSelection"]["userVerification"] == "required"
    assert (chosen.options["attestation"], chosen.options["timeout"]) == ("direct", 60_000)
    assert chosen.options["excludeCredentials"] == []


def test_authentication_options() -> None:
    usernameless = authentication_options(rp_id=RP_ID)
    assert usernameless.options["allowCredentials"] == []
    assert len(b64url_decode(usernameless.challenge)) == 32
    assert usernameless.options["challenge"] == usernameless.challenge
    assert usernameless.options["rpId"] == RP_ID
    assert usernameless.options["userVerification"] == "preferred"
    assert json.loads(json.dumps(usernameless.options)) == usernameless.options
    listed = authentication_options(
        rp_id=RP_ID,
        allow_credential_ids=[CREDENTIAL_ID],
        user_verification="required",
        timeout_ms=10_000,
        challenge=b"\x05" * 32,
    )
    assert listed.options == {
        "challenge": b64url_encode(b"\x05" * 32),
        "timeout": 10_000,
        "rpId": RP_ID,
        "allowCredentials": [{"id": CREDENTIAL_ID, "type": "public-key"}],
        "userVerification": "required",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"user_handle": b""},
        {"user_handle": b"\x00" * 65},
        {"rp_id": ""},
        {"rp_name": ""},
        {"user_name": ""},
        {"challenge": b"\x00" * 15},
        {"timeout_ms": 0},
        {"exclude_credential_ids": ["not base64!"]},
        {"exclude_credential_ids": [""]},
        {"exclude_credential_ids": CREDENTIAL_ID},
    ],
)
def test_bad_registration_options_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        registration_options(**{**USER, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [{"rp_id": ""}, {"challenge": b"short"}, {"allow_credential_ids": ["a+b"]}],
)
def test_bad_authentication_options_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        authentication_options(**{"rp_id": RP_ID, **overrides})
