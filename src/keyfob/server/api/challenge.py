"""``POST /auth/challenge`` (seed 000): a short-lived JWT for Nimiq Keyguard to sign."""

from __future__ import annotations

from keyfob.core.challenge import issue_challenge
from keyfob.errors import LegacyFlowDisabled
from keyfob.server.api.login import challenge_audience
from keyfob.server.api.schemas import ChallengeResponse
from keyfob.server.infra.runtime import RuntimeDep


async def challenge(runtime: RuntimeDep) -> ChallengeResponse:
    """Issue a single-use HS256 challenge JWT; sign it as the message of a Nimiq login.

    Off (404 ``legacy_flow_disabled``) unless ``KEYFOB_LEGACY_NIMIQ_CHALLENGE=true``: the
    challenge names no domain, so a phishing site could relay one for its victim to sign."""
    if not runtime.settings.legacy_nimiq_challenge:
        raise LegacyFlowDisabled()
    issued = issue_challenge(
        key=runtime.challenge_key,
        issuer=runtime.settings.issuer,
        audience=challenge_audience(runtime),
        now=runtime.now(),
        ttl=runtime.settings.nonce_ttl,
    )
    return ChallengeResponse(challenge=issued.token, expires_at=issued.expires_at)
