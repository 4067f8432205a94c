"""Calendar objects → per-occurrence changes, shared by the CalDAV and EWS sources.

One calendar object on a server (a CalDAV ``href``, an EWS ItemId) may hold a recurring
series: capture core's iCalendar code turns it into one meeting per occurrence inside the
bounded window. A single event keeps the object's own locator; each occurrence of a series
gets ``<locator>#<natural key>``. The source remembers which locators an object produced
(``occurrences`` in its cursor), so that a deleted or shortened series deletes exactly
the occurrences that went away.
"""

from __future__ import annotations

import logging
from datetime import datetime

from relbook.capture.sources.base import CapturedItem, SourceChange

log = logging.getLogger(__name__)


def calendar_changes(
    data: str | bytes, *, now: datetime, where: str
) -> tuple[list[CapturedItem], list[str]]:
    """The meetings of one calendar object, and the problems that skipped some of them.

    An object without a VEVENT (a to-do, a journal entry) gives neither.
    """
    from relbook.capture.ics import calendar_items

    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if "BEGIN:VEVENT" not in text.upper():
        return [], []
    items: list[CapturedItem] = []
    problems: list[str] = []
    for read in calendar_items(text, now=now, where=where):
        if read.item is not None:
            items.append(read.item)
        if read.problem is not None:
            if read.problem.skipped:
                problems.append(str(read.problem))
            else:
                log.info("calendar item kept with a limitation: %s", read.problem)
    return items, problems


def object_changes(
    locator: str,
    data: str | bytes,
    *,
    version_tag: str,
    now: datetime,
    where: str,
    occurrences: dict[str, list[str]],
) -> list[SourceChange]:
    """Upserts (and deletes of vanished occurrences) for one calendar object.

    ``occurrences`` (object locator → the locators it produced last time) is updated.
    """
    previous = occurrences.pop(locator, [locator])
    try:
        items, problems = calendar_changes(data, now=now, where=where)
    except Exception as error:  # one broken event must not stop the rest
        log.warning("calendar object %s could not be read: %r", where, error)
        items, problems = [], [f"{where}: {error}"]
    changes = [
        SourceChange("upsert", locator, None, version_tag=version_tag, error=problem)
        for problem in problems
    ]
    if not items:
        if problems:
            occurrences[locator] = previous  # unreadable now: keep what we had
        else:  # a to-do or journal entry: nothing to keep
            changes.extend(SourceChange("delete", old) for old in previous)
        return changes
    if len(items) == 1:
        located = [(locator, items[0])]
    else:
        located = [(f"{locator}#{item.natural_key}", item) for item in items]
    locators = [name for name, _ in located]
    changes.extend(SourceChange("delete", gone) for gone in previous if gone not in locators)
    changes.extend(
        SourceChange("upsert", name, item, version_tag=version_tag) for name, item in located
    )
    if locators != [locator]:
        occurrences[locator] = locators
    return changes


def object_deleted(locator: str, occurrences: dict[str, list[str]]) -> list[SourceChange]:
    return [SourceChange("delete", old) for old in occurrences.pop(locator, [locator])]
