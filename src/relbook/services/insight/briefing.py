"""Meeting briefings: what to know before walking into a meeting.

For one meeting: its attendees (known people, unknown addresses, colleagues), their
companies (an unknown address belongs to the company owning its domain), the last interactions with them, open deals and how long they have sat in
their stage, open tasks, recent notes and feedback, and open points — promised
follow-ups and open questions found in recent notes and in the rep's recent e-mails to
them (``domain.insight_text``).

Every query is an indexed lookup around the meeting's people, companies and deals.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from relbook.domain.addresses import domain_of, is_free_mail
from relbook.domain.clock import to_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.insight_text import OpenPoint, open_points
from relbook.domain.scoring import DAY_MS, Trend, strength, trend
from relbook.services.insight.common import TOUCH_COLUMNS, Ref, id_list, moment, touch_inputs

LAST_INTERACTIONS = 3
NOTES_LIMIT = 5
NOTES_WINDOW_DAYS = 365
POINTS_WINDOW_DAYS = 90
EMAIL_POINTS_WINDOW_DAYS = 30
FEEDBACK_LIMIT = 5
FEEDBACK_WINDOW_DAYS = 365
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class InteractionRef:
    id: str
    kind: str
    direction: str
    occurred_at: datetime
    subject: str


@dataclass(frozen=True)
class Attendee:
    address: str
    name: str
    role: str  # organizer / attendee / from / to …
    status: str  # contact (in the book) / unknown / colleague
    person_id: str | None
    company: Ref | None
    title: str
    review_pending: bool  # an unknown address waiting in the review queue
    strength: float | None
    trend: Trend | None
    rhythm_days: float | None
    last_touch_at: datetime | None
    last_interactions: tuple[InteractionRef, ...]

    @property
    def known(self) -> bool:
        return self.person_id is not None


@dataclass(frozen=True)
class CompanyBrief:
    id: str
    name: str
    strength: float | None
    last_touch_at: datetime | None
    current_value_minor: int | None
    potential_value_minor: int | None
    currency: str


@dataclass(frozen=True)
class DealBrief:
    id: str
    title: str
    company: Ref | None
    stage_name: str
    days_in_stage: int | None
    stale_after_days: int | None
    amount_minor: int | None
    currency: str
    probability: int
    expected_close: str | None

    @property
    def is_stuck(self) -> bool:
        return bool(
            self.stale_after_days
            and self.days_in_stage is not None
            and self.days_in_stage > self.stale_after_days
        )


@dataclass(frozen=True)
class TaskBrief:
    id: str
    title: str
    due_at: datetime | None
    overdue: bool
    about: str  # the person / company / deal it is for


@dataclass(frozen=True)
class NoteBrief:
    id: str
    occurred_at: datetime
    snippet: str
    pinned: bool
    about: str


@dataclass(frozen=True)
class FeedbackBrief:
    id: str
    topic: str
    subject: str
    sentiment: str
    quote: str
    occurred_at: datetime
    who: str


@dataclass(frozen=True)
class OpenPointBrief:
    kind: str  # todo / promise / question
    text: str
    source_type: str  # note / interaction
    source_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class MeetingBriefing:
    interaction_id: str
    subject: str
    starts_at: datetime
    ends_at: datetime | None
    all_day: bool
    location: str
    status: str  # planned / done / cancelled
    attendees: tuple[Attendee, ...]  # contacts first, then unknown, then colleagues
    companies: tuple[CompanyBrief, ...]
    deals: tuple[DealBrief, ...]  # open deals of the attendees and their companies
    tasks: tuple[TaskBrief, ...]  # open tasks for them
    notes: tuple[NoteBrief, ...]  # recent notes (pinned first)
    feedback: tuple[FeedbackBrief, ...]
    open_points: tuple[OpenPointBrief, ...]
    last_interactions: tuple[InteractionRef, ...]  # with any of them, newest first

    @property
    def known_attendees(self) -> tuple[Attendee, ...]:
        return tuple(a for a in self.attendees if a.status == "contact")

    @property
    def unknown_attendees(self) -> tuple[Attendee, ...]:
        return tuple(a for a in self.attendees if a.status == "unknown")


@dataclass(frozen=True)
class Me:
    """Who the rep is: own addresses and the company's domains (settings)."""

    addresses: frozenset[str]
    domains: tuple[str, ...]

    def classify(self, address: str) -> str | None:
        """'me', 'colleague' or None for an outside address."""
        address = address.lower()
        if address in self.addresses:
            return "me"
        domain = domain_of(address) if "@" in address else ""
        if domain and any(domain == d or domain.endswith("." + d) for d in self.domains):
            return "colleague"
        return None


