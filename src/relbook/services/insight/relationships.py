"""Relationship metrics, going cold, keep-in-touch due list, next contacts, keep-warm.

Reads only denormalised columns (``person``/``company`` touch statistics kept by
``storage.touch``, people's value at stake and deals' contacts kept by the book's
triggers: ``storage.stake``) and indexed ranges; never scans interactions. The rules and
formulas live in ``domain.scoring`` and ``domain.insight``; this module fetches their
inputs, and ``ranking`` finds the few rows a list shows among tens of thousands.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from relbook.domain.clock import to_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.insight import (
    DORMANT_MIN_DAYS,
    Cadence,
    ColdCheck,
    ColdState,
    DueCheck,
    StuckDeal,
    account_value,
    cold_check,
    cold_urgency,
    due_check,
    effective_cadence,
    explain_value_weight,
    is_dormant_for_learned,
    stuck_check,
    value_weight,
)
from relbook.domain.money import format_money
from relbook.domain.scoring import (
    BREADTH_WINDOW_DAYS,
    DAY_MS,
    Strength,
    Trend,
    explain_trend,
    frequency_per_month,
    reciprocity,
    strength,
    trend,
    trend_rates,
)
from relbook.services.insight import ranking
from relbook.services.insight.common import (
    TOUCH_COLUMNS,
    Ref,
    days_ms,
    id_list,
    moment,
    read_transaction,
    touch_inputs,
)

# A meeting planned this soon means the contact is already happening.
PLANNED_MEETING_DAYS = 14
# Lost deals younger than this propose keep-warm cadences for their people.
KEEP_WARM_WINDOW_DAYS = 180


# --------------------------------------------------------------------- value at stake


@dataclass(frozen=True)
class ValueAtStake:
    open_deals_minor: int  # open deals of the account (and the person's own elsewhere)
    account_minor: int  # the larger of the account's current and potential value
    currency: str

    @property
    def total_minor(self) -> int:
        return self.open_deals_minor + self.account_minor

    @property
    def weight(self) -> float:
        return value_weight(self.total_minor, self.currency)

    def describe(self) -> str:
        if not self.total_minor:
            return "no value recorded"
        parts = []
        if self.open_deals_minor:
            parts.append(f"open deals {format_money(self.open_deals_minor, self.currency)}")
        if self.account_minor:
            parts.append(f"account value {format_money(self.account_minor, self.currency)}")
        return " + ".join(parts)

    def explain(self) -> str:
        """What is at stake and the weight it gives: "open deals 20,000 EUR + account
        value 90,000 EUR → value weight 1 + log10(1 + 110,000 / 1,000) = 3.04"."""
        return (
            f"At stake: {self.describe()} → {explain_value_weight(self.total_minor, self.currency)}"
        )


def person_value(stake_minor: int, stake_deals_minor: int, currency: str) -> ValueAtStake:
    """A person's value at stake from the stored columns (``person.stake_minor`` and its
    open-deal part, kept by the book's triggers: migration 0002)."""
    deals = int(stake_deals_minor or 0)
    return ValueAtStake(deals, int(stake_minor or 0) - deals, currency)


def company_values(
    db: sqlite3.Connection, company_ids: Iterable[str], currency: str
) -> dict[str, ValueAtStake]:
    """Value at stake of these companies: their open deals + their value. Companies are
    hundreds, and each one's open deals an indexed lookup (``+d.status`` keeps the planner
    off the status index: half the deals are open)."""
    wanted = sorted(set(company_ids))
    found = {
        company_id: ValueAtStake(int(deals), account_value(current, potential), currency)
        for company_id, current, potential, deals in db.execute(
            """SELECT c.id, c.current_value_minor, c.potential_value_minor,
                      (SELECT coalesce(sum(d.amount_minor), 0) FROM deal d
                       WHERE d.company_id = c.id AND +d.status = 'open'
                         AND d.deleted_at IS NULL)
               FROM company c WHERE c.id IN (SELECT value FROM json_each(?))""",
            (id_list(wanted),),
        )
    }
    return {c: found.get(c, ValueAtStake(0, 0, currency)) for c in wanted}


