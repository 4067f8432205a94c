"""How much of a message the book keeps: headers only, an excerpt, or the full text.

Applied at ingest, per account (``account.privacy``; file imports use the book setting
``privacy_default``), so what the rep chose not to keep never reaches the book file.

- ``headers``: subject, people, times, attachment names — no body at all;
- ``excerpt``: the first lines the sender actually wrote, as plain text — quoted replies,
  forwarded history and signatures stripped — at most ``EXCERPT_CHARS`` characters;
- ``full``: the plain text (capped at ``FULL_TEXT_CHARS``) and the sanitised HTML.
"""

from __future__ import annotations

import re

from relbook.capture.sources.base import CapturedItem
from relbook.domain.kinds import PrivacyLevel

EXCERPT_CHARS = 500
FULL_TEXT_CHARS = 200_000
FULL_HTML_CHARS = 400_000

_LEVELS = frozenset(level.value for level in PrivacyLevel)

# A line that starts the quoted history of a reply or forward; everything after it goes.
_HISTORY_STARTS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
        r"mensaje original|messaggio originale|forwarded message|weitergeleitete nachricht)"
        r"\s*-{2,}\s*$",
        r"^_{10,}\s*$",  # Outlook's rule above the quoted header block
        r"^(on|am|le|el|il|op)\s.{4,200}(wrote|schrieb|a écrit|escribió|ha scritto|schreef)"
        r"(\s.{0,200})?:\s*$",
        r"^(from|von|de|da|van)\s*:\s*.+$",  # only counts when "sent/date:" follows
        r"^begin forwarded message\s*:?\s*$",
    )
]
_SENT_LINE = re.compile(r"^(sent|date|gesendet|datum|envoyé|enviado|inviato)\s*:", re.IGNORECASE)
_SIGNATURE_STARTS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^--\s*$",
        r"^sent from my \w+",
        r"^(von meinem|envoyé de mon|enviado desde mi|inviato da) ",
        r"^get outlook for ",
    )
]
# A cheap first look: only lines that could start history or a signature are examined.
_CANDIDATE = re.compile(
    r"^(-|_{10}|>|(on|am|le|el|il|op|from|von|de|da|van|begin|sent|get|envoyé|enviado|"
    r"inviato)\b)",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"\n{3,}")
_INLINE_SPACE = re.compile(r"[ \t\u00a0]+")


def check_level(level: str) -> str:
    if level not in _LEVELS:
        raise ValueError(f"unknown privacy level {level!r} (headers, excerpt or full)")
    return level


def body_for(item: CapturedItem, level: str) -> tuple[str, str | None]:
    """The (plain text, sanitised HTML) the book keeps of ``item`` at ``level``."""
    check_level(level)
    if level == PrivacyLevel.HEADERS:
        return "", None
    if level == PrivacyLevel.EXCERPT:
        return excerpt(item.text), None
    html = item.html[:FULL_HTML_CHARS] if item.html else None
    return item.text[:FULL_TEXT_CHARS], html


def strip_history(text: str, enough: int | None = None) -> str:
    """The part of a message its sender wrote: no quoted reply, history or signature.

    ``enough``: stop once this many characters are kept (an excerpt needs no more).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if enough is not None and size >= enough:
            break
        stripped = line.strip()
        if _CANDIDATE.match(stripped):
            if stripped.startswith(">"):
                continue
            if any(p.match(stripped) for p in _SIGNATURE_STARTS):
                break
            if _starts_history(stripped, lines, index):
                break
        kept.append(line.rstrip())
        size += len(stripped)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def _starts_history(stripped: str, lines: list[str], index: int) -> bool:
    for number, pattern in enumerate(_HISTORY_STARTS):
        if not pattern.match(stripped):
            continue
        if number == 3:  # "From: …" is history only when a "Sent:/Date:" line follows
            following = [ln.strip() for ln in lines[index + 1 : index + 4]]
            return any(_SENT_LINE.match(ln) for ln in following)
        return True
    # "On Tue, 10 Mar 2026, Jane Doe <jane@…>" + "wrote:" folded onto the next line.
    if index + 1 < len(lines) and re.match(r"^(on|am|le)\s", stripped, re.IGNORECASE):
        joined = f"{stripped} {lines[index + 1].strip()}"
        return bool(_HISTORY_STARTS[2].match(joined))
    return False


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The beginning of what the sender wrote, as plain text of at most ``limit`` chars."""
    own = strip_history(text[: limit * 40], enough=limit + 1)
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in own.split("\n")]
    compact = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    if len(compact) <= limit:
        return compact
    cut = compact[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"
