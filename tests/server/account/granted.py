"""The account page's step-up grant for a test browser, the cheapest honest way: the grant
``grant_to_browser`` would set after a real proof, issued by the same service for this
browser's SSO session and the page's audience, put in the browser's cookie jar."""

from __future__ import annotations

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.account.step_up import COOKIE, audience, session_id
from keyfob.server.services.sso import SsoContext
from keyfob.server.services.step_up import grant_step_up
from tests.server.account.holder import Browser


async def give_step_up(browser: Browser, method: str = "passkey") -> str:
    """Issue a step-up grant for ``browser``'s SSO session and set its cookie; the grant."""
    runtime = browser.server.runtime
    token_hash = hash_refresh_token(browser.token)
    session = await runtime.store.get_sso_session(token_hash, now=runtime.now())
    user = await runtime.store.get_user(browser.user.id)
    assert session is not None
    assert user is not None
    sso = SsoContext(session=session, user=user, token_hash=token_hash)
    grant = await grant_step_up(
        runtime,
        user,
        session_id=session_id(sso),
        method=method,
        audience=audience(runtime),
        ip=None,
    )
    browser.client.cookies.set(COOKIE, grant, path="/account")
    return grant