# ------------------------------------------------------------------ relationship card


@dataclass(frozen=True)
class Relationship:
    """Everything Relbook derives about one person's or company's relationship."""

    entity_type: str  # person / company
    id: str
    name: str
    company: Ref | None  # a person's current company
    first_touch_at: datetime | None
    last_touch_at: datetime | None
    last_two_way_at: datetime | None  # they wrote to us, or we met or spoke
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    touch_count: int
    inbound_count: int
    outbound_count: int
    touch_days: int
    frequency_per_month: float  # touch days a month, about the last half-year
    rhythm_days: float | None  # typical gap between touch days
    silence_days: float | None  # days since the last touch
    drift_days: float | None  # silence − rhythm (> 0: later than usual)
    reciprocity: float | None  # share of touches from them (0–1)
    reciprocity_label: str  # "they reach out more" / "balanced" / "we reach out more"
    strength: Strength  # .score and .components (inputs and points): explain()
    trend: Trend
    trend_rates: tuple[float, float]  # (recent, half-year) touch days a month behind trend
    trend_explained: str  # the verdict with its rates and ratio
    engaged: tuple[Ref, ...]  # companies: people there we really talk to (breadth)
    cadence: Cadence | None  # people: keep-in-touch cadence (set or learned)
    due: DueCheck | None
    cold: ColdCheck | None
    snoozed_until: datetime | None
    value: ValueAtStake

    @property
    def breadth(self) -> int:
        return len(self.engaged)

    def explain(self) -> str:
        """Every metric with its inputs and formula, as lines of text (the "why" panel)."""
        lines = [self.strength.explain(), ""]
        if self.last_touch_at is None:
            lines.append("Never touched: no interaction with them has been captured yet.")
        else:
            lines.append(
                f"Touches: {self.touch_count} on {self.touch_days} distinct days "
                f"({self.inbound_count} from them, {self.outbound_count} from us); "
                f"{self.frequency_per_month:.1f} touch days a month."
            )
        if self.rhythm_days is not None:
            drift = self.drift_days or 0.0
            lines.append(
                f"Rhythm: usually every {self.rhythm_days:.0f} days (median of the last gaps "
                f"between touch days); silent {self.silence_days or 0:.0f} days, "
                + (
                    f"{drift:.0f} days later than usual."
                    if drift > 0
                    else f"{-drift:.0f} days inside the rhythm."
                )
            )
        else:
            lines.append("Rhythm: not known yet (needs three touch days).")
        lines.append(f"Reciprocity: {self.reciprocity_label}.")
        lines.append(self.trend_explained)
        if self.cold is not None:
            lines.append(self.cold.explain())
        if self.entity_type == "company":
            names = ", ".join(r.name for r in self.engaged[:8]) or "nobody"
            lines.append(
                f"Breadth: {self.breadth} people there with a two-way touch in the last "
                f"{BREADTH_WINDOW_DAYS} days: {names}."
            )
        if self.due is not None:
            lines.append(self.due.explain())
        elif self.entity_type == "person":
            lines.append("Keep in touch: no cadence (set one, or it is learned from the rhythm).")
        if self.snoozed_until is not None:
            lines.append(f"Snoozed until {self.snoozed_until:%Y-%m-%d}.")
        lines.append(self.value.explain())
        return "\n".join(lines)


def _reciprocity_label(share: float | None) -> str:
    if share is None:
        return "no touches yet"
    if share >= 0.6:
        return "they reach out more"
    if share <= 0.4:
        return "we reach out more"
    return "balanced"


def entity_type_of(db: sqlite3.Connection, entity_id: str) -> str:
    for table in ("person", "company"):
        if db.execute(
            f"SELECT 1 FROM {table} WHERE id = ? AND deleted_at IS NULL", (entity_id,)
        ).fetchone():
            return table
    raise NotFoundError("person or company", entity_id)


