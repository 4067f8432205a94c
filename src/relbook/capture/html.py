"""E-mail HTML is untrusted: sanitise it (nh3) and derive plain text from it.

The sanitised HTML loads nothing by itself: no images (remote images are trackers; inline
``cid:`` images would need the attachment opened), no style sheets or ``style``
attributes (CSS can fetch ``url(...)``), no scripts, forms, frames or objects. Links keep
only http(s)/mailto targets and open nothing until the rep clicks them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# nh3's defaults minus everything that fetches or embeds: img (and map/area that go with it).
_TAGS: set[str] = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: {a for a in attrs if a not in {"cite", "src"}}
    for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
    if tag in _TAGS
}
_DROP_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "xml"}
_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str, *, limit: int | None = None) -> str:
    """Sanitised HTML that loads nothing remote (``limit``: characters kept of the input)."""
    if limit is not None and len(html) > limit:
        html = html[:limit]
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "pre", "table", "ul", "ol", "hr", "section", "article", "header", "footer",
    }
)  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.size >= self.limit:
            return
        self.parts.append(data)
        self.size += len(data)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def html_to_text(html: str, *, limit: int = 200_000) -> str:
    """Readable plain text of an HTML body (block elements become line breaks)."""
    extractor = _TextExtractor(limit)
    try:
        extractor.feed(html[: limit * 4])
        extractor.close()
    except (AssertionError, ValueError):  # pathological markup: keep what was read
        pass
    text = "".join(extractor.parts)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()[:limit]
