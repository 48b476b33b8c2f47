"""The hosted pages' languages: which one a request gets, and that language's catalog.

A page is in the first of the OpenID Connect request's ``ui_locales`` keyfob has, else the
first of the browser's ``Accept-Language`` (by q-value), else English. The catalogs are the
gettext files ``locales/<language>/LC_MESSAGES/messages.po``, compiled in memory by Babel the
first time a language is used (when the templates load: 5 to 8 ms a language, plus 13 to
22 ms once to find the page scripts' strings), so a fresh checkout needs no build step and no
compiled ``.mo`` can go stale. docs/translations.md says how strings are marked,
extracted and translated.
"""

from __future__ import annotations

import functools
import inspect
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

from keyfob import errors

LOCALES = ("en", "de")
DEFAULT_LOCALE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
STATIC_DIR = Path(__file__).parent / "static"
#: The page scripts whose ``t("...")`` strings a page carries as its script catalog.
SCRIPTS = (
    "passkey.js",
    "login.js",
    "registration.js",
    "wallet.js",
    "form_post.js",
    "account.js",
    "recover_link.js",
)
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_MAX_TAGS = 16  # a longer Accept-Language is read only this far
ERROR_KEY = "error:"  # script strings: the general sentence of an error code


@dataclass(frozen=True)
class Catalog:
    """One language: its gettext translations and the strings of the page scripts."""

    locale: str
    translations: Translations
    #: msgid -> translation of each page-script string (and page error sentence) whose
    #: translation differs from it, and ``error:<code>`` -> the translated general sentence
    #: of that error: what a page embeds for its scripts' ``t()`` and server errors.
    script_strings: dict[str, str]

    def gettext(self, message: str) -> str:
        """``message`` in this language (itself when the catalog lacks it)."""
        return self.translations.gettext(message)

    def error_sentence(self, code: str, message: str) -> str:
        """An error's ``message`` in this language: its translation if the catalog has it,
        else the translated general sentence of its ``code`` (a sentence with details in it,
        such as a name or a number, is in no catalog), else ``message`` as it is."""
        translated = self.gettext(message)
        if translated != message:
            return translated
        return self.script_strings.get(ERROR_KEY + code, message)


@functools.cache
def error_sentences() -> dict[str, str]:
    """code -> the general sentence (``default_message``) of each error of keyfob.errors whose
    sentence is one of the page error sentences."""
    from keyfob.server.pages.error_texts import PAGE_ERRORS  # it imports N_ from here

    found: dict[str, str] = {}
    for _, kind in inspect.getmembers(errors, inspect.isclass):
        if issubclass(kind, errors.KeyfobError) and kind.default_message in PAGE_ERRORS:
            found.setdefault(kind.code, kind.default_message)
    return found


def parse_accept_language(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first (RFC 9110
    §12.5.4): ties keep their order, ``q=0`` and malformed entries are dropped."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:_MAX_TAGS]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if _TAG.fullmatch(tag) and 0 < quality <= 1:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(preferred: Iterable[str]) -> str:
    """The first of ``preferred`` (language tags) keyfob has a catalog for, a regional tag
    matching its language (``de-CH`` is ``de``); :data:`DEFAULT_LOCALE` when none does."""
    tags = [tag for tag in preferred if _TAG.fullmatch(tag)]
    chosen = negotiate_locale(tags, LOCALES, sep="-", aliases={})
    return DEFAULT_LOCALE if chosen is None else chosen.lower()


def request_locale(request: Request, ui_locales: Sequence[str] = ()) -> str:
    """The language of the page answering ``request``: ``ui_locales`` first, then the
    browser's ``Accept-Language``."""
    browser = parse_accept_language(request.headers.get("accept-language"))
    return negotiate([*ui_locales, *browser])


@functools.cache
def script_messages() -> tuple[str, ...]:
    """Every string the page scripts translate (their ``t("...")`` calls) and the error
    sentences of :data:`~keyfob.server.pages.error_texts.PAGE_ERRORS`, which the scripts
    translate when the server answers one."""
    from keyfob.server.pages.error_texts import PAGE_ERRORS  # it imports N_ from here

    found: dict[str, None] = {}
    for name in SCRIPTS:
        with (STATIC_DIR / name).open("rb") as source:
            for _, message, _, _ in extract("javascript", source, keywords={"t": None}):
                if isinstance(message, str):
                    found[message] = None
    found.update(dict.fromkeys(PAGE_ERRORS))
    return tuple(found)


@functools.cache
def catalog(locale: str) -> Catalog:
    """The compiled catalog of ``locale`` (one of :data:`LOCALES`), read once per process."""
    if locale not in LOCALES:
        raise ValueError(f"keyfob has no {locale!r} catalog")
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        messages = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    translations = Translations(compiled, domain="messages")
    strings = {}
    for message in script_messages():
        translated = translations.gettext(message)
        if translated != message:
            strings[message] = translated
    for code, sentence in error_sentences().items():
        if sentence in strings:
            strings[ERROR_KEY + code] = strings[sentence]
    return Catalog(locale, translations, strings)


def page_gettext(request: Request, ui_locales: Sequence[str] = ()) -> Callable[[str], str]:
    """``gettext`` in the language of the page answering ``request`` (for sentences a
    handler builds: ``_("... %(name)s ...") % {"name": ...}``)."""
    return catalog(request_locale(request, ui_locales)).gettext


def page_error_sentence(request: Request, error: errors.KeyfobError) -> str:
    """``error``'s sentence in the language of the page answering ``request`` (see
    :meth:`Catalog.error_sentence`)."""
    return catalog(request_locale(request)).error_sentence(error.code, error.message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (it is translated where it
    is shown, in the page's language)."""
    return message