def engaged_people(db: sqlite3.Connection, company_id: str, now: datetime) -> tuple[Ref, ...]:
    since = to_millis(now) - BREADTH_WINDOW_DAYS * DAY_MS
    return tuple(
        Ref("person", pid, name)
        for pid, name in db.execute(
            """SELECT id, display_name FROM person
               WHERE company_id = ? AND deleted_at IS NULL AND last_two_way_at >= ?
               ORDER BY last_two_way_at DESC""",
            (company_id, since),
        )
    )


def relationship(
    db: sqlite3.Connection, entity_id: str, now: datetime, factor: float, currency: str
) -> Relationship:
    kind = entity_type_of(db, entity_id)
    if kind == "person":
        row = db.execute(
            f"""SELECT p.display_name, c.id, c.name, p.first_touch_at,
                       p.last_inbound_at, p.last_outbound_at, p.rhythm_days, p.cadence_days,
                       p.snoozed_until, p.created_at, {_prefixed("p")},
                       p.stake_minor, p.stake_deals_minor
                FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                WHERE p.id = ?""",
            (entity_id,),
        ).fetchone()
        name, company_id, company_name = row[0], row[1], row[2]
        company = Ref("company", company_id, company_name) if company_id else None
        engaged: tuple[Ref, ...] = ()
        inputs = touch_inputs(row[10:19])
        cadence = effective_cadence(row[7], row[6])
        due = (
            None
            if cadence is None
            else due_check(inputs.last_touch_at, cadence, now, created_at=moment(row[9]))
        )
        snoozed = moment(row[8])
        value = person_value(row[19], row[20], currency)
    else:
        row = db.execute(
            f"""SELECT c.name, NULL, NULL, c.first_touch_at, c.last_inbound_at,
                       c.last_outbound_at, c.rhythm_days, NULL, NULL, c.created_at,
                       {_prefixed("c")}
                FROM company c WHERE c.id = ?""",
            (entity_id,),
        ).fetchone()
        name, company = row[0], None
        engaged = engaged_people(db, entity_id, now)
        inputs = touch_inputs(row[10:], engaged_people=len(engaged))
        cadence, due, snoozed = None, None, None
        value = company_values(db, [entity_id], currency)[entity_id]
    rhythm = row[6]
    last = inputs.last_touch_at
    silence = None if last is None else max(0.0, (now - last).total_seconds() / 86_400)
    share = reciprocity(inputs)
    return Relationship(
        entity_type=kind,
        id=entity_id,
        name=name,
        company=company,
        first_touch_at=moment(row[3]),
        last_touch_at=last,
        last_two_way_at=inputs.last_two_way_at,
        last_inbound_at=moment(row[4]),
        last_outbound_at=moment(row[5]),
        touch_count=inputs.touch_count,
        inbound_count=inputs.inbound_count,
        outbound_count=inputs.outbound_count,
        touch_days=inputs.touch_days,
        frequency_per_month=frequency_per_month(inputs, now),
        rhythm_days=rhythm,
        silence_days=silence,
        drift_days=None if silence is None or rhythm is None else silence - rhythm,
        reciprocity=share,
        reciprocity_label=_reciprocity_label(share),
        strength=strength(inputs, now, kind),
        trend=trend(inputs, now),
        trend_rates=trend_rates(inputs, now),
        trend_explained=explain_trend(inputs, now),
        engaged=engaged,
        cadence=cadence,
        due=due,
        cold=cold_check(last, rhythm, now, factor),
        snoozed_until=snoozed,
        value=value,
    )


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in TOUCH_COLUMNS.split(","))


# ---------------------------------------------------------------------- going cold


