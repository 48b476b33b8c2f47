"""The public URL ``keyfob serve`` derives from its bind address, and where passkeys work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from keyfob.server.infra.public_url import derived_public_url, passkeys_unavailable
from keyfob.server.infra.settings import Settings


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://localhost:8000"),
        ("localhost", 9000, "http://localhost:9000"),
        ("LocalHost.", 9000, "http://localhost:9000"),
        ("0.0.0.0", 8000, "http://localhost:8000"),
        ("::", 8000, "http://localhost:8000"),
        ("::1", 8000, "http://localhost:8000"),
        ("[::1]", 8000, "http://localhost:8000"),
        ("127.0.0.2", 8000, "http://localhost:8000"),  # all of 127/8 is loopback
        ("", 8000, "http://localhost:8000"),
        ("127.0.0.1", 80, "http://localhost"),  # no default port, as browsers write origins
        ("auth.lan", 8000, "http://auth.lan:8000"),
        ("192.168.1.5", 8000, "http://192.168.1.5:8000"),
        ("fd00::5", 8000, "http://[fd00::5]:8000"),
        ("[fd00::5]", 80, "http://[fd00::5]"),
    ],
)
def test_derived_public_url(host: str, port: int, url: str) -> None:
    assert derived_public_url(host, port) == url
    assert Settings(public_url=url).public_url == url  # a URL the settings accept unchanged


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "http://app.localhost:8000", "https://auth.example.com"]
)
def test_passkeys_work_on_https_and_localhost(url: str) -> None:
    assert passkeys_unavailable(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://auth.lan:8000", "plain http off localhost"),
        ("http://127.0.0.1:8000", "IP address"),
        ("https://192.168.1.5", "IP address"),
        ("http://[fd00::5]:8000", "IP address"),
    ],
)
def test_passkeys_are_refused_on_plain_http_elsewhere_and_on_ip_addresses(
    url: str, why: str
) -> None:
    reason = passkeys_unavailable(url)
    assert reason is not None
    assert why in reason
    assert url in reason


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://Auth.Example.com:443", "https://auth.example.com"),
        ("http://localhost:80/", "http://localhost"),
        ("https://auth.example.com:8443", "https://auth.example.com:8443"),
        ("http://localhost:443", "http://localhost:443"),  # not http's default port
    ],
)
def test_the_public_url_is_kept_as_browsers_write_the_origin(given: str, kept: str) -> None:
    settings = Settings(public_url=given)
    assert settings.public_url == kept
    assert settings.domain == kept.split("://", 1)[1]


@pytest.mark.parametrize(
    "bad",
    [
        "auth.example.com",
        "ftp://auth.example.com",
        "https://auth.example.com/path",
        "https://auth.example.com?x=1",
        "https://user@auth.example.com",
        "https://auth.example.com:99999",
        "https://auth.example.com:port",
    ],
)
def test_a_public_url_that_is_no_origin_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="KEYFOB_PUBLIC_URL"):
        Settings(public_url=bad)
