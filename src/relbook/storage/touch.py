"""Denormalised touch statistics on people and companies (last touch, counts, rhythm,
strength) and the per-month touch table of companies.

Derived from ``interaction_link`` and recomputed for the entities a write touched, so the
going-cold, next-contact and list queries read one row per person instead of scanning a
million links. Only past, counting links (``is_touch``) contribute; a planned meeting
starts counting once it has happened (``refresh_passed`` picks those up).

What each column means and how strength is computed: ``domain.scoring``. Strength and a
company's breadth depend on *now*, so ``rescore`` recomputes them from the stored columns
(no link scan) once a day; everything else changes only when links change.

New mail only adds links. For an entity that gained links of new interactions and had no
other link change (``refresh(..., new_interactions=, added_only=)``, what ingest passes),
the columns are brought forward from the stored ones and the new links alone — counts
add up, first/last are min/max, a day is new when no other touch fell on it, the decayed
weights are re-based to the new last day, the rhythm reads the last few days by index,
company months are added to. A big company holds tens of thousands of links: a full
recompute per page of mail made ingest 5× slower than its parsing (benchmark, issue 7).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from relbook.domain.clock import from_millis
from relbook.domain.insight_segments import CALL_DEFAULT_MINUTES, MEETING_DEFAULT_MINUTES
from relbook.domain.rhythm import RECENT_GAPS, typical_gap_days
from relbook.domain.scoring import (
    BREADTH_WINDOW_DAYS,
    DAY_MS,
    TAU_LONG,
    TAU_SHORT,
    TouchInputs,
    strength,
    touch_weights,
)

# A meeting longer than this (an all-day offsite) counts this much effort.
MAX_MEETING_MINUTES = 480

_WHERE = "entity_id = ? AND excluded = 0 AND is_touch = 1 AND occurred_at <= ?"

_AGGREGATE = f"""
    SELECT count(*), min(occurred_at), max(occurred_at),
           max(CASE WHEN direction = 'inbound' THEN occurred_at END),
           max(CASE WHEN direction = 'outbound' THEN occurred_at END),
           coalesce(sum(direction = 'inbound'), 0), coalesce(sum(direction = 'outbound'), 0),
           max(CASE WHEN direction = 'inbound' OR kind IN ('meeting', 'call')
                    THEN occurred_at END)
    FROM interaction_link WHERE {_WHERE}"""

_DAYS = f"""
    SELECT DISTINCT occurred_at / {DAY_MS} FROM interaction_link WHERE {_WHERE}
    ORDER BY 1 DESC"""

_MONTHS = f"""
    INSERT INTO company_month(company_id, month, touches, inbound, outbound, emails,
                              meetings, calls, other, minutes)
    SELECT l.entity_id, CAST(strftime('%Y%m', l.occurred_at / 1000, 'unixepoch') AS INTEGER),
           count(*), sum(l.direction = 'inbound'), sum(l.direction = 'outbound'),
           sum(l.kind = 'email'), sum(l.kind = 'meeting'), sum(l.kind = 'call'),
           sum(l.kind NOT IN ('email', 'meeting', 'call')),
           coalesce(sum(CASE
               WHEN l.kind = 'meeting' AND i.all_day THEN {MEETING_DEFAULT_MINUTES}
               WHEN l.kind = 'meeting' THEN min({MAX_MEETING_MINUTES}, coalesce(
                   i.duration_minutes, (i.ends_at - i.occurred_at) / 60000,
                   {MEETING_DEFAULT_MINUTES}))
               WHEN l.kind = 'call' THEN coalesce(i.duration_minutes, {CALL_DEFAULT_MINUTES})
               END), 0)
    FROM interaction_link l
    LEFT JOIN interaction i ON i.id = l.interaction_id AND l.kind IN ('meeting', 'call')
    WHERE {{links}} AND l.excluded = 0 AND l.is_touch = 1 AND l.occurred_at <= ?
    GROUP BY 1, 2"""

_ENGAGED = """
    SELECT count(*) FROM person
    WHERE company_id = ? AND deleted_at IS NULL AND last_two_way_at >= ?"""


def refresh(
    connection: sqlite3.Connection,
    entity_ids: Iterable[str],
    now_ms: int,
    *,
    new_interactions: Collection[str] = (),
    added_only: Collection[str] = (),
) -> int:
    """Recompute the statistics of these people/companies; returns how many were updated.

    ``added_only``: those of ``entity_ids`` whose only link change is new links of the
    (newly inserted) ``new_interactions``; they are updated from their stored columns.
    People go first: a company's breadth counts its people's two-way touches.
    """
    incremental = set(added_only) if new_interactions else set()
    people: list[str] = []
    companies: list[str] = []
    for entity_id in sorted(set(entity_ids) - incremental):
        table = _table_of(connection, entity_id)
        if table == "person":
            people.append(entity_id)
        elif table == "company":
            companies.append(entity_id)
    added = _new_links(connection, incremental, new_interactions, now_ms)
    for entity_id in people:
        _refresh_one(connection, "person", entity_id, now_ms)
    for new in added.values():
        if new.table == "person":
            _add_links(connection, new, now_ms)
    for entity_id in companies:
        _refresh_one(connection, "company", entity_id, now_ms)
        _refresh_months(connection, entity_id, now_ms)
    new_companies = [new.entity_id for new in added.values() if new.table == "company"]
    for entity_id in new_companies:
        _add_links(connection, added[entity_id], now_ms)
    _add_months(connection, new_companies, new_interactions, now_ms)
    return len(people) + len(companies) + len(added)


def _refresh_one(connection: sqlite3.Connection, table: str, entity_id: str, now_ms: int) -> None:
    count, first, last, last_in, last_out, n_in, n_out, two_way = connection.execute(
        _AGGREGATE, (entity_id, now_ms)
    ).fetchone()
    days = [row[0] for row in connection.execute(_DAYS, (entity_id, now_ms))]
    rhythm = typical_gap_days(from_millis(day * DAY_MS) for day in days[: RECENT_GAPS + 1])
    weight_30, weight_180 = touch_weights(days)
    stats = _Stats(count, first, last, last_in, last_out, n_in, n_out, two_way, len(days),
                   weight_30, weight_180)  # fmt: skip
    _store(connection, table, entity_id, stats, rhythm, now_ms)


@dataclass
class _Stats:
    """The stored touch columns, as millisecond integers (what the row holds)."""

    count: int
    first: int | None
    last: int | None
    last_in: int | None
    last_out: int | None
    n_in: int
    n_out: int
    two_way: int | None
    days: int
    weight_30: float
    weight_180: float


def _store(
    connection: sqlite3.Connection,
    table: str,
    entity_id: str,
    stats: _Stats,
    rhythm: float | None,
    now_ms: int,
) -> None:
    engaged = _engaged(connection, entity_id, now_ms) if table == "company" else 0
    inputs = TouchInputs(
        last_touch_at=None if stats.last is None else from_millis(stats.last),
        last_two_way_at=None if stats.two_way is None else from_millis(stats.two_way),
        first_touch_at=None if stats.first is None else from_millis(stats.first),
        touch_count=stats.count,
        inbound_count=stats.n_in,
        outbound_count=stats.n_out,
        touch_days=stats.days,
        weight_30=stats.weight_30,
        weight_180=stats.weight_180,
        engaged_people=engaged,
    )
    score = strength(inputs, from_millis(now_ms), table).score
    connection.execute(
        f"""UPDATE {table} SET touch_count = ?, first_touch_at = ?, last_touch_at = ?,
               last_inbound_at = ?, last_outbound_at = ?, inbound_count = ?,
               outbound_count = ?, rhythm_days = ?, last_two_way_at = ?, touch_days = ?,
               touch_weight_30 = ?, touch_weight_180 = ?, strength = ?, scored_at = ?
            WHERE id = ?""",
        (stats.count, stats.first, stats.last, stats.last_in, stats.last_out, stats.n_in,
         stats.n_out, rhythm, stats.two_way, stats.days, stats.weight_30, stats.weight_180,
         score, now_ms, entity_id),
    )  # fmt: skip
    if table == "company":
        connection.execute(
            "UPDATE company SET engaged_people = ? WHERE id = ?", (engaged, entity_id)
        )


# ------------------------------------------------------------- new links only


@dataclass
class _NewLinks:
    table: str  # person / company
    entity_id: str
    stats: _Stats  # of the new counting links alone (days: how many new touch days)
    days: dict[int, int]  # day number → new counting links on it


_NEW_AGGREGATE = """
    SELECT entity_id, entity_type, count(*), min(occurred_at), max(occurred_at),
           max(CASE WHEN direction = 'inbound' THEN occurred_at END),
           max(CASE WHEN direction = 'outbound' THEN occurred_at END),
           coalesce(sum(direction = 'inbound'), 0), coalesce(sum(direction = 'outbound'), 0),
           max(CASE WHEN direction = 'inbound' OR kind IN ('meeting', 'call')
                    THEN occurred_at END)
    FROM interaction_link
    WHERE interaction_id IN (SELECT value FROM json_each(:new))
      AND excluded = 0 AND is_touch = 1 AND occurred_at <= :now
      AND entity_type IN ('person', 'company')
    GROUP BY entity_id"""

_NEW_DAYS = f"""
    SELECT entity_id, occurred_at / {DAY_MS}, count(*) FROM interaction_link
    WHERE interaction_id IN (SELECT value FROM json_each(:new))
      AND excluded = 0 AND is_touch = 1 AND occurred_at <= :now
    GROUP BY 1, 2"""

# At most ``limit`` of the day's counting links: enough to tell whether any besides the
# new ones fell on it (a big company has hundreds of links a day).
_DAY_TOUCHES = """
    SELECT count(*) FROM (
        SELECT 1 FROM interaction_link
        WHERE entity_id = ? AND occurred_at >= ? AND occurred_at < ? AND occurred_at <= ?
          AND excluded = 0 AND is_touch = 1
        LIMIT ?)"""

# The latest counting link at or before a moment: the rhythm's days one seek each.
_LATEST = """
    SELECT occurred_at FROM interaction_link
    WHERE entity_id = ? AND occurred_at <= ? AND excluded = 0 AND is_touch = 1
    ORDER BY occurred_at DESC LIMIT 1"""


def _new_links(
    connection: sqlite3.Connection,
    entity_ids: set[str],
    new_interactions: Collection[str],
    now_ms: int,
) -> dict[str, _NewLinks]:
    """What the new interactions' counting links bring to each of ``entity_ids``."""
    if not entity_ids:
        return {}
    params = {"new": json.dumps(sorted(set(new_interactions))), "now": now_ms}
    found: dict[str, _NewLinks] = {}
    for row in connection.execute(_NEW_AGGREGATE, params):
        entity_id, table, count, first, last, last_in, last_out, n_in, n_out, two_way = row
        if entity_id in entity_ids:
            stats = _Stats(count, first, last, last_in, last_out, n_in, n_out, two_way, 0, 0, 0)
            found[entity_id] = _NewLinks(table, entity_id, stats, {})
    for entity_id, day, count in connection.execute(_NEW_DAYS, params):
        if entity_id in found:
            found[entity_id].days[int(day)] = int(count)
    return dict(sorted(found.items()))


