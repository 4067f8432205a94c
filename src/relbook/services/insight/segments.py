"""Segments (current value × potential value × effort) and the account heat map.

Both read ``company_month`` (touches per company and month, kept by ``storage.touch``),
so neither scans interactions. Formulas and cluster rules: ``domain.insight_segments``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from relbook.domain.insight_segments import (
    Cluster,
    Thresholds,
    classify,
    effort_hours,
    explain_cluster,
    headroom,
    thresholds,
)


@dataclass(frozen=True)
class SegmentPoint:
    company_id: str
    name: str
    currency: str
    current_minor: int
    potential_minor: int | None
    headroom_minor: int
    effort_hours: float
    meetings: int
    calls: int
    emails: int
    minutes: int  # meeting and call minutes
    strength: float | None
    cluster: Cluster


@dataclass(frozen=True)
class Segments:
    months: int
    since_month: int  # yyyymm, first month counted for effort
    thresholds: Thresholds  # the quadrant lines (medians)
    points: tuple[SegmentPoint, ...]

    def counts(self) -> dict[Cluster, int]:
        found = Counter(p.cluster for p in self.points)
        return {cluster: found.get(cluster, 0) for cluster in Cluster}

    def of(self, cluster: Cluster | str) -> tuple[SegmentPoint, ...]:
        return tuple(p for p in self.points if p.cluster == cluster)

    def explain(self, point: SegmentPoint) -> str:
        """Why the account is in its cluster, and how its effort was computed."""
        return (
            explain_cluster(
                point.current_minor,
                point.headroom_minor,
                point.effort_hours,
                self.thresholds,
                point.currency,
            )
            + f"\nEffort: ({point.minutes} meeting and call minutes + 5 × {point.emails} "
            f"e-mails) / 60 = {point.effort_hours:.1f} h over {self.months} months"
        )


def month_number(moment: datetime) -> int:
    return moment.year * 100 + moment.month


def months_back(moment: datetime, count: int) -> list[int]:
    """The ``count`` months ending with ``moment``'s month, oldest first (yyyymm)."""
    year, month = moment.year, moment.month
    result = []
    for _ in range(count):
        result.append(year * 100 + month)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return result[::-1]


def segments(db: sqlite3.Connection, now: datetime, months: int = 12) -> Segments:
    """Companies with a value, a potential or any effort in the last ``months`` months."""
    since = months_back(now, months)[0]
    rows = db.execute(
        """SELECT c.id, c.name, c.currency, coalesce(c.current_value_minor, 0),
                  c.potential_value_minor, c.strength, coalesce(m.meetings, 0),
                  coalesce(m.calls, 0), coalesce(m.emails, 0), coalesce(m.minutes, 0)
           FROM company c LEFT JOIN (
               SELECT company_id, sum(meetings) AS meetings, sum(calls) AS calls,
                      sum(emails) AS emails, sum(minutes) AS minutes
               FROM company_month WHERE month >= ? GROUP BY company_id) m
             ON m.company_id = c.id
           WHERE c.deleted_at IS NULL AND (c.current_value_minor > 0
                 OR c.potential_value_minor > 0 OR m.company_id IS NOT NULL)""",
        (since,),
    ).fetchall()
    measured = [(r[3], headroom(r[3], r[4]), effort_hours(r[9], r[8]), r) for r in rows]
    limits = thresholds([(c, h, e) for c, h, e, _ in measured])
    points = tuple(
        SegmentPoint(
            company_id=r[0],
            name=r[1],
            currency=r[2],
            current_minor=current,
            potential_minor=r[4],
            headroom_minor=room,
            effort_hours=round(hours, 2),
            meetings=r[6],
            calls=r[7],
            emails=r[8],
            minutes=r[9],
            strength=r[5],
            cluster=classify(current, room, hours, limits),
        )
        for current, room, hours, r in sorted(measured, key=lambda m: m[3][1].casefold())
    )
    return Segments(months, since, limits, points)


@dataclass(frozen=True)
class HeatRow:
    company_id: str
    name: str
    counts: tuple[int, ...]  # touches per month, aligned with HeatMap.months
    total: int


@dataclass(frozen=True)
class HeatMap:
    months: tuple[int, ...]  # yyyymm, oldest first
    rows: tuple[HeatRow, ...]  # busiest account first
    max_count: int

    @staticmethod
    def label(month: int) -> str:
        return f"{month // 100:04d}-{month % 100:02d}"


def heatmap(
    db: sqlite3.Connection,
    now: datetime,
    months: int = 12,
    limit: int = 20,
    company_ids: list[str] | None = None,
) -> HeatMap:
    """Touches per month for the busiest accounts (or the given ones)."""
    columns = months_back(now, months)
    since = columns[0]
    if company_ids is None:
        top = db.execute(
            """SELECT m.company_id, c.name, sum(m.touches) AS total
               FROM company_month m JOIN company c ON c.id = m.company_id
               WHERE m.month >= ? AND c.deleted_at IS NULL
               GROUP BY m.company_id ORDER BY total DESC, c.name LIMIT ?""",
            (since, limit),
        ).fetchall()
    else:
        import json

        top = db.execute(
            """SELECT c.id, c.name, coalesce(
                   (SELECT sum(touches) FROM company_month
                    WHERE company_id = c.id AND month >= ?), 0)
               FROM company c WHERE c.id IN (SELECT value FROM json_each(?))
                 AND c.deleted_at IS NULL""",
            (since, json.dumps(company_ids)),
        ).fetchall()
    position = {m: i for i, m in enumerate(columns)}
    rows = []
    highest = 0
    for company_id, name, total in top:
        counts = [0] * len(columns)
        for month, touches in db.execute(
            "SELECT month, touches FROM company_month WHERE company_id = ? AND month >= ?",
            (company_id, since),
        ):
            if month in position:
                counts[position[month]] = touches
        highest = max(highest, *counts)
        rows.append(HeatRow(company_id, name, tuple(counts), int(total or 0)))
    return HeatMap(tuple(columns), tuple(rows), highest)
