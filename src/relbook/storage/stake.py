"""The stored value at stake of people and the contact of deals (what the insight lists
rank by), kept in step by triggers; this module is for bulk paths that switch them off.

``person.stake_minor``: the README's *value at stake* — open deal amounts of the person's
live company, plus the person's own open deals elsewhere, plus that company's value (the
larger of current and potential); ``person.stake_deals_minor``: its open-deal part.
``deal.contact_person_id``: the live person on the deal touched last (a stuck deal is
listed under them). Triggers created by migration 0002 (``trg_rank_*``) recompute both
on every write that can change them, whatever path made it: the ORM, raw bulk writes,
team pulls, merges and their undo.

A bulk load that drops the secondary indexes (the demo build) must drop these triggers
too — without their indexes each would scan a table per row — and call
``refresh_all`` once the rows are in. The statements here compute what the triggers
compute (a test compares both with a recomputation from the raw tables).
"""

from __future__ import annotations

import sqlite3

TRIGGER_PATTERN = "trg_rank_%"

_LIVE_COMPANY = (
    "EXISTS (SELECT 1 FROM company c WHERE c.id = person.company_id AND c.deleted_at IS NULL)"
)

REFRESH_DEALS_PART = f"""
    UPDATE person SET stake_deals_minor =
          coalesce((SELECT sum(d.amount_minor) FROM company c
                    JOIN deal d ON d.company_id = c.id
                    WHERE c.id = person.company_id AND c.deleted_at IS NULL
                      AND +d.status = 'open' AND d.deleted_at IS NULL), 0)
        + coalesce((SELECT sum(d.amount_minor) FROM deal_person dp
                    JOIN deal d ON d.id = dp.deal_id
                    WHERE dp.person_id = person.id
                      AND +d.status = 'open' AND d.deleted_at IS NULL
                      AND (d.company_id IS NULL OR d.company_id IS NOT person.company_id
                           OR NOT {_LIVE_COMPANY})), 0)"""

REFRESH_TOTAL = """
    UPDATE person SET stake_minor = stake_deals_minor
        + coalesce((SELECT max(coalesce(c.current_value_minor, 0),
                               coalesce(c.potential_value_minor, 0))
                    FROM company c
                    WHERE c.id = person.company_id AND c.deleted_at IS NULL), 0)"""

REFRESH_CONTACTS = """
    UPDATE deal SET contact_person_id = (
        SELECT dp.person_id FROM deal_person dp JOIN person p ON p.id = dp.person_id
        WHERE dp.deal_id = deal.id AND p.deleted_at IS NULL
        ORDER BY coalesce(p.last_touch_at, 0) DESC, dp.person_id LIMIT 1)"""


def drop_triggers(connection: sqlite3.Connection) -> list[str]:
    """Drop the ``trg_rank_*`` triggers; returns their DDL to run again afterwards."""
    rows = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ORDER BY name",
        (TRIGGER_PATTERN,),
    ).fetchall()
    for name, _sql in rows:
        connection.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def refresh_all(connection: sqlite3.Connection) -> None:
    """Recompute every person's value at stake and every deal's contact (set-based: a
    book of 50,000 people and 20,000 deals takes a few seconds)."""
    connection.execute(REFRESH_DEALS_PART)
    connection.execute(REFRESH_TOTAL)
    connection.execute(REFRESH_CONTACTS)
