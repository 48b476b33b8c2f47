"""For apps that accept keyfob's access tokens.

- :class:`~keyfob.integrations.verifier.TokenVerifier` verifies tokens against keyfob's JWKS
  (or the shared HS256 secret), optionally with a denylist of revoked tokens.
- :class:`~keyfob.integrations.fastapi.KeyfobBearer`: a FastAPI dependency guarding some routes.
- :class:`~keyfob.integrations.asgi.KeyfobAuthMiddleware`: pure ASGI, guards every route but an
  allowlist.
- :class:`~keyfob.integrations.denylist.RemoteDenylist` polls keyfob's ``/auth/denylist``: a
  token is refused when its ``jti`` or its session (``sid``) is revoked; if the feed stays
  unreachable longer than a token lives, every token is refused (or, with ``fail_open=True``,
  accepted).

keyfob's URLs (JWKS, denylist) must be https, or plain http to a loopback host only.

The FastAPI module is not imported here, so the rest works without FastAPI installed.
"""

from keyfob.integrations.asgi import KeyfobAuthMiddleware, claims_of
from keyfob.integrations.denylist import RemoteDenylist, StaticDenylist
from keyfob.integrations.verifier import Denylist, TokenVerifier

__all__ = [
    "Denylist",
    "KeyfobAuthMiddleware",
    "RemoteDenylist",
    "StaticDenylist",
    "TokenVerifier",
    "claims_of",
]
