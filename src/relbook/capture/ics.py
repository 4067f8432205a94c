"""iCalendar → meetings: events, recurrences inside a bounded window, hostile rules bounded.

Used by .ics files, .ics URL subscriptions and the CalDAV source (``calendar_items`` for a
whole calendar object, ``event_to_item`` for one VEVENT).

- **Natural keys**: a one-off event is ``ical:<UID>`` (so a meeting moved to another day
  updates instead of duplicating); an occurrence of a series is
  ``ical:<UID>#<RECURRENCE-ID>`` where the RECURRENCE-ID is the occurrence's original
  start in UTC (``20260310T090000Z``, or ``20260310`` for all-day) — a RECURRENCE-ID
  exception therefore replaces exactly the occurrence it overrides.
- **Recurrences** expand (recurring-ical-events) only inside ``Window`` (default: two
  years back, one year ahead), at most ``MAX_PER_SERIES`` occurrences per series (the
  nearest to today are kept) and ``MAX_PER_CALENDAR`` per calendar.
- **Hostile rules** never run unbounded: FREQ finer than DAILY (SECONDLY, MINUTELY,
  HOURLY), INTERVAL < 1, or a rule that would fire more than ``MAX_PER_DAY`` times a day
  keep only the series' first occurrence and are reported; an impossible rule
  (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) ends when the library reaches year 9999 (~3 s)
  and a calendar that spends more than ``EXPANSION_BUDGET_S`` expanding keeps only the
  first occurrence of its remaining series, reported per item.
- **Time zones**: VTIMEZONE, IANA and Windows zone names (icalendar maps them),
  ``X-WR-TIMEZONE`` (Google exports); floating times use the caller's ``default_tz``.
- **Status**: STATUS:CANCELLED or METHOD:CANCEL → cancelled; otherwise a start in the
  past → done (a held meeting), in the future → planned (My Day briefings read these).
- **All-day** events start at 00:00 UTC of their date and carry ``all_day=True``.
"""

from __future__ import annotations

import hashlib
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone

from relbook.capture.items import ItemProblem, ReadItem
from relbook.capture.sources.base import CapturedItem, Party
from relbook.domain.addresses import normalise_address

MAX_PER_SERIES = 500
MAX_PER_CALENDAR = 20_000
MAX_PER_DAY = 24
EXPANSION_BUDGET_S = 15.0
PAST_DAYS = 730
FUTURE_DAYS = 365
_TEXT_LIMIT = 200_000
_ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


class IcsError(ValueError):
    """The bytes are not a readable iCalendar object; the message says why."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def around(
        cls, now: datetime, past_days: int = PAST_DAYS, future_days: int = FUTURE_DAYS
    ) -> Window:
        return cls(now - timedelta(days=past_days), now + timedelta(days=future_days))


# ------------------------------------------------------------------------ parsing


def parse_calendars(data: bytes | str) -> list[icalendar.Calendar]:
    """Every VCALENDAR in ``data`` (a file may hold several). Raises ``IcsError``."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", "replace")
    data = data.lstrip("\ufeff")
    try:
        with _quiet():
            calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as error:  # icalendar raises many types on broken input
        raise IcsError(f"is not a readable iCalendar file: {_short(error)}") from error
    found: list[icalendar.Calendar] = []
    loose = icalendar.Calendar()
    others: list[str] = []
    component: Any
    for component in calendars:
        name = str(getattr(component, "name", "") or "")
        if isinstance(component, icalendar.Calendar):
            found.append(component)
        elif name == "VEVENT":  # a bare VEVENT without VCALENDAR
            loose.add_component(component)
        else:
            others.append(name)
    if loose.subcomponents:
        found.append(loose)
    if not found:
        if others:
            what = ", ".join(_COMPONENT_WORDS.get(n, n or "?") for n in dict.fromkeys(others))
            raise IcsError(f"holds only {what}, no meetings (no VEVENT in a VCALENDAR)")
        raise IcsError("holds no VCALENDAR (nor a bare VEVENT)")
    return found


_COMPONENT_WORDS = {
    "VTODO": "a to-do (VTODO)",
    "VJOURNAL": "a journal entry (VJOURNAL)",
    "VFREEBUSY": "free/busy times (VFREEBUSY)",
    "VTIMEZONE": "a time zone (VTIMEZONE)",
    "VALARM": "an alarm (VALARM)",
    "VAVAILABILITY": "availability (VAVAILABILITY)",
}


