"""FastAPI dependency that accepts keyfob access tokens (seed 002's ``JwtAuthGuard``).

::

    bearer = KeyfobBearer(TokenVerifier(issuer=..., audience=..., jwks_url=...))

    @app.get("/profile")
    async def profile(claims: Annotated[AccessTokenClaims, Depends(bearer)]) -> dict:
        return {"user": claims.subject}

A missing or bad token raises :class:`KeyfobAuthError` (an ``HTTPException``: 401 with
``WWW-Authenticate: Bearer ...``). FastAPI's default handler writes it as
``{"detail": {"error": ..., "message": ...}}``; call :func:`install_error_handler` once to get
keyfob's flat ``{"error": code, "message": sentence}`` instead, as the ASGI middleware writes it.
It shows up in the OpenAPI document as an HTTP bearer scheme.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.responses import JSONResponse
from fastapi.security.base import SecurityBase
from starlette.requests import Request

from keyfob.core.tokens import AccessTokenClaims
from keyfob.errors import KeyfobError
from keyfob.integrations.asgi import bearer_token, error_body, www_authenticate
from keyfob.integrations.verifier import TokenVerifier


class KeyfobAuthError(HTTPException):
    """A 401 for a missing, invalid, expired or revoked access token."""

    def __init__(self, error: KeyfobError | None) -> None:
        self.body = error_body(error)
        super().__init__(
            status_code=401,
            detail=self.body,
            headers={"WWW-Authenticate": www_authenticate(error), "Cache-Control": "no-store"},
        )


class KeyfobBearer(SecurityBase):
    """``Depends(KeyfobBearer(verifier))``: the verified claims of the request's Bearer token."""

    def __init__(self, verifier: TokenVerifier, *, scheme_name: str | None = None) -> None:
        self.verifier = verifier
        self.model = HTTPBearerModel(bearerFormat="JWT", description="keyfob access token")
        self.scheme_name = scheme_name or "keyfob"

    async def __call__(self, request: Request) -> AccessTokenClaims:
        """Verify the token; raise :class:`KeyfobAuthError` if it is missing or not valid."""
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is None:
                raise KeyfobAuthError(None)
            return await self.verifier.verify(token)
        except KeyfobError as exc:
            raise KeyfobAuthError(exc) from exc


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KeyfobAuthError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


def install_error_handler(app: FastAPI) -> None:
    """Make :class:`KeyfobAuthError` answer ``{"error": code, "message": sentence}``."""
    app.add_exception_handler(KeyfobAuthError, _handle)
