"""Calendars → meetings: bounded recurrences, exceptions, cancellations, time zones."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from tests.conftest import NOW

from relbook.capture.ics import MAX_PER_SERIES, Window, calendar_items
from relbook.capture.items import ReadItem


def calendar(*events: str, extra: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{extra}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def read(data: bytes) -> tuple[list[ReadItem], list[ReadItem]]:
    reads = list(calendar_items(data, now=NOW, where="test.ics"))
    return [r for r in reads if r.item], [r for r in reads if r.problem]


def test_a_meeting_keeps_its_people_times_and_place() -> None:
    items, problems = read(
        calendar(
            """
UID:kickoff-1@acme.example
SUMMARY:Kick-off with Acme
DTSTART:20260312T130000Z
DTEND:20260312T140000Z
LOCATION:Acme HQ, Room 4
DESCRIPTION:Agenda:\\n1. scope\\n2. price
ORGANIZER;CN=Rep:mailto:rep@seller.example
ATTENDEE;CN="Jane Doe";PARTSTAT=ACCEPTED:mailto:Jane@Acme.example
ATTENDEE:MAILTO:bob@acme.example
"""
        )
    )
    assert problems == []
    (meeting,) = [r.item for r in items]
    assert meeting is not None
    assert meeting.natural_key == "ical:kickoff-1@acme.example"
    assert meeting.kind == "meeting"
    assert meeting.status == "planned"  # after NOW: My Day's briefings read these
    assert (meeting.occurred_at, meeting.ends_at) == (
        datetime(2026, 3, 12, 13, tzinfo=UTC),
        datetime(2026, 3, 12, 14, tzinfo=UTC),
    )
    assert meeting.location == "Acme HQ, Room 4"
    assert meeting.text == "Agenda:\n1. scope\n2. price"
    assert meeting.sender is not None and meeting.sender.address == "rep@seller.example"
    assert [(p.address, p.name) for _r, p in meeting.participants] == [
        ("jane@acme.example", "Jane Doe"),
        ("bob@acme.example", ""),
    ]


def test_past_meetings_are_done_and_all_day_events_start_at_midnight_utc() -> None:
    items, _ = read(
        calendar(
            "UID:past@x\nSUMMARY:Review\nDTSTART:20260101T090000Z\nDURATION:PT45M",
            "UID:fair@x\nSUMMARY:Trade fair\nDTSTART;VALUE=DATE:20260415\n"
            "DTEND;VALUE=DATE:20260418",
        )
    )
    past, fair = (r.item for r in items)
    assert past is not None and fair is not None
    assert past.status == "done"
    assert past.ends_at == datetime(2026, 1, 1, 9, 45, tzinfo=UTC)
    assert fair.all_day and fair.occurred_at == datetime(2026, 4, 15, tzinfo=UTC)
    assert fair.ends_at == datetime(2026, 4, 18, tzinfo=UTC)


def test_windows_zone_names_and_vtimezones_give_the_right_instant() -> None:
    items, _ = read(
        calendar(
            "UID:w@x\nSUMMARY:Vienna\nDTSTART;TZID=W. Europe Standard Time:20260310T090000\n"
            "DTEND;TZID=W. Europe Standard Time:20260310T100000",
            "UID:ny@x\nSUMMARY:New York\nDTSTART;TZID=America/New_York:20260310T090000",
        )
    )
    vienna, new_york = (r.item for r in items)
    assert vienna is not None and new_york is not None
    assert vienna.occurred_at == datetime(2026, 3, 10, 8, tzinfo=UTC)
    assert new_york.occurred_at == datetime(2026, 3, 10, 13, tzinfo=UTC)  # EDT since 8 March


def test_a_series_expands_with_exceptions_under_their_original_keys() -> None:
    items, problems = read(
        calendar(
            "UID:weekly@x\nSUMMARY:Weekly sync\nDTSTART:20260302T090000Z\nDURATION:PT30M\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20260316T090000Z",
            "UID:weekly@x\nRECURRENCE-ID:20260309T090000Z\nSUMMARY:Weekly sync (moved)\n"
            "DTSTART:20260310T150000Z\nDURATION:PT30M",
        )
    )
    assert problems == []
    by_key = {r.item.natural_key: r.item for r in items if r.item}
    assert sorted(by_key) == [
        "ical:weekly@x#20260302T090000Z",
        "ical:weekly@x#20260309T090000Z",
        "ical:weekly@x#20260323T090000Z",
    ]
    moved = by_key["ical:weekly@x#20260309T090000Z"]
    assert moved.subject == "Weekly sync (moved)"
    assert moved.occurred_at == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert {item.thread_key for item in by_key.values()} == {"ical:weekly@x"}


def test_cancellations_by_status_and_by_method() -> None:
    items, _ = read(calendar("UID:c@x\nSUMMARY:Off\nSTATUS:CANCELLED\nDTSTART:20260320T090000Z"))
    assert items[0].item is not None and items[0].item.status == "cancelled"
    cancel = calendar("UID:m@x\nSUMMARY:Call\nDTSTART:20260320T090000Z", extra="METHOD:CANCEL\n")
    items, _ = read(cancel)
    assert items[0].item is not None and items[0].item.status == "cancelled"


def test_hostile_rules_end_bounded_and_are_reported_per_event() -> None:
    rules = {
        "billion": "FREQ=DAILY;COUNT=1000000000",
        "secondly": "FREQ=SECONDLY",
        "minutely": "FREQ=MINUTELY;COUNT=1000000000",
        "zero": "FREQ=DAILY;INTERVAL=0",
        "impossible": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "per-minute": "FREQ=DAILY;BYHOUR=8,9,10,11,12,13,14,15,16,17;BYMINUTE=0,15,30,45",
    }
    events = [
        f"UID:{name}@x\nSUMMARY:{name}\nDTSTART:20250101T090000Z\nDURATION:PT30M\nRRULE:{rule}"
        for name, rule in rules.items()
    ]
    items, problems = read(calendar(*events))
    counts = Counter(r.item.natural_key.split("#")[0] for r in items if r.item)
    assert counts["ical:billion@x"] == MAX_PER_SERIES  # capped inside the window
    for name in ("secondly", "minutely", "zero", "per-minute", "impossible"):
        assert counts[f"ical:{name}@x"] == 1, name  # the first occurrence stays
    reported = {
        r.problem.where.split("“")[1].split("”")[0]: r.problem for r in problems if r.problem
    }
    assert set(reported) == {"billion", "secondly", "minutely", "zero", "per-minute"}
    assert "FREQ=SECONDLY" in reported["secondly"].message
    assert "INTERVAL=0" in reported["zero"].message
    assert "nearest to today" in reported["billion"].message
    assert not reported["billion"].skipped  # imported, with a limit


def test_a_series_the_library_cannot_expand_keeps_its_first_occurrence() -> None:
    # RDATE;VALUE=TIME is not iCalendar (seen in icalendar's own test files): the
    # expansion fails, the meeting itself is still real.
    items, problems = read(
        calendar(
            "UID:t@x\nSUMMARY:Odd series\nDTSTART:20260302T090000Z\nRDATE;VALUE=TIME:133000Z",
            "UID:ok@x\nSUMMARY:Fine\nDTSTART:20260320T090000Z",
        )
    )
    assert [r.item.natural_key for r in items if r.item] == [
        "ical:t@x#20260302T090000Z",
        "ical:ok@x",
    ]
    (problem,) = [r.problem for r in problems if r.problem]
    assert problem.message.startswith("its repetition rule cannot be read")
    assert problem.message.endswith("only its first occurrence was imported")
    assert not problem.skipped


def test_an_old_series_is_expanded_from_its_own_start() -> None:
    items, _ = read(
        calendar(
            "UID:old@x\nSUMMARY:Old weekly\nDTSTART:20150105T090000Z\n"
            "RRULE:FREQ=WEEKLY;UNTIL=20150202T090000Z"
        )
    )
    assert [r.item.occurred_at.date() for r in items if r.item] == [
        date(2015, 1, 5) + timedelta(weeks=n) for n in range(5)
    ]


def test_the_window_bounds_an_endless_series() -> None:
    window = Window(NOW - timedelta(days=14), NOW + timedelta(days=14))
    reads = list(
        calendar_items(
            calendar("UID:d@x\nSUMMARY:Daily\nDTSTART:20200101T080000Z\nRRULE:FREQ=DAILY"),
            now=NOW,
            window=window,
        )
    )
    starts = [r.item.occurred_at for r in reads if r.item]
    assert len(starts) == 28
    assert min(starts) >= window.start and max(starts) <= window.end


def test_broken_events_are_reported_and_the_rest_imported() -> None:
    items, problems = read(
        calendar(
            "UID:ok@x\nSUMMARY:Fine\nDTSTART:20260320T090000Z",
            "UID:nostart@x\nSUMMARY:No start",
            "UID:bad@x\nSUMMARY:Bad date\nDTSTART:INVALID-DATE",
        )
    )
    assert [r.item.natural_key for r in items if r.item] == ["ical:ok@x"]
    assert len(problems) == 2
    assert any("DTSTART" in str(p.problem) for p in problems)


def test_google_x_wr_timezone_calendars_read_floating_times_in_that_zone() -> None:
    items, _ = read(
        calendar(
            "UID:g@x\nSUMMARY:Lunch\nDTSTART:20260310T120000\nDTEND:20260310T130000",
            extra="X-WR-TIMEZONE:Europe/Berlin\n",
        )
    )
    assert items[0].item is not None
    assert items[0].item.occurred_at == datetime(2026, 3, 10, 11, tzinfo=UTC)
