"""Syncing accounts end to end: real servers → sources → ingest → the book, with status."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, timedelta

import pytest

from relbook.capture.sources.base import CancelToken
from relbook.domain.clock import FixedClock
from relbook.services.accounts import AccountDraft
from relbook.services.context import Services
from relbook.services.sync import SyncProgress
from relbook.storage.book import open_book
from tests.conftest import NOW

from .fake_ews import FakeExchange
from .servers import Dovecot, Radicale, dropping_proxy, free_port, make_message

pytestmark = pytest.mark.integration


def add_imap(book: Services, server: Dovecot, **changes: object) -> str:
    draft = AccountDraft(
        kind="imap",
        name="Work mail",
        host="127.0.0.1",
        port=server.port,
        security="plain",
        allow_plaintext=True,
        username="rep@example.com",
        password="secret",
        privacy="full",
    )
    for key, value in changes.items():
        setattr(draft, key, value)
    return book.accounts.create(draft)


def stored(book: Services) -> dict[str, str]:
    return dict(
        book.book.reader().execute(
            "SELECT natural_key, subject FROM interaction WHERE deleted_at IS NULL"
        )
    )


def later(book: Services, minutes: int) -> None:
    """Time passes between syncs (the book's clock is a FixedClock in tests)."""
    clock = book.clock
    assert isinstance(clock, FixedClock)
    clock.at += timedelta(minutes=minutes)


def count_rows(book: Services, table: str) -> int:
    return int(book.book.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_sync_stores_inbox_and_sent_and_the_status_says_so(
    book: Services, dovecot: Dovecot
) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(5)])
    dovecot.append("Sent", [make_message(9, sender="rep@example.com", to="anna@customer.example")])
    account_id = add_imap(book, dovecot)
    seen: list[SyncProgress] = []
    heard: list[str] = []
    book.changes.subscribe(lambda change: heard.append(change.reason))

    outcome = book.sync.run(account_id, progress=seen.append)
    assert outcome.ok and outcome.items_seen == 6 and outcome.items_stored == 6
    # The views showing mail hear of it once the sync is done (My Day, timelines, lists).
    assert "mail landed" in heard
    assert len(stored(book)) == 6
    assert {p.scope for p in seen} == {"INBOX", "Sent"}
    assert seen[-1].account_name == "Work mail"

    status = book.accounts.status(account_id)
    assert (status.state, status.state_text) == ("ok", "up to date")
    assert status.last_success_at == NOW and status.last_error == ""
    assert (status.items_seen, status.items_stored) == (6, 6)
    assert status.next_sync_at == NOW + timedelta(minutes=15)

    heard.clear()
    again = book.sync.run(account_id)
    assert again.ok and again.items_seen == 0
    assert count_rows(book, "interaction") == 6
    assert "mail landed" not in heard  # nothing new, nothing to read again

    dovecot.expunge("INBOX", [1])  # gone from the server: gone from the views too
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 5
    assert "mail landed" in heard


def test_the_same_message_in_two_folders_is_stored_once(book: Services, dovecot: Dovecot) -> None:
    shared = make_message(1, subject="Proposal", message_id="<proposal@customer.example>")
    dovecot.append("INBOX", [shared, make_message(2)])
    dovecot.append("Customers/ACME", [shared])
    account_id = add_imap(book, dovecot, folders=["Customers/ACME"])
    assert book.sync.run(account_id).ok
    assert stored(book) == {
        "msgid:proposal@customer.example": "Proposal",
        "msgid:msg-2@customer.example": "Message 2",
    }
    refs = book.book.reader().execute(
        "SELECT scope FROM source_ref r JOIN interaction i ON i.id = r.interaction_id "
        "WHERE i.natural_key = 'msgid:proposal@customer.example' ORDER BY scope"
    )
    assert [r[0] for r in refs] == ["Customers/ACME", "INBOX"]


def test_a_wrong_password_is_a_clear_error_and_nothing_is_lost(
    book: Services, dovecot: Dovecot
) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(3)])
    account_id = add_imap(book, dovecot)
    assert book.sync.run(account_id).ok
    book.accounts.set_password(account_id, "wrong")
    later(book, minutes=15)

    outcome = book.sync.run(account_id)
    assert outcome.status == "error"
    assert "refused the user name or password for rep@example.com" in outcome.message
    status = book.accounts.status(account_id)
    assert status.state == "error" and "refused the user name or password" in status.state_text
    assert len(stored(book)) == 3  # nothing already stored is lost

    book.accounts.set_password(account_id, "secret")
    dovecot.append("INBOX", [make_message(3)])
    later(book, minutes=15)
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 4
    assert book.accounts.status(account_id).state == "ok"


