"""Relationship metrics, going cold, keep-in-touch due list, next contacts, keep-warm.

Reads only denormalised columns (``person``/``company`` touch statistics kept by
``storage.touch``) and indexed ranges; never scans interactions. The rules and formulas
live in ``domain.scoring`` and ``domain.insight``; this module fetches their inputs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from relbook.domain.clock import to_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.insight import (
    DORMANT_MIN_DAYS,
    MAX_LEARNED_CADENCE,
    MIN_LEARNED_CADENCE,
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
from relbook.domain.money import format_money, minor_digits
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
from relbook.services.insight.common import (
    TOUCH_COLUMNS,
    Ref,
    days_ms,
    ensure_log10,
    id_list,
    moment,
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


class ValueIndex:
    """Value at stake for the companies and people of one request.

    Open deals are few next to people and interactions: their sums per company load in one
    grouped query; a person's own deals elsewhere are an indexed lookup each. No id lists
    are sent to SQLite (``IN json_each(?)`` is re-read for every row it is tested on).
    ``+d.status`` keeps the planner off the status index (half the deals are open: at
    20,000 deals that plan took 80 ms per person instead of 0.02 ms by the person's index).
    """

    def __init__(self, db: sqlite3.Connection, currency: str) -> None:
        self.db = db
        self.currency = currency
        self._deals: dict[str, int] | None = None
        self._accounts: dict[str, int] = {}
        self._person_extra: dict[str, int] = {}

    def _company_deals(self) -> dict[str, int]:
        if self._deals is None:
            self._deals = {
                company_id: int(total)
                for company_id, total in self.db.execute(
                    """SELECT company_id, coalesce(sum(amount_minor), 0) FROM deal
                       WHERE status = 'open' AND deleted_at IS NULL AND company_id IS NOT NULL
                       GROUP BY company_id"""
                )
            }
        return self._deals

    def _account(self, company_id: str) -> int:
        found = self._accounts.get(company_id)
        if found is None:
            row = self.db.execute(
                "SELECT current_value_minor, potential_value_minor FROM company WHERE id = ?",
                (company_id,),
            ).fetchone()
            found = self._accounts[company_id] = account_value(*row) if row else 0
        return found

    def _extra(self, person_id: str) -> int:
        found = self._person_extra.get(person_id)
        if found is None:
            row = self.db.execute(
                """SELECT coalesce(sum(d.amount_minor), 0)
                   FROM deal_person dp JOIN deal d ON d.id = dp.deal_id
                   JOIN person p ON p.id = dp.person_id
                   LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                   WHERE dp.person_id = ? AND +d.status = 'open' AND d.deleted_at IS NULL
                     AND (d.company_id IS NULL OR c.id IS NULL OR d.company_id != c.id)""",
                (person_id,),
            ).fetchone()
            found = self._person_extra[person_id] = int(row[0])
        return found

    def prefetch(self, person_ids: list[str], company_ids: list[str]) -> None:
        """Load the values of many people and companies in two queries (instead of one
        lookup each: thousands of candidates come through stuck deals)."""
        companies = [c for c in set(company_ids) if c and c not in self._accounts]
        if companies:
            for company_id, current, potential in self.db.execute(
                """SELECT id, current_value_minor, potential_value_minor FROM company
                   WHERE id IN (SELECT value FROM json_each(?))""",
                (id_list(companies),),
            ):
                self._accounts[company_id] = account_value(current, potential)
            for company_id in companies:
                self._accounts.setdefault(company_id, 0)
        people = [p for p in set(person_ids) if p not in self._person_extra]
        if people:
            extra = dict.fromkeys(people, 0)
            for person_id, total in self.db.execute(
                """SELECT dp.person_id, coalesce(sum(d.amount_minor), 0)
                   FROM deal_person dp JOIN deal d ON d.id = dp.deal_id
                   JOIN person p ON p.id = dp.person_id
                   LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                   WHERE dp.person_id IN (SELECT value FROM json_each(?))
                     AND +d.status = 'open' AND d.deleted_at IS NULL
                     AND (d.company_id IS NULL OR c.id IS NULL OR d.company_id != c.id)
                   GROUP BY dp.person_id""",
                (id_list(people),),
            ):
                extra[person_id] = int(total)
            self._person_extra.update(extra)

    def company(self, company_id: str | None) -> ValueAtStake:
        if not company_id:
            return ValueAtStake(0, 0, self.currency)
        return ValueAtStake(
            self._company_deals().get(company_id, 0), self._account(company_id), self.currency
        )

    def person(self, person_id: str, company_id: str | None) -> ValueAtStake:
        base = self.company(company_id)
        return ValueAtStake(
            base.open_deals_minor + self._extra(person_id), base.account_minor, self.currency
        )


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
    values = ValueIndex(db, currency)
    if kind == "person":
        row = db.execute(
            f"""SELECT p.display_name, c.id, c.name, p.first_touch_at,
                       p.last_inbound_at, p.last_outbound_at, p.rhythm_days, p.cadence_days,
                       p.snoozed_until, p.created_at, {_prefixed("p")}
                FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                WHERE p.id = ?""",
            (entity_id,),
        ).fetchone()
        name, company_id, company_name = row[0], row[1], row[2]
        company = Ref("company", company_id, company_name) if company_id else None
        engaged: tuple[Ref, ...] = ()
        inputs = touch_inputs(row[10:])
        cadence = effective_cadence(row[7], row[6])
        due = (
            None
            if cadence is None
            else due_check(inputs.last_touch_at, cadence, now, created_at=moment(row[9]))
        )
        snoozed = moment(row[8])
        value = values.person(entity_id, company_id)
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
        value = values.company(entity_id)
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


# ----------------------------------------------------------- ranking people in SQL
#
# Going cold, the due list and next contacts rank people by urgency × value weight.
# With tens of thousands of people the ranking runs in SQLite over the denormalised
# touch columns and the (few) open deals, and Python builds entries for the rows shown
# only. The SQL mirrors domain.insight (cold_check, due_check, learned_cadence,
# value_weight); the entries are then computed by those functions, so what a list says
# is what the domain rules say.

# Planner notes (no ANALYZE statistics in a book): ``+p.deleted_at`` scans people in
# table order instead of through the (deleted_at, name) index; the person-only WHERE of
# ``flagged`` is then tested before any join, so only flagged people get their company
# and deals. ``pxc`` (a person's open deals per deal company) is materialised once
# without looking anyone up; the person's own company is compared per flagged row.
_RANKED = f"""
    WITH cd AS (
        SELECT company_id, sum(amount_minor) AS s FROM deal
        WHERE status = 'open' AND deleted_at IS NULL AND company_id IS NOT NULL
        GROUP BY company_id),
    pxc AS MATERIALIZED (
        SELECT dp.person_id, d.company_id, sum(d.amount_minor) AS s
        FROM deal d CROSS JOIN deal_person dp ON dp.deal_id = d.id
        WHERE +d.status = 'open' AND d.deleted_at IS NULL
        GROUP BY dp.person_id, d.company_id),
    base AS (
        SELECT p.id, p.display_name AS name, c.id AS company_id, c.name AS company_name,
               p.last_touch_at AS last, p.rhythm_days AS rhythm, p.cadence_days AS set_cadence,
               p.created_at AS created,
               coalesce(cd.s, 0) + coalesce((
                   SELECT sum(x.s) FROM pxc x WHERE x.person_id = p.id
                     AND (x.company_id IS NULL OR c.id IS NULL
                          OR x.company_id != c.id)), 0) AS deals_minor,
               max(coalesce(c.current_value_minor, 0),
                   coalesce(c.potential_value_minor, 0)) AS account_minor,
               CASE WHEN p.cadence_days > 0 THEN p.cadence_days
                    WHEN p.rhythm_days > 0
                    THEN max({MIN_LEARNED_CADENCE}, min({MAX_LEARNED_CADENCE},
                                                     round(p.rhythm_days)))
               END AS cadence,
               :now - p.last_touch_at AS silence,
               :factor * p.rhythm_days * {DAY_MS} AS threshold
        FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
        LEFT JOIN cd ON cd.company_id = c.id
        WHERE +p.deleted_at IS NULL {{snooze}}),
    flagged AS (
        SELECT *,
               CASE WHEN threshold > 0 AND last IS NOT NULL AND silence > threshold
                         AND silence <= max(:dormant, 2 * threshold)
                    THEN min(3.0, 1.0 * silence / threshold) END AS u_cold,
               CASE WHEN set_cadence > 0
                    THEN coalesce(last, created) + set_cadence * {DAY_MS}
                    WHEN cadence > 0 AND last IS NOT NULL
                         AND silence <= max(:dormant, 2 * :factor * cadence * {DAY_MS})
                    THEN last + cadence * {DAY_MS} END AS due_at,
               1 + log10(1 + max(0, deals_minor + account_minor) / :per_thousand) AS weight
        FROM base)
    SELECT id, name, company_id, company_name, last, rhythm, set_cadence, created,
           deals_minor, account_minor, u_cold, due_at, weight,
           CASE WHEN due_at <= :now
                THEN 1 + min(2.0, 1.0 * (:now - due_at) / {DAY_MS} / cadence) END AS u_due
    FROM flagged WHERE {{where}} ORDER BY {{order}} LIMIT :limit"""


@dataclass(frozen=True)
class _Ranked:
    id: str
    name: str
    company_id: str | None
    company_name: str | None
    last: int | None
    rhythm: float | None
    set_cadence: int | None
    created: int
    deals_minor: int
    account_minor: int
    u_cold: float | None
    due_at: int | None
    weight: float
    u_due: float | None

    @property
    def company(self) -> Ref | None:
        return Ref("company", self.company_id, self.company_name or "") if self.company_id else None


def _ranked(
    db: sqlite3.Connection,
    now: datetime,
    factor: float,
    currency: str,
    *,
    where: str,
    order: str,
    limit: int | None,
    include_snoozed: bool = False,
    until: datetime | None = None,
    ids: list[str] | None = None,
) -> list[_Ranked]:
    """``where`` may test ``id IN (SELECT value FROM json_each(:ids))`` with ``ids``."""
    ensure_log10(db)
    snooze = "" if include_snoozed else "AND (p.snoozed_until IS NULL OR p.snoozed_until <= :now)"
    sql = _RANKED.format(snooze=snooze, where=where, order=order)
    params = {
        "now": to_millis(now),
        "until": to_millis(until or now),
        "factor": factor,
        "dormant": days_ms(DORMANT_MIN_DAYS),
        "per_thousand": 1000 * 10 ** minor_digits(currency),
        "limit": -1 if limit is None else limit,
        "ids": id_list(ids or ()),
    }
    return [_Ranked(*row) for row in db.execute(sql, params)]


def _value_of(row: _Ranked, currency: str) -> ValueAtStake:
    return ValueAtStake(int(row.deals_minor), int(row.account_minor), currency)


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
    rows = _ranked(
        db,
        now,
        factor,
        currency,
        where="u_cold IS NOT NULL",
        order="u_cold * weight DESC, silence DESC, name",
        limit=limit,
        include_snoozed=include_snoozed,
    )
    entries = []
    for row in rows:
        check = cold_check(moment(row.last), row.rhythm, now, factor)
        if check is None or check.state is not ColdState.GOING_COLD:
            continue
        value = _value_of(row, currency)
        entries.append(
            ColdEntry(
                entity_type="person",
                id=row.id,
                name=row.name,
                company=row.company,
                last_touch_at=moment(row.last),  # type: ignore[arg-type]
                check=check,
                value=value,
                score=round(cold_urgency(check) * value.weight, 3),
            )
        )
    entries.sort(key=lambda e: (-e.score, -e.check.silence_days, e.name))
    return entries


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
    values = ValueIndex(db, currency)
    entries = []
    for entity_id, name, last, rhythm in rows:
        check = cold_check(moment(last), rhythm, now, factor)
        if check is None or check.state is not ColdState.GOING_COLD:
            continue
        value = values.company(entity_id)
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
    entries.sort(key=lambda e: (-e.score, -e.check.silence_days, e.name))
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
    first). A learned cadence stops asking once the relationship has gone dormant."""
    until = now + timedelta(days=horizon_days)
    rows = _ranked(
        db,
        now,
        factor,
        currency,
        where="due_at <= :until",
        order="due_at, name",
        limit=limit,
        include_snoozed=include_snoozed,
        until=until,
    )
    entries = []
    for row in rows:
        entry = _due_entry(row, now, factor, currency)
        if entry is not None:
            entries.append(entry)
    entries.sort(key=lambda e: (-e.check.overdue_days, e.name))
    return entries


def _due_entry(row: _Ranked, now: datetime, factor: float, currency: str) -> DueEntry | None:
    cadence = effective_cadence(row.set_cadence, row.rhythm)
    if cadence is None:
        return None
    check = due_check(moment(row.last), cadence, now, created_at=moment(row.created))
    if is_dormant_for_learned(check, factor):
        return None
    value = _value_of(row, currency)
    return DueEntry(
        id=row.id,
        name=row.name,
        company=row.company,
        last_touch_at=moment(row.last),
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
    deal: Ref | None = None


@dataclass(frozen=True)
class StuckDealRow:
    deal: Ref
    company: Ref | None
    stage_name: str
    check: StuckDeal
    amount_minor: int | None
    currency: str

    @property
    def reason(self) -> str:
        return (
            f"deal '{self.deal.name}' in {self.stage_name} for "
            f"{self.check.days_in_stage:.0f} days (stuck after {self.check.stale_after_days})"
        )


def stuck_deals(db: sqlite3.Connection, now: datetime) -> list[StuckDealRow]:
    """Open deals sitting in their stage longer than the stage's ``stale_after_days``."""
    rows = db.execute(
        f"""SELECT d.id, d.title, c.id, c.name, s.name, d.stage_entered_at,
                   s.stale_after_days, d.amount_minor, d.currency
            FROM deal d JOIN stage s ON s.id = d.stage_id
            LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
            WHERE d.status = 'open' AND d.deleted_at IS NULL AND s.stale_after_days > 0
              AND d.stage_entered_at < :now - s.stale_after_days * {DAY_MS}""",
        {"now": to_millis(now)},
    ).fetchall()
    result = []
    for deal_id, title, company_id, company_name, stage, entered, stale, amount, cur in rows:
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
            )
        )
    result.sort(key=lambda r: -r.check.urgency)
    return result


