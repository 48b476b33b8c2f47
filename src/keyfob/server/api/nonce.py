"""``/auth/nonce``: a single-use nonce and the sign-in message to sign around it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Query
from starlette.responses import Response

from keyfob.core.nonces import issue_signed_nonce, new_nonce
from keyfob.core.session_keys import parse_session_key, session_key_resource
from keyfob.core.signin_message import SignInMessage, format_time
from keyfob.errors import MessageMismatch
from keyfob.server.api.schemas import MessageFields, NonceRequest, NonceResponse, json_response
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.services.wallet import Chain, canonical_address
from keyfob.store.records import NonceRecord


async def issue_nonce(runtime: Runtime, request: NonceRequest) -> NonceResponse:
    """Create a nonce (stored or signed, per ``KEYFOB_NONCE_MODE``) and the message around it."""
    settings = runtime.settings
    now = runtime.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # messages carry milliseconds
    expires_at = now + timedelta(seconds=settings.nonce_ttl)
    address = canonical_address(request.chain, request.address) if request.address else None
    chain_id = _chain_id(runtime, request.chain, request.chain_id)
    resources = []
    if request.session_key is not None:
        resources.append(session_key_resource(parse_session_key(request.session_key).thumbprint))
    if settings.nonce_mode == "signed":
        nonce = issue_signed_nonce(
            key=runtime.nonce_key, chain=request.chain, now=now, ttl=settings.nonce_ttl
        )
    else:
        nonce = new_nonce()
        await runtime.store.add_nonce(
            NonceRecord(
                nonce=nonce,
                chain=request.chain,
                address=address,
                issued_at=now,
                expires_at=expires_at,
            )
        )
    fields = MessageFields(
        domain=settings.domain,
        uri=settings.origin,
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=format_time(now),
        expiration_time=format_time(expires_at),
        statement=settings.statement,
        resources=resources,
    )
    message = None
    if address is not None:
        message = SignInMessage(
            chain=request.chain,
            domain=fields.domain,
            address=address,
            statement=fields.statement,
            uri=fields.uri,
            version=fields.version,
            chain_id=fields.chain_id,
            nonce=nonce,
            issued_at=fields.issued_at,
            expiration_time=fields.expiration_time,
            resources=tuple(resources),
        ).to_text()
    return NonceResponse(nonce=nonce, message=message, expires_at=expires_at, fields=fields)


def _chain_id(runtime: Runtime, chain: str, requested: int | None) -> str | None:
    if chain != "ethereum":
        return None
    allowed = runtime.settings.ethereum_chain_ids
    if requested is None:
        return str(allowed[0])
    if requested not in allowed:
        raise MessageMismatch(
            f"Chain ID {requested} is not accepted here; use one of "
            + ", ".join(str(c) for c in allowed)
            + "."
        )
    return str(requested)


async def get_nonce(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    chain: Annotated[Chain, Query()],
    address: Annotated[str | None, Query(max_length=128)] = None,
    chain_id: Annotated[int | None, Query(alias="chainId", ge=1)] = None,
) -> Response:
    """The same as ``POST /auth/nonce``, with query parameters (as seed 002 does it)."""
    params: dict[str, Any] = {"chain": chain, "address": address, "chain_id": chain_id}
    return json_response(await issue_nonce(runtime, NonceRequest(**params)))