@contextmanager
def _quiet() -> Iterator[None]:
    """icalendar warns about what it guessed (vendor TZIDs…); the guesses are what we
    want, and the warnings would otherwise reach the rep's console (or fail tests).
    Callers collect results inside the block and yield outside it, so the filter is
    never left in place while a consumer runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


# ------------------------------------------------------------------ conversions


def key_moment(value: date | datetime, default_tz: tzinfo = UTC) -> str:
    """A start as it appears in natural keys: UTC ``YYYYMMDDTHHMMSSZ`` or ``YYYYMMDD``."""
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _moment(value: date | datetime, default_tz: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC)


def _text(component: Any, name: str, limit: int) -> str:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)[:limit]


def _party(value: Any) -> Party | None:
    raw = str(value).strip()
    address = raw[7:] if raw.lower().startswith("mailto:") else raw
    address = normalise_address(address)
    if "@" not in address or any(c.isspace() for c in address):
        address = ""
    params = getattr(value, "params", {}) or {}
    name = str(params.get("CN", "")).strip().strip('"')[:300]
    if not address and not name:
        return None
    return Party(address, name)


def uid_of(event: Any) -> str:
    """The event's UID, or a stable synthetic one from its start, summary and organizer."""
    uid = str(event.get("UID", "")).strip()
    if uid:
        return uid[:300]
    start = event.get("DTSTART")
    basis = "|".join(
        (
            start.to_ical().decode("ascii", "replace") if start is not None else "",
            str(event.get("SUMMARY", "")),
            str(event.get("ORGANIZER", "")),
        )
    )
    return "nouid-" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:32]


def event_to_item(
    event: Any,
    *,
    natural_key: str,
    now: datetime,
    method: str | None = None,
    default_tz: tzinfo = UTC,
) -> CapturedItem:
    """One VEVENT (or one occurrence of a series) as a meeting. Raises ``IcsError``."""
    start_prop = event.get("DTSTART")
    if start_prop is None or not hasattr(start_prop, "dt"):
        raise IcsError("has no start time (DTSTART)")
    start_value = start_prop.dt
    if not isinstance(start_value, date):
        raise IcsError("has a start time that is not a date or time")
    all_day = not isinstance(start_value, datetime)
    occurred_at = _moment(start_value, default_tz)
    ends_at = _end_of(event, start_value, default_tz, all_day)
    if ends_at is not None and ends_at < occurred_at:
        ends_at = None  # end before start (seen in the wild): keep the start only

    status_text = str(event.get("STATUS", "")).strip().upper()
    if status_text == "CANCELLED" or (method or "").upper() == "CANCEL":
        status = "cancelled"
    elif occurred_at <= now:
        status = "done"
    else:
        status = "planned"

    organizer = _party(event.get("ORGANIZER")) if event.get("ORGANIZER") is not None else None
    attendees_raw = event.get("ATTENDEE") or []
    if not isinstance(attendees_raw, list):
        attendees_raw = [attendees_raw]
    participants: list[tuple[str, Party]] = []
    seen: set[str] = set()
    for raw in attendees_raw:
        party = _party(raw)
        if party is None:
            continue
        marker = party.address or party.name
        if marker in seen:
            continue
        seen.add(marker)
        participants.append(("attendee", party))

    uid = uid_of(event)
    return CapturedItem(
        natural_key=natural_key,
        kind="meeting",
        occurred_at=occurred_at,
        subject=" ".join(_text(event, "SUMMARY", 2000).split()),
        text=_text(event, "DESCRIPTION", _TEXT_LIMIT).replace("\r\n", "\n"),
        ends_at=ends_at,
        all_day=all_day,
        status=status,
        location=" ".join(_text(event, "LOCATION", 600).split())[:300],
        sender=organizer,
        participants=participants,
        thread_key=f"ical:{uid}",
        headers={"x-ical-method": method} if method else {},
    )


def _end_of(event: Any, start: date, default_tz: tzinfo, all_day: bool) -> datetime | None:
    end_prop = event.get("DTEND")
    try:
        if end_prop is not None and isinstance(end_prop.dt, date):
            return _moment(end_prop.dt, default_tz)
        duration = event.get("DURATION")
        if duration is not None and isinstance(duration.dt, timedelta):
            return _moment(start, default_tz) + duration.dt
    except (AttributeError, OverflowError, ValueError):
        return None
    if all_day:
        return _moment(start, default_tz) + timedelta(days=1)
    return None


# ------------------------------------------------------------------ calendars