def load_me(db: sqlite3.Connection) -> Me:
    stored = {
        k: json.loads(v)
        for k, v in db.execute(
            "SELECT key, value FROM setting WHERE key IN ('my_addresses', 'internal_domains')"
        )
    }
    return Me(
        frozenset(a.lower() for a in stored.get("my_addresses", [])),
        tuple(d.lower() for d in stored.get("internal_domains", [])),
    )


def meetings_between(db: sqlite3.Connection, start: datetime, end: datetime) -> list[str]:
    """Ids of meetings starting in [start, end), not cancelled, in start order."""
    return [
        row[0]
        for row in db.execute(
            """SELECT id FROM interaction
               WHERE kind = 'meeting' AND occurred_at >= ? AND occurred_at < ?
                 AND deleted_at IS NULL AND status != 'cancelled'
               ORDER BY occurred_at, subject""",
            (to_millis(start), to_millis(end)),
        )
    ]


def _suffixes(host: str) -> list[str]:
    """``mail.acme.co.uk`` → ``mail.acme.co.uk``, ``acme.co.uk``, ``co.uk`` (never a bare
    top-level label)."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def companies_by_domain(db: sqlite3.Connection, addresses: list[str]) -> dict[str, Ref]:
    """The company owning each address's domain (the longest matching domain wins);
    free-mail addresses belong to no company."""
    hosts = {a: domain_of(a) for a in addresses if "@" in a}
    hosts = {a: h for a, h in hosts.items() if h and not is_free_mail(h)}
    candidates = {s for h in hosts.values() for s in _suffixes(h)}
    if not candidates:
        return {}
    owners: dict[str, Ref] = {}
    for domain, company_id, name in db.execute(
        """SELECT d.domain, c.id, c.name FROM company_domain d
           JOIN company c ON c.id = d.company_id
           WHERE d.domain IN (SELECT value FROM json_each(?)) AND c.deleted_at IS NULL
           ORDER BY d.position, c.name""",
        (id_list(candidates),),
    ):
        owners.setdefault(domain, Ref("company", company_id, name))
    result: dict[str, Ref] = {}
    for address, host in hosts.items():
        found = next((owners[s] for s in _suffixes(host) if s in owners), None)
        if found is not None:
            result[address] = found
    return result


def _last_interactions(
    db: sqlite3.Connection, entity_id: str, now_ms: int, exclude: str, limit: int
) -> tuple[InteractionRef, ...]:
    return tuple(
        InteractionRef(r[0], r[1], r[2], moment(r[3]), r[4])  # type: ignore[arg-type]
        for r in db.execute(
            """SELECT i.id, i.kind, i.direction, i.occurred_at, i.subject
               FROM interaction_link l JOIN interaction i ON i.id = l.interaction_id
               WHERE l.entity_id = ? AND l.excluded = 0 AND l.occurred_at <= ?
                 AND l.interaction_id != ? AND i.deleted_at IS NULL
                 AND i.status != 'cancelled'
               ORDER BY l.occurred_at DESC LIMIT ?""",
            (entity_id, now_ms, exclude, limit),
        )
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def briefing(
    db: sqlite3.Connection, interaction_id: str, now: datetime, *, me: Me | None = None
) -> MeetingBriefing:
    """``me``: the rep's addresses and domains, when the caller briefs several meetings."""
    head = db.execute(
        """SELECT id, subject, occurred_at, ends_at, all_day, location, status, kind
           FROM interaction WHERE id = ? AND deleted_at IS NULL""",
        (interaction_id,),
    ).fetchone()
    if head is None:
        raise NotFoundError("meeting", interaction_id)
    now_ms = to_millis(now)
    me = me or load_me(db)

    # Who: participants, plus people/companies/deals the meeting is linked to.
    participants = db.execute(
        """SELECT role, address, name, person_id FROM interaction_participant
           WHERE interaction_id = ? ORDER BY id""",
        (interaction_id,),
    ).fetchall()
    links = db.execute(
        """SELECT entity_type, entity_id FROM interaction_link
           WHERE interaction_id = ? AND excluded = 0""",
        (interaction_id,),
    ).fetchall()
    person_ids = [p[3] for p in participants if p[3]]
    person_ids += [eid for kind, eid in links if kind == "person" and eid not in person_ids]
    company_ids = [eid for kind, eid in links if kind == "company"]
    deal_ids = [eid for kind, eid in links if kind == "deal"]

    people = {
        r[0]: r
        for r in db.execute(
            f"""SELECT p.id, p.display_name, p.title, c.id, c.name, p.rhythm_days,
                       {", ".join("p." + c.strip() for c in TOUCH_COLUMNS.split(","))}
                FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                WHERE p.id IN (SELECT value FROM json_each(?)) AND +p.deleted_at IS NULL""",
            (id_list(person_ids),),
        )
    }
    addresses_of: dict[str, set[str]] = {}
    for pid, address in db.execute(
        """SELECT person_id, address FROM person_email
           WHERE person_id IN (SELECT value FROM json_each(?))""",
        (id_list(people),),
    ):
        addresses_of.setdefault(pid, set()).add(address)
    for pid in people:
        if people[pid][3] and people[pid][3] not in company_ids:
            company_ids.append(people[pid][3])

    pending = {
        r[0]
        for r in db.execute(
            """SELECT address FROM review_item WHERE +status = 'pending'
               AND address IN (SELECT value FROM json_each(?))""",
            (id_list(p[1].lower() for p in participants if p[1]),),
        )
    }

    # Unknown addresses: their company, when its domain is in the book.
    outside = [
        (p[1] or "").lower()
        for p in participants
        if p[1] and not (p[3] and p[3] in people) and me.classify(p[1]) is None
    ]
    domain_companies = companies_by_domain(db, outside)
    for company in domain_companies.values():
        if company.id not in company_ids:
            company_ids.append(company.id)

    attendees: list[Attendee] = []
    seen_people: set[str] = set()
    seen_addresses: set[str] = set()

    def person_attendee(pid: str, role: str, address: str, name: str) -> Attendee:
        row = people[pid]
        inputs = touch_inputs(row[6:])
        return Attendee(
            address=address or min(addresses_of.get(pid, {""})),
            name=row[1] or name,
            role=role,
            status="contact",
            person_id=pid,
            company=Ref("company", row[3], row[4]) if row[3] else None,
            title=row[2],
            review_pending=False,
            strength=strength(inputs, now).score,
            trend=trend(inputs, now),
            rhythm_days=row[5],
            last_touch_at=inputs.last_touch_at,
            last_interactions=_last_interactions(
                db, pid, now_ms, interaction_id, LAST_INTERACTIONS
            ),
        )

    for role, raw_address, name, pid in participants:
        address = (raw_address or "").lower()
        if address and address in seen_addresses:
            continue
        seen_addresses.add(address)
        if pid and pid in people:
            if pid in seen_people:
                continue
            seen_people.add(pid)
            attendees.append(person_attendee(pid, role, address, name))
            continue
        who = me.classify(address) if address else None
        if who == "me":
            continue
        attendees.append(
            Attendee(
                address=address,
                name=name or address,
                role=role,
                status="colleague" if who == "colleague" else "unknown",
                person_id=None,
                company=None if who == "colleague" else domain_companies.get(address),
                title="",
                review_pending=address in pending,
                strength=None,
                trend=None,
                rhythm_days=None,
                last_touch_at=None,
                last_interactions=(),
            )
        )
    for pid in people:
        if pid not in seen_people:
            seen_people.add(pid)
            attendees.append(person_attendee(pid, "linked", "", ""))
    order = {"contact": 0, "unknown": 1, "colleague": 2}
    attendees.sort(key=lambda a: (order[a.status], a.name.lower()))

    known = [a.person_id for a in attendees if a.person_id]
    companies = tuple(
        CompanyBrief(r[0], r[1], r[2], moment(r[3]), r[4], r[5], r[6])
        for r in db.execute(
            """SELECT id, name, strength, last_touch_at, current_value_minor,
                      potential_value_minor, currency
               FROM company WHERE id IN (SELECT value FROM json_each(?))
                 AND +deleted_at IS NULL ORDER BY name""",
            (id_list(company_ids),),
        )
    )

    # Deleted companies and deals linked to the meeting bring nothing in.
    company_ids = [c.id for c in companies]
    deals = _open_deals(db, now, known, company_ids, deal_ids)
    deal_ids = _live_deals(db, deal_ids)
    scope = id_list([*known, *company_ids, *[d.id for d in deals], *deal_ids])
    tasks = _open_tasks(db, now, scope)
    notes, points = _notes_and_points(db, now, scope)
    points += _email_promises(db, now, known, interaction_id)
    feedback = _feedback(db, now, scope)

    combined: dict[str, InteractionRef] = {}
    for attendee in attendees:
        for ref in attendee.last_interactions:
            combined[ref.id] = ref
    for company_id in company_ids:
        for ref in _last_interactions(db, company_id, now_ms, interaction_id, LAST_INTERACTIONS):
            combined[ref.id] = ref
    last = sorted(combined.values(), key=lambda r: r.occurred_at, reverse=True)[:5]

    return MeetingBriefing(
        interaction_id=head[0],
        subject=head[1],
        starts_at=moment(head[2]),  # type: ignore[arg-type]
        ends_at=moment(head[3]),
        all_day=bool(head[4]),
        location=head[5],
        status="planned" if head[2] > now_ms and head[6] == "done" else head[6],
        attendees=tuple(attendees),
        companies=companies,
        deals=deals,
        tasks=tasks,
        notes=notes,
        feedback=feedback,
        open_points=tuple(points),
        last_interactions=tuple(last),
    )


