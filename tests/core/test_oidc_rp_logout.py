"""Tests for keyfob.core.oidc_rp_logout: post_logout_redirect_uri checks (RP-Initiated Logout)."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.core.oidc_rp_logout import check_post_logout_redirect_uri, post_logout_redirect
from keyfob.errors import InvalidRequest, RedirectUriMismatch

REGISTERED = (
    "https://client.example.org/logged-out",
    "https://client.example.org/bye?lang=en",
    "http://127.0.0.1:8080/done",
)


@pytest.mark.parametrize("uri", REGISTERED)
def test_registered_uris_match_exactly(uri: str) -> None:
    assert check_post_logout_redirect_uri(uri, expected_uris=REGISTERED) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example.org/logged-out/",  # trailing slash
        "https://CLIENT.example.org/logged-out",  # case
        "https://client.example.org:443/logged-out",  # explicit default port
        "http://client.example.org/logged-out",  # scheme
        "https://client.example.org/logged-out?x=1",  # added query
        "https://client.example.org/bye",  # query dropped
        "https://client.example.org/logged-outx",  # prefix
        "https://evil.example/logged-out",
        "http://127.0.0.1:8081/done",  # another port
    ],
)
def test_anything_else_is_a_mismatch(uri: str) -> None:
    with pytest.raises(RedirectUriMismatch):
        check_post_logout_redirect_uri(uri, expected_uris=REGISTERED)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        " https://client.example.org/logged-out",
        "https://client.example.org/logged out",
        "https://client.example.org/logged-out#frag",
        "https://client.example.org/logged-out#",
        "https://user:pw@client.example.org/logged-out",
        "javascript:alert(1)",
        "/logged-out",
        "https://client.example.org:99999/x",
        None,
        ["https://client.example.org/logged-out"],
    ],
)
def test_malformed_uris_are_refused_even_if_registered(uri: Any) -> None:
    # A registered bad URI (written before these rules) still does not become a redirect.
    with pytest.raises(InvalidRequest):
        check_post_logout_redirect_uri(uri, expected_uris=[*REGISTERED, uri])


def test_no_registered_uri_and_a_string_instead_of_a_list() -> None:
    with pytest.raises(RedirectUriMismatch):
        check_post_logout_redirect_uri(REGISTERED[0], expected_uris=())
    # A string is not a list: "in" would match substrings.
    with pytest.raises(RedirectUriMismatch):
        check_post_logout_redirect_uri(
            "https://client.example.org/logged-out", expected_uris=REGISTERED[0] + "/more"
        )


def test_state_goes_back_on_the_redirect() -> None:
    assert post_logout_redirect(REGISTERED[0], state="af0ifjsldkj") == (
        "https://client.example.org/logged-out?state=af0ifjsldkj"
    )
    assert post_logout_redirect(REGISTERED[1], state="a b&c") == (
        "https://client.example.org/bye?lang=en&state=a+b%26c"
    )
    assert post_logout_redirect(REGISTERED[0], state=None) == REGISTERED[0]
    assert post_logout_redirect(REGISTERED[0], state="") == REGISTERED[0]
