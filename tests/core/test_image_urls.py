"""Logo addresses: what may be shown under a strict CSP, and the CSP source that allows it."""

from __future__ import annotations

import pytest

from keyfob.core.image_urls import check_image_url, image_source
from keyfob.errors import InvalidRequest


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://cdn.example.com/logo.png", "https://cdn.example.com"),
        ("https://CDN.example.com:8443/a/b.svg?v=2", "https://cdn.example.com:8443"),
        ("https://192.0.2.7/logo.png", "https://192.0.2.7"),
        ("https://[2001:db8::1]/logo.png", "https://[2001:db8::1]"),
        ("http://localhost:3000/logo.png", "http://localhost:3000"),
        ("http://127.0.0.1/logo.png", "http://127.0.0.1"),
        ("http://[::1]:8080/logo.png", "http://[::1]:8080"),
        ("https://cdn.example.com/logo%20big.png", "https://cdn.example.com"),
    ],
)
def test_logo_urls_and_their_csp_source(url: str, source: str) -> None:
    assert check_image_url(url, what="The logo URL") == url
    assert image_source(url) == source


def test_a_path_on_keyfobs_origin_only_where_allowed() -> None:
    assert check_image_url("/static/logo.svg", what="KEYFOB_LOGO_URL", allow_path=True) == (
        "/static/logo.svg"
    )
    assert image_source("/static/logo.svg") is None  # 'self' covers it
    with pytest.raises(InvalidRequest, match="must be https"):
        check_image_url("/static/logo.svg", what="The logo URL")


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("", "without spaces"),
        ("https://cdn.example.com/" + "a" * 2048, "at most 2048"),
        ("https://cdn.example.com/a logo.png", "without spaces"),
        (" https://cdn.example.com/logo.png", "without spaces"),
        ("https://cdn.example.com/logo.png;script-src", "semicolons"),
        ("https://cdn.example.com/a,b.png", "commas"),
        ("https://cdn.example.com/'self'", "quotes"),
        ('https://cdn.example.com/"x"', "quotes"),
        ("https://cdn.example.com/<x>", "without spaces"),
        ("https://cdn.example.com\\logo.png", "without spaces"),
        ("https://cdn.example.com/logo\u00e9.png", "without spaces"),
        ("http://cdn.example.com/logo.png", "must be https"),
        ("http://localhost.evil.example/logo.png", "must be https"),
        ("ftp://cdn.example.com/logo.png", "must be https"),
        ("javascript:alert(1)", "must be https"),
        ("data:image/png;base64,AAAA", "semicolons"),
        ("//cdn.example.com/logo.png", "must be https"),
        ("logo.png", "must be https"),
        ("https:///logo.png", "must be https"),
        ("https://user:pw@cdn.example.com/logo.png", "without a user name"),
        ("https://*.example.com/logo.png", "plain host"),
        ("https://cdn.example.com:99999/logo.png", "not a valid URL"),
        ("https://cdn.example.com/logo.png#top", "fragment"),
        ("https://cdn.example.com/logo.png#", "fragment"),
    ],
)
def test_refused_logo_urls(url: str, complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint):
        check_image_url(url, what="The logo URL", allow_path=True)
