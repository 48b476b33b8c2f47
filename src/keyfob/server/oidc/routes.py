"""The route table of the OpenID Connect surface: every endpoint, declared once.

The JSON endpoints render RFC 6749 errors (:mod:`keyfob.server.oidc.errors`); the browser
endpoints render error pages, and redirect errors to the client only once its redirect URI
is known to be registered.
"""

from __future__ import annotations

from starlette.routing import Route

from keyfob.server.oidc import (
    authorize,
    discovery,
    logout,
    revocation,
    signin_pages,
    token,
    userinfo,
)

ROUTES = [
    Route("/.well-known/openid-configuration", discovery.discovery_endpoint, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", discovery.discovery_endpoint, methods=["GET"]),
    Route("/oidc/authorize", authorize.authorization_endpoint, methods=["GET", "POST"]),
    Route("/oidc/authorize/continue", authorize.continue_endpoint, methods=["GET"]),
    Route("/oidc/login", signin_pages.login_page, methods=["GET"]),
    Route("/oidc/login/passkey/options", signin_pages.login_options, methods=["POST"]),
    Route("/oidc/login/passkey", signin_pages.login_passkey, methods=["POST"]),
    Route("/oidc/login/wallet", signin_pages.login_wallet, methods=["POST"]),
    Route("/oidc/consent", signin_pages.consent_page, methods=["GET"]),
    Route("/oidc/consent", signin_pages.consent_decision, methods=["POST"]),
    Route("/oidc/token", token.token_endpoint, methods=["POST"]),
    Route("/oidc/userinfo", userinfo.userinfo_endpoint, methods=["GET", "POST"]),
    Route("/oidc/revoke", revocation.revocation_endpoint, methods=["POST"]),
    Route("/oidc/introspect", revocation.introspection_endpoint, methods=["POST"]),
    Route("/oidc/logout", logout.end_session_endpoint, methods=["GET", "POST"]),
    Route("/oidc/logout/confirm", logout.confirm_endpoint, methods=["POST"]),
]

#: The pages a browser is sent to (sign-in, consent, logout), on the public URL's host only
#: (:mod:`keyfob.server.infra.public_host`); the endpoints servers call are not among them.
BROWSER_PREFIXES = ("/oidc/authorize", "/oidc/login", "/oidc/consent", "/oidc/logout")

#: The paths of this surface: every request under them is served by :data:`ROUTES` alone.
PREFIXES = (
    "/oidc/",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
)
