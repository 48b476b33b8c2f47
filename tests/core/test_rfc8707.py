"""Tests for keyfob.core.rfc8707: the form of a ``resource`` parameter, one per request."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from keyfob.core.rfc8707 import check_resource, requested_resource
from keyfob.errors import InvalidTarget


@pytest.mark.parametrize(
    "resource",
    [
        "https://api.example.com/app/",  # RFC 8707 section 2.1's example resource
        "https://cal.example.com/",
        "https://api.example.com",
        "https://api.example.com:8443/v1?tenant=1",  # a query is discouraged, not forbidden
        "http://localhost:8000/api",
        "urn:example:resource:read",
        "HTTPS://API.EXAMPLE.COM/",
    ],
)
def test_absolute_uris_without_fragment(resource: str) -> None:
    assert check_resource(resource) == resource
    assert requested_resource([("resource", resource), ("scope", "openid")]) == resource


@pytest.mark.parametrize(
    ("resource", "why"),
    [
        ("/api", "absolute URI"),
        ("api.example.com", "absolute URI"),
        ("//api.example.com/", "absolute URI"),
        ("1https://api.example.com/", "absolute URI"),
        ("https:", "absolute URI"),
        ("https://api.example.com/a b", "absolute URI"),
        ("https://api.example.com/\n", "absolute URI"),
        ("https://api.example.com/é", "absolute URI"),
        ("https://api.example.com/#x", "fragment"),
        ("https://api.example.com/#", "fragment"),
        ("https:///path", "host"),
        ("https://api.example.com:99999/", "not a valid URI"),
        ("https://[::1/", "not a valid URI"),
        ("https://api.example.com/" + "a" * 2048, "2048"),
    ],
)
def test_malformed_resources(resource: str, why: str) -> None:
    with pytest.raises(InvalidTarget, match=why):
        check_resource(resource)


def test_requested_resource() -> None:
    assert requested_resource([("scope", "openid")]) is None
    assert requested_resource([("resource", "")]) is None  # RFC 6749 section 3.1: absent
    with pytest.raises(InvalidTarget, match="one resource per request"):
        requested_resource([("resource", "https://a.example/"), ("resource", "https://b.example/")])
    with pytest.raises(InvalidTarget, match="one resource per request"):
        requested_resource([("resource", "https://a.example/"), ("resource", "https://a.example/")])
    with pytest.raises(InvalidTarget, match="fragment"):
        requested_resource([("resource", "https://a.example/#f")])


def test_rfc8707_examples() -> None:
    # RFC 8707 section 2.1: the first example asks for one resource, which keyfob serves ...
    one = "response_type=token&resource=https%3A%2F%2Fapi.example.com%2Fapp%2F"
    assert requested_resource(parse_qsl(one)) == "https://api.example.com/app/"
    # ... the second for two at once (calendar and contacts), which keyfob refuses.
    two = (
        "response_type=code&client_id=s6BhdRkqt3&resource=https%3A%2F%2Fcal.example.com%2F"
        "&resource=https%3A%2F%2Fcontacts.example.com%2F"
    )
    with pytest.raises(InvalidTarget, match="one resource per request"):
        requested_resource(parse_qsl(two))