@dataclass(frozen=True)
class ColdEntry:
    entity_type: str  # person / company
    id: str
    name: str
    company: Ref | None
    last_touch_at: datetime
    check: ColdCheck  # silence, rhythm, threshold
    value: ValueAtStake
    score: float  # min(3, silence / threshold) × value weight: the list's order

    @property
    def reason(self) -> str:
        text = self.check.reason
        if self.value.total_minor:
            text += f"; at stake: {self.value.describe()}"
        return text

    def explain(self) -> str:
        return (
            f"{self.check.explain()}\n{self.value.explain()}\n"
            f"Score: urgency {cold_urgency(self.check):.2f} × value weight "
            f"{self.value.weight:.2f} = {self.score:.2f}"
        )


def _cold_filter(alias: str) -> str:
    """SQL prefilter matching domain.insight.cold_check's GOING_COLD state."""
    return f"""{alias}.deleted_at IS NULL AND {alias}.rhythm_days > 0
        AND {alias}.last_touch_at IS NOT NULL
        AND (:now - {alias}.last_touch_at) > :factor * {alias}.rhythm_days * {DAY_MS}
        AND (:now - {alias}.last_touch_at)
            <= max(:dormant, 2 * :factor * {alias}.rhythm_days * {DAY_MS})"""


# ------------------------------------------------------------- people for the lists
#
# Going cold, the due list and next contacts rank people by urgency × value weight.
# ``ranking`` finds the rows to show in SQLite (walking people by their stored value at
# stake); the entries are then computed here by the domain rules, so what a list says is
# what ``domain.insight`` says.


@dataclass(frozen=True)
class _Person:
    rowid: int
    id: str
    name: str
    company_id: str | None  # live company
    company_name: str | None
    last: int | None
    rhythm: float | None
    set_cadence: int | None
    created: int
    stake_minor: int
    stake_deals_minor: int

    @property
    def company(self) -> Ref | None:
        return Ref("company", self.company_id, self.company_name or "") if self.company_id else None

    def value(self, currency: str) -> ValueAtStake:
        return person_value(self.stake_minor, self.stake_deals_minor, currency)


def _people(db: sqlite3.Connection, rowids: Iterable[int]) -> dict[int, _Person]:
    """The people behind these rowids (as the walk returns them), with their live company."""
    wanted = sorted(set(rowids))
    if not wanted:
        return {}
    return {
        row[0]: _Person(*row)
        for row in db.execute(
            """SELECT p.rowid, p.id, p.display_name, c.id, c.name, p.last_touch_at,
                      p.rhythm_days, p.cadence_days, p.created_at, p.stake_minor,
                      p.stake_deals_minor
               FROM person p
               LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
               WHERE p.rowid IN (SELECT value FROM json_each(?))""",
            (json.dumps(wanted),),
        )
    }


def going_cold(
    db: sqlite3.Connection,
    now: datetime,
    factor: float,
    currency: str,
    *,
    entity_type: str = "person",
    limit: int | None = 50,
    include_snoozed: bool = False,
) -> list[ColdEntry]:
    """People (or companies) silent for longer than ``factor`` × their own rhythm, the
    most urgent and valuable first."""
    if entity_type != "person":
        return _companies_going_cold(db, now, factor, currency, limit)
    rowids = ranking.walk(
        db,
        ranking.Params(now, factor, currency),
        score=ranking.COLD_SCORE,
        ties="last_touch_at, display_name",  # the longest silence first
        max_urgency=ranking.MAX_COLD,
        limit=limit,
        include_snoozed=include_snoozed,
    )
    entries = []
    for person in _people(db, rowids).values():
        check = cold_check(moment(person.last), person.rhythm, now, factor)
        if check is None or check.state is not ColdState.GOING_COLD:
            continue
        value = person.value(currency)
        entries.append(
            ColdEntry(
                entity_type="person",
                id=person.id,
                name=person.name,
                company=person.company,
                last_touch_at=moment(person.last),  # type: ignore[arg-type]
                check=check,
                value=value,
                score=round(cold_urgency(check) * value.weight, 3),
            )
        )
    entries.sort(key=lambda e: (-e.score, -e.check.silence_days, e.name, e.id))
    return entries if limit is None else entries[:limit]


