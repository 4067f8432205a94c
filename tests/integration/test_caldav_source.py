"""The CalDAV source against a real Radicale: sync tokens, the ETag fallback, series."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from relbook.capture.sources.base import CancelToken, CursorInvalid, Page
from relbook.capture.sources.caldav import CalDavSettings, CalDavSource
from relbook.capture.sources.net import AuthFailed
from relbook.domain.clock import FixedClock
from tests.conftest import NOW

from .servers import NoSyncCollectionProxy, Radicale

pytestmark = pytest.mark.integration

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Relbook tests//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260301T000000Z
DTSTART:{start}
DURATION:PT1H
SUMMARY:{summary}
{rrule}ORGANIZER;CN=Rep:mailto:rep@example.com
ATTENDEE;CN=Anna Customer:mailto:anna@customer.example
ATTENDEE;CN=Bob Buyer:mailto:bob@customer.example
END:VEVENT
END:VCALENDAR
"""


def event(uid: str, summary: str, start: str = "20260305T100000Z", rrule: str = "") -> str:
    return EVENT.format(
        uid=uid, summary=summary, start=start, rrule=f"RRULE:{rrule}\n" if rrule else ""
    )


@pytest.fixture
def calendar(radicale: Radicale) -> Iterator[Any]:
    import caldav

    client = caldav.DAVClient(url=radicale.url, username="rep", password="secret")
    work = client.get_principal().make_calendar(name="Work", cal_id="work")
    yield work
    client.close()


def source_for(url: str, clock: FixedClock | None = None, **options: Any) -> CalDavSource:
    settings = CalDavSettings(url=url, username="rep", calendars=options.pop("calendars", ()))
    return CalDavSource(
        "acc",
        settings,
        options.pop("password", "secret"),
        page_size=2,
        clock=clock or FixedClock(NOW),
    )


def drain(source: CalDavSource, scope: str, cursor: str | None) -> tuple[list[Page], str | None]:
    pages = list(source.pages(scope, cursor, CancelToken()))
    for page in pages:
        cursor = page.cursor or cursor
    return pages, cursor


def changes(pages: list[Page]) -> list[tuple[str, str]]:
    return [(c.op, c.locator.rsplit("/", 1)[-1]) for p in pages for c in p.changes]


def test_sync_tokens_list_then_increment(radicale: Radicale, calendar: Any) -> None:
    calendar.add_event(event("a@x", "Discovery call", "20260305T100000Z"))
    calendar.add_event(event("b@x", "Demo", "20260320T140000Z"))
    calendar.add_event(event("c@x", "Negotiation", "20260325T140000Z"))
    source = source_for(radicale.url)
    try:
        assert source.scopes() == ["/rep/work/"]
        assert source.calendar_names() == {"/rep/work/": "Work"}
        pages, cursor = drain(source, "/rep/work/", None)
        assert [p.listing_complete for p in pages] == [False, True]
        assert pages[0].cursor is None  # an interrupted listing starts again
        assert json.loads(cursor or "")["mode"] == "token"
        items = {c.item.subject: c.item for p in pages for c in p.changes if c.item}
        assert set(items) == {"Discovery call", "Demo", "Negotiation"}
        call = items["Discovery call"]
        assert call.kind == "meeting" and call.status == "done"  # 5 March: before NOW
        assert items["Demo"].status == "planned"  # 20 March: for My Day
        assert call.sender is not None and call.sender.address == "rep@example.com"
        assert sorted(p.address for _, p in call.participants) == [
            "anna@customer.example",
            "bob@customer.example",
        ]
        assert call.natural_key == "ical:a@x"

        calendar.get_event_by_uid("b@x").delete()
        calendar.add_event(event("d@x", "Contract signed", "20260301T090000Z"))
        pages, cursor = drain(source, "/rep/work/", cursor)
        assert sorted(changes(pages)) == [("delete", "b@x.ics"), ("upsert", "d@x.ics")]
        signed = next(c.item for p in pages for c in p.changes if c.item)
        assert signed is not None and signed.subject == "Contract signed"

        pages, cursor = drain(source, "/rep/work/", cursor)
        assert changes(pages) == []
    finally:
        source.close()


