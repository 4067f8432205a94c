"""How values read on screen: relative moments, days, money, kinds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

KIND_ICONS = {
    "email": "email",
    "meeting": "meeting",
    "call": "call",
    "note": "note",
    "offer": "offer",
    "message": "message",
    "other": "sparkle",
    "stage": "pipeline",
    "task": "tasks",
    "person": "person",
    "company": "companies",
    "deal": "deals",
    "interaction": "email",
    "feedback": "feedback",
}

KIND_TITLES = {
    "person": "People",
    "company": "Companies",
    "deal": "Deals",
    "note": "Notes",
    "interaction": "Interactions",
    "task": "Tasks",
}


def local(moment: datetime) -> datetime:
    return moment.astimezone() if moment.tzinfo else moment.replace(tzinfo=UTC).astimezone()


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """'today 14:30', 'yesterday', '3 days ago', 'in 2 days', '12 Mar 2025'."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    here = local(moment)
    today = local(now).date()
    day = here.date()
    delta = (day - today).days
    if delta == 0:
        return f"today {here:%H:%M}"
    if delta == -1:
        return f"yesterday {here:%H:%M}"
    if delta == 1:
        return f"tomorrow {here:%H:%M}"
    if -7 < delta < 0:
        return f"{-delta} days ago"
    if 0 < delta < 7:
        return f"in {delta} days"
    if day.year == today.year:
        return f"{here.day} {here:%b}"
    return f"{here.day} {here:%b %Y}"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    now = now or datetime.now(UTC)
    days = (now - moment).days
    if days < 1:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 45:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"  # 6-8 weeks: "1 months ago" read wrong
    if days < 365:
        return f"{days // 30} months ago"
    years = days // 365
    return "a year ago" if years == 1 else f"{years} years ago"


def time_of_day(moment: datetime | None) -> str:
    return "" if moment is None else f"{local(moment):%H:%M}"


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day:%A} {day.day} {day:%B}"


def money(minor: int | None, currency: str, *, compact: bool = False) -> str:
    from relbook.domain.money import format_money

    return format_money(minor, currency, compact=compact)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def cell(value: object, value_type: str) -> str:
    """A list cell's text for a ListService value."""
    if value is None or value == "":
        return ""
    if value_type == "moment" and isinstance(value, datetime):
        return when(value)
    if value_type == "money" and isinstance(value, tuple):
        return money(value[0], value[1])
    if value_type == "money" and isinstance(value, int):
        return money(value, "")
    if value_type == "percent":
        return f"{value:.0f}%" if isinstance(value, int | float) else str(value)
    if value_type == "days":
        return f"{int(value)} d" if isinstance(value, int | float) else str(value)
    if value_type == "number" and isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.1f}"
    if value_type == "number" and isinstance(value, int):
        return f"{value:,}"
    if value_type == "bool":
        return "●" if value else ""
    return str(value)
