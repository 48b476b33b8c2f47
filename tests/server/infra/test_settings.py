"""The branding settings: defaults that keep the pages as they were, and what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from keyfob.server.infra.settings import Settings


def test_branding_defaults() -> None:
    settings = Settings()
    assert settings.product_name == "keyfob"
    assert settings.logo_url is None
    assert settings.accent_color is None
    assert settings.extra_css is None


def test_branding_settings_are_cleaned(tmp_path: Path) -> None:
    css = tmp_path / "brand.css"
    css.write_text("body { color: red; }")
    settings = Settings(
        product_name="  Acme ID ",
        logo_url="https://cdn.example.com/acme.svg",
        accent_color=" #07C ",
        extra_css=css,
    )
    assert settings.product_name == "Acme ID"
    assert settings.logo_url == "https://cdn.example.com/acme.svg"
    assert settings.accent_color == "#0077cc"
    assert settings.extra_css == css.resolve()
    assert Settings(logo_url="/static/acme.svg").logo_url == "/static/acme.svg"
    assert Settings(accent_color="#8A1538").accent_color == "#8a1538"


def test_empty_branding_variables_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEYFOB_LOGO_URL", "KEYFOB_ACCENT_COLOR", "KEYFOB_EXTRA_CSS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("KEYFOB_PRODUCT_NAME", "Acme ID")
    settings = Settings()
    assert (settings.logo_url, settings.accent_color, settings.extra_css) == (None, None, None)
    assert settings.product_name == "Acme ID"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"product_name": ""}, "KEYFOB_PRODUCT_NAME is 1 to 64"),
        ({"product_name": "   "}, "KEYFOB_PRODUCT_NAME is 1 to 64"),
        ({"product_name": "x" * 65}, "KEYFOB_PRODUCT_NAME is 1 to 64"),
        ({"product_name": "Acme\nID"}, "printable"),
        ({"logo_url": "http://cdn.example.com/logo.png"}, "KEYFOB_LOGO_URL must be https"),
        ({"logo_url": "//cdn.example.com/logo.png"}, "KEYFOB_LOGO_URL must be https"),
        ({"logo_url": "logo.png"}, "KEYFOB_LOGO_URL must be https"),
        ({"logo_url": "https://cdn.example.com/x.png; img-src *"}, "semicolons"),
        ({"logo_url": "javascript:alert(1)"}, "KEYFOB_LOGO_URL must be https"),
        ({"logo_url": "https://u@cdn.example.com/x.png"}, "user name"),
        ({"accent_color": "blue"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"accent_color": "#12345"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"accent_color": "0b5cad"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"accent_color": "#0b5cadff"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"accent_color": "#gggggg"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"accent_color": "red; } body { display: none"}, "KEYFOB_ACCENT_COLOR is a hex colour"),
        ({"extra_css": "/no/such/file.css"}, "KEYFOB_EXTRA_CSS: '/no/such/file.css' is not a file"),
        ({"extra_css": "/"}, "is not a file"),
    ],
)
def test_bad_branding_settings_are_refused(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(**values)
