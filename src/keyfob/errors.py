"""The one error tree of keyfob.

Every failure keyfob reports is a :class:`KeyfobError` subclass with a stable snake_case
``code`` (part of the public API: clients switch on it) and an HTTP ``status`` that the server
maps once, in :mod:`keyfob.server.infra.errors`, to a response in the format of the surface
asked (the JSON API's ``{"error": code, "message": sentence}``, an HTML page for a page).
The core raises these too; it just never looks at ``status``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class KeyfobError(Exception):
    """Base class: a failure with a stable ``code`` and a human-readable sentence."""

    code: str = "keyfob_error"
    status: int = 400
    default_message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidRequest(KeyfobError):
    """The request is malformed: a missing field, a wrong type, an unknown chain.

    ``field`` names the input to blame when one is (see :func:`blame`): a form shown again
    with the error marks that field invalid and moves the focus to it."""

    code = "invalid_request"
    status = 422
    default_message = "The request is malformed."
    field: str | None = None


@contextmanager
def blame(field: str) -> Iterator[None]:
    """Name ``field`` as the input to blame for an :class:`InvalidRequest` raised inside,
    unless a nearer check named one already."""
    try:
        yield
    except InvalidRequest as error:
        if error.field is None:
            error.field = field
        raise


class InvalidUrl(InvalidRequest):
    """The URL holds control characters or bytes that are not UTF-8, or is too long."""

    code = "invalid_url"
    status = 400
    default_message = "The URL is too long or holds characters no keyfob URL has."


class InvalidMessage(KeyfobError):
    """A sign-in message does not follow its grammar (EIP-4361, SIWS or keyfob's Nimiq layout)."""

    code = "invalid_message"
    status = 400
    default_message = "The sign-in message is malformed."


class MessageMismatch(KeyfobError):
    """A well-formed sign-in message that is not for us: domain, URI, chain id or version."""

    code = "message_mismatch"
    status = 401
    default_message = "The sign-in message was not made for this server."


class MessageExpired(KeyfobError):
    """A sign-in message outside its validity window (expiration time, not before, issued at)."""

    code = "message_expired"
    status = 401
    default_message = "The sign-in message has expired or is not valid yet."


class InvalidSignature(KeyfobError):
    """A signature that is malformed or does not verify for the claimed key or address."""

    code = "invalid_signature"
    status = 401
    default_message = "The signature does not verify."


class InvalidNonce(KeyfobError):
    """A nonce or challenge that is unknown, expired, already used or not bound to this request."""

    code = "invalid_nonce"
    status = 401
    default_message = "The nonce is unknown, expired or already used."


class InvalidToken(KeyfobError):
    """A bearer or refresh token that is malformed, expired, revoked or of the wrong kind."""

    code = "invalid_token"
    status = 401
    default_message = "The token is invalid or expired."


class TokenRevoked(InvalidToken):
    """A token that was valid but has been revoked (logout, family revocation)."""

    code = "token_revoked"
    default_message = "The token has been revoked."


class SessionExpired(InvalidToken):
    """A session past its absolute lifetime (``KEYFOB_SESSION_MAX_AGE``): sign in again."""

    code = "session_expired"
    default_message = "This session has reached its maximum age; sign in again."


class DenylistUnavailable(InvalidToken):
    """An app could not read keyfob's denylist for longer than a token lives: it refuses."""

    code = "denylist_unavailable"
    default_message = (
        "Revoked tokens cannot be checked right now (keyfob's denylist is unreachable)."
    )


class RefreshTokenReused(InvalidToken):
    """A rotated refresh token presented again: its whole family is revoked."""

    code = "refresh_token_reused"
    default_message = (
        "This refresh token was already used; every token of this session has been revoked."
    )


class RefreshTokenSuperseded(InvalidToken):
    """The immediate predecessor presented within the grace period: refused, nothing revoked."""

    code = "refresh_token_superseded"
    default_message = (
        "This refresh token was just rotated by another request; use the newer refresh token."
    )


class InvalidGrant(KeyfobError):
    """RFC 6749 section 5.2 ``invalid_grant`` at the token endpoint: the grant does not hold up.
    So far: a PKCE ``code_verifier`` that is missing, does not match the authorization
    request's ``code_challenge``, or is sent for a code issued without one (RFC 7636 section 4.6,
    RFC 9700 section 2.1.1)."""

    code = "invalid_grant"
    status = 400
    default_message = "The authorization grant is invalid, expired, revoked or not yours."


class InvalidSessionKey(KeyfobError):
    """A session key that is malformed, unknown, expired, revoked or whose proof is stale."""

    code = "invalid_session_key"
    status = 401
    default_message = "The session key is unknown, expired or revoked."


class InvalidCredential(KeyfobError):
    """A WebAuthn credential (passkey response) that is malformed or does not verify: wrong
    origin, RP ID, challenge, signature, or a passkey keyfob does not know."""

    code = "invalid_credential"
    status = 401
    default_message = "The passkey response does not verify."


class RecoveryFailed(InvalidCredential):
    """An account recovery that did not work: the one answer for an unknown account, a wrong,
    used or another account's code, and an unknown, used or expired recovery link."""

    code = "recovery_failed"
    default_message = (
        "This recovery code does not open that account: check both, and that the code was not "
        "used before."
    )


class InvalidChallenge(InvalidNonce):
    """A WebAuthn challenge (or one-time link) that is unknown, expired or already used."""

    code = "invalid_challenge"
    default_message = "The challenge is unknown, expired or already used; start again."


class SignCountRegression(InvalidCredential):
    """A passkey's signature counter did not grow: the authenticator may have been cloned."""

    code = "sign_count_regression"
    default_message = (
        "This passkey's signature counter went backwards, a sign that it may have been cloned; "
        "the sign-in was refused."
    )


class Conflict(KeyfobError):
    """The change clashes with what exists: a taken username, a passkey or wallet already
    registered, removing a user's last sign-in method."""

    code = "conflict"
    status = 409
    default_message = "This clashes with something that already exists."


class Forbidden(KeyfobError):
    """Authenticated, but not allowed to do this."""

    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do this."


class CsrfFailed(Forbidden):
    """A form submitted without the CSRF token of the signed-in admin's session."""

    code = "csrf_failed"
    default_message = "The form is missing its security token or it is stale; reload the page."


class StepUpRequired(Forbidden):
    """A change to an account's sign-in methods without a fresh step-up grant of this session."""

    code = "step_up_required"
    default_message = (
        "This change needs a fresh proof from a sign-in method of your account: get a grant from "
        "POST /auth/step-up/verify and send it in the X-Keyfob-Step-Up header."
    )


class RegistrationDisabled(Forbidden):
    """The client app does not let new accounts register through its pages."""

    code = "registration_disabled"
    default_message = "This app does not allow new accounts to register here."


class ClientNotPermitted(Forbidden):
    """The user has not been granted access to this client app."""

    code = "client_not_permitted"
    default_message = "Your account has not been given access to this app."


class StateRequired(InvalidRequest):
    """A hosted sign-in or registration request without a ``state`` for a client that
    requires one (its defence against login CSRF)."""

    code = "state_required"
    status = 400
    default_message = "This app requires a state in its sign-in requests."


class RedirectUriMismatch(KeyfobError):
    """A redirect URI that is not, character for character, one the client registered."""

    code = "redirect_uri_mismatch"
    status = 400
    default_message = "This redirect URI is not registered for the app."


class NotFound(KeyfobError):
    """The thing asked for does not exist (or is not yours)."""

    code = "not_found"
    status = 404
    default_message = "Not found."


class UnknownClient(NotFound):
    """No client app has this id."""

    code = "unknown_client"
    default_message = "There is no app with this client id."


class LegacyFlowDisabled(NotFound):
    """A seed flow kept for compatibility but turned off here (the seed 000 challenge JWT
    unless ``KEYFOB_LEGACY_NIMIQ_CHALLENGE=true``)."""

    code = "legacy_flow_disabled"
    default_message = (
        "This legacy sign-in flow is turned off on this server; sign a sign-in message instead."
    )


class WrongHost(KeyfobError):
    """A browser page reached under another name than ``KEYFOB_PUBLIC_URL`` (``127.0.0.1``
    for ``localhost``, a proxy's upstream address): passkeys and cookies are bound to the
    public URL, so the page would fail there. ``url`` is where to open it instead."""

    code = "wrong_host"
    status = 421  # Misdirected Request: this server does not answer for that authority
    default_message = "Open keyfob at its public URL."

    def __init__(self, message: str | None = None, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class PayloadTooLarge(KeyfobError):
    """The request body is over the limit."""

    code = "payload_too_large"
    status = 413
    default_message = "The request body is too large."


class RateLimited(KeyfobError):
    """Too many requests from one client in a short time."""

    code = "rate_limited"
    status = 429
    default_message = "Too many requests; slow down and try again shortly."


class ConfigurationError(KeyfobError):
    """keyfob is misconfigured (a bad setting, a missing key); raised at start-up."""

    code = "configuration_error"
    status = 500
    default_message = "keyfob is misconfigured."


# --- OAuth 2.0 and OpenID Connect protocol errors (issue 8) -----------------------------------
#
# The ``error`` values of RFC 6749 section 4.1.2.1 (authorization response) and section 5.2
# (token endpoint), OpenID Connect Core 1.0 section 3.1.2.6 and RFC 8707 section 2. Their
# ``code`` is the registered value, sent as it is; ``message`` becomes ``error_description``,
# so every sentence here keeps to its characters (printable ASCII without ``"`` and ``\``).
# Two codes clash on purpose with the older tree: ``OAuthInvalidRequest`` is ``invalid_request``
# with status 400 (``InvalidRequest`` above is 422 for the JSON API; the OIDC surface renders
# any ``InvalidRequest`` as a 400 ``invalid_request``). ``InvalidGrant`` stays above, where the
# PKCE module found it: it is not an ``OAuthError`` because it only ever happens at the token
# endpoint, which renders every ``KeyfobError`` by its code, never by redirect.


class OAuthError(KeyfobError):
    """Base of the errors an authorization endpoint sends back to the client by redirect (once
    its redirect URI is trusted) and a token endpoint sends as ``{"error", "error_description"}``.
    Use a subclass; this base is only for ``except``."""

    code = "server_error"
    status = 500
    default_message = "The authorization server could not process the request."


class OAuthInvalidRequest(OAuthError):
    """``invalid_request``: a required parameter is missing, a parameter is repeated or has a
    value keyfob does not support, or the request is otherwise malformed."""

    code = "invalid_request"
    status = 400
    default_message = "The request is missing a parameter, repeats one, or is malformed."


class InvalidClient(OAuthError):
    """``invalid_client``: client authentication failed (unknown client, no or several
    authentication methods, a method the client did not register, a wrong secret or a client
    assertion that does not verify)."""

    code = "invalid_client"
    status = 401
    default_message = "Client authentication failed."


class UnauthorizedClient(OAuthError):
    """``unauthorized_client``: this client may not use this grant type or response type."""

    code = "unauthorized_client"
    status = 400
    default_message = "This client is not allowed to use this grant or response type."


class UnsupportedGrantType(OAuthError):
    """``unsupported_grant_type``: keyfob serves authorization_code and refresh_token only."""

    code = "unsupported_grant_type"
    status = 400
    default_message = "This grant_type is not supported; use authorization_code or refresh_token."


class InvalidScope(OAuthError):
    """``invalid_scope``: the scope is malformed, unknown, not allowed for the client, lacks
    ``openid``, or asks more than the original grant at a refresh."""

    code = "invalid_scope"
    status = 400
    default_message = "The requested scope is invalid, unknown or not allowed for this client."


class UnsupportedResponseType(OAuthError):
    """``unsupported_response_type``: keyfob's authorization endpoint serves ``code`` only."""

    code = "unsupported_response_type"
    status = 400
    default_message = "This response_type is not supported; keyfob supports response_type=code."


class AccessDenied(OAuthError):
    """``access_denied``: the user, or keyfob's policy for this user and client, refused.
    A page shows it with 403; by redirect it is just the ``error`` value."""

    code = "access_denied"
    status = 403
    default_message = "The request was denied."


class LoginRequired(OAuthError):
    """``login_required`` (OIDC Core 3.1.2.6): ``prompt=none`` but the user must sign in."""

    code = "login_required"
    status = 400
    default_message = "The user must sign in, which prompt=none does not allow."


class ConsentRequired(OAuthError):
    """``consent_required`` (OIDC Core 3.1.2.6): ``prompt=none`` but the user must consent."""

    code = "consent_required"
    status = 400
    default_message = "The user must consent, which prompt=none does not allow."


class InteractionRequired(OAuthError):
    """``interaction_required`` (OIDC Core 3.1.2.6): ``prompt=none`` but some other user
    interaction is needed."""

    code = "interaction_required"
    status = 400
    default_message = "The user must interact with keyfob, which prompt=none does not allow."


class AccountSelectionRequired(OAuthError):
    """``account_selection_required`` (OIDC Core 3.1.2.6): ``prompt=none`` but the user must
    choose between accounts."""

    code = "account_selection_required"
    status = 400
    default_message = "The user must choose an account, which prompt=none does not allow."


class RequestNotSupported(OAuthError):
    """``request_not_supported`` (OIDC Core 3.1.2.6, 6.1): keyfob takes no request objects."""

    code = "request_not_supported"
    status = 400
    default_message = "The request parameter (a request object) is not supported."


class RequestUriNotSupported(OAuthError):
    """``request_uri_not_supported`` (OIDC Core 3.1.2.6, 6.2): no ``request_uri`` either."""

    code = "request_uri_not_supported"
    status = 400
    default_message = "The request_uri parameter is not supported."


class RegistrationNotSupported(OAuthError):
    """``registration_not_supported`` (OIDC Core 3.1.2.6, Self-Issued 7.2.1): keyfob takes no
    ``registration`` parameter; clients are registered by its administrators."""

    code = "registration_not_supported"
    status = 400
    default_message = "The registration parameter is not supported."


class InvalidTarget(OAuthError):
    """``invalid_target`` (RFC 8707 section 2): the ``resource`` is malformed, unknown, sent
    more than once, or not one this client may ask tokens for."""

    code = "invalid_target"
    status = 400
    default_message = "The requested resource is invalid, unknown or not allowed."


class ServerError(OAuthError):
    """``server_error``: keyfob failed; sent by redirect where a 500 page cannot reach the
    client."""

    code = "server_error"
    status = 500
    default_message = "The authorization server failed to process the request."


class TemporarilyUnavailable(OAuthError):
    """``temporarily_unavailable``: overloaded or in maintenance; try again later."""

    code = "temporarily_unavailable"
    status = 503
    default_message = "The authorization server is temporarily unavailable; try again later."


class InsufficientScope(OAuthError):
    """``insufficient_scope`` (RFC 6750 section 3.1): the token lacks the scope this needs."""

    code = "insufficient_scope"
    status = 403
    default_message = "The access token was not issued with the scope this request needs."
