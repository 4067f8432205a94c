"""Interactions logged by hand (the quick log) and the detail of any interaction.

Captured mail and meetings arrive through ``capture``; what no system saw — a call from
the car, an offer handed over at a fair — the rep logs here in two keystrokes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from relbook.domain.clock import ensure_utc, from_millis
from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.domain.kinds import Direction, InteractionKind, LinkOrigin
from relbook.services import validate
from relbook.services.base import Service
from relbook.storage.models import Interaction, InteractionLink, Participant, Person

LOGGABLE = (
    InteractionKind.CALL,
    InteractionKind.MEETING,
    InteractionKind.NOTE,
    InteractionKind.OFFER,
    InteractionKind.MESSAGE,
    InteractionKind.EMAIL,
    InteractionKind.OTHER,
)
LOGGED_BY_YOU = "logged by you"
_DEFAULT_DIRECTION = {
    InteractionKind.CALL: Direction.OUTBOUND,
    InteractionKind.OFFER: Direction.OUTBOUND,
    InteractionKind.EMAIL: Direction.OUTBOUND,
    InteractionKind.MESSAGE: Direction.OUTBOUND,
}


@dataclass
class LogDraft:
    kind: str = "call"
    occurred_at: datetime | None = None  # None: now
    duration_minutes: int | None = None
    subject: str = ""
    body: str = ""
    direction: str = ""  # empty: by kind (calls and offers outbound, meetings none)
    person_ids: list[str] = field(default_factory=list)
    company_id: str | None = None
    deal_id: str | None = None


@dataclass(frozen=True)
class LinkInfo:
    entity_type: str
    entity_id: str
    name: str
    reason: str
    origin: str
    excluded: bool


@dataclass(frozen=True)
class InteractionDetail:
    id: str
    kind: str
    direction: str
    status: str
    occurred_at: datetime
    ends_at: datetime | None
    all_day: bool
    duration_minutes: int | None
    subject: str
    body: str
    privacy: str
    location: str
    source: str
    thread_key: str | None
    participants: tuple[tuple[str, str, str, str | None], ...]  # role, address, name, person
    links: tuple[LinkInfo, ...]
    attachments: tuple[dict[str, Any], ...]


class InteractionService(Service):
    def detail(self, interaction_id: str) -> InteractionDetail:
        import json

        row = self.db.execute(
            """SELECT id, kind, direction, status, occurred_at, ends_at, all_day,
                      duration_minutes, subject, body, privacy, location, source, thread_key,
                      attachments
               FROM interaction WHERE id = ? AND deleted_at IS NULL""",
            (interaction_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("interaction", interaction_id)
        participants = tuple(
            (r[0], r[1], r[2], r[3])
            for r in self.db.execute(
                """SELECT ip.role, ip.address, ip.name, p.id FROM interaction_participant ip
                   LEFT JOIN person p ON p.id = ip.person_id AND p.deleted_at IS NULL
                   WHERE ip.interaction_id = ? ORDER BY ip.id""",
                (interaction_id,),
            )
        )
        # Links to deleted people, companies and deals are not shown (they are kept, and
        # show again when those are restored).
        links = tuple(
            LinkInfo(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
            for r in self.db.execute(
                """SELECT l.entity_type, l.entity_id,
                          coalesce(p.display_name, c.name, d.title), l.reason, l.origin,
                          l.excluded
                   FROM interaction_link l
                   LEFT JOIN person p ON l.entity_type = 'person' AND p.id = l.entity_id
                        AND p.deleted_at IS NULL
                   LEFT JOIN company c ON l.entity_type = 'company' AND c.id = l.entity_id
                        AND c.deleted_at IS NULL
                   LEFT JOIN deal d ON l.entity_type = 'deal' AND d.id = l.entity_id
                        AND d.deleted_at IS NULL
                   WHERE l.interaction_id = ? AND coalesce(p.id, c.id, d.id) IS NOT NULL
                   ORDER BY l.excluded, l.entity_type DESC""",
                (interaction_id,),
            )
        )
        return InteractionDetail(
            id=row[0],
            kind=row[1],
            direction=row[2],
            status=row[3],
            occurred_at=from_millis(row[4]),
            ends_at=None if row[5] is None else from_millis(row[5]),
            all_day=bool(row[6]),
            duration_minutes=row[7],
            subject=row[8],
            body=row[9],
            privacy=row[10],
            location=row[11],
            source=row[12],
            thread_key=row[13],
            participants=participants,
            links=links,
            attachments=tuple(json.loads(row[14] or "[]")),
        )

    def _check(self, draft: LogDraft, kept: frozenset[str] = frozenset()) -> tuple[str, str]:
        """Validate a hand-logged interaction; returns its direction and subject. ``kept``:
        what it is linked to now (still valid links, even to a record deleted since)."""
        problems = validate.Problems()
        if draft.kind not in {k.value for k in LOGGABLE}:
            problems.add("kind", f"'{draft.kind}' cannot be logged by hand")
        if not (draft.person_ids or draft.company_id or draft.deal_id):
            problems.add("person_ids", "say who it was with (a person, company or deal)")
        if draft.duration_minutes is not None and not 0 <= draft.duration_minutes <= 24 * 60:
            problems.add("duration_minutes", "must be between 0 and 1440 minutes")
        direction = draft.direction or (
            _DEFAULT_DIRECTION.get(InteractionKind(draft.kind), Direction.NONE)
            if draft.kind in {k.value for k in LOGGABLE}
            else Direction.NONE
        )
        if direction not in {d.value for d in Direction}:
            problems.add("direction", "must be inbound, outbound or none")
        subject = validate.optional_text(draft.subject, "subject", problems, 500)
        for index, person_id in enumerate(draft.person_ids):
            if person_id not in kept:
                validate.reference(self.db, "person", person_id, f"person_ids.{index}", problems)
        if draft.company_id not in kept:
            validate.reference(self.db, "company", draft.company_id, "company_id", problems)
        if draft.deal_id not in kept:
            validate.reference(self.db, "deal", draft.deal_id, "deal_id", problems)
        problems.raise_if_any()
        return str(direction), subject or _default_subject(draft.kind)

    def log(self, draft: LogDraft) -> str:
        """Log a call, meeting, note or offer; links it to its people, their companies and
        the deal, each with the reason "logged by you"."""
        direction, subject = self._check(draft)
        when = ensure_utc(draft.occurred_at) if draft.occurred_at else self.clock.now()
        with self.write(("interaction", "person", "company", "deal")) as session:
            interaction = Interaction(
                kind=draft.kind,
                direction=direction,
                status="done",
                occurred_at=when,
                duration_minutes=draft.duration_minutes,
                subject=subject,
                body=draft.body.strip(),
                privacy="full",
                source="manual",
            )
            session.add(interaction)
            session.flush()
            _link_logged(session, interaction, draft)
            session.flush()
            return interaction.id

    def draft(self, interaction_id: str) -> LogDraft:
        """A hand-logged interaction as its editor edits it."""
        detail = self.detail(interaction_id)
        # Every manual link, also to someone deleted since (the detail hides those): saving
        # keeps them, so restoring the person, company or deal finds the entry theirs.
        manual = [
            LinkInfo(r[0], r[1], "", r[2], r[3], bool(r[4]))
            for r in self.db.execute(
                """SELECT entity_type, entity_id, reason, origin, excluded FROM interaction_link
                   WHERE interaction_id = ? AND origin = ?
                   ORDER BY excluded, entity_type DESC""",
                (interaction_id, LinkOrigin.MANUAL.value),
            )
        ]
        return LogDraft(
            kind=detail.kind,
            occurred_at=detail.occurred_at,
            duration_minutes=detail.duration_minutes,
            subject=detail.subject,
            body=detail.body,
            direction=detail.direction,
            person_ids=[
                link.entity_id
                for link in manual
                if link.entity_type == "person" and not link.excluded
            ],
            company_id=next(
                (
                    link.entity_id
                    for link in manual
                    if link.entity_type == "company" and link.reason == LOGGED_BY_YOU
                ),
                None,
            ),
            deal_id=next(
                (link.entity_id for link in manual if link.entity_type == "deal"),
                None,
            ),
        )

    def update(self, interaction_id: str, draft: LogDraft) -> None:
        """Correct something logged by hand: what, when, with whom. Captured mail and
        meetings are the source's; they are re-linked (services.relink), not edited."""
        kept = frozenset(
            row[0]
            for row in self.db.execute(
                "SELECT entity_id FROM interaction_link WHERE interaction_id = ?",
                (interaction_id,),
            )
        )
        direction, subject = self._check(draft, kept)
        with self.write(("interaction", "person", "company", "deal")) as session:
            interaction = session.get(Interaction, interaction_id)
            if interaction is None or interaction.deleted_at is not None:
                raise NotFoundError("interaction", interaction_id)
            if interaction.source != "manual":
                raise ValidationError(
                    FieldError(
                        "source",
                        "this came from a mailbox or calendar; it can be re-linked, not edited",
                    )
                )
            when = ensure_utc(draft.occurred_at) if draft.occurred_at else interaction.occurred_at
            interaction.kind = draft.kind
            interaction.direction = direction
            interaction.occurred_at = when
            interaction.duration_minutes = draft.duration_minutes
            interaction.subject = subject
            interaction.body = draft.body.strip()
            # People and companies it no longer belongs to get their statistics refreshed.
            session.info.setdefault("touched_entities", set()).update(
                link.entity_id for link in interaction.links
            )
            interaction.participants.clear()
            interaction.links.clear()
            session.flush()
            _link_logged(session, interaction, draft)
            session.flush()

    def delete(self, interaction_ids: list[str]) -> list[str]:
        """Soft-delete (manual entries mostly; a captured message comes back only if the
        source sends it again as new)."""
        now = self.clock.now()
        deleted = []
        with self.write(("interaction",), reason="delete") as session:
            for row in session.scalars(
                select(Interaction).where(Interaction.id.in_(interaction_ids))
            ):
                if row.deleted_at is None:
                    row.deleted_at = now
                    deleted.append(row.id)
                    for link in row.links:
                        link.is_touch = False
        return deleted

    def restore(self, interaction_ids: list[str]) -> None:
        with self.write(("interaction",), reason="restore") as session:
            for row in session.scalars(
                select(Interaction).where(Interaction.id.in_(interaction_ids))
            ):
                row.deleted_at = None
                for link in row.links:
                    link.is_touch = row.kind != InteractionKind.NOTE and row.status != "cancelled"


