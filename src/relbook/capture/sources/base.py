"""The one interface every mailbox/calendar source implements (DESIGN.md "Capture").

A source lists *scopes* (folders, calendars) and, per scope, yields *pages* of changes
after a cursor. Each change names the item by a per-source ``locator`` (IMAP
UIDVALIDITY:UID, EWS ItemId, CalDAV href…) and carries the item with its global
``natural_key`` (Message-ID, iCalendar UID + RECURRENCE-ID…), so two sources that deliver
the same message store it once.

Ingest writes a page's upserts **and** the page's cursor in one transaction; a crash
replays at most one page. With ``cursor=None`` a source lists the scope in full; the
last page of a full listing has ``listing_complete=True`` — only then may ingest sweep
away what the listing no longer contained. A source whose cursor is no longer accepted
raises ``CursorInvalid`` (ingest then re-lists with a new generation).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class CursorInvalid(Exception):
    """The server no longer accepts the stored cursor (sync state, UIDVALIDITY, token)."""


class SourceError(Exception):
    """The source as a whole failed (server gone, wrong password); message for the rep."""

    def __init__(self, message: str, remedy: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.retry_after = retry_after  # seconds the server asked us to wait (throttling)


class Cancelled(Exception):
    """The rep cancelled the sync; what was committed so far stays."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if cancelled meanwhile."""
        return self._event.wait(seconds)


@dataclass(frozen=True)
class Party:
    address: str  # normalised lower-case; may be empty for a name-only attendee
    name: str = ""


@dataclass
class CapturedItem:
    """A message or calendar event as a source saw it (full text; privacy is applied by ingest)."""

    natural_key: str
    kind: str  # InteractionKind: email, meeting, message…
    occurred_at: datetime  # aware UTC
    subject: str = ""
    text: str = ""
    html: str | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    status: str = "done"  # InteractionStatus: done / planned / cancelled
    location: str = ""
    sender: Party | None = None
    # (role, party) with ParticipantRole values: to, cc, bcc, attendee, organizer
    participants: list[tuple[str, Party]] = field(default_factory=list)
    thread_key: str | None = None  # the thread's root Message-ID or conversation id
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, first values
    attachments: list[dict[str, object]] = field(default_factory=list)  # name, size, type
    size_bytes: int | None = None


@dataclass
class SourceChange:
    op: str  # "upsert" or "delete"
    locator: str
    item: CapturedItem | None = None  # None for deletes and for per-item errors
    version_tag: str = ""  # ChangeKey / ETag / MODSEQ: unchanged tag = nothing to do
    error: str | None = None  # this item could not be read: reported, the rest goes on


@dataclass
class Page:
    changes: list[SourceChange]
    cursor: str | None  # where the next call continues; stored with the page
    listing_complete: bool = False  # last page of a full listing (cursor was None)
    progress: tuple[int, int | None] | None = None  # (done, total) when the source knows
    # A source that can only resend everything (an .ics URL whose ETag changed) starts a
    # full listing although it was given a cursor: set this on the listing's first page so
    # ingest opens a new generation and may sweep at ``listing_complete``.
    restarts_listing: bool = False


class Source(Protocol):
    """What ingest needs of a mailbox or calendar."""

    account_id: str

    def scopes(self) -> list[str]:
        """The folders/calendars to sync, in order."""
        ...

    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        """Changes after ``cursor`` (all items when None), a page at a time."""
        ...

    def close(self) -> None: ...
