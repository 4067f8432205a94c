"""Finding the top of the people lists (going cold, keep in touch, next contacts) in SQL.

A heavy rep's book holds 50,000 people, and 17,000 of them can be due or going cold at
once; My Day shows a dozen. Each list ranks by urgency × value weight, every urgency is
at most 3, and the weight grows with the value at stake, which the book stores per
person (``person.stake_minor``, kept by triggers; index ``ix_person_stake`` holds every
column a score needs). So the lists *walk people by value*: read the most valuable people
first, take the k-th best score found so far as a floor, and read only the people whose
weight could still reach it (weight ≥ floor / the largest possible urgency). The rest of
the index is never read; in the worst case (nobody has a value) the walk reads the whole
index, which is what scoring everyone costs anyway.

SQLite computes the urgencies with the rules of ``domain.insight`` (the expressions
below mirror ``cold_check``, ``due_check``, ``learned_cadence`` and ``value_weight``);
the entries shown are then computed by the domain functions themselves, from a few more
rows than shown (``SLACK``), so float rounding at the cut cannot change who is listed.

Stuck deals: open deals past their stage's limit, found per stage through
``ix_deal_open_stage``; each is listed under its stored contact (``deal.contact_person_id``:
the live person on it touched last), or its company / the deal itself when that person
is snoozed or there is nobody.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from relbook.domain.clock import to_millis
from relbook.domain.insight import DORMANT_MIN_DAYS, MAX_LEARNED_CADENCE, MIN_LEARNED_CADENCE
from relbook.domain.money import minor_digits
from relbook.domain.scoring import DAY_MS
from relbook.services.insight.common import days_ms, ensure_log10, id_list

# Rows beyond the k shown that the SQL hands over, for the domain functions to re-rank.
SLACK = 10
# How many of the most valuable people the walk reads before it sets its floor.
FIRST_READ = 2000

D = DAY_MS
_LIVE = "deleted_at IS NULL"
_AWAKE = "(snoozed_until IS NULL OR snoozed_until <= :now)"
_LEARNED = f"max({MIN_LEARNED_CADENCE}, min({MAX_LEARNED_CADENCE}, round(rhythm_days)))"
CADENCE = f"(CASE WHEN cadence_days > 0 THEN cadence_days WHEN rhythm_days > 0 THEN {_LEARNED} END)"
# Going cold (domain.insight.cold_check → GOING_COLD): its urgency, else NULL.
U_COLD = f"""(CASE WHEN rhythm_days > 0 AND last_touch_at IS NOT NULL
        AND :now - last_touch_at > :factor * rhythm_days * {D}
        AND :now - last_touch_at <= max(:dormant, 2 * :factor * rhythm_days * {D})
    THEN min(3.0, (:now - last_touch_at) / (:factor * rhythm_days * {D})) END)"""
# When keeping in touch is due (domain.insight.due_check); NULL: no cadence, or a learned
# one whose relationship went dormant (is_dormant_for_learned).
DUE_AT = f"""(CASE WHEN cadence_days > 0 THEN coalesce(last_touch_at, created_at) + cadence_days * {D}
    WHEN rhythm_days > 0 AND last_touch_at IS NOT NULL
        AND :now - last_touch_at <= max(:dormant, 2 * :factor * {_LEARNED} * {D})
    THEN last_touch_at + {_LEARNED} * {D} END)"""
U_DUE = f"""(CASE WHEN {DUE_AT} <= :now
    THEN 1 + min(2.0, 1.0 * (:now - {DUE_AT}) / {D} / {CADENCE}) END)"""
WEIGHT = "(1 + log10(1 + max(0, stake_minor) / :per_thousand))"
COLD_SCORE = f"({U_COLD} * {WEIGHT})"
# Next contacts without stuck deals: (due + going cold) × weight, NULL when neither.
CONTACT_SCORE = f"""(CASE WHEN {U_COLD} IS NOT NULL OR {U_DUE} IS NOT NULL
    THEN (coalesce({U_DUE}, 0) + coalesce({U_COLD}, 0)) * {WEIGHT} END)"""
MAX_COLD = 3.0
MAX_DUE_AND_COLD = 6.0

STUCK_URGENCY = f"""(1 + min(2.0, max(0.0, 1.0 * (:now - d.stage_entered_at) / {D}
    - s.stale_after_days) / max(1, s.stale_after_days)))"""
# Open deals past their stage's limit (domain.insight.stuck_check), through the index.
STUCK_FROM = f"""stage s CROSS JOIN deal d INDEXED BY ix_deal_open_stage
    ON d.stage_id = s.id AND d.stage_entered_at < :now - s.stale_after_days * {D}"""
STUCK_WHERE = "s.stale_after_days > 0 AND d.status = 'open' AND d.deleted_at IS NULL"


@dataclass(frozen=True)
class Params:
    """The values every ranking statement binds."""

    now: datetime
    factor: float
    currency: str

    def sql(self, **extra: object) -> dict[str, object]:
        return {
            "now": to_millis(self.now),
            "factor": float(self.factor),
            "dormant": days_ms(DORMANT_MIN_DAYS),
            "per_thousand": float(1000 * 10 ** minor_digits(self.currency)),
            **extra,
        }

    def stake_for_weight(self, weight: float) -> int | None:
        """The smallest stake whose value weight reaches ``weight`` (a little less, so a
        float's last digit never leaves someone out); None: every stake does."""
        if weight <= 1.0:
            return None
        per_thousand = 1000 * pow(10, minor_digits(self.currency))
        exponent = weight * (1 - 1e-9) - 1
        if exponent > 300:
            return 2**62  # no stake is that large
        stake = math.floor((math.pow(10, exponent) - 1) * per_thousand * (1 - 1e-9))
        return max(0, int(stake) - 1)


def walk(
    db: sqlite3.Connection,
    params: Params,
    *,
    score: str,
    ties: str,
    max_urgency: float,
    limit: int | None,
    include_snoozed: bool = False,
    exclude: Collection[int] = (),
    known: Mapping[object, float] | None = None,
) -> list[int]:
    """Rowids of the people with the best ``score`` (an SQL expression over person
    columns, NULL for people not on the list; ranked by it rounded as the entries are,
    then by ``ties``), best first: ``limit`` of them plus
    ``SLACK``, not counting the rowids in ``exclude``. ``known``: the scores of entries
    competing for the same places, at least what they will score (a person by rowid),
    which raise the floor sooner."""
    ensure_log10(db)
    awake = _LIVE if include_snoozed else f"{_LIVE} AND {_AWAKE}"
    lower: int | None = None
    if limit is not None:
        first = db.execute(
            f"""SELECT rowid, stake_minor, CASE WHEN {awake} THEN {score} END
                FROM person INDEXED BY ix_person_stake
                ORDER BY stake_minor DESC LIMIT :first""",
            params.sql(first=FIRST_READ),
        ).fetchall()
        best = dict(known or {})
        for rowid, _, value in first:
            if value is not None and rowid not in exclude:
                best[rowid] = max(value, best.get(rowid, value))
        found = sorted(best.values(), reverse=True)
        if len(first) == FIRST_READ and 0 < limit <= len(found):
            # Entries are ranked by their score rounded to 3 decimals: anyone within
            # half a thousandth below the k-th best can still tie with it.
            floor = round(found[limit - 1], 3) - 0.0006
            lower = params.stake_for_weight(floor / max_urgency)
    where = awake if lower is None else f"stake_minor >= :lower AND {awake}"
    wanted = -1 if limit is None else limit + SLACK + len(exclude)
    rows = db.execute(
        f"""SELECT rowid, {score} AS score FROM person INDEXED BY ix_person_stake
            WHERE {where} AND score IS NOT NULL
            ORDER BY round(score, 3) DESC, {ties}, rowid LIMIT :wanted""",
        params.sql(lower=lower, wanted=wanted),
    ).fetchall()
    return [rowid for rowid, _ in rows if rowid not in exclude]


# ------------------------------------------------------------------ stuck deals


@dataclass(frozen=True)
class StuckContact:
    """A person a stuck deal is listed under, scored with all their reasons."""

    rowid: int
    id: str
    score: float  # (Σ stuck + due + going cold urgencies) × value weight


@dataclass(frozen=True)
class OrphanStuck:
    """A stuck deal whose contact is snoozed or missing: listed under its live company,
    else as itself."""

    deal_id: str
    company_id: str | None  # live company
    urgency: float


def stuck_contacts(
    db: sqlite3.Connection, params: Params, limit: int | None
) -> tuple[list[StuckContact], list[OrphanStuck]]:
    """The best-scoring people stuck deals are listed under (``limit`` + ``SLACK``, or
    all), and the stuck deals that go to a company or stand alone (their contact is
    snoozed, or nobody is on them)."""
    ensure_log10(db)
    wanted = -1 if limit is None else limit + SLACK
    # Summed per contact straight from the index; then one lookup per contact.
    rows = db.execute(
        f"""WITH per AS MATERIALIZED (
                SELECT d.contact_person_id AS contact, sum({STUCK_URGENCY}) AS u
                FROM {STUCK_FROM} WHERE {STUCK_WHERE} AND d.contact_person_id IS NOT NULL
                GROUP BY d.contact_person_id),
            scored AS MATERIALIZED (
                SELECT p.rowid AS rowid, p.id AS id, p.display_name AS name,
                       p.{_LIVE} AND {_AWAKE} AS awake,
                       (per.u + coalesce({U_DUE}, 0) + coalesce({U_COLD}, 0)) * {WEIGHT} AS score
                FROM per JOIN person p ON p.id = per.contact)
            SELECT * FROM (SELECT rowid, id, score FROM scored WHERE awake
                           ORDER BY round(score, 3) DESC, name, id LIMIT :wanted)
            UNION ALL
            SELECT NULL, id, NULL FROM scored WHERE NOT awake""",
        params.sql(wanted=wanted),
    ).fetchall()
    people = [StuckContact(r[0], r[1], float(r[2])) for r in rows if r[0] is not None]
    away = [r[1] for r in rows if r[0] is None]
    orphans = [
        OrphanStuck(deal_id, company_id, float(urgency))
        for deal_id, company_id, urgency in db.execute(
            f"""SELECT d.id, c.id, {STUCK_URGENCY} FROM {STUCK_FROM}
                LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
                WHERE {STUCK_WHERE} AND (d.contact_person_id IS NULL
                      OR d.contact_person_id IN (SELECT value FROM json_each(:away)))""",
            params.sql(away=id_list(away)),
        )
    ]
    return people, orphans


STUCK_DETAILS = f"""
    SELECT d.id, d.title, c.id, c.name, s.name, d.stage_entered_at, s.stale_after_days,
           d.amount_minor, d.currency, d.contact_person_id
    FROM {STUCK_FROM}
    LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
    WHERE {STUCK_WHERE} {{where}}
    ORDER BY s.id, d.rowid"""


def stuck_rows(
    db: sqlite3.Connection,
    now: datetime,
    *,
    contacts: Collection[str] | None = None,
    deals: Collection[str] = (),
) -> list[tuple[object, ...]]:
    """Stuck deals with what a list says about them (all, or those listed under these
    contacts and these deals)."""
    where = ""
    params: dict[str, object] = {"now": to_millis(now)}
    if contacts is not None:
        where = "AND (d.contact_person_id IN (SELECT value FROM json_each(:contacts))"
        if deals:  # d.id is not in the index: test it only when there are such deals
            where += " OR d.id IN (SELECT value FROM json_each(:deals))"
        where += ")"
        params.update(contacts=id_list(contacts), deals=id_list(deals))
    return db.execute(STUCK_DETAILS.format(where=where), params).fetchall()
