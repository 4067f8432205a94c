"""Feedback themes across customers over time, and the competitor view.

Themes group feedback by topic (product, competitor, price, service, other) and subject
(the product or competitor named; case-insensitive), counting mentions by sentiment, the
distinct customers (companies, else people) who said it, and mentions per month.

The competitor view joins two sources per competitor name (case-insensitive): feedback
with topic *competitor*, and deals that list the competitor — open deals they are in,
deals lost and won against them, and the lost reasons.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from relbook.domain.clock import to_millis
from relbook.services.insight.common import moment
from relbook.services.insight.segments import months_back


@dataclass(frozen=True)
class Theme:
    topic: str
    subject: str  # "" when the feedback named no product/competitor
    total: int
    positive: int
    neutral: int
    negative: int
    customers: int  # distinct companies (or people without one)
    last_at: datetime
    per_month: tuple[int, ...]  # aligned with FeedbackThemes.months
    sample: str  # the latest quote

    @property
    def net(self) -> int:
        return self.positive - self.negative


@dataclass(frozen=True)
class TopicMonth:
    topic: str
    month: int  # yyyymm
    positive: int
    neutral: int
    negative: int

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative


@dataclass(frozen=True)
class FeedbackThemes:
    months: tuple[int, ...]  # yyyymm, oldest first
    themes: tuple[Theme, ...]  # most mentioned first
    by_topic_month: tuple[TopicMonth, ...]  # every topic × month with feedback


def _month(ms: int) -> int:
    when = moment(ms)
    assert when is not None
    return when.year * 100 + when.month


@dataclass
class _ThemeTally:
    subject: str
    per_month: list[int]
    last: int
    sentiments: Counter[str] = field(default_factory=Counter)
    who: set[str] = field(default_factory=set)
    sample: str = ""


def themes(db: sqlite3.Connection, now: datetime, months: int = 12) -> FeedbackThemes:
    columns = months_back(now, months)
    start = datetime(columns[0] // 100, columns[0] % 100, 1, tzinfo=now.tzinfo)
    rows = db.execute(
        """SELECT topic, subject, sentiment, occurred_at, coalesce(company_id, person_id, id),
                  quote
           FROM feedback WHERE deleted_at IS NULL AND occurred_at >= ? AND occurred_at <= ?
           ORDER BY occurred_at""",
        (to_millis(start), to_millis(now)),
    ).fetchall()
    position = {m: i for i, m in enumerate(columns)}
    groups: dict[tuple[str, str], _ThemeTally] = {}
    topic_month: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for topic, subject, sentiment, at, who, quote in rows:
        clean = " ".join(subject.split())
        tally = groups.setdefault(
            (topic, clean.casefold()), _ThemeTally(clean, [0] * len(columns), at)
        )
        tally.sentiments[sentiment] += 1
        tally.who.add(who)
        month = _month(at)
        if month in position:
            tally.per_month[position[month]] += 1
        tally.last = at
        tally.sample = quote or tally.sample
        topic_month[(topic, month)][sentiment] += 1
    result = [
        Theme(
            topic=topic,
            subject=t.subject,
            total=sum(t.sentiments.values()),
            positive=t.sentiments["positive"],
            neutral=t.sentiments["neutral"],
            negative=t.sentiments["negative"],
            customers=len(t.who),
            last_at=_at(t.last),
            per_month=tuple(t.per_month),
            sample=t.sample,
        )
        for (topic, _), t in groups.items()
    ]
    result.sort(key=lambda t: (-t.total, -t.customers, t.topic, t.subject.casefold()))
    by_topic = tuple(
        TopicMonth(topic, month, c["positive"], c["neutral"], c["negative"])
        for (topic, month), c in sorted(topic_month.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    )
    return FeedbackThemes(tuple(columns), tuple(result), by_topic)


def _at(ms: int) -> datetime:
    when = moment(ms)
    assert when is not None
    return when


@dataclass(frozen=True)
class CompetitorRow:
    name: str
    mentions: int  # competitor feedback naming them
    negative_mentions: int  # … said against them (good for us)
    positive_mentions: int  # … said in their favour
    open_deals: int  # open deals listing them
    open_minor: int
    won_against: int
    lost_to: int
    lost_minor: int
    lost_reasons: tuple[tuple[str, int], ...]  # reason, deals — most frequent first
    last_seen_at: datetime | None
    quotes: tuple[str, ...]  # the latest three


@dataclass
class _CompetitorTally:
    name: str
    mentions: int = 0
    negative: int = 0
    positive: int = 0
    open_deals: int = 0
    open_minor: int = 0
    won: int = 0
    lost: int = 0
    lost_minor: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    last: int = 0
    quotes: list[str] = field(default_factory=list)


def competitors(db: sqlite3.Connection, now: datetime, months: int = 24) -> list[CompetitorRow]:
    since = to_millis(now) - int(months * 30.44 * 86_400_000)
    stats: dict[str, _CompetitorTally] = {}

    def entry(name: str) -> _CompetitorTally:
        clean = " ".join(name.split())
        return stats.setdefault(clean.casefold(), _CompetitorTally(clean))

    for subject, sentiment, at, quote in db.execute(
        """SELECT subject, sentiment, occurred_at, quote FROM feedback
           WHERE deleted_at IS NULL AND topic = 'competitor' AND subject != ''
             AND occurred_at >= ? ORDER BY occurred_at""",
        (since,),
    ):
        e = entry(subject)
        e.mentions += 1
        e.negative += sentiment == "negative"
        e.positive += sentiment == "positive"
        e.last = max(e.last, at)
        if quote:
            e.quotes.insert(0, quote)

    for status, amount, reason, raw, closed, updated in db.execute(
        """SELECT status, coalesce(amount_minor, 0), lost_reason, competitors, closed_at,
                  updated_at
           FROM deal WHERE deleted_at IS NULL AND competitors IS NOT NULL
             AND competitors != '[]' AND (status = 'open' OR closed_at >= ?)""",
        (since,),
    ):
        try:
            names = json.loads(raw or "[]")
        except ValueError:
            continue
        if not isinstance(names, list):
            continue
        for name in {" ".join(str(n).split()) for n in names if str(n).strip()}:
            e = entry(name)
            if status == "open":
                e.open_deals += 1
                e.open_minor += amount
            elif status == "won":
                e.won += 1
            elif status == "lost":
                e.lost += 1
                e.lost_minor += amount
                e.reasons[" ".join((reason or "").split()) or "(no reason given)"] += 1
            e.last = max(e.last, closed or updated or 0)

    rows = [
        CompetitorRow(
            name=e.name,
            mentions=e.mentions,
            negative_mentions=e.negative,
            positive_mentions=e.positive,
            open_deals=e.open_deals,
            open_minor=e.open_minor,
            won_against=e.won,
            lost_to=e.lost,
            lost_minor=e.lost_minor,
            lost_reasons=tuple(e.reasons.most_common()),
            last_seen_at=moment(e.last) if e.last else None,
            quotes=tuple(e.quotes[:3]),
        )
        for e in stats.values()
    ]
    rows.sort(key=lambda r: (-(r.lost_to + r.mentions + r.open_deals), r.name.casefold()))
    return rows
