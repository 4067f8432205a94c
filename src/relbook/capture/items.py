"""What readers hand to ingest: an item, a problem naming where it happened, or both."""

from __future__ import annotations

from dataclasses import dataclass

from relbook.capture.sources.base import CapturedItem


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
