"""Request and response bodies of the JSON API (camelCase on the wire, as in the seeds)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.alias_generators import to_camel
from starlette.responses import Response

from keyfob.server.infra.inputs import Body, Text, Thumbprint, UrlSafe, Username
from keyfob.server.services.wallet import Chain, SignedMessage


class NonceRequest(Body):
    """``POST /auth/nonce``: which chain, and optionally who and which app session key."""

    chain: Chain
    address: Text | None = Field(default=None, max_length=128)
    chain_id: int | None = Field(default=None, ge=1)
    session_key: dict[str, Any] | None = None


class MessageFields(Body):
    """The fields of the message, for clients (and wallets) that build it themselves."""

    domain: str
    uri: str
    version: str
    chain_id: str | None = None
    nonce: str
    issued_at: str
    expiration_time: str
    statement: str
    resources: list[str]


class NonceResponse(Body):
    """The nonce, the full text to sign (when the address is known) and when it expires."""

    nonce: str
    message: str | None
    expires_at: datetime
    fields: MessageFields


class LoginRequest(SignedMessage):
    """``POST /auth/login``: the signed message, and optionally the app session key it
    authorises."""

    session_key: dict[str, Any] | None = None


class IdentityOut(Body):
    """One sign-in method of a user: a wallet (``chain`` is its chain) or a passkey (``chain``
    is ``"passkey"`` and ``address`` the base64url credential id)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    chain: str
    address: str
    public_key: str | None = None
    created_at: datetime
    last_used_at: datetime | None


class UserOut(Body):
    """A user as the API shows it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    username: str | None = None
    created_at: datetime
    last_login: datetime | None
    identities: list[IdentityOut]


class TokenResponse(Body):
    """Tokens after a sign-in or a refresh: ``access_token`` for apps, ``account_token`` for
    keyfob's own ``/auth/*`` account endpoints only (never send it to an app)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    access_token: str
    account_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserOut


class PasskeyOptionsRequest(Body):
    """``POST /auth/passkey/*/options``: optionally a username (registration: the new
    account's; sign-in: whose passkeys to ask for, else usernameless)."""

    username: Username | None = None


class PasskeyOptionsOut(RootModel[dict[str, Any]]):
    """WebAuthn options in their JSON form, as the browser's ``parse*OptionsFromJSON`` take."""


class PasskeyVerifyRequest(Body):
    """``POST /auth/passkey/*/verify``: the ``PublicKeyCredential`` as JSON (``toJSON()``)."""

    credential: dict[str, Any]


class LinkWalletRequest(SignedMessage):
    """``POST /auth/methods/wallet``: a signed sign-in message, as for ``POST /auth/login``."""


class RefreshRequest(Body):
    """``POST /auth/refresh``."""

    refresh_token: UrlSafe = Field(min_length=1, max_length=256)


class LogoutRequest(Body):
    """``POST /auth/logout``: optionally the refresh token of the session to end."""

    refresh_token: UrlSafe | None = Field(default=None, max_length=256)


class ChallengeResponse(Body):
    """``POST /auth/challenge`` (seed 000): a JWT to sign with Nimiq Keyguard."""

    challenge: str
    expires_at: datetime


class SessionKeyTokenRequest(Body):
    """``POST /auth/session-key/token``: a fresh timestamp signed by the app session key."""

    thumbprint: Thumbprint
    timestamp: int = Field(ge=0)
    signature: Text = Field(min_length=1, max_length=512)


class AccessTokenResponse(Body):
    """A fresh access token minted for an app session key."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class SessionKeyOut(Body):
    """An app session key as ``GET /auth/session-keys`` lists it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    thumbprint: str
    jwk: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


def json_response(model: BaseModel) -> Response:
    """Serialise ``model`` (camelCase) straight to a response.

    Hot routes return this instead of the model: FastAPI would otherwise validate the model a
    second time against ``response_model`` before encoding it. ``response_model`` stays on the
    route for the OpenAPI document.
    """
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")