def calendar_items(
    data: bytes | str | icalendar.Calendar,
    *,
    now: datetime,
    where: str = "",
    window: Window | None = None,
    default_tz: tzinfo = UTC,
) -> Iterator[ReadItem]:
    """Every meeting in a calendar object, with problems reported per event.

    ``where`` prefixes each item's location in reports (a file name, a URL, an href).
    Raises ``IcsError`` only when the whole object cannot be read.
    """
    calendars = [data] if isinstance(data, icalendar.Calendar) else parse_calendars(data)
    window = window or Window.around(now)
    state = _Budget()
    events_seen = 0
    for written in calendars:
        calendar = written
        try:
            with _quiet():
                calendar = x_wr_timezone.to_standard(written)
        except Exception:  # noqa: S110 - a broken X-WR-TIMEZONE: keep the times as written
            pass
        method = str(calendar.get("METHOD", "")).strip().upper() or None
        timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
        groups: dict[str, list[Any]] = {}
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                groups.setdefault(uid_of(component), []).append(component)
        events_seen += len(groups)
        for uid, components in groups.items():
            try:
                with _quiet():
                    results = list(
                        _group_items(
                            uid,
                            components,
                            timezones,
                            method,
                            now,
                            where,
                            window,
                            default_tz,
                            state,
                        )
                    )
            except Exception as error:  # a broken property icalendar only reports on use
                label = _label(where, components, uid)
                results = [
                    ReadItem(label, problem=ItemProblem(label, f"cannot be read: {_short(error)}"))
                ]
            yield from results
    if not events_seen:
        yield ReadItem(
            where or "calendar",
            problem=ItemProblem(
                where or "calendar", "holds no events (only time zones, to-dos or journal entries)"
            ),
        )


@dataclass
class _Budget:
    occurrences: int = 0
    seconds: float = 0.0


def _label(where: str, components: list[Any], uid: str) -> str:
    summary = ""
    for component in components:
        summary = " ".join(str(component.get("SUMMARY", "")).split())[:80]
        if summary:
            break
    name = f"event “{summary}”" if summary else "event"
    prefix = f"{where}, " if where else ""
    return f"{prefix}{name} (UID {uid[:80]})"


def _has_rule(component: Any) -> bool:
    rules = component.get("RRULE")
    if rules is None:
        return False
    return any(bool(rule) for rule in (rules if isinstance(rules, list) else [rules]))


def _is_recurring(components: list[Any]) -> bool:
    return any(
        _has_rule(c) or c.get("RDATE") is not None or c.get("RECURRENCE-ID") is not None
        for c in components
    )


def _group_items(
    uid: str,
    components: list[Any],
    timezones: list[Any],
    method: str | None,
    now: datetime,
    where: str,
    window: Window,
    default_tz: tzinfo,
    budget: _Budget,
) -> Iterator[ReadItem]:
    label = _label(where, components, uid)
    if not _is_recurring(components):
        for index, component in enumerate(components):
            key = f"ical:{uid}"
            if index:  # the same UID twice without RECURRENCE-ID: told apart by start
                start = component.get("DTSTART")
                moment = key_moment(start.dt, default_tz) if hasattr(start, "dt") else index
                key = f"ical:{uid}#{moment}"
            yield _convert(component, key, now, method, default_tz, label)
        return

    if any(c.get("DTSTART") is None for c in components):
        yield ReadItem(label, problem=ItemProblem(label, "has no start time (DTSTART)"))
        components = [c for c in components if c.get("DTSTART") is not None]
        if not components:
            return
    masters = [c for c in components if not c.get("RECURRENCE-ID")]
    refusal = _refusal(masters)
    if refusal is None and budget.seconds > EXPANSION_BUDGET_S:
        refusal = (
            "this calendar took too long to expand; only the series' first occurrence was imported"
        )
    if refusal is None and budget.occurrences >= MAX_PER_CALENDAR:
        refusal = (
            f"the calendar reached {MAX_PER_CALENDAR} occurrences; only the series' first "
            "occurrence was imported"
        )
    if refusal is not None:
        yield from _first_occurrences(components, uid, now, method, default_tz, label, refusal)
        return

    mini = icalendar.Calendar()
    for timezone in timezones:
        mini.add_component(timezone)
    for component in components:
        mini.add_component(component)
    started = time.monotonic()
    try:
        query = recurring_ical_events.of(mini)
        occurrences = query.between(window.start, window.end)
        if not occurrences:
            # A series that ended before the window (an old calendar): its history is
            # still the rep's, so take a window of the same length from its own start.
            first = _series_start(masters or components, default_tz)
            if first is not None and first < window.start:
                occurrences = query.between(first, first + (window.end - window.start))
    except Exception as error:  # the library's many error types on broken series
        budget.seconds += time.monotonic() - started
        why = (
            f"its repetition rule cannot be read ({_short(error)}); "
            "only its first occurrence was imported"
        )
        yield from _first_occurrences(components, uid, now, method, default_tz, label, why)
        return
    budget.seconds += time.monotonic() - started
    if not occurrences:
        yield ReadItem(
            label,
            problem=ItemProblem(
                label, "repeats, but no occurrence remains (all excluded or cancelled)"
            ),
        )
        return

    limited = ""
    if len(occurrences) > MAX_PER_SERIES:
        occurrences.sort(key=lambda occ: abs((_start_utc(occ, default_tz) - now).total_seconds()))
        limited = (
            f"repeats {len(occurrences)} times in the window; the {MAX_PER_SERIES} "
            "occurrences nearest to today were imported"
        )
        occurrences = occurrences[:MAX_PER_SERIES]
    budget.occurrences += len(occurrences)
    for occurrence in occurrences:
        rid = occurrence.get("RECURRENCE-ID")
        anchor = rid.dt if rid is not None else occurrence.get("DTSTART").dt
        yield _convert(
            occurrence,
            f"ical:{uid}#{key_moment(anchor, default_tz)}",
            now,
            method,
            default_tz,
            label,
        )
    if limited:
        yield ReadItem(label, problem=ItemProblem(label, limited, skipped=False))


