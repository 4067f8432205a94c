"""Ingest: each item stored exactly once whatever the sources do; guards; account status.

The sources here are in-memory mailboxes (``MemorySource``) that behave like well-kept
servers; the book is a real book file.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.capture.helpers import add_account, item, live_keys
from tests.conftest import NOW

from relbook.capture import ingest
from relbook.capture.ingest import GUARD_MIN_ITEMS, SyncReport, sync_source
from relbook.capture.sources.base import (
    Cancelled,
    CancelToken,
    CapturedItem,
    Page,
    SourceChange,
    SourceError,
)
from relbook.capture.sources.memory import MemorySource
from relbook.domain.clock import FixedClock
from relbook.domain.errors import GuardTripped
from relbook.services.context import Services
from relbook.services.people import Labeled, PersonDraft
from relbook.storage.book import open_book


def sync(
    services: Services,
    source: MemorySource,
    *,
    privacy: str = "full",
    confirm: bool = False,
    cancel: CancelToken | None = None,
) -> SyncReport:
    return sync_source(
        services.book,
        source,
        account_id=source.account_id,
        privacy=privacy,
        cancel=cancel or CancelToken(),
        confirm_guards=confirm,
    )


def mailbox(services: Services, account_id: str, *, page_size: int = 50) -> MemorySource:
    add_account(services, account_id)
    source = MemorySource(account_id, page_size=page_size)
    source.add_scope("INBOX")
    return source


def account_row(services: Services, account_id: str) -> dict[str, object]:
    cursor = services.book.reader().execute(
        """SELECT last_attempt_at, last_success_at, last_error, items_seen, items_stored,
                  pending_question FROM account WHERE id = ?""",
        (account_id,),
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


# ---------------------------------------------------------------- the property


@dataclass
class World:
    """Two accounts with two folders each; a small pool of Message-IDs so the same
    message sits in several folders and accounts (Gmail's All Mail, a shared inbox)."""

    sources: list[MemorySource]
    saved: list[list[tuple[str, str | None]]] = field(default_factory=lambda: [[], []])
    edits: int = 0

    def subject(self, key: int) -> str:
        return f"Message {key} v{self.edits}"


SCOPES = ("INBOX", "Archive")
_account = st.integers(0, 1)
_scope = st.sampled_from(SCOPES)
_message = st.integers(0, 4)
operation = st.one_of(
    st.tuples(st.just("put"), _account, _scope, _message),
    st.tuples(st.just("put"), _account, _scope, _message),
    st.tuples(st.just("delete"), _account, _scope, _message),
    st.tuples(st.just("sync"), _account, st.integers(1, 5)),
    st.tuples(st.just("sync"), _account, st.integers(1, 5)),
    st.tuples(st.just("replay"), _account),
    st.tuples(st.just("invalidate"), _account),
    st.tuples(st.just("drop"), _account, st.integers(0, 3)),
)


@pytest.fixture(scope="module")
def property_books(template_book: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="relbook-property-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, max_size=40))
def test_replays_overlaps_drops_and_deletes_store_each_item_exactly_once(
    operations: list[tuple[object, ...]], template_book: Path, property_books: Path
) -> None:
    path = Path(tempfile.mkstemp(suffix=".relbook", dir=property_books)[1])
    shutil.copyfile(template_book, path)
    clock = FixedClock(NOW)
    services = Services(open_book(path, clock), clock)
    try:
        _run_world(services, operations)
    finally:
        services.close()
        path.unlink()


def _run_world(services: Services, operations: list[tuple[object, ...]]) -> None:
    world = World([mailbox(services, f"acct-{n}") for n in range(2)])
    for source in world.sources:
        source.add_scope("Archive")

    def put(source: MemorySource, scope: str, key: int) -> None:
        world.edits += 1
        message = item(f"msgid:m{key}@pool.example", subject=world.subject(key))
        # IMAP-like locators: UIDVALIDITY:UID (the UID is per folder)
        source.put(scope, f"7:{100 + key}", message)

    for op in operations:
        kind = op[0]
        source = world.sources[int(op[1])]  # type: ignore[call-overload]
        if kind == "put":
            put(source, str(op[2]), int(op[3]))  # type: ignore[call-overload]
        elif kind == "delete":
            source.delete(str(op[2]), f"7:{100 + int(op[3])}")  # type: ignore[call-overload]
        elif kind == "sync":
            source.page_size = int(op[2])  # type: ignore[call-overload]
            world.saved[int(op[1])].append(_cursors(services, source.account_id))  # type: ignore[call-overload]
            sync(services, source, confirm=True)
        elif kind == "replay" and world.saved[int(op[1])]:  # type: ignore[call-overload]
            # A crash lost the commits since an earlier sync: its cursors come back.
            _restore(services, source.account_id, world.saved[int(op[1])][0])  # type: ignore[call-overload]
        elif kind == "invalidate":
            source.invalidate_cursors()  # UIDVALIDITY changed / sync state lost
        elif kind == "drop":
            source.fail_after_pages = int(op[2])  # type: ignore[call-overload]
            try:
                sync(services, source, confirm=True)
            except SourceError:
                pass  # the connection dropped mid-sync: what was committed stays
            finally:
                source.fail_after_pages = None

    for source in world.sources:
        sync(services, source, confirm=True)

    # The book holds exactly what the servers hold: every message once, deletes honoured.
    on_servers: dict[tuple[str, str, str], str] = {}
    for source in world.sources:
        for scope in source.scopes():
            for locator in source.locators(scope):
                entry = source._scopes[scope].entries[locator]
                assert entry.item is not None
                on_servers[(source.account_id, scope, locator)] = entry.item.natural_key
    assert live_keys(services) == set(on_servers.values())
    reader = services.book.reader()
    refs = {
        (a, s, loc): key
        for a, s, loc, key in reader.execute(
            """SELECT r.account_id, r.scope, r.locator, i.natural_key FROM source_ref r
               JOIN interaction i ON i.id = r.interaction_id"""
        )
    }
    assert refs == on_servers  # each place on a server points at its one interaction
    duplicates = reader.execute(
        "SELECT natural_key FROM interaction GROUP BY natural_key HAVING count(*) > 1"
    ).fetchall()
    assert duplicates == []
    # What a later sync reads back is what the servers say now.
    for source in world.sources:
        for scope in source.scopes():
            for locator in source.locators(scope):
                wanted = source._scopes[scope].entries[locator].item
                assert wanted is not None
                stored = reader.execute(
                    "SELECT subject FROM interaction WHERE natural_key = ?", (wanted.natural_key,)
                ).fetchone()[0]
                assert stored.startswith(wanted.subject.split(" v")[0])


def _cursors(services: Services, account_id: str) -> list[tuple[str, str | None]]:
    return list(
        services.book.reader().execute(
            "SELECT scope, cursor FROM sync_cursor WHERE account_id = ?", (account_id,)
        )
    )


def _restore(services: Services, account_id: str, cursors: list[tuple[str, str | None]]) -> None:
    """Put the cursors back as they were (a scope without one then lists in full)."""
    saved = dict(cursors)
    with services.book.raw_write() as connection:
        scopes = [r[0] for r in connection.execute(
            "SELECT scope FROM sync_cursor WHERE account_id = ?", (account_id,))]  # fmt: skip
        connection.executemany(
            "UPDATE sync_cursor SET cursor = ? WHERE account_id = ? AND scope = ?",
            [(saved.get(scope), account_id, scope) for scope in scopes],
        )


# ----------------------------------------------------------- one transaction


def test_a_page_and_its_cursor_commit_together_or_not_at_all(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.people.create(PersonDraft("Ann", "Buyer", emails=[Labeled("ann@acme.example")]))
    source = mailbox(services, "acct", page_size=3)
    for n in range(6):
        source.put("INBOX", f"1:{n}", item(f"msgid:{n}@x.example", subject=f"M{n}"))
    pages = 0
    real_refresh = ingest.touch.refresh

    def crash_on_second_page(*args: object, **kwargs: object) -> None:
        nonlocal pages
        pages += 1
        if pages == 2:  # the last step inside the second page's transaction
            raise OSError("disk full")
        real_refresh(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest.touch, "refresh", crash_on_second_page)
    with pytest.raises(OSError):
        sync(services, source)
    # The first page is in with its cursor; nothing of the second, not even its cursor.
    assert live_keys(services) == {f"msgid:{n}@x.example" for n in range(3)}
    cursor = services.book.reader().execute("SELECT cursor FROM sync_cursor").fetchone()[0]
    assert cursor.endswith(":1:2")  # inside the listing, after the first page's last item
    monkeypatch.setattr(ingest.touch, "refresh", real_refresh)
    sync(services, source)
    assert live_keys(services) == {f"msgid:{n}@x.example" for n in range(6)}


def test_cancelling_keeps_the_pages_already_committed(services: Services) -> None:
    source = mailbox(services, "acct", page_size=2)
    for n in range(6):
        source.put("INBOX", f"1:{n}", item(f"msgid:{n}@x.example"))
    cancel = CancelToken()
    seen: list[int] = []

    def progress(step: ingest.IngestProgress) -> None:
        seen.append(step.done)
        if step.done >= 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        sync_source(services.book, source, account_id="acct", privacy="full", cancel=cancel,
                    progress=progress)  # fmt: skip
    assert len(live_keys(services)) == 2
    sync(services, source)
    assert len(live_keys(services)) == 6


# ------------------------------------------------------------------- natural keys


def test_the_same_message_in_two_folders_and_two_accounts_is_stored_once(
    services: Services,
) -> None:
    work, shared = mailbox(services, "work"), mailbox(services, "shared")
    work.add_scope("[Gmail]/All Mail")
    message = item("msgid:offer@acme.example", subject="Offer")
    work.put("INBOX", "5:10", message)
    work.put("[Gmail]/All Mail", "9:77", message)
    shared.put("INBOX", "AAMkAG-ews-item-id", message)
    sync(services, work)
    sync(services, shared)
    rows = services.book.reader().execute("SELECT count(*) FROM interaction").fetchone()[0]
    assert rows == 1
    refs = services.book.reader().execute("SELECT count(*) FROM source_ref").fetchone()[0]
    assert refs == 3
    # Gone from one folder and one account: still in the book (All Mail holds it).
    work.delete("INBOX", "5:10")
    shared.delete("INBOX", "AAMkAG-ews-item-id")
    sync(services, work)
    sync(services, shared)
    assert live_keys(services) == {"msgid:offer@acme.example"}
    # Gone everywhere: deleted (a tombstone, never a second copy when it comes back).
    work.delete("[Gmail]/All Mail", "9:77")
    sync(services, work)
    assert live_keys(services) == set()
    shared.put("INBOX", "AAMkAG-restored", message)
    sync(services, shared)
    assert live_keys(services) == {"msgid:offer@acme.example"}
    assert services.book.reader().execute("SELECT count(*) FROM interaction").fetchone()[0] == 1


def test_an_unchanged_change_key_costs_nothing_and_a_new_one_updates(services: Services) -> None:
    ews = mailbox(services, "ews")
    ews.put("INBOX", "AAMk-1", item("msgid:a@x.example", subject="First"), version_tag="CK1")
    first = sync(services, ews)
    assert (first.created, first.updated) == (1, 0)
    # The full listing again (re-list after a lost sync state): same ChangeKey → unchanged.
    ews.invalidate_cursors()
    again = sync(services, ews)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    ews.put("INBOX", "AAMk-1", item("msgid:a@x.example", subject="Edited"), version_tag="CK2")
    changed = sync(services, ews)
    assert changed.updated == 1
    subject = services.book.reader().execute("SELECT subject FROM interaction").fetchone()[0]
    assert subject == "Edited"


def test_meeting_occurrences_are_keyed_by_uid_and_recurrence_id(services: Services) -> None:
    cal = mailbox(services, "cal")
    for day in (9, 16):
        cal.put(
            "INBOX",
            f"/cal/weekly.ics#ical:weekly@x#202603{day:02d}T090000Z",
            item(
                f"ical:weekly@x#202603{day:02d}T090000Z",
                kind="meeting",
                subject="Weekly",
                thread_key="ical:weekly@x",
            ),
        )
    sync(services, cal)
    # The same series arrives again through an .ics file import: nothing new.
    from relbook.capture.ingest import ingest_items

    report = ingest_items(
        services.book,
        [item("ical:weekly@x#20260309T090000Z", kind="meeting", subject="Weekly")],
        source_label="file",
        privacy="full",
    )
    assert (report.created, report.unchanged + report.updated) == (0, 1)
    assert live_keys(services) == {
        "ical:weekly@x#20260309T090000Z",
        "ical:weekly@x#20260316T090000Z",
    }


# ------------------------------------------------------------------- guards


def test_a_source_that_suddenly_looks_empty_stops_and_asks(services: Services) -> None:
    source = mailbox(services, "acct")
    for n in range(8):
        source.put("INBOX", f"1:{n}", item(f"msgid:{n}@x.example"))
    sync(services, source)
    for n in range(8):
        source.delete("INBOX", f"1:{n}")
    source.invalidate_cursors()  # e.g. a new UIDVALIDITY and an empty folder
    with pytest.raises(GuardTripped) as tripped:
        sync(services, source)
    assert "suddenly looks empty" in tripped.value.message
    assert "Nothing was deleted" in tripped.value.remedy
    assert len(live_keys(services)) == 8
    question = account_row(services, "acct")["pending_question"]
    assert "looks empty" in str(question)
    # The rep confirms: now the book follows the server, and the question is answered.
    sync(services, source, confirm=True)
    assert live_keys(services) == set()
    assert account_row(services, "acct")["pending_question"] == ""


def test_a_page_deleting_a_large_share_stops_and_asks(services: Services) -> None:
    source = mailbox(services, "acct", page_size=100)
    total = GUARD_MIN_ITEMS + 10
    for n in range(total):
        source.put("INBOX", f"1:{n:03d}", item(f"msgid:{n}@x.example"))
    sync(services, source)
    for n in range(total - 5):
        source.delete("INBOX", f"1:{n:03d}")
    with pytest.raises(GuardTripped, match=f"delete {total - 5} of the {total}"):
        sync(services, source)
    assert len(live_keys(services)) == total
    sync(services, source, confirm=True)
    assert len(live_keys(services)) == 5


def test_a_few_deletes_need_no_question(services: Services) -> None:
    source = mailbox(services, "acct")
    for n in range(GUARD_MIN_ITEMS + 10):
        source.put("INBOX", f"1:{n:03d}", item(f"msgid:{n}@x.example"))
    sync(services, source)
    for n in range(3):
        source.delete("INBOX", f"1:{n:03d}")
    report = sync(services, source)
    assert report.deleted == 3


# ------------------------------------------------------------- account status


def test_each_account_shows_last_success_counts_and_last_error(services: Services) -> None:
    source = mailbox(services, "acct", page_size=2)
    for n in range(4):
        source.put("INBOX", f"1:{n}", item(f"msgid:{n}@x.example"))
    source.break_item("INBOX", "1:9", "message 9: the MIME structure is cut off")
    report = sync(services, source)
    status = account_row(services, "acct")
    assert status["last_success_at"] == status["last_attempt_at"] is not None
    assert (status["items_seen"], status["items_stored"]) == (5, 4)
    assert (report.seen, report.created, report.skipped) == (5, 4, 1)
    assert "1 item(s) could not be read" in str(status["last_error"])
    assert "MIME structure is cut off" in str(status["last_error"])

    # The connection drops mid-sync: the error is the account's, the last success stays.
    source.put("INBOX", "1:5", item("msgid:5@x.example"))
    source.put("INBOX", "1:6", item("msgid:6@x.example"))
    source.put("INBOX", "1:7", item("msgid:7@x.example"))
    source.fail_after_pages = 1
    services.clock.at += timedelta(minutes=10)  # type: ignore[attr-defined]
    with pytest.raises(SourceError):
        sync(services, source)
    failed = account_row(services, "acct")
    assert "connection to the test server dropped" in str(failed["last_error"])
    assert failed["last_success_at"] == status["last_success_at"]
    assert failed["last_attempt_at"] != status["last_attempt_at"]
    assert len(live_keys(services)) == 6  # the page before the drop is kept
    source.fail_after_pages = None
    sync(services, source)
    assert account_row(services, "acct")["last_error"] == ""  # a clean sync clears it
    assert len(live_keys(services)) == 7


# ------------------------------------------------------------------ privacy


def test_each_account_keeps_what_its_privacy_level_allows(services: Services) -> None:
    body = "Thanks, agreed.\n\nOn Mon, 9 Mar 2026, Rep <rep@seller.example> wrote:\n> old text\n"
    for level in ("headers", "excerpt", "full"):
        source = mailbox(services, level)
        source.put("INBOX", "1:1", item(f"msgid:{level}@x.example", text=body))
        sync(services, source, privacy=level)
    kept = dict(
        services.book.reader().execute(
            "SELECT natural_key, body || '|' || privacy FROM interaction"
        )
    )
    assert kept["msgid:headers@x.example"] == "|headers"
    assert kept["msgid:excerpt@x.example"] == "Thanks, agreed.|excerpt"
    assert kept["msgid:full@x.example"] == body + "|full"


def test_a_stricter_second_account_does_not_throw_away_what_was_kept(services: Services) -> None:
    full, strict = mailbox(services, "full"), mailbox(services, "strict")
    message = item("msgid:shared@x.example", text="The whole text.")
    full.put("INBOX", "1:1", message)
    strict.put("INBOX", "1:1", message)
    sync(services, full, privacy="full")
    sync(services, strict, privacy="headers")
    row = services.book.reader().execute("SELECT body, privacy FROM interaction").fetchone()
    assert tuple(row) == ("The whole text.", "full")


# ----------------------------------------------------------- per-item problems


def test_items_a_source_could_not_read_never_stop_the_page(services: Services) -> None:
    class Mixed:
        account_id = "mixed"

        def scopes(self) -> list[str]:
            return ["INBOX"]

        def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
            good: CapturedItem = item("msgid:good@x.example")
            yield Page(
                [
                    SourceChange("upsert", "1:1", good),
                    SourceChange("upsert", "1:2", None, error="the server sent no body"),
                ],
                "done",
                listing_complete=True,
            )

        def close(self) -> None:
            pass

    add_account(services, "mixed")
    report = sync_source(services.book, Mixed(), account_id="mixed", privacy="full",
                         cancel=CancelToken())  # fmt: skip
    assert live_keys(services) == {"msgid:good@x.example"}
    assert [str(p) for p in report.problems] == ["INBOX 1:2: the server sent no body"]


def test_the_book_file_stays_consistent_after_every_test_here(services: Services) -> None:
    source = mailbox(services, "acct")
    source.put("INBOX", "1:1", item("msgid:1@x.example"))
    sync(services, source)
    connection = sqlite3.connect(services.book.path)
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