def test_a_refused_token_raises_cursor_invalid(radicale: Radicale, calendar: Any) -> None:
    calendar.add_event(event("a@x", "Discovery call"))
    source = source_for(radicale.url)
    _, cursor = drain(source, "/rep/work/", None)
    state = json.loads(cursor or "")
    state["token"] = "http://radicale.org/ns/sync/not-a-token-the-server-knows"
    with pytest.raises(CursorInvalid, match="no longer accepts the sync token"):
        drain(source, "/rep/work/", json.dumps(state))
    source.close()


def test_without_sync_collection_the_etags_are_compared(radicale: Radicale, calendar: Any) -> None:
    calendar.add_event(event("a@x", "Discovery call"))
    calendar.add_event(event("b@x", "Demo"))
    proxy = NoSyncCollectionProxy(radicale.port)
    source = source_for(proxy.url)
    try:
        pages, cursor = drain(source, "/rep/work/", None)
        assert proxy.refused == 1
        assert json.loads(cursor or "")["mode"] == "etag"
        assert sorted(changes(pages)) == [("upsert", "a@x.ics"), ("upsert", "b@x.ics")]

        pages, cursor = drain(source, "/rep/work/", cursor)
        assert changes(pages) == []  # nothing changed: nothing read

        calendar.get_event_by_uid("a@x").delete()
        moved = calendar.get_event_by_uid("b@x")
        moved.data = event("b@x", "Demo (moved)", "20260306T100000Z")
        moved.save()
        pages, cursor = drain(source, "/rep/work/", cursor)
        assert sorted(changes(pages)) == [("delete", "a@x.ics"), ("upsert", "b@x.ics")]
        assert proxy.refused == 1  # the fallback is remembered in the cursor
    finally:
        source.close()
        proxy.close()


def test_a_series_gives_its_occurrences_and_takes_them_away(
    radicale: Radicale, calendar: Any
) -> None:
    series = calendar.add_event(
        event("weekly@x", "Weekly pipeline review", "20260302T090000Z", "FREQ=WEEKLY;COUNT=4")
    )
    source = source_for(radicale.url)
    pages, cursor = drain(source, "/rep/work/", None)
    located = [c.locator for p in pages for c in p.changes if c.op == "upsert"]
    assert len(located) == 4
    assert all(loc.startswith("/rep/work/weekly@x.ics#ical:weekly@x#") for loc in located)

    # The series is cut to two occurrences: the last two go, the first two are updated.
    series.data = event(
        "weekly@x", "Weekly pipeline review", "20260302T090000Z", "FREQ=WEEKLY;COUNT=2"
    )
    series.save()
    pages, cursor = drain(source, "/rep/work/", cursor)
    deleted = sorted(c.locator for p in pages for c in p.changes if c.op == "delete")
    assert deleted == sorted(located)[2:]

    series.delete()
    pages, cursor = drain(source, "/rep/work/", cursor)
    assert sorted(c.locator for p in pages for c in p.changes) == sorted(located)[:2]
    source.close()


def test_the_calendar_is_listed_again_when_the_window_has_moved(
    radicale: Radicale, calendar: Any
) -> None:
    calendar.add_event(event("a@x", "Discovery call"))
    clock = FixedClock(NOW)
    source = source_for(radicale.url, clock)
    _, cursor = drain(source, "/rep/work/", None)
    clock.at = NOW + timedelta(days=8)
    pages, _ = drain(source, "/rep/work/", cursor)
    assert pages[0].restarts_listing and pages[-1].listing_complete
    assert changes(pages) == [("upsert", "a@x.ics")]
    source.close()


def test_chosen_calendars_by_name_and_a_missing_one(radicale: Radicale, calendar: Any) -> None:
    source = source_for(radicale.url, calendars=("Work",))
    assert source.scopes() == ["/rep/work/"]
    source.close()
    missing = source_for(radicale.url, calendars=("Holidays",))
    with pytest.raises(Exception, match="'Holidays' chosen for this account does not exist"):
        missing.scopes()
    missing.close()


def test_a_wrong_password_is_a_clear_error(radicale: Radicale) -> None:
    source = source_for(radicale.url, password="wrong")
    with pytest.raises(AuthFailed, match="refused the user name or password for rep"):
        source.scopes()
    source.close()
