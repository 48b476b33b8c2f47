"""Discovery 1.0 (``/.well-known/openid-configuration``) and RFC 8414 metadata
(``/.well-known/oauth-authorization-server``): one document, built once per process."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.core.oidc_claims import claims_supported
from keyfob.core.oidc_discovery import provider_metadata
from keyfob.server.oidc.provider import get_provider
from keyfob.server.pages.i18n import LOCALES
from keyfob.server.services.oidc_clients import AUTH_METHODS, ID_TOKEN_ALGORITHMS, SCOPES


@functools.cache
def _document(issuer: str) -> dict[str, Any]:
    return provider_metadata(
        issuer=issuer,
        id_token_algs=ID_TOKEN_ALGORITHMS,
        token_endpoint_auth_methods=AUTH_METHODS,
        scopes=SCOPES,
        claims=claims_supported(SCOPES),
        ui_locales=LOCALES,
    )


async def discovery_endpoint(request: Request) -> Response:
    """The provider's metadata (cacheable for an hour: it changes only with a new version)."""
    document = _document(get_provider(request).issuer)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})
