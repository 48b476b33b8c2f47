"""``GET /auth/me``, the JWKS and the access-token denylist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from keyfob.server.auth import CurrentUser, RuntimeDep, user_out
from keyfob.server.schemas import UserOut

router = APIRouter()


@router.get("/auth/me", response_model=UserOut, response_model_by_alias=True, tags=["tokens"])
async def me(user: CurrentUser) -> UserOut:
    """The signed-in user and their sign-in methods."""
    return user_out(user)


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    """The public keys that verify keyfob's access tokens (empty when tokens are HS256)."""
    keys = await runtime.keyring.refresh_if_stale(now=runtime.now())
    return keys.jwks


@router.get("/auth/denylist", tags=["keys"])
async def denylist(runtime: RuntimeDep) -> dict[str, Any]:
    """Access tokens revoked before their expiry (by logout), for guards to consult."""
    denied = await runtime.store.denied_tokens(now=runtime.now())
    return {"revoked": [{"jti": jti, "exp": int(exp.timestamp())} for jti, exp in denied]}


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}
