"""What readers hand to ingest: an item, a problem naming where it happened, or both."""

from __future__ import annotations

from dataclasses import dataclass, replace

from relbook.capture.sources.base import CapturedItem, Party


@dataclass(frozen=True)
class ItemProblem:
    """One item that could not be (fully) taken in.

    ``where`` names the item so the rep can find it ("inbox.mbox, message 17 (line
    1204)", "team.ics, event “Standup” (UID 42@x)"); ``message`` says what was wrong
    and, where there is one, the way out. ``skipped`` is False when the item was stored
    with a limitation (e.g. a recurrence cut to the window).
    """

    where: str
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class ReadItem:
    where: str
    item: CapturedItem | None = None
    problem: ItemProblem | None = None


def clean_text(text: str) -> str:
    """Text without lone surrogates (raw 8-bit bytes a parser smuggled in with
    ``surrogateescape``): those bytes are decoded as UTF-8, else as Windows-1252."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", "replace")
    return text


def clean_item(item: CapturedItem) -> CapturedItem:
    """The item with every text field storable (SQLite refuses lone surrogates)."""

    def party(p: Party | None) -> Party | None:
        return None if p is None else Party(clean_text(p.address), clean_text(p.name))

    return replace(
        item,
        natural_key=clean_text(item.natural_key),
        subject=clean_text(item.subject),
        text=clean_text(item.text),
        html=None if item.html is None else clean_text(item.html),
        location=clean_text(item.location),
        sender=party(item.sender),
        participants=[(role, party(p) or p) for role, p in item.participants],
        thread_key=None if item.thread_key is None else clean_text(item.thread_key),
        in_reply_to=None if item.in_reply_to is None else clean_text(item.in_reply_to),
        references=[clean_text(r) for r in item.references],
        headers={k: clean_text(v) for k, v in item.headers.items()},
    )
