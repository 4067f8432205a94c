"""Small builders shared by the capture tests: messages, items, accounts, link lookups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from tests.conftest import NOW

from relbook.capture.ingest import IngestReport, ingest_items
from relbook.capture.sources.base import CapturedItem, Party
from relbook.services.context import Services


def eml(
    msgid: str,
    *,
    sender: str = "Ann Buyer <ann@acme.example>",
    to: Sequence[str] = ("Rep <rep@seller.example>",),
    cc: Sequence[str] = (),
    subject: str = "Hello",
    date: datetime = NOW - timedelta(days=1),
    body: str = "Hello there.\n",
    headers: Sequence[str] = (),
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> bytes:
    """An RFC 822 message as a mail program writes it."""
    lines = [
        f"From: {sender}",
        f"To: {', '.join(to)}",
        *([f"Cc: {', '.join(cc)}"] if cc else []),
        f"Subject: {subject}",
        f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"Message-ID: <{msgid}>",
        *([f"In-Reply-To: <{in_reply_to}>"] if in_reply_to else []),
        *([f"References: {' '.join(f'<{r}>' for r in references)}"] if references else []),
        *headers,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def item(
    key: str,
    *,
    sender: str = "ann@acme.example",
    to: Iterable[str] = ("rep@seller.example",),
    subject: str = "Hello",
    when: datetime | None = None,
    text: str = "Hello there.",
    headers: dict[str, str] | None = None,
    thread_key: str | None = None,
    references: Sequence[str] = (),
    kind: str = "email",
) -> CapturedItem:
    """A captured message as a source hands it to ingest."""
    return CapturedItem(
        natural_key=key,
        kind=kind,
        occurred_at=when or NOW - timedelta(days=1),
        subject=subject,
        text=text,
        sender=Party(sender, sender.split("@", maxsplit=1)[0].title()),
        participants=[("to", Party(a, "")) for a in to],
        thread_key=thread_key or key,
        references=list(references),
        headers=headers or {},
    )


def ingest(
    services: Services, items: Iterable[CapturedItem], privacy: str = "full"
) -> IngestReport:
    return ingest_items(services.book, list(items), source_label="file", privacy=privacy)


def add_account(
    services: Services, account_id: str, *, privacy: str = "full", name: str = ""
) -> None:
    with services.book.raw_write() as connection:
        connection.execute(
            """INSERT INTO account(id, kind, name, settings, privacy, enabled,
                   interval_minutes, created_at, last_error, items_seen, items_stored,
                   pending_question)
               VALUES (?, 'imap', ?, '{}', ?, 1, 15, 0, '', 0, 0, '')""",
            (account_id, name or f"Account {account_id}", privacy),
        )


def interaction_id(services: Services, key: str) -> str:
    row = (
        services.book.reader()
        .execute("SELECT id FROM interaction WHERE natural_key = ?", (key,))
        .fetchone()
    )
    assert row is not None, f"{key} was not stored"
    return str(row[0])


def links(services: Services, key: str) -> dict[str, str]:
    """entity id → reason of the interaction's live links."""
    return dict(
        services.book.reader().execute(
            """SELECT l.entity_id, l.reason FROM interaction_link l
               JOIN interaction i ON i.id = l.interaction_id
               WHERE i.natural_key = ? AND l.excluded = 0""",
            (key,),
        )
    )


def live_keys(services: Services) -> set[str]:
    return {
        row[0]
        for row in services.book.reader().execute(
            "SELECT natural_key FROM interaction WHERE deleted_at IS NULL"
        )
    }


def review_addresses(services: Services, status: str = "pending") -> set[str]:
    return {
        row[0]
        for row in services.book.reader().execute(
            "SELECT address FROM review_item WHERE status = ?", (status,)
        )
    }
