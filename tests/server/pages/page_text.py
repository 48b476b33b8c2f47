"""What a person reads on a page: its text nodes and the attributes shown or spoken.

A page rendered in German that still shows a text node or an ``alt`` exactly as the English
page does holds a string nobody marked for translation; :func:`untranslated` finds those
(names, addresses and codes aside: they are passed as ``allowed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from html.parser import HTMLParser

_SPOKEN = ("alt", "title", "aria-label", "placeholder")
_HIDDEN = ("script", "style", "code")  # code: scopes and error codes, the same in every language


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        self.texts.extend(value for name, value in attrs if name in _SPOKEN and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.hidden:
            self.texts.append(text)


def visible_texts(html: str) -> list[str]:
    """The page's text nodes (outside script, style and code) and spoken attributes, each
    with its whitespace collapsed."""
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser.texts


def untranslated(english: str, translated: str, allowed: Iterable[str] = ()) -> set[str]:
    """Texts the translated page shows exactly as the English one does, but for ``allowed``
    and text without a letter (punctuation, numbers)."""
    keep = {*allowed, "keyfob"}
    same = set(visible_texts(translated)) & set(visible_texts(english))
    return {text for text in same if text not in keep and any(c.isalpha() for c in text)}