def _companies_going_cold(
    db: sqlite3.Connection, now: datetime, factor: float, currency: str, limit: int | None
) -> list[ColdEntry]:
    """Companies are hundreds, not tens of thousands: rank them in Python."""
    params = {"now": to_millis(now), "factor": factor, "dormant": days_ms(DORMANT_MIN_DAYS)}
    rows = db.execute(
        f"""SELECT c.id, c.name, c.last_touch_at, c.rhythm_days
            FROM company c WHERE {_cold_filter("c")}""",
        params,
    ).fetchall()
    values = company_values(db, (r[0] for r in rows), currency)
    entries = []
    for entity_id, name, last, rhythm in rows:
        check = cold_check(moment(last), rhythm, now, factor)
        if check is None or check.state is not ColdState.GOING_COLD:
            continue
        value = values[entity_id]
        entries.append(
            ColdEntry(
                entity_type="company",
                id=entity_id,
                name=name,
                company=None,
                last_touch_at=moment(last),  # type: ignore[arg-type]
                check=check,
                value=value,
                score=round(cold_urgency(check) * value.weight, 3),
            )
        )
    entries.sort(key=lambda e: (-e.score, -e.check.silence_days, e.name, e.id))
    return entries if limit is None else entries[:limit]


# ------------------------------------------------------------------ keep in touch


@dataclass(frozen=True)
class DueEntry:
    id: str
    name: str
    company: Ref | None
    last_touch_at: datetime | None
    check: DueCheck  # cadence (set/learned), due_at, overdue_days
    value: ValueAtStake
    score: float  # urgency × value weight

    @property
    def reason(self) -> str:
        return self.check.reason

    def explain(self) -> str:
        return (
            f"{self.check.explain()}\n{self.value.explain()}\n"
            f"Score: urgency {self.check.urgency:.2f} × value weight {self.value.weight:.2f} "
            f"= {self.score:.2f} (the list itself runs most overdue first)"
        )


def due(
    db: sqlite3.Connection,
    now: datetime,
    factor: float,
    currency: str,
    *,
    horizon_days: float = 0,
    limit: int | None = 100,
    include_snoozed: bool = False,
) -> list[DueEntry]:
    """People whose keep-in-touch cadence is due by now + ``horizon_days`` (overdue
    first). A learned cadence stops asking once the relationship has gone dormant.
    Ordered by the moment it fell due, so it reads every person (through the index that
    holds the columns it needs)."""
    until = now + timedelta(days=horizon_days)
    params = ranking.Params(now, factor, currency)
    awake = "" if include_snoozed else "AND (snoozed_until IS NULL OR snoozed_until <= :now)"
    rowids = [
        row[0]
        for row in db.execute(
            f"""SELECT rowid, {ranking.DUE_AT} AS due_at FROM person INDEXED BY ix_person_stake
                WHERE deleted_at IS NULL {awake} AND due_at <= :until
                ORDER BY due_at, display_name, rowid LIMIT :wanted""",
            params.sql(
                until=to_millis(until), wanted=-1 if limit is None else limit + ranking.SLACK
            ),
        )
    ]
    entries = []
    for person in _people(db, rowids).values():
        entry = _due_entry(person, now, factor, currency)
        if entry is not None and entry.check.due_at <= until:
            entries.append(entry)
    entries.sort(key=lambda e: (-e.check.overdue_days, e.name, e.id))
    return entries if limit is None else entries[:limit]


def _due_entry(person: _Person, now: datetime, factor: float, currency: str) -> DueEntry | None:
    cadence = effective_cadence(person.set_cadence, person.rhythm)
    if cadence is None:
        return None
    check = due_check(moment(person.last), cadence, now, created_at=moment(person.created))
    if is_dormant_for_learned(check, factor):
        return None
    value = person.value(currency)
    return DueEntry(
        id=person.id,
        name=person.name,
        company=person.company,
        last_touch_at=moment(person.last),
        check=check,
        value=value,
        score=round(check.urgency * value.weight, 3),
    )


# ------------------------------------------------------------------- next contacts


