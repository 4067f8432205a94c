"""The EWS source against the local fake Exchange endpoint (real SOAP shapes)."""

from __future__ import annotations

import json

import pytest

from relbook.capture.sources.base import CancelToken, CursorInvalid, Page, SourceError
from relbook.capture.sources.ews import CALENDAR, INBOX, SENT, EwsSettings, EwsSource
from relbook.capture.sources.net import AuthFailed, Unreachable

from .fake_ews import FakeExchange
from .servers import free_port, make_message

pytestmark = pytest.mark.integration

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260301T000000Z
DTSTART:{start}
DTEND:{end}
SUMMARY:{summary}
{rrule}ORGANIZER;CN=Rep:mailto:rep@example.com
ATTENDEE;CN=Anna Customer:mailto:anna@customer.example
END:VEVENT
END:VCALENDAR
"""


def event(uid: str, summary: str, start: str = "20260305T100000Z", rrule: str = "") -> str:
    end = start[:9] + "11" + start[11:]
    return EVENT.format(
        uid=uid, summary=summary, start=start, end=end, rrule=f"RRULE:{rrule}\n" if rrule else ""
    )


def source_for(fake: FakeExchange, **options: object) -> EwsSource:
    from exchangelib import FailFast

    settings = EwsSettings(email="rep@example.com", server_url=fake.url)
    privacy = str(options.pop("privacy", "full"))
    password = str(options.pop("password", "secret"))
    for key, value in options.items():
        object.__setattr__(settings, key, value)
    return EwsSource(
        "acc", settings, password, privacy=privacy, page_size=3, retry_policy=FailFast()
    )


def drain(source: EwsSource, scope: str, cursor: str | None) -> tuple[list[Page], str | None]:
    pages = list(source.pages(scope, cursor, CancelToken()))
    return pages, (pages[-1].cursor if pages else cursor)


def test_listing_in_rounds_then_increments(fake_ews: FakeExchange) -> None:
    ids = [fake_ews.add_message("inbox", make_message(i)) for i in range(7)]
    source = source_for(fake_ews)
    try:
        assert source.scopes() == [INBOX, SENT, CALENDAR]
        pages, cursor = drain(source, INBOX, None)
        # One SyncFolderItems round per page, each page with the state of its round.
        assert [len(p.changes) for p in pages] == [3, 3, 1]
        assert [p.listing_complete for p in pages] == [False, False, True]
        assert [json.loads(p.cursor or "")["listing"] for p in pages] == [True, True, False]
        first = pages[0].changes[0]
        assert first.locator == ids[0] and first.version_tag
        assert first.item is not None and first.item.subject == "Message 0"
        assert first.item.natural_key == "msgid:msg-0@customer.example"
        assert "Hello, this is message 0." in first.item.text

        fake_ews.update_item(ids[1], make_message(1, subject="Message 1 (edited)"))
        fake_ews.delete_item(ids[2])
        new = fake_ews.add_message("inbox", make_message(7))
        pages, cursor = drain(source, INBOX, cursor)
        changes = [(c.op, c.locator) for p in pages for c in p.changes]
        assert changes == [("upsert", ids[1]), ("delete", ids[2]), ("upsert", new)]
        assert not any(p.listing_complete for p in pages)
        edited = pages[0].changes[0].item
        assert edited is not None and edited.subject == "Message 1 (edited)"

        pages, _ = drain(source, INBOX, cursor)
        assert [c for p in pages for c in p.changes] == []
    finally:
        source.close()


def test_headers_privacy_reads_internet_headers_only(fake_ews: FakeExchange) -> None:
    fake_ews.add_message("sentitems", make_message(1, sender="rep@example.com", body="Secret.\r\n"))
    source = source_for(fake_ews, privacy="headers")
    pages, _ = drain(source, SENT, None)
    item = pages[0].changes[0].item
    assert item is not None and item.subject == "Message 1" and item.text == ""
    assert item.sender is not None and item.sender.address == "rep@example.com"
    assert "GetItem" in fake_ews.requests
    source.close()


def test_calendar_items_become_meetings_and_series_their_occurrences(
    fake_ews: FakeExchange,
) -> None:
    single = fake_ews.add_event(event("single@x", "Kick-off"))
    series = fake_ews.add_event(
        event("weekly@x", "Weekly sync", "20260302T100000Z", "FREQ=WEEKLY;COUNT=3")
    )
    source = source_for(fake_ews)
    pages, cursor = drain(source, CALENDAR, None)
    found = {c.locator: c.item for p in pages for c in p.changes}
    kickoff = found[single]
    assert kickoff is not None and kickoff.kind == "meeting" and kickoff.subject == "Kick-off"
    assert [p.address for _, p in kickoff.participants] == ["anna@customer.example"]
    occurrences = sorted(loc for loc in found if loc.startswith(series + "#"))
    assert len(occurrences) == 3

    # The series is deleted on the server: exactly its occurrences go.
    fake_ews.delete_item(series)
    pages, _ = drain(source, CALENDAR, cursor)
    assert sorted(c.locator for p in pages for c in p.changes if c.op == "delete") == occurrences
    source.close()


def test_an_invalid_sync_state_raises_cursor_invalid(fake_ews: FakeExchange) -> None:
    fake_ews.add_message("inbox", make_message(1))
    source = source_for(fake_ews)
    _, cursor = drain(source, INBOX, None)
    fake_ews.invalidate_sync_states()
    with pytest.raises(CursorInvalid, match="Inbox"):
        drain(source, INBOX, cursor)
    source.close()


def test_short_throttling_is_waited_out(fake_ews: FakeExchange) -> None:
    fake_ews.add_message("inbox", make_message(1))
    source = source_for(fake_ews)
    source.scopes()
    source._folder(INBOX)
    fake_ews.throttle(2, back_off_ms=20)
    pages, _ = drain(source, INBOX, None)
    assert [c.item.subject for p in pages for c in p.changes if c.item] == ["Message 1"]
    assert fake_ews.requests.count("SyncFolderItems") == 3  # two refused, one served
    source.close()


def test_long_throttling_ends_the_sync_with_a_retry_time(fake_ews: FakeExchange) -> None:
    fake_ews.add_message("inbox", make_message(1))
    source = source_for(fake_ews)
    source._folder(INBOX)
    fake_ews.throttle(1, back_off_ms=300_000)
    with pytest.raises(SourceError) as caught:
        drain(source, INBOX, None)
    assert caught.value.retry_after == 300.0
    assert "asked Relbook to wait 300 s" in caught.value.message
    source.close()


def test_a_soap_fault_is_a_source_error(fake_ews: FakeExchange) -> None:
    source = source_for(fake_ews)
    source._folder(INBOX)
    fake_ews.fail_next(1)
    with pytest.raises(SourceError, match=r"refused a request \(folder 'Inbox'\)"):
        drain(source, INBOX, None)
    source.close()


def test_a_dropped_connection_is_a_source_error(fake_ews: FakeExchange) -> None:
    source = source_for(fake_ews)
    source._folder(INBOX)
    fake_ews.drop_next(1)
    with pytest.raises(SourceError, match="Inbox"):
        drain(source, INBOX, None)
    source.close()


def test_a_wrong_password_is_a_clear_error(fake_ews: FakeExchange) -> None:
    source = source_for(fake_ews, password="wrong")
    with pytest.raises(AuthFailed, match=r"refused the user name or password for rep@example\.com"):
        source.probe()
    source.close()


def test_chosen_folders_must_exist(fake_ews: FakeExchange) -> None:
    fake_ews.add_folder("Customers")
    ok = source_for(fake_ews, folders=("Customers",))
    probed = ok.probe()
    assert probed.scopes == [INBOX, SENT, CALENDAR, "Customers"]
    assert probed.folders == ["Calendar", "Customers", "Inbox", "Sent Items"]
    ok.close()
    missing = source_for(fake_ews, folders=("Gone",))
    with pytest.raises(SourceError, match="'Gone' does not exist"):
        missing.probe()
    missing.close()


def test_an_endpoint_that_is_not_there_is_unreachable() -> None:
    from exchangelib.protocol import CachingProtocol

    CachingProtocol.clear_cache()
    source = EwsSource(
        "acc",
        EwsSettings(
            email="rep@example.com",
            server_url=f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx",
        ),
        "secret",
    )
    with pytest.raises(Unreachable, match="cannot be reached"):
        source.probe()
    source.close()
    CachingProtocol.clear_cache()


def test_without_a_server_address_autodiscover_is_tried_and_its_failure_explained() -> None:
    # An empty EWS address means autodiscover from the e-mail domain; ".invalid" never
    # resolves (RFC 6761), so the lookup fails and the rep is told what to enter instead.
    from exchangelib.protocol import CachingProtocol

    CachingProtocol.clear_cache()
    source = EwsSource("acc", EwsSettings(email="rep@relbook-test.invalid"), "secret")
    with pytest.raises(SourceError) as failed:
        source.probe()
    source.close()
    assert failed.value.message == (
        "Autodiscover could not find the Exchange server for rep@relbook-test.invalid."
    )
    assert "EWS address" in failed.value.remedy