def _link_logged(session: Any, interaction: Interaction, draft: LogDraft) -> None:
    """Link a hand-logged interaction to its people, their companies and the deal."""
    linked: set[str] = set()
    is_touch = draft.kind != InteractionKind.NOTE

    def link(entity_type: str, entity_id: str, reason: str) -> None:
        if entity_id in linked:
            return
        linked.add(entity_id)
        interaction.links.append(
            InteractionLink(
                entity_id=entity_id,
                entity_type=entity_type,
                occurred_at=interaction.occurred_at,
                kind=interaction.kind,
                direction=interaction.direction,
                origin=LinkOrigin.MANUAL,
                reason=reason,
                is_touch=is_touch,
            )
        )

    wanted = list(dict.fromkeys(draft.person_ids))
    people = {
        person.id: person for person in session.scalars(select(Person).where(Person.id.in_(wanted)))
    }
    for person_id in wanted:
        person = people[person_id]
        link("person", person.id, LOGGED_BY_YOU)
        interaction.participants.append(
            Participant(
                role="attendee",
                address=person.emails[0].address if person.emails else "",
                name=person.display_name,
                person_id=person.id,
            )
        )
    # The company and deal named explicitly come first: their reason is "logged by you".
    if draft.company_id:
        link("company", draft.company_id, LOGGED_BY_YOU)
    if draft.deal_id:
        link("deal", draft.deal_id, LOGGED_BY_YOU)
    for person_id in wanted:
        person = people[person_id]
        if person.company_id:
            link("company", person.company_id, f"{person.display_name} works there")


def _default_subject(kind: str) -> str:
    return {"call": "Call", "meeting": "Meeting", "note": "Note", "offer": "Offer"}.get(
        kind, kind.title()
    )
