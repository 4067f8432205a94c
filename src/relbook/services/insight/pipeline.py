"""Pipeline analytics: amount per stage, weighted forecast per month, stage age,
conversion between stages, and win/loss by reason and by competitor.

Definitions
- *Weighted* amount: amount × the deal's probability (its own, else its stage's) / 100.
- *Forecast*: open deals by the month of their expected close; deals whose expected close
  has passed are in "overdue", deals without one in "no date".
- *Stage age*: days since the deal entered its current stage; *stuck* past the stage's
  ``stale_after_days``.
- *Conversion* of a stage (from ``deal_stage_change``): of the deals that ever entered it,
  the share that later entered a later open stage or a won stage. Deals still sitting
  there count as not (yet) converted; ``still_open`` says how many those are.
- *Win rate*: won / (won + lost) among deals closed in the window.
- Win/loss reasons group case-insensitively on the trimmed text; competitors come from
  each deal's competitor list.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from relbook.domain.clock import to_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.scoring import DAY_MS

OVERDUE = "overdue"
NO_DATE = "no date"


@dataclass(frozen=True)
class PipelineRef:
    id: str
    name: str
    is_default: bool


@dataclass(frozen=True)
class StageStat:
    stage_id: str
    name: str
    position: int
    kind: str  # open / won / lost
    probability: int
    deal_count: int  # open deals now in the stage (closed deals in the window for won/lost)
    amount_minor: int
    weighted_minor: int
    avg_days: float | None  # stage age of its open deals
    median_days: float | None
    max_days: int | None
    stale_after_days: int | None
    stuck_count: int


@dataclass(frozen=True)
class ForecastMonth:
    month: str  # YYYY-MM, or "overdue" / "no date"
    deal_count: int
    amount_minor: int
    weighted_minor: int


@dataclass(frozen=True)
class Conversion:
    stage_id: str
    name: str
    entered: int  # deals that ever entered the stage
    converted: int  # … and later reached a later open stage or won
    lost: int  # … and ended lost
    still_open: int  # … and still sit in it

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None


@dataclass(frozen=True)
class WinLossRow:
    key: str  # the reason or the competitor, as first written
    won_count: int
    lost_count: int
    won_minor: int
    lost_minor: int
    open_count: int = 0  # competitors: open deals they are in


@dataclass(frozen=True)
class PipelineAnalytics:
    pipeline: PipelineRef
    currency: str
    since: datetime  # closed deals counted from here
    stages: tuple[StageStat, ...]
    forecast: tuple[ForecastMonth, ...]
    conversion: tuple[Conversion, ...]
    won_count: int
    lost_count: int
    won_minor: int
    lost_minor: int
    by_reason: tuple[WinLossRow, ...]  # won_reason / lost_reason
    by_competitor: tuple[WinLossRow, ...]

    @property
    def win_rate(self) -> float | None:
        closed = self.won_count + self.lost_count
        return self.won_count / closed if closed else None

    @property
    def open_amount_minor(self) -> int:
        return sum(s.amount_minor for s in self.stages if s.kind == "open")

    @property
    def weighted_minor(self) -> int:
        return sum(s.weighted_minor for s in self.stages if s.kind == "open")


def pipelines(db: sqlite3.Connection) -> list[PipelineRef]:
    return [
        PipelineRef(r[0], r[1], bool(r[2]))
        for r in db.execute(
            """SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL
               ORDER BY is_default DESC, position, name"""
        )
    ]


def _month_key(iso_date: str) -> str:
    return iso_date[:7]


def _months_ahead(today: date, count: int) -> list[str]:
    year, month = today.year, today.month
    result = []
    for _ in range(count):
        result.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return result


def analytics(
    db: sqlite3.Connection,
    now: datetime,
    currency: str,
    pipeline_id: str | None = None,
    *,
    months: int = 12,
) -> PipelineAnalytics:
    refs = pipelines(db)
    if not refs:
        raise NotFoundError("pipeline", pipeline_id or "(default)")
    ref = next((p for p in refs if p.id == pipeline_id), None) if pipeline_id else refs[0]
    if ref is None:
        raise NotFoundError("pipeline", pipeline_id or "")
    now_ms = to_millis(now)
    since = now - timedelta(days=round(months * 30.44))
    since_ms = to_millis(since)
    stage_rows = db.execute(
        """SELECT id, name, position, kind, probability, stale_after_days FROM stage
           WHERE pipeline_id = ? AND deleted_at IS NULL ORDER BY position""",
        (ref.id,),
    ).fetchall()
    deals = db.execute(
        """SELECT d.id, d.stage_id, d.status, coalesce(d.amount_minor, 0),
                  coalesce(d.probability, s.probability), d.stage_entered_at,
                  d.expected_close, d.closed_at, d.won_reason, d.lost_reason, d.competitors
           FROM deal d JOIN stage s ON s.id = d.stage_id
           WHERE d.pipeline_id = ? AND d.deleted_at IS NULL
             AND (d.status = 'open' OR d.closed_at >= ?)""",
        (ref.id, since_ms),
    ).fetchall()

    # Stages: amount, weighted, age.
    by_stage: dict[str, list[tuple[int, int, int | None]]] = defaultdict(list)
    for d in deals:
        age = None if d[5] is None else int((now_ms - d[5]) // DAY_MS)
        by_stage[d[1]].append((d[3], d[3] * d[4] // 100, age))
    stages = []
    for sid, name, position, kind, probability, stale in stage_rows:
        items = by_stage.get(sid, [])
        ages = [a for _, _, a in items if a is not None] if kind == "open" else []
        stages.append(
            StageStat(
                stage_id=sid,
                name=name,
                position=position,
                kind=kind,
                probability=probability,
                deal_count=len(items),
                amount_minor=sum(a for a, _, _ in items),
                weighted_minor=sum(w for _, w, _ in items) if kind == "open" else 0,
                avg_days=round(sum(ages) / len(ages), 1) if ages else None,
                median_days=float(median(ages)) if ages else None,
                max_days=max(ages) if ages else None,
                stale_after_days=stale,
                stuck_count=sum(1 for a in ages if stale and a > stale),
            )
        )

    # Forecast: open deals by expected-close month.
    today = now.date()
    this_month = f"{today.year:04d}-{today.month:02d}"
    buckets: dict[str, list[int]] = {m: [0, 0, 0] for m in _months_ahead(today, months)}
    overdue, undated = [0, 0, 0], [0, 0, 0]
    for d in deals:
        if d[2] != "open":
            continue
        close = d[6]
        if not close:
            bucket = undated
        elif close < today.isoformat():
            bucket = overdue
        else:
            bucket = buckets.setdefault(_month_key(close), [0, 0, 0])
        bucket[0] += 1
        bucket[1] += d[3]
        bucket[2] += d[3] * d[4] // 100
    forecast = [ForecastMonth(OVERDUE, *overdue)] if overdue[0] else []
    forecast += [
        ForecastMonth(m, *values) for m, values in sorted(buckets.items()) if m >= this_month
    ]
    if undated[0]:
        forecast.append(ForecastMonth(NO_DATE, *undated))

    conversion = _conversion(db, ref.id, stage_rows, since_ms)

    # Win/loss.
    won = [d for d in deals if d[2] == "won"]
    lost = [d for d in deals if d[2] == "lost"]
    reasons: dict[str, _Tally] = {}
    for d in won + lost:
        text = " ".join((d[8] if d[2] == "won" else d[9]).split()) or "(no reason given)"
        reasons.setdefault(text.casefold(), _Tally(text)).add(d[2], d[3])
    competitors: dict[str, _Tally] = {}
    for d in deals:
        for name in _competitors(d[10]):
            competitors.setdefault(name.casefold(), _Tally(name)).add(d[2], d[3])
    return PipelineAnalytics(
        pipeline=ref,
        currency=currency,
        since=since,
        stages=tuple(stages),
        forecast=tuple(forecast),
        conversion=conversion,
        won_count=len(won),
        lost_count=len(lost),
        won_minor=sum(d[3] for d in won),
        lost_minor=sum(d[3] for d in lost),
        by_reason=_rows(reasons),
        by_competitor=_rows(competitors),
    )


@dataclass
class _Tally:
    key: str
    won_count: int = 0
    lost_count: int = 0
    won_minor: int = 0
    lost_minor: int = 0
    open_count: int = 0

    def add(self, status: str, amount: int) -> None:
        if status == "won":
            self.won_count += 1
            self.won_minor += amount
        elif status == "lost":
            self.lost_count += 1
            self.lost_minor += amount
        else:
            self.open_count += 1


def _rows(groups: dict[str, _Tally]) -> tuple[WinLossRow, ...]:
    rows = [
        WinLossRow(t.key, t.won_count, t.lost_count, t.won_minor, t.lost_minor, t.open_count)
        for t in groups.values()
    ]
    rows.sort(key=lambda r: (-(r.lost_count + r.won_count + r.open_count), r.key.casefold()))
    return tuple(rows)


def _competitors(raw: str | None) -> list[str]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return []
    seen: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        name = " ".join(str(value).split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


def _conversion(
    db: sqlite3.Connection,
    pipeline_id: str,
    stage_rows: list[tuple[str, str, int, str, int, int | None]],
    since_ms: int,
) -> tuple[Conversion, ...]:
    """Per open stage: deals that entered it (in the window, or still open) and what
    became of them."""
    info = {r[0]: (r[2], r[3]) for r in stage_rows}  # id -> (position, kind)
    history: dict[str, list[str]] = defaultdict(list)
    status: dict[str, tuple[str, str]] = {}
    for deal_id, to_stage, deal_status, current in db.execute(
        """SELECT c.deal_id, c.to_stage_id, d.status, d.stage_id
           FROM deal_stage_change c JOIN deal d ON d.id = c.deal_id
           WHERE d.pipeline_id = ? AND d.deleted_at IS NULL
             AND (d.status = 'open' OR d.closed_at >= ?)
           ORDER BY c.deal_id, c.changed_at, c.id""",
        (pipeline_id, since_ms),
    ):
        history[deal_id].append(to_stage)
        status[deal_id] = (deal_status, current)
    counts = {sid: [0, 0, 0, 0] for sid in info}
    for deal_id, stages in history.items():
        deal_status, current = status[deal_id]
        for index, sid in enumerate(stages):
            if sid not in info or info[sid][1] != "open":
                continue
            if sid in stages[:index]:
                continue  # count a stage once per deal
            position = info[sid][0]
            later = stages[index + 1 :]
            advanced = any(
                s in info
                and (info[s][1] == "won" or (info[s][1] == "open" and info[s][0] > position))
                for s in later
            )
            c = counts[sid]
            c[0] += 1
            if advanced:
                c[1] += 1
            elif deal_status == "lost":
                c[2] += 1
            elif deal_status == "open" and current == sid:
                c[3] += 1
    return tuple(
        Conversion(sid, name, *counts[sid])
        for sid, name, _, kind, _, _ in stage_rows
        if kind == "open"
    )
