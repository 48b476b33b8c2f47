"""services.devices: a session's device from its User-Agent, its network from its address."""

from __future__ import annotations

import pytest

from keyfob.server.infra.client_address import Caller
from keyfob.server.services.devices import MAX_DEVICE, describe_device, device_seen, ip_area
from keyfob.store.records import SessionDevice

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_LINUX, "Chrome 120 on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 on iOS, iPhone",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile 120 on Android, Pixel 8",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            "Safari 17 on Mac OS X",  # the device "Mac" says nothing more
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox 121 on Windows",
        ),
        ("python-httpx/0.27.0", "python-httpx 0.27.0"),  # no rule: its product token
        ("curl/8.4.0", "curl 8"),
    ],
)
def test_a_user_agent_is_summed_up(user_agent: str, device: str) -> None:
    assert describe_device(user_agent) == device


@pytest.mark.parametrize(
    "user_agent",
    [None, "", "garbage", "Mozilla/5.0 (compatible)", "x" * 5000, "\x00\x01/1"],
    ids=["none", "empty", "garbage", "bare-mozilla", "huge-garbage", "control-characters"],
)
def test_a_user_agent_naming_nothing_is_no_device(user_agent: str | None) -> None:
    assert describe_device(user_agent) is None


def test_the_summary_is_short_and_printable() -> None:
    long = CHROME_LINUX.replace("Linux x86_64", "Linux x86_64" + " pad" * 200)
    summary = describe_device(long + " Chrome/" + "9" * 600)
    assert summary is not None
    assert len(summary) <= MAX_DEVICE
    assert summary.isprintable()
    odd = describe_device("Weird\u200b-App/1.0 " + "z" * 10)
    assert odd is None or odd.isprintable()


@pytest.mark.parametrize(
    ("address", "area"),
    [
        ("203.0.113.7", "203.0.113.x"),
        ("198.51.100.255", "198.51.100.x"),
        ("::ffff:192.0.2.9", "192.0.2.x"),  # an IPv4 client on a dual-stack socket
        ("2001:db8:85a3:1234:5678::1", "2001:db8:85a3::/48"),
        ("::1", "::/48"),
        (None, None),
        ("", None),
        ("testclient", None),
        ("203.0.113.7:8080", None),
    ],
)
def test_an_address_becomes_its_network(address: str | None, area: str | None) -> None:
    assert ip_area(address) == area


async def test_a_caller_is_seen_as_its_device_and_network() -> None:
    seen = await device_seen(Caller(ip="203.0.113.7", user_agent=CHROME_LINUX))
    assert seen == SessionDevice(device="Chrome 120 on Linux", ip_area="203.0.113.x")
    assert await device_seen(Caller(ip=None)) == SessionDevice()