def _add_links(connection: sqlite3.Connection, new: _NewLinks, now_ms: int) -> None:
    """The stored columns brought forward by new links (see the module's docstring)."""
    table, entity_id = new.table, new.entity_id
    row = connection.execute(
        f"""SELECT touch_count, first_touch_at, last_touch_at, last_inbound_at,
                   last_outbound_at, inbound_count, outbound_count, last_two_way_at,
                   touch_days, touch_weight_30, touch_weight_180
            FROM {table} WHERE id = ?""",
        (entity_id,),
    ).fetchone()
    if row is None or any(day < 0 for day in new.days):
        _refresh_one(connection, table, entity_id, now_ms)  # gone, or before 1970
        return
    old = _Stats(*row)
    add = new.stats
    # A day is new when no other counting link of the entity fell on it.
    new_days = [
        day
        for day, count in new.days.items()
        if connection.execute(
            _DAY_TOUCHES, (entity_id, day * DAY_MS, (day + 1) * DAY_MS, now_ms, count + 1)
        ).fetchone()[0]
        == count
    ]
    old_last_day = None if old.last is None else old.last // DAY_MS
    last_day = max([*new_days, *([] if old_last_day is None else [old_last_day])], default=None)

    def weight(stored: float, tau: float) -> float:
        if last_day is None:
            return stored
        carried = (
            0.0 if old_last_day is None else stored * math.exp(-(last_day - old_last_day) / tau)
        )
        return carried + sum(math.exp(-(last_day - day) / tau) for day in new_days)

    def earliest(a: int | None, b: int | None) -> int | None:
        return b if a is None else a if b is None else min(a, b)

    def latest(a: int | None, b: int | None) -> int | None:
        return b if a is None else a if b is None else max(a, b)

    stats = _Stats(
        old.count + add.count,
        earliest(old.first, add.first),
        latest(old.last, add.last),
        latest(old.last_in, add.last_in),
        latest(old.last_out, add.last_out),
        old.n_in + add.n_in,
        old.n_out + add.n_out,
        latest(old.two_way, add.two_way),
        old.days + len(new_days),
        weight(old.weight_30, TAU_SHORT),
        weight(old.weight_180, TAU_LONG),
    )
    # The rhythm reads the latest distinct days only: one index seek per day, from the
    # start of each day found back to the one before (not every link of a busy day).
    recent: list[int] = []
    before = now_ms
    while len(recent) <= RECENT_GAPS:
        found = connection.execute(_LATEST, (entity_id, before)).fetchone()
        if found is None:
            break
        recent.append(found[0] // DAY_MS)
        before = recent[-1] * DAY_MS - 1
    rhythm = typical_gap_days(from_millis(day * DAY_MS) for day in recent)
    _store(connection, table, entity_id, stats, rhythm, now_ms)


def _add_months(
    connection: sqlite3.Connection,
    company_ids: list[str],
    new_interactions: Collection[str],
    now_ms: int,
) -> None:
    """Add the new links' months to these companies' (one statement: by the new
    interactions' own keys, never through a big company's thousands of links)."""
    if not company_ids:
        return
    counted = ", ".join(
        f"{column} = {column} + excluded.{column}"
        for column in ("touches", "inbound", "outbound", "emails", "meetings", "calls",
                       "other", "minutes")
    )  # fmt: skip
    links = (
        "l.interaction_id IN (SELECT value FROM json_each(?)) "
        "AND +l.entity_id IN (SELECT value FROM json_each(?))"
    )
    sql = _MONTHS.format(links=links) + f" ON CONFLICT(company_id, month) DO UPDATE SET {counted}"
    connection.execute(
        sql, (json.dumps(sorted(set(new_interactions))), json.dumps(company_ids), now_ms)
    )


def _engaged(connection: sqlite3.Connection, company_id: str, now_ms: int) -> int:
    since = now_ms - BREADTH_WINDOW_DAYS * DAY_MS
    return int(connection.execute(_ENGAGED, (company_id, since)).fetchone()[0])


def _refresh_months(connection: sqlite3.Connection, company_id: str, now_ms: int) -> None:
    connection.execute("DELETE FROM company_month WHERE company_id = ?", (company_id,))
    connection.execute(_MONTHS.format(links="l.entity_id = ?"), (company_id, now_ms))


def refresh_passed(connection: sqlite3.Connection, since_ms: int, now_ms: int) -> int:
    """Entities whose links fell into (since, now] — planned meetings that happened."""
    ids = [
        row[0]
        for row in connection.execute(
            """SELECT DISTINCT l.entity_id FROM interaction i
               JOIN interaction_link l ON l.interaction_id = i.id
               WHERE i.kind = 'meeting' AND i.occurred_at > ? AND i.occurred_at <= ?
                 AND l.entity_type IN ('person', 'company')""",
            (since_ms, now_ms),
        )
    ]
    return refresh(connection, ids, now_ms)


def rescore(connection: sqlite3.Connection, now_ms: int, *, stale_before_ms: int | None) -> int:
    """Recompute strength (and companies' breadth) from the stored columns, for rows scored
    before ``stale_before_ms`` (None: all). No link is read: ~50k people take well under a
    second. Returns how many rows were rescored."""
    now = from_millis(now_ms)
    stale = "" if stale_before_ms is None else "AND (scored_at IS NULL OR scored_at < ?)"
    params: tuple[int, ...] = () if stale_before_ms is None else (stale_before_ms,)
    since = now_ms - BREADTH_WINDOW_DAYS * DAY_MS
    engaged = dict(
        connection.execute(
            """SELECT company_id, count(*) FROM person
               WHERE company_id IS NOT NULL AND deleted_at IS NULL AND last_two_way_at >= ?
               GROUP BY company_id""",
            (since,),
        ).fetchall()
    )
    total = 0
    for table in ("person", "company"):
        rows = connection.execute(
            f"""SELECT id, last_touch_at, last_two_way_at, touch_count, inbound_count,
                       outbound_count, touch_days, touch_weight_30, touch_weight_180
                FROM {table} WHERE deleted_at IS NULL {stale}""",
            params,
        ).fetchall()
        updates = []
        for row in rows:
            breadth = int(engaged.get(row[0], 0)) if table == "company" else 0
            inputs = TouchInputs(
                last_touch_at=None if row[1] is None else from_millis(row[1]),
                last_two_way_at=None if row[2] is None else from_millis(row[2]),
                touch_count=row[3],
                inbound_count=row[4],
                outbound_count=row[5],
                touch_days=row[6],
                weight_30=row[7],
                weight_180=row[8],
                engaged_people=breadth,
            )
            updates.append((strength(inputs, now, table).score, now_ms, breadth, row[0]))
        if table == "person":
            connection.executemany(
                "UPDATE person SET strength = ?, scored_at = ? WHERE id = ?",
                [(score, at, pid) for score, at, _, pid in updates],
            )
        else:
            connection.executemany(
                """UPDATE company SET strength = ?, scored_at = ?, engaged_people = ?
                   WHERE id = ?""",
                updates,
            )
        total += len(updates)
    return total


def _table_of(connection: sqlite3.Connection, entity_id: str) -> str | None:
    row = connection.execute(
        "SELECT entity_type FROM interaction_link WHERE entity_id = ? LIMIT 1", (entity_id,)
    ).fetchone()
    kind = row[0] if row else None
    if kind is None:
        # No links left (all removed): find the table by id.
        for candidate in ("person", "company"):
            if connection.execute(
                f"SELECT 1 FROM {candidate} WHERE id = ?", (entity_id,)
            ).fetchone():
                return candidate
        return None
    return kind if kind in ("person", "company") else None
