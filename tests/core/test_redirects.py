"""Redirect URIs: registration rules, exact matching (near misses refused), building returns."""

from __future__ import annotations

import pytest

from keyfob.core.redirects import check_redirect_uri, match_redirect_uri, redirect_with
from keyfob.errors import InvalidRequest, RedirectUriMismatch

REGISTERED = ("https://app.example.com/callback",)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "http://localhost:3000/auth/done",
        "https://app.example.com/cb?from=keyfob",
        "http://127.0.0.1:8080/",
    ],
)
def test_registrable_uris(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("", "non-empty"),
        ("/callback", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("ftp://app.example.com/cb", "absolute"),
        ("https:///cb", "absolute"),
        ("https://user:pw@app.example.com/cb", "user name"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        (" https://app.example.com/cb", "spaces"),
        ("https://app.example.com/c b", "spaces"),
        ("https://app.example.com:99999/cb", "valid"),
        ("https://app.example.com/" + "a" * 3000, "non-empty"),
    ],
)
def test_unregistrable_uris(uri: str, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        check_redirect_uri(uri)


def test_exact_match_and_single_default() -> None:
    assert match_redirect_uri(REGISTERED[0], registered=REGISTERED) == REGISTERED[0]
    assert match_redirect_uri(None, registered=REGISTERED) == REGISTERED[0]
    assert match_redirect_uri("", registered=REGISTERED) == REGISTERED[0]


@pytest.mark.parametrize(
    "near_miss",
    [
        "https://app.example.com:8443/callback",  # other port
        "https://app.example.com:443/callback",  # same port, spelled differently
        "https://app.example.com/callback/",  # trailing slash
        "https://app.example.com/callback/more",  # trailing path
        "https://app.example.com/callback?x=1",  # extra query
        "https://app.example.com/callback#x",  # fragment
        "http://app.example.com/callback",  # other scheme
        "https://evil@app.example.com/callback",  # userinfo
        "https://app.example.com@evil.example/callback",  # userinfo pointing elsewhere
        "https://APP.example.com/callback",  # case
        "https://app.example.com.evil.example/callback",  # suffix domain
        "https://evil.example/?https://app.example.com/callback",
        "//app.example.com/callback",  # scheme-relative
        "https://app.example.com/Callback",
    ],
)
def test_near_misses_are_refused(near_miss: str) -> None:
    with pytest.raises(RedirectUriMismatch, match="not registered"):
        match_redirect_uri(near_miss, registered=REGISTERED)


def test_no_registered_uri_is_a_misconfiguration_not_an_open_redirect() -> None:
    with pytest.raises(RedirectUriMismatch, match="no redirect URI registered"):
        match_redirect_uri("https://anything.example/cb", registered=())


def test_several_registered_need_an_explicit_choice() -> None:
    registered = (*REGISTERED, "https://app.example.com/other")
    with pytest.raises(RedirectUriMismatch, match="several"):
        match_redirect_uri(None, registered=registered)
    assert match_redirect_uri(registered[1], registered=registered) == registered[1]


def test_redirect_with_query_and_fragment() -> None:
    params = {"token": "a.b.c", "clientId": "id", "state": "/admin/dashboard?x=1&y"}
    assert redirect_with("https://a.example/cb", params, delivery="query") == (
        "https://a.example/cb?token=a.b.c&clientId=id&state=%2Fadmin%2Fdashboard%3Fx%3D1%26y"
    )
    assert redirect_with("https://a.example/cb?from=k", {"t": "1"}, delivery="query") == (
        "https://a.example/cb?from=k&t=1"
    )
    assert redirect_with("https://a.example/cb", {"t": "1"}, delivery="fragment") == (
        "https://a.example/cb#t=1"
    )
    with pytest.raises(ValueError, match="form_post"):
        redirect_with("https://a.example/cb", {"t": "1"}, delivery="form_post")
