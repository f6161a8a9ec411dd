"""What raw HTML would load from outside the deck as a card is shown (with ``allow_html``):
a tracking pixel at every review, and nothing offline. Pure: HTML in, descriptions out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLANKS = re.compile(r"[\x00-\x20\x7f]+")
# Attributes whose URL a browser loads as it shows the element (href only where it is not a
# link to follow: <a> and <area> load nothing until clicked).
_FETCHING = frozenset(
    {
        *("src", "srcset", "imagesrcset", "poster", "data", "background", "lowsrc", "dynsrc"),
        *("codebase", "archive", "manifest", "icon", "href", "xlink:href"),
    }
)
_LINKS = frozenset({"a", "area"})
# A URL that is not a file of the deck: any scheme but data:, or a host ("//", "\\").
_NOT_LOCAL = re.compile(r"^(?:(?!data:)[a-z][a-z0-9+.-]*:|[/\\]{2})", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
# What CSS loads: url(…), src(…), and strings where a string is a URL (image-set("…"),
# @import "…"); elsewhere a string is text (content: "https://…" loads nothing).
_CSS_URL = re.compile(r"""(?:url|src)\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))""", re.IGNORECASE)
_CSS_STRING = re.compile(r"""(?:"([^"]*)"|'([^']*)')""")
_CSS_STRING_URLS = re.compile(r"image-set|image\(|cross-fade|@import", re.IGNORECASE)


class _Fetches(HTMLParser):
    """The URLs that tags in a piece of HTML would load from outside the deck as they are
    shown, described for a message: ``<img src="https://…">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._tag = ""

    def handle_data(self, data: str) -> None:
        if self._tag == "style":  # a style sheet: @import, url(), image-set()
            self._check("style", "", _css_urls(data))

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        for name, value in attrs:
            if value is None or (name == "href" and tag in _LINKS):
                continue
            if name == "style":
                urls = _css_urls(value)
            elif name.endswith("srcset"):  # "a.png 1x, b.png 2x"
                urls = [part.split()[0] for part in value.split(",") if part.split()]
            elif name in _FETCHING:
                urls = [value]
            else:
                continue
            self._check(tag, name, urls)

    def _check(self, tag: str, name: str, urls: list[str]) -> None:
        for url in urls:
            if _NOT_LOCAL.match(_BLANKS.sub("", url)):
                if not name:
                    self.found.append(f"<{tag}>…{url.strip()}…</{tag}>")
                elif name == "style":
                    self.found.append(f'<{tag} {name}="…{url.strip()}…">')
                else:
                    self.found.append(f'<{tag} {name}="{url.strip()}">')


def _css_urls(text: str) -> list[str]:
    css = _css(text)
    found = list(_CSS_URL.finditer(css))
    if _CSS_STRING_URLS.search(css):
        found += _CSS_STRING.finditer(css)
    return [next(filter(None, match.groups()), "") for match in found]


def _css(text: str) -> str:
    """CSS as a browser reads it: escapes decoded (``u\\72l(`` is ``url(``), no comments."""

    def character(match: re.Match[str]) -> str:
        code, other = match.groups()
        if other is not None:
            return other
        number = int(code, 16)
        return chr(number) if 0 < number < 0x110000 and not 0xD800 <= number < 0xE000 else ""

    return _CSS_COMMENT.sub("", _CSS_ESCAPE.sub(character, text))


def remote_resources(html: str) -> list[str]:
    """What ``html`` would load from the network (or another place outside the deck) as it
    is shown: on every review, and never offline. A tag left open at the end is read as the
    page would close it."""
    found: list[str] = []
    for ending in ("", '">', "'>"):
        parser = _Fetches()
        parser.feed(html + ending)
        parser.close()
        found += [one for one in parser.found if one not in found]
    return found
