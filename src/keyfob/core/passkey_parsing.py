"""Reading a WebAuthn credential before verifying it (see :mod:`keyfob.core.passkeys`).

The server has to read a credential's challenge (to find the ceremony it answers) and its id
(to find the passkey) before anything can be verified. base64url is decoded strictly here,
unlike py_webauthn's decoder, which skips characters outside the alphabet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

try:
    from webauthn.helpers.structs import AuthenticatorTransport
except ModuleNotFoundError as error:  # the library without the passkeys extra
    raise ModuleNotFoundError(
        "keyfob.core.passkeys needs py_webauthn: pip install 'keyfob[passkeys]'"
        " (keyfob[server] includes it)",
        name=error.name,
    ) from error

from keyfob.core.encoding import b64url_decode
from keyfob.errors import InvalidCredential, InvalidRequest

_BINARY_FIELDS = ("attestationObject", "authenticatorData", "signature")
_TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)


@dataclass(frozen=True, slots=True)
class ParsedCredential:
    """A credential read without verifying anything, to find what to verify it against."""

    credential_id: str
    challenge: str
    type: str
    origin: str
    user_handle: bytes | None
    raw: dict[str, Any]


def parse_credential(credential: Mapping[str, Any] | str) -> ParsedCredential:
    """Read a credential (JSON text or object) and its clientDataJSON without verifying them;
    raise :class:`InvalidCredential` if it is not shaped like a WebAuthn credential."""
    raw = _as_dict(credential)
    credential_id, raw_id = raw.get("id"), raw.get("rawId")
    if not isinstance(credential_id, str) or not credential_id:
        raise InvalidCredential("The passkey response has no credential id.")
    if not isinstance(raw_id, str):
        raise InvalidCredential("The passkey response has no rawId.")
    if raw_id != credential_id:
        raise InvalidCredential("The passkey response's id and rawId differ.")
    if raw.get("type") != "public-key":
        raise InvalidCredential('The passkey response\'s type is not "public-key".')
    _decode(credential_id, "id")
    response = raw.get("response")
    if not isinstance(response, dict):
        raise InvalidCredential("The passkey response has no response object.")
    for field in _BINARY_FIELDS:
        if field in response:
            _decode(response[field], field)
    client_data_text = _decode(response.get("clientDataJSON"), "clientDataJSON")
    try:
        client_data = json.loads(client_data_text)
    except (ValueError, RecursionError) as exc:
        raise InvalidCredential("The passkey response's clientDataJSON is not JSON.") from exc
    if not isinstance(client_data, dict) or not all(
        isinstance(client_data.get(key), str) for key in ("type", "challenge", "origin")
    ):
        raise InvalidCredential("clientDataJSON lacks its type, challenge or origin.")
    _decode(client_data["challenge"], "challenge")
    user_handle = response.get("userHandle")
    return ParsedCredential(
        credential_id=credential_id,
        challenge=client_data["challenge"],
        type=client_data["type"],
        origin=client_data["origin"],
        user_handle=None if user_handle in (None, "") else _decode(user_handle, "userHandle"),
        raw=raw,
    )


def transports_of(value: Any) -> tuple[str, ...]:
    """The known transports of a response's ``transports`` list, in order, without repeats
    (unknown ones are dropped, as py_webauthn does: they are only hints)."""
    if not isinstance(value, list):
        return ()
    known = (item for item in value if isinstance(item, str) and item in _TRANSPORTS)
    return tuple(dict.fromkeys(known))


def _as_dict(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    value: Any = credential
    if isinstance(credential, str):
        try:
            value = json.loads(credential)
        except (ValueError, RecursionError) as exc:
            raise InvalidCredential("The passkey response is not JSON.") from exc
    if not isinstance(value, Mapping):
        raise InvalidCredential("The passkey response must be a JSON object.")
    raw = dict(value)
    if isinstance(raw.get("response"), Mapping):  # py_webauthn insists on real dicts
        raw["response"] = dict(raw["response"])
    return raw


def _decode(value: Any, field: str) -> bytes:
    # Strict, unlike py_webauthn's decoder, which skips characters outside the alphabet.
    if not isinstance(value, str):
        raise InvalidCredential(f"The passkey response's {field} is missing or not text.")
    try:
        return b64url_decode(value)
    except InvalidRequest as exc:
        raise InvalidCredential(f"The passkey response's {field} is not base64url.") from exc
