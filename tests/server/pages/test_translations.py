"""The catalogs are complete: every marked string of the pages is translated, nothing stale.

Strings are found as ``pybabel extract`` finds them, with the repository's babel.cfg; a page
script's sentence not wrapped in ``t()`` is caught here too. Rendered pages are checked for
text that escaped marking in tests/server/pages/test_translated_pages.py.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from keyfob.server.pages.error_texts import PAGE_ERRORS
from keyfob.server.pages.i18n import LOCALES, LOCALES_DIR, SCRIPTS, STATIC_DIR

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src" / "keyfob"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "t": None}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def extracted() -> dict[str, list[str]]:
    """msgid -> where it was found, as ``pybabel extract -F babel.cfg -k t -k N_`` finds it."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")  # type: ignore[no-untyped-call]
    found: dict[str, list[str]] = {}
    for filename, line, message, _, _ in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            found.setdefault(msgid, []).append(f"{filename}:{line}")
    return found


def shipped(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def placeholders(text: str) -> set[str]:
    return {named or braced for named, braced in _PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def strings() -> dict[str, list[str]]:
    return extracted()


def test_extraction_finds_templates_python_and_scripts(strings: dict[str, list[str]]) -> None:
    where = {place.split(":")[0] for places in strings.values() for place in places}
    assert any(path.endswith("templates/login.html") for path in where)
    assert any(path.endswith("pages/errors.py") for path in where)
    assert any(path.endswith("oidc/signin_pages.py") for path in where)
    assert any(path.endswith("static/login.js") for path in where)
    assert not any("templates/admin/" in path or path.endswith("keyfob.js") for path in where)
    assert len(strings) > 100


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_in_every_catalog(locale: str, strings: dict[str, list[str]]) -> None:
    catalog = shipped(locale)
    missing = sorted(msgid for msgid in strings if catalog.get(msgid) is None)
    assert not missing, f"not in the {locale} catalog (run ./dev messages): {missing}"
    stale = sorted(str(m.id) for m in catalog if m.id and m.id not in strings)
    assert not stale, f"in the {locale} catalog but no longer in the pages: {stale}"


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_every_string_is_translated(locale: str, strings: dict[str, list[str]]) -> None:
    catalog = shipped(locale)
    untranslated, fuzzy, broken = [], [], []
    for msgid in strings:
        message = catalog.get(msgid)
        assert message is not None
        if not message.string:
            untranslated.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
        elif placeholders(str(message.string)) != placeholders(msgid):
            broken.append(msgid)
    assert not untranslated, f"untranslated in {locale}: {untranslated}"
    assert not fuzzy, f"fuzzy in {locale} (check, then drop the flag): {fuzzy}"
    assert not broken, f"placeholders differ in {locale}: {broken}"


def test_the_english_catalog_is_the_source_text() -> None:
    for message in shipped("en"):
        assert message.string in ("", message.id) or not message.id


def source_strings() -> set[str]:
    """Every string literal of keyfob's Python source (implicit concatenations joined)."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "error_texts.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_page_error_is_a_sentence_keyfob_raises() -> None:
    """A sentence reworded where it is raised would silently stop being translated."""
    known = source_strings()
    assert not [sentence for sentence in PAGE_ERRORS if sentence not in known]
    assert len(set(PAGE_ERRORS)) == len(PAGE_ERRORS)


_SENTENCE = re.compile(r"[A-Z][a-z']*(?: .+|[.!?…])")
# Comments and string literals of a page script (their regular expressions hold no quotes).
_JS_TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"((?:\\.|[^\"\\\n])*)\"|'((?:\\.|[^'\\\n])*)'", re.DOTALL
)
_T_CALL = re.compile(r"(?<![\w$.])t\(\s*$")


def bare_sentences(source: str) -> list[str]:
    """String literals of a page script that read as words for people (capitalised, several
    words or a sentence's end) and are not the first argument of ``t(...)``."""
    bare = []
    for match in _JS_TOKEN.finditer(source):
        if match.group(0).startswith("/"):
            continue  # a comment
        text = match.group(1) if match.group(1) is not None else match.group(2)
        called = _T_CALL.search(source, 0, match.start()) is not None
        if _SENTENCE.fullmatch(text) and not called:
            bare.append(text)
    return bare


@pytest.mark.parametrize("script", SCRIPTS)
def test_page_scripts_show_no_untranslated_sentence(script: str) -> None:
    assert bare_sentences((STATIC_DIR / script).read_text(encoding="utf-8")) == []


def test_a_bare_sentence_in_a_script_is_caught() -> None:
    source = (
        'kf.showStatus(t("Waiting for your passkey…"));\n'
        'kf.showStatus("Waiting for your wallet…");\n'
        'button.textContent = "Sign in with Solana (" + name + ")";\n'
        'button.className = "button secondary"; fetch(url, { method: "POST" });\n'
        '// "A comment is no string."\n'
    )
    assert bare_sentences(source) == ["Waiting for your wallet…", "Sign in with Solana ("]