def _deal_contacts(db: sqlite3.Connection, deal_ids: list[str]) -> dict[str, tuple[str, str]]:
    """For each deal, the live person on it we touched last (id, name)."""
    wanted = set(deal_ids)
    best: dict[str, tuple[str, str, int]] = {}
    if not wanted:
        return {}
    for deal_id, person_id, name, last in db.execute(
        """SELECT dp.deal_id, p.id, p.display_name, coalesce(p.last_touch_at, 0)
           FROM deal d JOIN deal_person dp ON dp.deal_id = d.id
           JOIN person p ON p.id = dp.person_id
           WHERE d.id IN (SELECT value FROM json_each(?))
             AND +d.status = 'open' AND d.deleted_at IS NULL AND +p.deleted_at IS NULL""",
        (id_list(wanted),),
    ):
        if deal_id in wanted and (deal_id not in best or last > best[deal_id][2]):
            best[deal_id] = (person_id, name, last)
    return {deal_id: (pid, name) for deal_id, (pid, name, _) in best.items()}


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

    SQLite ranks people by (due urgency + going-cold urgency) × value weight; people
    behind a stuck deal get their stuck urgency added in Python and compete with the
    ranked rows, so the top of the list is exact without scoring every person here."""
    stuck = stuck_deals(db, now)
    contacts = _deal_contacts(db, [s.deal.id for s in stuck])
    snoozed = _snoozed(db, now, [pid for pid, _ in contacts.values()])
    planned = planned_meetings(db, now)
    stuck_people = {pid for pid, _ in contacts.values() if pid not in snoozed}
    score_sql = "(coalesce(u_due, 0) + coalesce(u_cold, 0)) * weight"
    wanted = None if limit is None else limit + len(planned) + len(stuck_people)
    rows = _ranked(
        db,
        now,
        factor,
        currency,
        where="(u_cold IS NOT NULL OR due_at <= :now)",
        order=f"{score_sql} DESC, name",
        limit=wanted,
    )
    if stuck_people:
        # Their due/cold urgencies, wherever they rank.
        rows += [
            r
            for r in _ranked(
                db,
                now,
                factor,
                currency,
                where="(u_cold IS NOT NULL OR due_at <= :now) "
                "AND id IN (SELECT value FROM json_each(:ids))",
                order="name",
                limit=None,
                ids=sorted(stuck_people),
            )
            if r.id in stuck_people
        ]

    candidates: dict[str, _Candidate] = {}
    people_values: dict[str, ValueAtStake] = {}
    for row in rows:
        if row.id in candidates:
            continue
        found = candidates[row.id] = _Candidate(
            "person", row.id, row.name, row.company, moment(row.last), []
        )
        people_values[row.id] = _value_of(row, currency)
        entry = _due_entry(row, now, factor, currency) if row.u_due is not None else None
        if entry is not None and entry.check.is_due:
            found.reasons.append(
                Reason("due", entry.check.reason, entry.check.urgency, entry.check.explain())
            )
        check = cold_check(moment(row.last), row.rhythm, now, factor)
        if row.u_cold is not None and check and check.state is ColdState.GOING_COLD:
            found.reasons.append(
                Reason(
                    "going_cold",
                    "going cold: " + check.reason,
                    cold_urgency(check),
                    check.explain(),
                )
            )

    def candidate(kind: str, cid: str, name: str, company: Ref | None) -> _Candidate:
        found = candidates.get(cid)
        if found is None:
            found = candidates[cid] = _Candidate(kind, cid, name, company, None, [])
        return found

    for stuck_row in stuck:
        reason = Reason(
            "stuck_deal",
            stuck_row.reason,
            stuck_row.check.urgency,
            f"{stuck_row.reason}. {stuck_row.check.explain()}",
        )
        contact = contacts.get(stuck_row.deal.id)
        if contact and contact[0] not in snoozed:
            found = candidate("person", contact[0], contact[1], stuck_row.company)
        elif stuck_row.company:
            found = candidate("company", stuck_row.company.id, stuck_row.company.name, None)
        else:
            found = candidate("deal", stuck_row.deal.id, stuck_row.deal.name, None)
        found.reasons.append(reason)
        found.deal = found.deal or stuck_row.deal

    values = ValueIndex(db, currency)
    people = [c for c in candidates.values() if c.entity_type == "person"]
    _fill_people(db, [c for c in people if c.id not in people_values])
    values.prefetch(
        [c.id for c in people if c.id not in people_values],
        [c.company.id for c in people if c.company and c.id not in people_values]
        + [c.id for c in candidates.values() if c.entity_type == "company"],
    )
    result = []
    for c in candidates.values():
        if c.id in planned or not c.reasons:
            continue
        if c.entity_type == "person":
            value = people_values.get(c.id) or values.person(
                c.id, c.company.id if c.company else None
            )
        elif c.entity_type == "company":
            value = values.company(c.id)
        else:
            value = ValueAtStake(0, 0, currency)
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
                value=value,
                score=round(urgency * value.weight, 3),
            )
        )
    result.sort(key=lambda n: (-n.score, n.name))
    return result if limit is None else result[:limit]


def _snoozed(db: sqlite3.Connection, now: datetime, person_ids: list[str]) -> set[str]:
    if not person_ids:
        return set()
    wanted = set(person_ids)
    return {
        row[0]
        for row in db.execute("SELECT id FROM person WHERE snoozed_until > ?", (to_millis(now),))
        if row[0] in wanted
    }


def _fill_people(db: sqlite3.Connection, people: list[_Candidate]) -> None:
    """Company and last touch for people that entered through a stuck deal only."""
    if not people:
        return
    rows = {
        r[0]: r
        for r in db.execute(
            """SELECT p.id, c.id, c.name, p.last_touch_at
               FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
               WHERE p.id IN (SELECT value FROM json_each(?))""",
            (id_list(c.id for c in people),),
        )
    }
    for c in people:
        row = rows.get(c.id)
        if row is None:
            continue
        c.last_touch_at = moment(row[3])
        if row[1]:
            c.company = Ref("company", row[1], row[2])


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
    db: sqlite3.Connection, now: datetime, cadence_days: int, dismissed: set[str]
) -> list[KeepWarmProposal]:
    """People on deals lost in the last 180 days who have no cadence of their own and no
    open deal, and whose proposal the rep has not dismissed."""
    since = to_millis(now) - KEEP_WARM_WINDOW_DAYS * DAY_MS
    rows = db.execute(
        """SELECT p.id, p.display_name, c.id, c.name, d.id, d.title, d.closed_at,
                  d.lost_reason
           FROM deal d JOIN deal_person dp ON dp.deal_id = d.id
           JOIN person p ON p.id = dp.person_id
           LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
           WHERE d.status = 'lost' AND d.deleted_at IS NULL AND d.closed_at >= ?
             AND p.deleted_at IS NULL AND p.cadence_days IS NULL
             AND NOT EXISTS (SELECT 1 FROM deal_person dp2 JOIN deal d2 ON d2.id = dp2.deal_id
                             WHERE dp2.person_id = p.id AND +d2.status = 'open'
                               AND d2.deleted_at IS NULL)
           ORDER BY d.closed_at DESC, p.display_name""",
        (since,),
    ).fetchall()
    proposals = []
    seen: set[str] = set()
    for pid, name, company_id, company_name, deal_id, title, closed, reason in rows:
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
    return proposals