def test_a_dropped_connection_keeps_the_committed_pages_and_the_next_sync_resumes(
    book: Services, dovecot: Dovecot
) -> None:
    dovecot.append("INBOX", [make_message(i, body="z" * 3000 + "\r\n") for i in range(40)])
    with dropping_proxy(dovecot.port, limit=60_000) as proxy:
        account_id = add_imap(book, dovecot, port=proxy.port)
        source = book.accounts.build_source(account_id)
        source.page_size = 10  # type: ignore[attr-defined]
        from relbook.capture.ingest import sync_source
        from relbook.capture.sources.base import SourceError

        with pytest.raises(SourceError) as caught:
            sync_source(
                book.book,
                source,
                account_id=account_id,
                privacy="full",
                cancel=CancelToken(),
            )
        source.close()
    assert "while reading folder 'INBOX'" in caught.value.message
    partial = len(stored(book))
    assert 0 < partial < 40
    status = book.accounts.status(account_id)
    assert status.state == "error" and "while reading folder 'INBOX'" in status.last_error

    draft = book.accounts.draft(account_id)
    draft.port = dovecot.port
    book.accounts.update(draft)
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 40
    assert count_rows(book, "interaction") == 40  # every message exactly once


def test_an_unreachable_server_is_offline_and_retried_quietly(
    book: Services, dovecot: Dovecot
) -> None:
    account_id = add_imap(book, dovecot, port=free_port())
    outcome = book.sync.run(account_id)
    assert outcome.status == "offline" and outcome.message == "offline — will retry"
    status = book.accounts.status(account_id)
    assert (status.state, status.state_text) == ("offline", "offline — will retry")
    assert status.last_error == ""  # no error storm
    assert status.retry_at == NOW + timedelta(minutes=5)
    assert book.sync.due_accounts(NOW + timedelta(minutes=4)) == []
    assert book.sync.due_accounts(NOW + timedelta(minutes=5)) == [account_id]

    # Still offline a while later: the first moment it went offline is kept.
    later(book, minutes=5)
    book.sync.run(account_id)
    assert book.accounts.status(account_id).offline_since == NOW

    draft = book.accounts.draft(account_id)
    draft.port = dovecot.port
    book.accounts.update(draft)
    assert book.sync.run(account_id).ok
    status = book.accounts.status(account_id)
    assert status.state == "ok" and status.offline_since is None and status.retry_at is None


def test_throttling_is_honoured_with_a_retry_time(book: Services, fake_ews: FakeExchange) -> None:
    fake_ews.add_message("inbox", make_message(1))
    account_id = book.accounts.create(
        AccountDraft(
            kind="ews",
            name="Exchange",
            email="rep@example.com",
            url=fake_ews.url,
            password="secret",
            include_calendar=False,
            include_sent=False,
        )
    )
    fake_ews.throttle(1, back_off_ms=20)  # a short pause is waited out inside the sync
    assert book.sync.run(account_id).ok

    fake_ews.add_message("inbox", make_message(2))
    later(book, minutes=20)
    fake_ews.throttle(1, back_off_ms=600_000)  # ten minutes: the sync ends and comes back
    outcome = book.sync.run(account_id)
    assert outcome.status == "error" and "asked Relbook to wait 600 s" in outcome.message
    assert outcome.retry_at == NOW + timedelta(minutes=30)
    assert book.sync.due_accounts(NOW + timedelta(minutes=29)) == []
    assert book.sync.due_accounts(NOW + timedelta(minutes=30)) == [account_id]
    later(book, minutes=10)
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 2


def test_a_new_uidvalidity_relists_without_duplicates(book: Services, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(6)])
    account_id = add_imap(book, dovecot)
    assert book.sync.run(account_id).ok
    dovecot.expunge("INBOX", [2])
    dovecot.reset_uidvalidity("INBOX")
    from relbook.capture.ingest import sync_source

    source = book.accounts.build_source(account_id)
    try:
        report = sync_source(
            book.book, source, account_id=account_id, privacy="full", cancel=CancelToken()
        )
    finally:
        source.close()
    assert report.relisted == ["INBOX"]
    assert len(stored(book)) == 5  # the expunged one is swept, the rest kept once
    assert count_rows(book, "interaction") == 6


def test_one_job_per_account_a_second_request_is_refused_politely(
    book: Services, dovecot: Dovecot, book_path: object
) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(12)])
    account_id = add_imap(book, dovecot)
    started, release = threading.Event(), threading.Event()

    def hold(progress: SyncProgress) -> None:
        started.set()
        release.wait(30)

    worker = threading.Thread(target=lambda: book.sync.run(account_id, progress=hold))
    worker.start()
    try:
        assert started.wait(30)
        assert book.sync.is_running(account_id)
        assert book.accounts.status(account_id).state == "running"
        busy = book.sync.run(account_id)
        assert busy.status == "busy" and "already syncing" in busy.message
        assert account_id not in book.sync.due_accounts()
        # Another process (here: another open of the same book) is refused as well.
        other = Services(open_book(book_path, FixedClock(NOW)), FixedClock(NOW))  # type: ignore[arg-type]
        other.secrets = book.secrets
        try:
            assert other.sync.run(account_id).status == "busy"
        finally:
            other.close()
    finally:
        release.set()
        worker.join(30)
    assert not book.sync.is_running(account_id)
    assert book.sync.run(account_id).ok


