"""Denormalised touch statistics on people and companies (last touch, counts, rhythm).

Derived from ``interaction_link`` and recomputed for the entities a write touched, so the
going-cold and list queries read one row per person instead of scanning a million links.
Only past, counting links (``is_touch``) contribute; a planned meeting starts counting
once it has happened (``refresh_passed`` picks those up).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from relbook.domain.clock import from_millis
from relbook.domain.rhythm import typical_gap_days

_RHYTHM_SAMPLE = 40

_AGGREGATE = """
    SELECT count(*), min(occurred_at), max(occurred_at),
           max(CASE WHEN direction = 'inbound' THEN occurred_at END),
           max(CASE WHEN direction = 'outbound' THEN occurred_at END),
           coalesce(sum(direction = 'inbound'), 0), coalesce(sum(direction = 'outbound'), 0)
    FROM interaction_link
    WHERE entity_id = ? AND excluded = 0 AND is_touch = 1 AND occurred_at <= ?"""

_RECENT = """
    SELECT occurred_at FROM interaction_link
    WHERE entity_id = ? AND excluded = 0 AND is_touch = 1 AND occurred_at <= ?
    ORDER BY occurred_at DESC LIMIT ?"""


def refresh(connection: sqlite3.Connection, entity_ids: Iterable[str], now_ms: int) -> int:
    """Recompute the statistics of these people/companies; returns how many were updated."""
    updated = 0
    for entity_id in sorted(set(entity_ids)):
        table = _table_of(connection, entity_id)
        if table is None:
            continue
        count, first, last, last_in, last_out, n_in, n_out = connection.execute(
            _AGGREGATE, (entity_id, now_ms)
        ).fetchone()
        recent = [
            from_millis(row[0])
            for row in connection.execute(_RECENT, (entity_id, now_ms, _RHYTHM_SAMPLE))
        ]
        rhythm = typical_gap_days(recent)
        connection.execute(
            f"""UPDATE {table} SET touch_count = ?, first_touch_at = ?, last_touch_at = ?,
                   last_inbound_at = ?, last_outbound_at = ?, inbound_count = ?,
                   outbound_count = ?, rhythm_days = ?
                WHERE id = ?""",
            (count, first, last, last_in, last_out, n_in, n_out, rhythm, entity_id),
        )
        updated += 1
    return updated


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
