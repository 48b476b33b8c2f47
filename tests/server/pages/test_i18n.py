"""Which language a page gets: ``ui_locales``, then ``Accept-Language`` (q-values), then en."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from keyfob.server.pages.i18n import (
    LOCALES,
    catalog,
    error_sentences,
    negotiate,
    page_gettext,
    parse_accept_language,
    request_locale,
    script_messages,
)


def request_with(accept_language: str | None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("ui_locales", "accept_language", "expected"),
    [
        ((), None, "en"),
        ((), "", "en"),
        ((), "de", "de"),
        ((), "de-DE,de;q=0.9,en;q=0.8", "de"),
        ((), "de-CH", "de"),
        ((), "DE-at", "de"),
        ((), "en-GB,en;q=0.9", "en"),
        ((), "fr-FR,fr;q=0.9", "en"),  # no French catalog: the default
        ((), "fr, de;q=0.5", "de"),  # the first language keyfob has
        ((), "en;q=0.4, de;q=0.8", "de"),  # q-values, not the order, decide
        ((), "de;q=0.5, en;q=0.5", "de"),  # a tie keeps the header's order
        ((), "de;q=0, en", "en"),  # q=0: "not this one"
        ((), "de;q=0", "en"),
        ((), "*", "en"),
        ((), "de;q=abc, en", "en"),  # a malformed q-value is q=0
        ((), "de;q=2, en", "en"),  # out of range: dropped
        ((), "12-34, <script>, de", "de"),  # malformed tags are skipped
        (("de",), "en", "de"),  # ui_locales beats Accept-Language
        (("de-DE",), "en-US,en", "de"),
        (("en",), "de", "en"),
        (("fr", "de"), "en", "de"),  # the first of ui_locales keyfob has
        (("fr",), "de", "de"),  # none of ui_locales: the browser's choice
        (("ja", "fr"), None, "en"),
    ],
)
def test_locale_negotiation(
    ui_locales: tuple[str, ...], accept_language: str | None, expected: str
) -> None:
    assert request_locale(request_with(accept_language), ui_locales) == expected


def test_accept_language_is_read_by_quality_then_order() -> None:
    header = "fr;q=0.7, de-CH, en;q=0.7, it;q=0, es;q=0.9"
    assert parse_accept_language(header) == ["de-CH", "es", "fr", "en"]
    assert parse_accept_language(None) == []
    assert parse_accept_language(", ;q=1, ,") == []


def test_a_huge_header_is_read_only_so_far() -> None:
    header = ", ".join(["fr"] * 500 + ["de"])
    assert parse_accept_language(header) == ["fr"] * 16
    assert request_locale(request_with(header)) == "en"


def test_negotiate_skips_what_is_not_a_language_tag() -> None:
    assert negotiate(["", "--", "de_DE", "x" * 9, "de"]) == "de"
    assert negotiate([]) == "en"


def test_catalogs_translate_and_fall_back_to_english() -> None:
    assert catalog("de").gettext("Sign in") == "Anmelden"
    assert catalog("en").gettext("Sign in") == "Sign in"
    assert catalog("de").gettext("A sentence no catalog has.") == "A sentence no catalog has."
    with pytest.raises(ValueError, match="no 'fr' catalog"):
        catalog("fr")
    assert page_gettext(request_with("de"))("Sign out") == "Abmelden"


def test_script_strings_are_the_translated_script_messages() -> None:
    messages = script_messages()
    assert "Waiting for your passkey…" in messages  # a t() call in login.js
    assert "Sign in with Solana ({name})" in messages
    assert "There is no app with this client id." in messages  # a page error sentence
    assert "Sign in with a passkey" not in messages  # the template's, not a script's
    german = catalog("de").script_strings
    assert german["Waiting for your passkey…"] == "Warten auf Ihren Passkey…"
    assert {key for key in german if not key.startswith("error:")} <= set(messages)
    assert catalog("en").script_strings == {}  # English pages carry no catalog
    assert set(LOCALES) == {"en", "de"}


def test_error_sentences_by_exact_sentence_then_by_code() -> None:
    german = catalog("de")
    assert german.error_sentence("unknown_client", "There is no app with this client id.") == (
        "Es gibt keine App mit dieser Client-ID."
    )
    detailed = "This passkey's signature counter went from 7 to 3, a sign ..."
    assert german.error_sentence("sign_count_regression", detailed).startswith(
        "Der Signaturzähler dieses Passkeys ist zurückgegangen"
    )
    assert german.error_sentence("no_such_code", "Some sentence.") == "Some sentence."
    assert catalog("en").error_sentence("sign_count_regression", detailed) == detailed
    assert error_sentences()["registration_disabled"] == (
        "This app does not allow new accounts to register here."
    )
    assert "step_up_required" not in error_sentences()  # not a page error sentence