def test_a_cancelled_sync_keeps_what_it_committed(book: Services, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(600)])  # pages of 500
    account_id = add_imap(book, dovecot)
    cancel = CancelToken()

    def stop_after_first_page(progress: SyncProgress) -> None:
        cancel.cancel()

    outcome = book.sync.run(account_id, cancel=cancel, progress=stop_after_first_page)
    assert outcome.status == "cancelled"
    assert len(stored(book)) == 500  # the first page, committed before the cancel
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 600


def test_a_mailbox_that_empties_stops_and_asks(book: Services, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(25)])
    account_id = add_imap(book, dovecot, include_sent=False)
    assert book.sync.run(account_id).ok
    dovecot.expunge("INBOX", list(range(1, 26)))

    outcome = book.sync.run(account_id)
    assert outcome.status == "question" and "Remove them from the book?" in outcome.message
    status = book.accounts.status(account_id)
    assert status.state == "question" and status.pending_question == outcome.message
    assert len(stored(book)) == 25  # nothing deleted on a hunch
    assert book.sync.due_accounts(NOW + timedelta(days=1)) == []
    assert book.sync.run(account_id).status == "question"  # waits for the answer

    done = book.sync.answer(account_id, proceed=True)
    assert done is not None and done.ok
    assert stored(book) == {}
    assert book.accounts.status(account_id).pending_question == ""


def test_keeping_the_book_as_it_is_pauses_the_account(book: Services, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(25)])
    account_id = add_imap(book, dovecot, include_sent=False)
    assert book.sync.run(account_id).ok
    dovecot.expunge("INBOX", list(range(1, 26)))
    assert book.sync.run(account_id).status == "question"
    assert book.sync.answer(account_id, proceed=False) is None
    status = book.accounts.status(account_id)
    assert (status.state, status.pending_question) == ("disabled", "")
    assert len(stored(book)) == 25


def test_due_accounts_follow_each_interval(
    book: Services, dovecot_factory: Callable[..., Dovecot]
) -> None:
    server = dovecot_factory()
    fast = add_imap(book, server, name="Fast", interval_minutes=5)
    slow = add_imap(book, server, name="Slow", interval_minutes=60)
    assert set(book.sync.due_accounts(NOW)) == {fast, slow}  # never synced: due now
    assert [o.ok for o in book.sync.run_due(NOW)] == [True, True]
    assert book.sync.due_accounts(NOW + timedelta(minutes=4)) == []
    assert book.sync.due_accounts(NOW + timedelta(minutes=5)) == [fast]
    assert set(book.sync.due_accounts(NOW + timedelta(minutes=60))) == {fast, slow}
    book.accounts.set_enabled(slow, False)
    assert book.sync.due_accounts(NOW + timedelta(minutes=60)) == [fast]
    assert book.sync.run(slow).status == "disabled"


# --------------------------------------------------------------------- Exchange


def add_ews(book: Services, server: FakeExchange, **changes: object) -> str:
    draft = AccountDraft(
        kind="ews",
        name="Exchange",
        email="rep@example.com",
        url=server.url,
        password="secret",
        include_calendar=False,
        include_sent=False,
        privacy="full",
    )
    for key, value in changes.items():
        setattr(draft, key, value)
    return book.accounts.create(draft)


def test_an_invalid_sync_state_relists_and_a_partial_relisting_deletes_nothing(
    book: Services, fake_ews: FakeExchange
) -> None:
    # More than one SyncFolderItems round (200 changes each) so the re-list has pages.
    ids = [fake_ews.add_message("inbox", make_message(i)) for i in range(450)]
    account_id = add_ews(book, fake_ews)
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 450

    fake_ews.delete_item(ids[7])  # gone while our sync state was lost
    fake_ews.invalidate_sync_states()  # ErrorInvalidSyncStateData from now on
    pages = 0

    def drop_after_the_first_page(progress: SyncProgress) -> None:
        nonlocal pages
        pages += 1
        if pages == 1:
            fake_ews.drop_next(1)  # the server drops the connection mid-listing

    later(book, minutes=15)
    outcome = book.sync.run(account_id, progress=drop_after_the_first_page)
    assert outcome.status == "error" and "connection to 127.0.0.1 failed" in outcome.message
    assert "(folder 'Inbox')" in outcome.message
    assert "SyncFolderItems" in fake_ews.requests
    # The re-list stopped after one page: nothing it did not list yet may go.
    assert len(stored(book)) == 450
    status = book.accounts.status(account_id)
    assert status.state == "error" and "connection to 127.0.0.1 failed" in status.last_error

    later(book, minutes=15)
    done = book.sync.run(account_id)
    assert done.ok
    live = stored(book)
    assert len(live) == 449 and "msgid:msg-7@customer.example" not in live
    assert count_rows(book, "interaction") == 450  # a tombstone, no copies
    assert book.accounts.status(account_id).state == "ok"


