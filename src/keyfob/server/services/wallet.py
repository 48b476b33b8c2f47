"""A wallet's signed message, verified: the chain's verify step with this server's
expectations, then how its nonce is to be spent (the JSON API's sign-in and account linking,
the hosted pages' wallet sign-in, and step-up all go through here)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from keyfob.core.eip55 import to_checksum_address
from keyfob.core.eip4361 import verify_ethereum_sign_in
from keyfob.core.nimiq import normalize_nimiq_address, verify_nimiq_sign_in
from keyfob.core.nonces import verify_signed_nonce
from keyfob.core.signin_message import VerifiedSignIn
from keyfob.core.solana import is_solana_address, verify_solana_sign_in
from keyfob.core.step_up import STEP_UP_REQUEST_ID
from keyfob.errors import InvalidNonce, InvalidRequest
from keyfob.server.infra.inputs import Body, MessageText, Text
from keyfob.server.infra.runtime import Runtime
from keyfob.store import NonceSpend
from keyfob.store.records import NonceRecord

Chain = Literal["ethereum", "nimiq", "solana"]

# How far a client's clock may run ahead of ours when it writes "Issued At".
CLOCK_SKEW = timedelta(seconds=60)
# A nonce as keyfob issues them (EIP-4361's 8 or more letters and digits, within its column):
# anything else in a signed message, which its signer chose, is never looked up.
STORED_NONCE = re.compile(r"[A-Za-z0-9]{8,128}")
_ETH_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class SignedMessage(Body):
    """A wallet's signed sign-in message and signature, as the wallet gave them."""

    chain: Chain
    message: MessageText = Field(min_length=1)
    signature: Text = Field(min_length=1, max_length=1024)
    public_key: Text | None = Field(default=None, max_length=256)


def canonical_address(chain: str, address: str) -> str:
    """The address as keyfob writes it: EIP-55, grouped ``NQ..``, or base58."""
    if chain == "ethereum":
        if not _ETH_ADDRESS.fullmatch(address):
            raise InvalidRequest("An Ethereum address is 0x followed by 40 hex digits.")
        return to_checksum_address(address)
    if chain == "nimiq":
        return normalize_nimiq_address(address)
    if not is_solana_address(address):
        raise InvalidRequest("A Solana address is the base58 form of a 32-byte public key.")
    return address


def verify_signature(runtime: Runtime, body: SignedMessage) -> VerifiedSignIn:
    """Run the chain's verify step with our domain, origin and chain ids as the expectations."""
    settings = runtime.settings
    now = runtime.now()
    common = {"expected_domain": settings.domain, "expected_origin": settings.origin, "now": now}
    if body.chain == "ethereum":
        return verify_ethereum_sign_in(
            body.message,
            body.signature,
            expected_chain_ids=settings.ethereum_chain_ids,
            **common,  # type: ignore[arg-type]
        )
    if body.chain == "solana":
        return verify_solana_sign_in(body.message, body.signature, **common)  # type: ignore[arg-type]
    if body.public_key is None:
        raise InvalidRequest("A Nimiq sign-in needs the publicKey the Hub returned.")
    return verify_nimiq_sign_in(body.message, body.signature, body.public_key, **common)  # type: ignore[arg-type]


def nonce_spend(runtime: Runtime, verified: VerifiedSignIn) -> NonceSpend:
    """How the message's nonce is to be burnt, and what the nonce must match when it is."""
    assert verified.message is not None
    message = verified.message
    if message.request_id == STEP_UP_REQUEST_ID:
        raise InvalidNonce(
            "This message confirms an account change (a step-up); it signs nobody in."
        )
    if runtime.settings.nonce_mode == "signed":
        signed = verify_signed_nonce(
            message.nonce, key=runtime.nonce_key, expected_chain=verified.chain, now=runtime.now()
        )
        _check_issued_at(
            message.issued_at_time, issued_at=signed.issued_at, expires_at=signed.expires_at
        )
        return NonceSpend(used_key=f"nonce:{message.nonce}", used_until=signed.expires_at)

    if not STORED_NONCE.fullmatch(message.nonce):
        raise InvalidNonce("This nonce was not issued here.")

    def check(record: NonceRecord) -> None:
        if record.chain != verified.chain:
            raise InvalidNonce(f"This nonce was issued for {record.chain}, not {verified.chain}.")
        if record.address is not None and record.address != verified.address:
            raise InvalidNonce("This nonce was issued for another address.")
        _check_issued_at(
            message.issued_at_time, issued_at=record.issued_at, expires_at=record.expires_at
        )

    return NonceSpend(nonce=message.nonce, check=check)


def _check_issued_at(moment: datetime, *, issued_at: datetime, expires_at: datetime) -> None:
    if not issued_at - CLOCK_SKEW <= moment <= expires_at:
        raise InvalidNonce("The message's Issued At lies outside the life of its nonce.")
