"""The client address behind trusted proxies: header parsing, the walk from the right, /64s.

Before issue 7 every request counted under its socket peer: behind a proxy, the proxy."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from keyfob.server.infra.cli import cli
from keyfob.server.infra.client_address import (
    MAX_USER_AGENT,
    SCOPE_KEY,
    Caller,
    TrustedProxies,
    caller,
    client_address,
    forwarded_element,
    parse_networks,
    rate_limit_key,
    resolve_client_address,
    x_forwarded_for_entry,
)
from keyfob.server.infra.settings import Settings

PROXY = "10.0.0.2"
TRUSTED = TrustedProxies(parse_networks(["10.0.0.0/8", "fd00::/8"]))
TRUSTED_FORWARDED = TrustedProxies(TRUSTED.networks, header="forwarded")


def scope(peer: str | None = PROXY, **headers: str | list[str]) -> dict[str, Any]:
    """An HTTP scope from ``peer`` with ``headers`` (a list gives one line per value)."""
    lines: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        lines.extend((name.replace("_", "-").encode(), line.encode()) for line in values)
    return {"type": "http", "headers": lines, "client": (peer, 4711) if peer else None}


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ("for=192.0.2.60", "192.0.2.60"),
        ("For=192.0.2.60;proto=https;by=203.0.113.43", "192.0.2.60"),
        ('for="192.0.2.60:8080"', "192.0.2.60"),
        ('for="[2001:db8:cafe::17]"', "2001:db8:cafe::17"),
        ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ('for="[2001:db8:cafe::17]:_port1"', "2001:db8:cafe::17"),
        ('for="[::ffff:192.0.2.1]"', "192.0.2.1"),
        (' proto=http ; for="\\[2001:db8::1\\]"', "2001:db8::1"),  # quoted-pairs
    ],
)
def test_forwarded_element_gives_its_for_address(element: str, expected: str) -> None:
    assert forwarded_element(element) == ip_address(expected)


@pytest.mark.parametrize(
    "element",
    [
        "for=unknown",
        "for=_hidden",
        'for="_SEVKISEK:_x"',
        "for=2001:db8::1",  # IPv6 must be bracketed (and so quoted)
        'for="2001:db8::1"',
        'for="[2001:db8::1"',
        'for="[2001:db8::1]:port"',
        'for="[192.0.2.1]"',
        'for="192.0.2.1:123456"',
        "for=192.0.2.1;for=192.0.2.2",  # a parameter occurs once per element
        'for="192.0.2.1',  # unbalanced quote
        "proto=https",  # no for=
        "for=",
        "",
        "for=192.0.2.1 garbage",
        "for=999.0.2.1",
        "for=localhost",
    ],
)
def test_forwarded_element_without_an_address_is_none(element: str) -> None:
    assert forwarded_element(element) is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("192.0.2.60", "192.0.2.60"),
        (" 192.0.2.60 ", "192.0.2.60"),
        ("192.0.2.60:1234", "192.0.2.60"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_x_forwarded_for_entry(entry: str, expected: str) -> None:
    assert x_forwarded_for_entry(entry) == ip_address(expected)


@pytest.mark.parametrize("entry", ["", "unknown", "192.0.2.1:x", "[2001:db8::1", "a.b.c.d", "1.2"])
def test_x_forwarded_for_garbage_is_none(entry: str) -> None:
    assert x_forwarded_for_entry(entry) is None


def test_nothing_is_believed_by_default() -> None:
    spoofed = scope("203.0.113.5", x_forwarded_for="198.51.100.1", forwarded="for=198.51.100.2")
    assert resolve_client_address(spoofed, TrustedProxies()) == "203.0.113.5"


def test_an_untrusted_peer_cannot_name_another_client() -> None:
    spoofed = scope("203.0.113.5", x_forwarded_for="198.51.100.1, 10.0.0.9")
    assert resolve_client_address(spoofed, TRUSTED) == "203.0.113.5"


def test_the_right_most_untrusted_address_is_the_client() -> None:
    # The client wrote "198.51.100.1" itself; our proxies appended the rest.
    request = scope(x_forwarded_for="198.51.100.1, 203.0.113.7, 10.1.1.1")
    assert resolve_client_address(request, TRUSTED) == "203.0.113.7"


def test_header_lines_are_read_in_order() -> None:
    request = scope(x_forwarded_for=["198.51.100.1, 203.0.113.7", "10.1.1.1"])
    assert resolve_client_address(request, TRUSTED) == "203.0.113.7"


def test_a_trusted_peer_without_a_header_is_the_client() -> None:
    assert resolve_client_address(scope(), TRUSTED) == PROXY


def test_only_trusted_addresses_give_the_left_most() -> None:
    request = scope(x_forwarded_for="10.9.9.9, 10.1.1.1")
    assert resolve_client_address(request, TRUSTED) == "10.9.9.9"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("203.0.113.7, garbage", PROXY),  # our proxy's own entry is unreadable: the proxy
        ("203.0.113.7, garbage, 10.1.1.1", "10.1.1.1"),  # the last trusted proxy reached
        ("garbage, 203.0.113.7", "203.0.113.7"),  # the client's own garbage is never reached
        ("203.0.113.7,", PROXY),
    ],
)
def test_malformed_entries_stop_the_walk(header: str, expected: str) -> None:
    assert resolve_client_address(scope(x_forwarded_for=header), TRUSTED) == expected


def test_forwarded_header_walk() -> None:
    request = scope(
        "fd00::1",
        forwarded='for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.1.1',
    )
    assert resolve_client_address(request, TRUSTED_FORWARDED) == "2001:db8:cafe::17"


def test_an_obfuscated_hop_stops_the_walk_at_the_proxy_before_it() -> None:
    request = scope(forwarded="for=198.51.100.1, for=_hidden, for=10.1.1.1")
    assert resolve_client_address(request, TRUSTED_FORWARDED) == "10.1.1.1"


def test_a_client_quote_cannot_swallow_the_proxy_entry() -> None:
    # The client sent `Forwarded: for="198.51.100.1`; the proxy appended its element.
    request = scope(forwarded='for="198.51.100.1, for=203.0.113.7')
    assert resolve_client_address(request, TRUSTED_FORWARDED) == "203.0.113.7"


def test_only_the_configured_header_is_believed() -> None:
    # A proxy that writes X-Forwarded-For passes a client's own Forwarded header through.
    request = scope(x_forwarded_for="203.0.113.7", forwarded="for=198.51.100.1")
    assert resolve_client_address(request, TRUSTED) == "203.0.113.7"
    assert resolve_client_address(request, TRUSTED_FORWARDED) == "198.51.100.1"


def test_a_peer_that_is_no_address_is_kept_as_it_is() -> None:
    assert resolve_client_address(scope("testclient"), TRUSTED) == "testclient"
    assert resolve_client_address(scope(None), TRUSTED) is None


def test_the_answer_is_kept_in_the_scope() -> None:
    request = scope(x_forwarded_for="203.0.113.7")
    assert client_address(request, TRUSTED) == "203.0.113.7"
    assert request[SCOPE_KEY] == "203.0.113.7"
    request["headers"] = []
    assert client_address(request, TRUSTED) == "203.0.113.7"


def settings_of(**values: Any) -> Settings:
    """Settings from raw values, as the environment would give them."""
    return Settings(secret_key="x" * 40, **values)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("testclient", "testclient"),
        (None, "-"),
    ],
)
def test_rate_limit_key_groups_ipv6_by_64(address: str | None, key: str) -> None:
    assert rate_limit_key(address) == key


def test_trusted_proxies_setting() -> None:
    settings = settings_of(trusted_proxies=" 10.0.0.1, 192.168.0.0/16 ,fd00::/8,")
    assert settings.trusted_proxies == ("10.0.0.1/32", "192.168.0.0/16", "fd00::/8")
    assert settings.proxies.trusts(ip_address("192.168.4.4"))
    assert not settings.proxies.trusts(ip_address("10.0.0.2"))
    assert settings_of().proxies == TrustedProxies()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("10.0.0.0/8, proxy.internal", "'proxy.internal' is not an IP address or CIDR network"),
        ("10.0.0.1/8", "'10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address"),
    ],
)
def test_bad_trusted_proxies_are_refused(value: str, says: str) -> None:
    with pytest.raises(ValidationError, match="KEYFOB_TRUSTED_PROXIES") as raised:
        settings_of(trusted_proxies=value)
    assert says in str(raised.value)


def test_bad_trusted_proxies_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEYFOB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KEYFOB_TRUSTED_PROXIES", "10.0.0.0/8,nginx")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("keyfob: invalid setting KEYFOB_TRUSTED_PROXIES:")
    assert "'nginx' is not an IP address" in lines[0]


def test_forwarded_header_setting() -> None:
    assert settings_of(forwarded_header="Forwarded").proxies.header == "forwarded"
    assert settings_of(forwarded_header="X-Forwarded-For").proxies.header == "x-forwarded-for"


def test_bad_forwarded_header_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="forwarded_header"):
        settings_of(forwarded_header="x-real-ip")


def test_a_caller_is_its_address_and_its_user_agent_cut_short() -> None:
    """What a session remembers starts here: the address the audit log records and at most
    ``MAX_USER_AGENT`` characters of the header (never more is read)."""
    seen = caller(scope("192.0.2.1", user_agent="Firefox/121.0"), TrustedProxies())
    assert seen == Caller(ip="192.0.2.1", user_agent="Firefox/121.0")
    behind = caller(scope(x_forwarded_for="203.0.113.9", user_agent="a" * 5000), TRUSTED)
    assert behind == Caller(ip="203.0.113.9", user_agent="a" * MAX_USER_AGENT)
    assert caller(scope(None), TrustedProxies()) == Caller(ip=None, user_agent=None)