def _live_deals(db: sqlite3.Connection, deal_ids: list[str]) -> list[str]:
    if not deal_ids:
        return []
    return [
        r[0]
        for r in db.execute(
            """SELECT id FROM deal WHERE id IN (SELECT value FROM json_each(?))
               AND deleted_at IS NULL""",
            (id_list(deal_ids),),
        )
    ]


def _open_deals(
    db: sqlite3.Connection,
    now: datetime,
    person_ids: list[str],
    company_ids: list[str],
    deal_ids: list[str],
) -> tuple[DealBrief, ...]:
    rows = db.execute(
        """SELECT d.id, d.title, c.id, c.name, s.name, d.stage_entered_at,
                  s.stale_after_days, d.amount_minor, d.currency,
                  coalesce(d.probability, s.probability), d.expected_close
           FROM deal d JOIN stage s ON s.id = d.stage_id
           LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
           WHERE +d.status = 'open' AND +d.deleted_at IS NULL AND (
                 d.id IN (SELECT value FROM json_each(:deals))
              OR d.company_id IN (SELECT value FROM json_each(:companies))
              OR d.id IN (SELECT deal_id FROM deal_person
                          WHERE person_id IN (SELECT value FROM json_each(:people))))
           ORDER BY d.amount_minor IS NULL, d.amount_minor DESC, d.title""",
        {
            "deals": id_list(deal_ids),
            "companies": id_list(company_ids),
            "people": id_list(person_ids),
        },
    ).fetchall()
    now_ms = to_millis(now)
    return tuple(
        DealBrief(
            id=r[0],
            title=r[1],
            company=Ref("company", r[2], r[3]) if r[2] else None,
            stage_name=r[4],
            days_in_stage=None if r[5] is None else int((now_ms - r[5]) // DAY_MS),
            stale_after_days=r[6],
            amount_minor=r[7],
            currency=r[8],
            probability=r[9],
            expected_close=r[10],
        )
        for r in rows
    )


def _open_tasks(db: sqlite3.Connection, now: datetime, scope: str) -> tuple[TaskBrief, ...]:
    rows = db.execute(
        """SELECT t.id, t.title, t.due_at, coalesce(p.display_name, c.name, d.title, '')
           FROM task t LEFT JOIN person p ON p.id = t.person_id AND p.deleted_at IS NULL
           LEFT JOIN company c ON c.id = t.company_id AND c.deleted_at IS NULL
           LEFT JOIN deal d ON d.id = t.deal_id AND d.deleted_at IS NULL
           WHERE +t.done_at IS NULL AND +t.deleted_at IS NULL AND (
                 t.person_id IN (SELECT value FROM json_each(:scope))
              OR t.company_id IN (SELECT value FROM json_each(:scope))
              OR t.deal_id IN (SELECT value FROM json_each(:scope)))
           ORDER BY t.due_at IS NULL, t.due_at, t.title""",
        {"scope": scope},
    ).fetchall()
    now_ms = to_millis(now)
    return tuple(
        TaskBrief(r[0], r[1], moment(r[2]), r[2] is not None and r[2] < now_ms, r[3]) for r in rows
    )


def _notes_and_points(
    db: sqlite3.Connection, now: datetime, scope: str
) -> tuple[tuple[NoteBrief, ...], list[OpenPointBrief]]:
    since = to_millis(now - timedelta(days=NOTES_WINDOW_DAYS))
    rows = db.execute(
        """SELECT n.id, n.occurred_at, n.body, n.pinned,
                  coalesce(p.display_name, c.name, d.title, '')
           FROM note n LEFT JOIN person p ON p.id = n.person_id AND p.deleted_at IS NULL
           LEFT JOIN company c ON c.id = n.company_id AND c.deleted_at IS NULL
           LEFT JOIN deal d ON d.id = n.deal_id AND d.deleted_at IS NULL
           WHERE n.deleted_at IS NULL AND n.occurred_at >= :since AND (
                 n.person_id IN (SELECT value FROM json_each(:scope))
              OR n.company_id IN (SELECT value FROM json_each(:scope))
              OR n.deal_id IN (SELECT value FROM json_each(:scope)))
           ORDER BY n.occurred_at DESC LIMIT 50""",
        {"scope": scope, "since": since},
    ).fetchall()
    ordered = sorted(rows, key=lambda r: (not r[3], -r[1]))
    notes = tuple(
        NoteBrief(r[0], moment(r[1]), _snippet(r[2]), bool(r[3]), r[4])  # type: ignore[arg-type]
        for r in ordered[:NOTES_LIMIT]
    )
    points_since = to_millis(now - timedelta(days=POINTS_WINDOW_DAYS))
    points: list[OpenPointBrief] = []
    for r in rows:
        if r[1] < points_since and not r[3]:
            continue
        points += [
            OpenPointBrief(p.kind, p.text, "note", r[0], moment(r[1]))  # type: ignore[arg-type]
            for p in open_points(r[2])
        ]
    return notes, points


def _email_promises(
    db: sqlite3.Connection, now: datetime, person_ids: list[str], exclude: str
) -> list[OpenPointBrief]:
    """Promises in the rep's e-mails to these people in the last 30 days."""
    since = to_millis(now - timedelta(days=EMAIL_POINTS_WINDOW_DAYS))
    seen: set[str] = set()
    points: list[OpenPointBrief] = []
    for person_id in person_ids:
        for iid, when, body in db.execute(
            """SELECT i.id, i.occurred_at, i.body FROM interaction_link l
               JOIN interaction i ON i.id = l.interaction_id
               WHERE l.entity_id = ? AND l.occurred_at >= ? AND l.occurred_at <= ?
                 AND l.kind = 'email' AND l.direction = 'outbound' AND l.excluded = 0
                 AND i.deleted_at IS NULL AND i.id != ?
               ORDER BY l.occurred_at DESC LIMIT 10""",
            (person_id, since, to_millis(now), exclude),
        ):
            if iid in seen:
                continue
            seen.add(iid)
            found: list[OpenPoint] = open_points(body or "", questions=False)
            points += [
                OpenPointBrief(p.kind, p.text, "interaction", iid, moment(when))  # type: ignore[arg-type]
                for p in found
            ]
    return points


def _feedback(db: sqlite3.Connection, now: datetime, scope: str) -> tuple[FeedbackBrief, ...]:
    since = to_millis(now - timedelta(days=FEEDBACK_WINDOW_DAYS))
    return tuple(
        FeedbackBrief(r[0], r[1], r[2], r[3], r[4], moment(r[5]), r[6])  # type: ignore[arg-type]
        for r in db.execute(
            """SELECT f.id, f.topic, f.subject, f.sentiment, f.quote, f.occurred_at,
                      coalesce(p.display_name, c.name, '')
               FROM feedback f LEFT JOIN person p ON p.id = f.person_id AND p.deleted_at IS NULL
               LEFT JOIN company c ON c.id = f.company_id AND c.deleted_at IS NULL
               WHERE f.deleted_at IS NULL AND f.occurred_at >= :since AND (
                     f.person_id IN (SELECT value FROM json_each(:scope))
                  OR f.company_id IN (SELECT value FROM json_each(:scope))
                  OR f.deal_id IN (SELECT value FROM json_each(:scope)))
               ORDER BY f.occurred_at DESC LIMIT :limit""",
            {"scope": scope, "since": since, "limit": FEEDBACK_LIMIT},
        )
    )