@dataclass(frozen=True)
class Reason:
    kind: str  # due / going_cold / stuck_deal
    text: str
    urgency: float  # 1–3
    formula: str = ""  # how the urgency was computed


@dataclass(frozen=True)
class NextContact:
    entity_type: str  # person, or company / deal when a stuck deal has nobody on it
    id: str
    name: str
    company: Ref | None
    deal: Ref | None  # the stuck deal behind the entry, if any
    last_touch_at: datetime | None
    reasons: tuple[Reason, ...]
    value: ValueAtStake
    score: float  # Σ urgencies × value weight

    @property
    def reason(self) -> str:
        text = "; ".join(r.text for r in self.reasons)
        if self.value.total_minor:
            text += f" — at stake: {self.value.describe()}"
        return text

    def explain(self) -> str:
        lines = [r.formula or f"{r.text}: urgency {r.urgency:.2f}" for r in self.reasons]
        lines.append(self.value.explain())
        urgencies = " + ".join(f"{r.urgency:.2f}" for r in self.reasons)
        lines.append(
            f"Score: ({urgencies}) × value weight {self.value.weight:.2f} = {self.score:.2f}"
        )
        return "\n".join(lines)


@dataclass
class _Candidate:
    entity_type: str
    id: str
    name: str
    company: Ref | None
    last_touch_at: datetime | None
    reasons: list[Reason]
    value: ValueAtStake
    deal: Ref | None = None


@dataclass(frozen=True)
class StuckDealRow:
    deal: Ref
    company: Ref | None
    stage_name: str
    check: StuckDeal
    amount_minor: int | None
    currency: str
    contact_id: str | None = None  # the live person on it touched last

    @property
    def reason(self) -> str:
        return (
            f"deal '{self.deal.name}' in {self.stage_name} for "
            f"{self.check.days_in_stage:.0f} days (stuck after {self.check.stale_after_days})"
        )


def stuck_deals(db: sqlite3.Connection, now: datetime) -> list[StuckDealRow]:
    """Open deals sitting in their stage longer than the stage's ``stale_after_days``."""
    return _stuck(ranking.stuck_rows(db, now), now)


def _stuck(rows: list[tuple[Any, ...]], now: datetime) -> list[StuckDealRow]:
    result = []
    for deal_id, title, company_id, company_name, stage, entered, stale, amount, cur, who in rows:
        check = stuck_check(moment(entered), stale, now)
        if check is None or not check.is_stuck:
            continue
        result.append(
            StuckDealRow(
                Ref("deal", deal_id, title),
                Ref("company", company_id, company_name) if company_id else None,
                stage,
                check,
                amount,
                cur,
                who,
            )
        )
    result.sort(key=lambda r: -r.check.urgency)
    return result


def planned_meetings(
    db: sqlite3.Connection, now: datetime, days: float = PLANNED_MEETING_DAYS
) -> dict[str, datetime]:
    """People and companies with a meeting planned in the next ``days`` (first one)."""
    start = to_millis(now)
    result: dict[str, datetime] = {}
    for entity_id, first in db.execute(
        """SELECT l.entity_id, min(i.occurred_at) FROM interaction i
           JOIN interaction_link l ON l.interaction_id = i.id
           WHERE i.kind = 'meeting' AND i.occurred_at > ? AND i.occurred_at <= ?
             AND i.deleted_at IS NULL AND i.status != 'cancelled' AND l.excluded = 0
             AND l.entity_type IN ('person', 'company')
           GROUP BY l.entity_id""",
        (start, start + days_ms(days)),
    ):
        result[entity_id] = moment(first)  # type: ignore[assignment]
    return result


