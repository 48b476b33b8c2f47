"""OpenID Connect RP-Initiated Logout 1.0: where keyfob may send the user after logging out.

§2 and §3: the ``post_logout_redirect_uri`` of a logout request must have been registered by
the client (``post_logout_redirect_uris``), and keyfob compares it as it compares redirect
URIs: character for character (RFC 9700 §4.1.3), after the same hygiene as
:func:`keyfob.core.redirects.check_redirect_uri` (absolute http(s), a host, no userinfo, no
fragment). The ``state`` of the request goes back on the redirect (§3).

Which client the URI belongs to (``client_id``, or the ``aud`` of a verified
``id_token_hint``: :mod:`keyfob.core.oidc_id_token`) is the caller's to settle first.
"""

from __future__ import annotations

from collections.abc import Sequence

from keyfob.core.redirects import check_redirect_uri, redirect_with
from keyfob.errors import InvalidRequest, RedirectUriMismatch


def check_post_logout_redirect_uri(uri: str, *, expected_uris: Sequence[str]) -> str:
    """``uri`` if it is a well-formed redirect URI equal to one of ``expected_uris`` (the
    client's registered ``post_logout_redirect_uris``).

    :class:`InvalidRequest` for a malformed URI, :class:`RedirectUriMismatch` for one the client
    did not register: keyfob then shows its own page and does not redirect.
    """
    if not isinstance(uri, str):
        raise InvalidRequest("The post_logout_redirect_uri must be a URL.")
    check_redirect_uri(uri)
    if isinstance(expected_uris, str) or uri not in expected_uris:  # exact, case-sensitive
        raise RedirectUriMismatch(
            "The post_logout_redirect_uri is not registered for this app, so keyfob will not "
            "send you there after logging out."
        )
    return uri


def post_logout_redirect(uri: str, *, state: str | None) -> str:
    """The URL to send the user to: the checked ``uri``, with ``state`` added when sent."""
    if state is None or state == "":
        return uri
    return redirect_with(uri, {"state": state}, delivery="query")
