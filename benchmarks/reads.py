"""Timelines (latest 200) and the insight lists (My Day, going cold, next contacts, segments).

Timeline: the app's ``timeline.for_entity(id, limit=200)`` (interactions with why they are
linked, plus notes, stage moves and done tasks) for the busiest people and companies and
as many picked at random; raw = the one indexed query over ``interaction_link`` joined to
``interaction``. Insight: each call's median of five runs after a warm-up; going cold has
a raw baseline computed the way a plain schema would (last touch from the links table).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import UTC

from benchmarks.core import Results, Row, at_most, median, percentile, timed_ms
from relbook.domain.clock import to_millis
from relbook.services.context import Services
from relbook.storage.pragmas import open_raw

TIMELINE_LIMIT_MS = 5.0
PLURAL = {"person": "people", "company": "companies"}
INSIGHT_LIMIT_MS = 200.0

RAW_TIMELINE = """SELECT i.id, i.kind, l.occurred_at, i.subject, substr(i.body, 1, 240)
    FROM interaction_link l JOIN interaction i ON i.id = l.interaction_id
    WHERE l.entity_id = ? ORDER BY l.occurred_at DESC LIMIT 200"""

# Going cold without denormalised columns: last touch and touch count from the links.
RAW_GOING_COLD = """SELECT p.id, p.display_name, t.last, t.n FROM (
        SELECT entity_id, max(occurred_at) AS last, count(*) AS n FROM interaction_link
        WHERE entity_type = 'person' AND excluded = 0 AND is_touch = 1 AND occurred_at <= ?
        GROUP BY entity_id) t
    JOIN person p ON p.id = t.entity_id
    WHERE p.deleted_at IS NULL AND t.n >= 3 AND t.last < ?
    ORDER BY t.n DESC LIMIT 50"""


def _entities(db: sqlite3.Connection, entity_type: str, each: int, seed: int) -> list[str]:
    table = "person" if entity_type == "person" else "company"
    busiest = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM {table} WHERE deleted_at IS NULL ORDER BY touch_count DESC LIMIT ?",
            (each,),
        )
    ]
    every = [r[0] for r in db.execute(f"SELECT id FROM {table} WHERE touch_count > 0 ORDER BY id")]
    rng = random.Random(seed)
    return busiest + (rng.sample(every, min(each, len(every))) if every else [])


def _best(fn: Callable[[], object], repeat: int) -> float:
    return min(timed_ms(fn) for _ in range(repeat))


def run_timeline(
    services: Services, results: Results, *, each: int, seed: int, repeat: int
) -> None:
    db = services.book.reader()
    raw_db = open_raw(str(services.book.path), read_only=True)
    timeline = services.timeline
    details: dict[str, object] = {}
    for entity_type, label in (("person", "a person's"), ("company", "a company's")):
        ids = _entities(db, entity_type, each, seed)
        for entity_id in ids[:5]:
            timeline.for_entity(entity_id, limit=200)
            raw_db.execute(RAW_TIMELINE, (entity_id,)).fetchall()
        app, raw = [], []
        for entity_id in ids:
            app.append(_best(lambda e=entity_id: timeline.for_entity(e, limit=200), repeat))
            raw.append(_best(lambda e=entity_id: raw_db.execute(RAW_TIMELINE, (e,)).fetchall(),
                             repeat))  # fmt: skip
        p99 = percentile(app, 0.99) if app else None
        results.add(
            Row(
                "timeline",
                f"timeline.p99.{entity_type}",
                f"Timeline p99 — {label} latest 200 ({len(ids)} {PLURAL[entity_type]})",
                p99,
                "ms",
                baseline=percentile(raw, 0.99) if raw else None,
                target=f"≤ {TIMELINE_LIMIT_MS:g} ms",
                passed=at_most(p99, TIMELINE_LIMIT_MS),
            )
        )
        details[entity_type] = {
            "entities": len(ids),
            "p50_ms": median(app) if app else None,
            "raw_p50_ms": median(raw) if raw else None,
        }
    raw_db.close()
    results.details["timeline"] = details


def run_insight(services: Services, results: Results, *, runs: int) -> None:
    from relbook.services.myday import MyDayService

    raw_db = open_raw(str(services.book.path), read_only=True)
    insight = services.insight
    myday: MyDayService = services.myday
    now_ms = to_millis(services.clock.now())
    ninety_days = 90 * 86_400_000
    calls: list[tuple[str, str, Callable[[], object], Callable[[], object] | None]] = [
        ("myday", "My Day (everything on the start page)", lambda: myday.load(UTC), None),
        ("going_cold", "Going cold (50 people)", lambda: insight.going_cold(limit=50),
         lambda: raw_db.execute(RAW_GOING_COLD, (now_ms, now_ms - ninety_days)).fetchall()),
        ("next_contacts", "Next contacts (25)", lambda: insight.next_contacts(limit=25), None),
        ("segments", "Segments (value × potential × effort)", insight.segments, None),
    ]  # fmt: skip
    details: dict[str, object] = {}
    for key, label, fn, raw_fn in calls:
        fn()  # warm
        times = [timed_ms(fn) for _ in range(runs)]
        raw_ms = None
        if raw_fn is not None:
            raw_fn()
            raw_ms = median(timed_ms(raw_fn) for _ in range(runs))
        value = median(times)
        results.add(
            Row(
                "insight",
                f"insight.{key}",
                label,
                value,
                "ms",
                baseline=raw_ms,
                target=f"≤ {INSIGHT_LIMIT_MS:g} ms",
                passed=at_most(value, INSIGHT_LIMIT_MS),
                note="raw: last touch computed from interaction_link" if raw_fn else "",
            )
        )
        details[key] = {"runs_ms": times}
    raw_db.close()
    results.details["insight"] = details