def test_exchange_wrong_password_is_a_per_account_error_and_nothing_is_lost(
    book: Services, fake_ews: FakeExchange
) -> None:
    fake_ews.add_message("inbox", make_message(1))
    account_id = add_ews(book, fake_ews)
    assert book.sync.run(account_id).ok
    fake_ews.users["rep@example.com"] = "changed"  # the password was changed on the server
    from exchangelib.protocol import CachingProtocol

    CachingProtocol.clear_cache()  # as in a new session
    later(book, minutes=15)
    outcome = book.sync.run(account_id)
    assert outcome.status == "error"
    assert "refused the user name or password for rep@example.com" in outcome.message
    assert book.accounts.status(account_id).state == "error"
    assert len(stored(book)) == 1

    book.accounts.set_password(account_id, "changed")
    fake_ews.add_message("inbox", make_message(2))
    later(book, minutes=15)
    assert book.sync.run(account_id).ok
    assert len(stored(book)) == 2


# --------------------------------------------------------------------- CalDAV

CALDAV_EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Relbook tests//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260301T000000Z
DTSTART:{start}
DURATION:PT1H
SUMMARY:{summary}
ORGANIZER;CN=Rep:mailto:rep@example.com
ATTENDEE;CN=Anna Customer:mailto:anna@customer.example
ATTENDEE;CN=Bob Buyer:mailto:bob@customer.example
END:VEVENT
END:VCALENDAR
"""


def test_caldav_past_events_are_meetings_and_upcoming_ones_are_on_my_day(
    book: Services, radicale: Radicale
) -> None:
    import caldav

    with caldav.DAVClient(url=radicale.url, username="rep", password="secret") as client:
        work = client.get_principal().make_calendar(name="Work", cal_id="work")
        work.add_event(
            CALDAV_EVENT.format(uid="past@x", start="20260305T100000Z", summary="Discovery call")
        )
        work.add_event(CALDAV_EVENT.format(uid="soon@x", start="20260310T140000Z", summary="Demo"))
    account_id = book.accounts.create(
        AccountDraft(
            kind="caldav", name="Calendar", url=radicale.url, username="rep", password="secret"
        )
    )
    assert book.sync.run(account_id).ok

    rows = {
        subject: (status, kind)
        for subject, status, kind in book.book.reader().execute(
            "SELECT subject, status, kind FROM interaction WHERE deleted_at IS NULL"
        )
    }
    assert rows == {"Discovery call": ("done", "meeting"), "Demo": ("planned", "meeting")}
    attendees = sorted(
        row[0]
        for row in book.book.reader().execute(
            "SELECT p.address FROM interaction_participant p JOIN interaction i "
            "ON i.id = p.interaction_id WHERE i.subject = 'Discovery call'"
        )
    )
    assert "anna@customer.example" in attendees and "bob@customer.example" in attendees

    today = book.myday.meetings(NOW.date(), UTC)
    assert [m.subject for m in today] == ["Demo"]
    assert {a.address for a in today[0].attendees} >= {
        "anna@customer.example",
        "bob@customer.example",
    }


def test_caldav_server_dropping_mid_sync_is_an_account_error_and_the_next_sync_resumes(
    book: Services, radicale: Radicale
) -> None:
    import caldav

    with caldav.DAVClient(url=radicale.url, username="rep", password="secret") as client:
        work = client.get_principal().make_calendar(name="Work", cal_id="work")
        work.add_event(CALDAV_EVENT.format(uid="a@x", start="20260305T100000Z", summary="Call"))
    with dropping_proxy(radicale.port, limit=0) as proxy:
        account_id = book.accounts.create(
            AccountDraft(
                kind="caldav",
                name="Calendar",
                url=f"http://127.0.0.1:{proxy.port}/",
                username="rep",
                password="secret",
            )
        )
        outcome = book.sync.run(account_id)
        assert proxy.drops >= 1
    assert outcome.status == "error" and "127.0.0.1" in outcome.message
    assert "next sync tries again" in outcome.message
    assert book.accounts.status(account_id).state == "error"

    draft = book.accounts.draft(account_id)
    draft.url = radicale.url
    book.accounts.update(draft)
    later(book, minutes=15)
    assert book.sync.run(account_id).ok
    assert list(stored(book).values()) == ["Call"]