def _series_start(components: list[Any], default_tz: tzinfo) -> datetime | None:
    starts = [_start_utc(c, default_tz) for c in components if c.get("DTSTART") is not None]
    starts = [s for s in starts if s.year > 1]
    return min(starts) if starts else None


def _start_utc(component: Any, default_tz: tzinfo) -> datetime:
    try:
        return _moment(component.get("DTSTART").dt, default_tz)
    except Exception:
        return datetime.min.replace(tzinfo=UTC)


def _convert(
    component: Any, key: str, now: datetime, method: str | None, default_tz: tzinfo, label: str
) -> ReadItem:
    try:
        item = event_to_item(
            component, natural_key=key, now=now, method=method, default_tz=default_tz
        )
    except IcsError as error:
        return ReadItem(label, problem=ItemProblem(label, str(error)))
    except Exception as error:  # a malformed property deep in icalendar
        return ReadItem(label, problem=ItemProblem(label, f"cannot be read: {_short(error)}"))
    return ReadItem(label, item=item)


def _first_occurrences(
    components: list[Any],
    uid: str,
    now: datetime,
    method: str | None,
    default_tz: tzinfo,
    label: str,
    refusal: str,
) -> Iterator[ReadItem]:
    stored = False
    for component in components:
        anchor_prop = component.get("RECURRENCE-ID") or component.get("DTSTART")
        if anchor_prop is None or not hasattr(anchor_prop, "dt"):
            continue
        result = _convert(
            component,
            f"ical:{uid}#{key_moment(anchor_prop.dt, default_tz)}",
            now,
            method,
            default_tz,
            label,
        )
        stored = stored or result.item is not None
        yield result
    yield ReadItem(label, problem=ItemProblem(label, refusal, skipped=not stored))


_DAY_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")


def _refusal(masters: list[Any]) -> str | None:
    """Why a series' rules are not expanded (None: they are safe to expand)."""
    try:
        return _rule_refusal(masters)
    except Exception as error:  # icalendar's broken-property wrapper raises on access
        return f"its repetition rule cannot be read ({_short(error)}); only its first occurrence was imported"


def _rule_refusal(masters: list[Any]) -> str | None:
    for master in masters:
        rules = master.get("RRULE")
        if rules is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            if not hasattr(rule, "get"):
                return "its repetition rule cannot be read"
            if not rule:
                continue  # an empty RRULE: line repeats nothing
            freq = [str(f).upper() for f in rule.get("FREQ", [])]
            if not freq:
                return "its repetition rule has no FREQ"
            if freq[0] not in _ALLOWED_FREQ:
                return (
                    f"repeats {freq[0].lower()} (FREQ={freq[0]}), which no meeting does; "
                    "only its first occurrence was imported"
                )
            for interval in rule.get("INTERVAL", []):
                if not _positive_int(interval):
                    return (
                        f"has an invalid repetition interval (INTERVAL={interval}); "
                        "only its first occurrence was imported"
                    )
            per_day = 1
            for part in _DAY_PARTS:
                per_day *= max(1, len(rule.get(part, [])))
            if per_day > MAX_PER_DAY:
                return f"would repeat {per_day} times a day; only its first occurrence was imported"
    return None


_DIGITS = re.compile(r"^\d{1,6}$")


def _positive_int(value: object) -> bool:
    text = str(value).strip()
    return bool(_DIGITS.match(text)) and int(text) >= 1