def next_contacts(
    db: sqlite3.Connection,
    now: datetime,
    factor: float,
    currency: str,
    *,
    limit: int | None = 25,
) -> list[NextContact]:
    """One ranked list: cadences due, relationships going cold and deals stuck in their
    stage, each entry with its reasons, weighted by the value at stake. Snoozed people
    and people with a meeting already planned in the next two weeks are left out.

    A stuck deal is listed under its contact (the live person on it touched last), else
    under its company, else as itself. The best people by their stuck deals (with their
    due and going-cold urgencies) and the companies and deals with stuck deals nobody
    can take compete with the people ``ranking.walk`` finds by due + going cold; the
    entries are computed for those few and the best ``limit`` kept."""
    with read_transaction(db):
        return _next_contacts(db, now, factor, currency, limit)


def _next_contacts(
    db: sqlite3.Connection, now: datetime, factor: float, currency: str, limit: int | None
) -> list[NextContact]:
    params = ranking.Params(now, factor, currency)
    planned = planned_meetings(db, now)
    planned_rowids = {
        row[0]
        for row in db.execute(
            "SELECT rowid FROM person WHERE id IN (SELECT value FROM json_each(?))",
            (id_list(planned),),
        )
    }
    wanted = None if limit is None else limit + len(planned_rowids)
    stuck_people, orphans = ranking.stuck_contacts(db, params, wanted)

    # Stuck deals nobody on them can take: under their company, else as themselves.
    by_company: dict[str, float] = {}
    alone: dict[str, float] = {}
    for orphan in orphans:
        if orphan.company_id:
            by_company[orphan.company_id] = by_company.get(orphan.company_id, 0.0)
            by_company[orphan.company_id] += orphan.urgency
        else:
            alone[orphan.deal_id] = orphan.urgency
    values = company_values(db, by_company, currency)
    others: dict[object, float] = {
        ("company", c): u * values[c].weight for c, u in by_company.items() if c not in planned
    }
    others.update({("deal", d): u for d, u in alone.items()})
    if limit is not None:
        kept = sorted(others, key=lambda key: -others[key])[: limit + ranking.SLACK]
        others = {key: others[key] for key in kept}

    known = dict(others)
    known.update({s.rowid: s.score for s in stuck_people if s.rowid not in planned_rowids})
    rowids = ranking.walk(
        db,
        params,
        score=ranking.CONTACT_SCORE,
        ties="display_name",
        max_urgency=ranking.MAX_DUE_AND_COLD,
        limit=limit,
        exclude=planned_rowids,
        known=known,
    )
    people = _people(db, [*rowids, *(s.rowid for s in stuck_people)])
    people = {r: p for r, p in people.items() if p.id not in planned}
    orphan_deals = [
        o.deal_id
        for o in orphans
        if (("company", o.company_id) if o.company_id else ("deal", o.deal_id)) in others
    ]
    stuck = _stuck(
        ranking.stuck_rows(db, now, contacts=[p.id for p in people.values()], deals=orphan_deals),
        now,
    )

    candidates: dict[str, _Candidate] = {}
    for person in people.values():
        found = candidates[person.id] = _Candidate(
            "person",
            person.id,
            person.name,
            person.company,
            moment(person.last),
            [],
            person.value(currency),
        )
        entry = _due_entry(person, now, factor, currency)
        if entry is not None and entry.check.is_due:
            found.reasons.append(
                Reason("due", entry.check.reason, entry.check.urgency, entry.check.explain())
            )
        check = cold_check(moment(person.last), person.rhythm, now, factor)
        if check and check.state is ColdState.GOING_COLD:
            found.reasons.append(
                Reason(
                    "going_cold",
                    "going cold: " + check.reason,
                    cold_urgency(check),
                    check.explain(),
                )
            )
    nobody = ValueAtStake(0, 0, currency)
    for stuck_row in stuck:
        reason = Reason(
            "stuck_deal",
            stuck_row.reason,
            stuck_row.check.urgency,
            f"{stuck_row.reason}. {stuck_row.check.explain()}",
        )
        target = candidates.get(stuck_row.contact_id or "")
        if target is not None:
            if not target.reasons and target.company is None:
                target.company = stuck_row.company  # here through the deal only
        elif stuck_row.company:
            company = stuck_row.company
            target = candidates.get(company.id)
            if target is None:
                value = (
                    values.get(company.id) or company_values(db, [company.id], currency)[company.id]
                )
                target = candidates[company.id] = _Candidate(
                    "company", company.id, company.name, None, None, [], value
                )
        else:
            target = candidates[stuck_row.deal.id] = _Candidate(
                "deal", stuck_row.deal.id, stuck_row.deal.name, None, None, [], nobody
            )
        target.reasons.append(reason)
        target.deal = target.deal or stuck_row.deal

    result = []
    for c in candidates.values():
        if c.id in planned or not c.reasons:
            continue
        urgency = sum(r.urgency for r in c.reasons)
        result.append(
            NextContact(
                entity_type=c.entity_type,
                id=c.id,
                name=c.name,
                company=c.company,
                deal=c.deal,
                last_touch_at=c.last_touch_at,
                reasons=tuple(sorted(c.reasons, key=lambda r: -r.urgency)),
                value=c.value,
                score=round(urgency * c.value.weight, 3),
            )
        )
    result.sort(key=lambda n: (-n.score, n.name, n.id))
    return result if limit is None else result[:limit]


