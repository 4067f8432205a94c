"""Denormalised touch statistics on people and companies (last touch, counts, rhythm,
strength) and the per-month touch table of companies.

Derived from ``interaction_link`` and recomputed for the entities a write touched, so the
going-cold, next-contact and list queries read one row per person instead of scanning a
million links. Only past, counting links (``is_touch``) contribute; a planned meeting
starts counting once it has happened (``refresh_passed`` picks those up).

What each column means and how strength is computed: ``domain.scoring``. Strength and a
company's breadth depend on *now*, so ``rescore`` recomputes them from the stored columns
(no link scan) once a day; everything else changes only when links change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from relbook.domain.clock import from_millis
from relbook.domain.insight_segments import CALL_DEFAULT_MINUTES, MEETING_DEFAULT_MINUTES
from relbook.domain.rhythm import RECENT_GAPS, typical_gap_days
from relbook.domain.scoring import (
    BREADTH_WINDOW_DAYS,
    DAY_MS,
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
    WHERE l.entity_id = ? AND l.excluded = 0 AND l.is_touch = 1 AND l.occurred_at <= ?
    GROUP BY 2"""

_ENGAGED = """
    SELECT count(*) FROM person
    WHERE company_id = ? AND deleted_at IS NULL AND last_two_way_at >= ?"""


def refresh(connection: sqlite3.Connection, entity_ids: Iterable[str], now_ms: int) -> int:
    """Recompute the statistics of these people/companies; returns how many were updated.

    People go first: a company's breadth counts its people's two-way touches.
    """
    people: list[str] = []
    companies: list[str] = []
    for entity_id in sorted(set(entity_ids)):
        table = _table_of(connection, entity_id)
        if table == "person":
            people.append(entity_id)
        elif table == "company":
            companies.append(entity_id)
    for entity_id in people:
        _refresh_one(connection, "person", entity_id, now_ms)
    for entity_id in companies:
        _refresh_one(connection, "company", entity_id, now_ms)
        _refresh_months(connection, entity_id, now_ms)
    return len(people) + len(companies)


def _refresh_one(connection: sqlite3.Connection, table: str, entity_id: str, now_ms: int) -> None:
    count, first, last, last_in, last_out, n_in, n_out, two_way = connection.execute(
        _AGGREGATE, (entity_id, now_ms)
    ).fetchone()
    days = [row[0] for row in connection.execute(_DAYS, (entity_id, now_ms))]
    rhythm = typical_gap_days(from_millis(day * DAY_MS) for day in days[: RECENT_GAPS + 1])
    weight_30, weight_180 = touch_weights(days)
    engaged = _engaged(connection, entity_id, now_ms) if table == "company" else 0
    inputs = TouchInputs(
        last_touch_at=None if last is None else from_millis(last),
        last_two_way_at=None if two_way is None else from_millis(two_way),
        first_touch_at=None if first is None else from_millis(first),
        touch_count=count,
        inbound_count=n_in,
        outbound_count=n_out,
        touch_days=len(days),
        weight_30=weight_30,
        weight_180=weight_180,
        engaged_people=engaged,
    )
    score = strength(inputs, from_millis(now_ms), table).score
    connection.execute(
        f"""UPDATE {table} SET touch_count = ?, first_touch_at = ?, last_touch_at = ?,
               last_inbound_at = ?, last_outbound_at = ?, inbound_count = ?,
               outbound_count = ?, rhythm_days = ?, last_two_way_at = ?, touch_days = ?,
               touch_weight_30 = ?, touch_weight_180 = ?, strength = ?, scored_at = ?
            WHERE id = ?""",
        (
            count,
            first,
            last,
            last_in,
            last_out,
            n_in,
            n_out,
            rhythm,
            two_way,
            len(days),
            weight_30,
            weight_180,
            score,
            now_ms,
            entity_id,
        ),
    )
    if table == "company":
        connection.execute(
            "UPDATE company SET engaged_people = ? WHERE id = ?", (engaged, entity_id)
        )


def _engaged(connection: sqlite3.Connection, company_id: str, now_ms: int) -> int:
    since = now_ms - BREADTH_WINDOW_DAYS * DAY_MS
    return int(connection.execute(_ENGAGED, (company_id, since)).fetchone()[0])


def _refresh_months(connection: sqlite3.Connection, company_id: str, now_ms: int) -> None:
    connection.execute("DELETE FROM company_month WHERE company_id = ?", (company_id,))
    connection.execute(_MONTHS, (company_id, now_ms))


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