# ---------------------------------------------------------------------- keep warm


@dataclass(frozen=True)
class KeepWarmProposal:
    """A lost deal's person: propose a keep-warm cadence instead of dropping them."""

    person: Ref
    company: Ref | None
    deal: Ref
    lost_at: datetime
    lost_reason: str
    cadence_days: int  # proposed (setting keep_warm_cadence_days)

    @property
    def key(self) -> str:
        return f"{self.deal.id}:{self.person.id}"

    @property
    def reason(self) -> str:
        why = f" ({self.lost_reason})" if self.lost_reason else ""
        return (
            f"'{self.deal.name}' was lost{why}: keep {self.person.name} warm every "
            f"{self.cadence_days} days?"
        )


def keep_warm_proposals(
    db: sqlite3.Connection,
    now: datetime,
    cadence_days: int,
    dismissed: set[str],
    limit: int | None = None,
) -> list[KeepWarmProposal]:
    """People on deals lost in the last 180 days who have no cadence of their own and no
    open deal, and whose proposal the rep has not dismissed; the most recent loss first
    (the first ``limit``: the lost deals are read newest first and no further)."""
    since = to_millis(now) - KEEP_WARM_WINDOW_DAYS * DAY_MS
    cursor = db.execute(
        """SELECT p.id, p.display_name, c.id, c.name, d.id, d.title, d.closed_at,
                  d.lost_reason
           FROM deal d INDEXED BY ix_deal_lost
           JOIN deal_person dp ON dp.deal_id = d.id
           JOIN person p ON p.id = dp.person_id
           LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
           WHERE d.status = 'lost' AND d.deleted_at IS NULL AND d.closed_at >= ?
             AND p.deleted_at IS NULL AND p.cadence_days IS NULL
             AND NOT EXISTS (SELECT 1 FROM deal_person dp2 JOIN deal d2 ON d2.id = dp2.deal_id
                             WHERE dp2.person_id = p.id AND +d2.status = 'open'
                               AND d2.deleted_at IS NULL)
           ORDER BY d.closed_at DESC, p.display_name, p.id, d.id""",
        (since,),
    )
    proposals: list[KeepWarmProposal] = []
    seen: set[str] = set()
    try:
        for pid, name, company_id, company_name, deal_id, title, closed, reason in cursor:
            if limit is not None and len(proposals) >= limit:
                break
            if pid in seen or f"{deal_id}:{pid}" in dismissed:
                continue
            seen.add(pid)
            proposals.append(
                KeepWarmProposal(
                    person=Ref("person", pid, name),
                    company=Ref("company", company_id, company_name) if company_id else None,
                    deal=Ref("deal", deal_id, title),
                    lost_at=moment(closed),  # type: ignore[arg-type]
                    lost_reason=reason,
                    cadence_days=cadence_days,
                )
            )
    finally:
        cursor.close()
    return proposals
