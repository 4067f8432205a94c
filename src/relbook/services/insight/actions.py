"""The write side of insight: cadence, snooze, keep-warm, feedback from a selection,
segments saved as target lists, and the daily rescore.

Imported only when one of these is used (it pulls in SQLAlchemy; the read side does not).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from relbook.domain.clock import ensure_utc, from_millis, to_millis
from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.domain.kinds import FeedbackTopic, Sentiment
from relbook.storage import touch
from relbook.storage.models import Person

if TYPE_CHECKING:
    from relbook.services.context import Services

MAX_CADENCE_DAYS = 3650


def set_cadence(services: Services, person_ids: list[str], days: int | None) -> None:
    """The rep's keep-in-touch cadence for these people (None: learn it from the rhythm)."""
    if days is not None and not 1 <= days <= MAX_CADENCE_DAYS:
        raise ValidationError(FieldError("cadence_days", "must be between 1 and 3650 days"))
    with services.book.session() as session:
        found = session.scalars(select(Person).where(Person.id.in_(person_ids))).all()
        _require_all(person_ids, {p.id for p in found if p.deleted_at is None}, "person")
        for person in found:
            person.cadence_days = days
    services.changes.publish(("person",), person_ids, reason="cadence")


def snooze(services: Services, person_ids: list[str], until: datetime | None) -> None:
    """Hide these people from due, going-cold and next-contact lists until ``until``
    (None: wake them now)."""
    moment = ensure_utc(until) if until else None
    if moment is not None and moment <= services.clock.now():
        raise ValidationError(FieldError("snoozed_until", "must be in the future"))
    with services.book.session() as session:
        found = session.scalars(select(Person).where(Person.id.in_(person_ids))).all()
        _require_all(person_ids, {p.id for p in found if p.deleted_at is None}, "person")
        for person in found:
            person.snoozed_until = moment
    services.changes.publish(("person",), person_ids, reason="snooze")


def _require_all(wanted: list[str], found: set[str], kind: str) -> None:
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFoundError(kind, missing[0])


def dismiss_keep_warm(services: Services, keys: list[str]) -> None:
    """Forget keep-warm proposals ('deal_id:person_id' keys) so they are not offered again."""
    current = set(services.settings.get("keep_warm_dismissed"))
    services.settings.set("keep_warm_dismissed", sorted(current | set(keys)))


# ---------------------------------------------------------------------- feedback


@dataclass
class FeedbackSelection:
    """Text the rep selected in a note or an interaction, to keep as feedback."""

    source_type: str  # note / interaction
    source_id: str
    quote: str  # the selected text
    topic: str = "product"  # product / competitor / price / service / other
    subject: str = ""  # the product or competitor it is about
    sentiment: str = "neutral"  # positive / neutral / negative


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def mark_feedback(services: Services, selection: FeedbackSelection) -> str:
    """Keep a selection as feedback, linked to the source's person, company and deal."""
    from relbook.services.feedback import FeedbackDraft

    db = services.book.reader()
    problems: list[FieldError] = []
    if selection.source_type not in ("note", "interaction"):
        raise ValidationError(FieldError("source_type", "must be note or interaction"))
    if selection.topic not in {t.value for t in FeedbackTopic}:
        problems.append(FieldError("topic", "must be product, competitor, price, service or other"))
    if selection.sentiment not in {s.value for s in Sentiment}:
        problems.append(FieldError("sentiment", "must be positive, neutral or negative"))
    quote = " ".join(selection.quote.split())
    if not quote:
        problems.append(FieldError("quote", "select the words that are the feedback"))

    person_id = company_id = deal_id = None
    if selection.source_type == "note":
        row = db.execute(
            """SELECT body, occurred_at, person_id, company_id, deal_id FROM note
               WHERE id = ? AND deleted_at IS NULL""",
            (selection.source_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("note", selection.source_id)
        text, at, person_id, company_id, deal_id = row
        where = "the note"
    else:
        row = db.execute(
            """SELECT subject || char(10) || body, occurred_at, body_html FROM interaction
               WHERE id = ? AND deleted_at IS NULL""",
            (selection.source_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("interaction", selection.source_id)
        text, at, html = row
        if html and quote and _norm(quote) not in _norm(text):
            # The rep selected in the rendered HTML, whose text can differ from the
            # stored plain text (a text part of its own, or none kept).
            from relbook.capture.html import html_to_text

            text += "\n" + html_to_text(html)
        person_id, company_id, deal_id = _interaction_owner(db, selection.source_id)
        where = "the message"
    if quote and _norm(quote) not in _norm(text):
        problems.append(FieldError("quote", f"is not in {where}'s text; select it again"))
    if problems:
        raise ValidationError(problems)
    if person_id and not company_id:
        found = db.execute("SELECT company_id FROM person WHERE id = ?", (person_id,)).fetchone()
        company_id = found[0] if found else None
    return services.feedback.create(
        FeedbackDraft(
            topic=selection.topic,
            subject=selection.subject,
            sentiment=selection.sentiment,
            quote=quote,
            person_id=person_id,
            company_id=company_id,
            deal_id=deal_id,
            interaction_id=selection.source_id if selection.source_type == "interaction" else None,
            note_id=selection.source_id if selection.source_type == "note" else None,
            occurred_at=from_millis(at),
        )
    )


def _interaction_owner(
    db: sqlite3.Connection, interaction_id: str
) -> tuple[str | None, str | None, str | None]:
    """Who said it: the sender if we know them, else the only/first linked person; their
    company if linked, else the first linked company; the first linked deal."""
    links = db.execute(
        """SELECT l.entity_type, l.entity_id FROM interaction_link l
           LEFT JOIN person p ON l.entity_type = 'person' AND p.id = l.entity_id
                AND p.deleted_at IS NULL
           LEFT JOIN company c ON l.entity_type = 'company' AND c.id = l.entity_id
                AND c.deleted_at IS NULL
           LEFT JOIN deal d ON l.entity_type = 'deal' AND d.id = l.entity_id
                AND d.deleted_at IS NULL
           WHERE l.interaction_id = ? AND l.excluded = 0
             AND coalesce(p.id, c.id, d.id) IS NOT NULL
           ORDER BY coalesce(p.display_name, c.name, ''), l.entity_id""",
        (interaction_id,),
    ).fetchall()
    people = [e for t, e in links if t == "person"]
    companies = [e for t, e in links if t == "company"]
    deals = [e for t, e in links if t == "deal"]
    sender = db.execute(
        """SELECT person_id FROM interaction_participant
           WHERE interaction_id = ? AND role = 'from' AND person_id IS NOT NULL""",
        (interaction_id,),
    ).fetchone()
    person = sender[0] if sender and sender[0] in people else (people[0] if people else None)
    company = None
    if person:
        row = db.execute("SELECT company_id FROM person WHERE id = ?", (person,)).fetchone()
        company = row[0] if row and row[0] in companies else None
    company = company or (companies[0] if companies else None)
    return person, company, deals[0] if deals else None


# ---------------------------------------------------------------------- segments


@dataclass(frozen=True)
class SavedSegment:
    tag: str
    company_view_id: str
    person_view_id: str
    company_count: int
    person_count: int


def save_segment(services: Services, name: str, company_ids: list[str]) -> SavedSegment:
    """A target list: tag the companies and their current people with ``name`` and save
    a company view and a people view filtering on that tag (frozen membership: the list
    does not change when the segment's numbers move)."""
    from relbook.services.tags import clean_tag
    from relbook.services.views import ViewDraft

    tag = clean_tag(name)
    if not tag:
        raise ValidationError(FieldError("name", "name the target list"))
    if not company_ids:
        raise ValidationError(FieldError("company_ids", "the segment has no companies"))
    for kind in ("company", "person"):
        if any(v.name.casefold() == tag.casefold() for v in services.views.all(kind)):
            raise ValidationError(FieldError("name", f"a {kind} view '{tag}' exists"))
    db = services.book.reader()
    people = [
        row[0]
        for row in db.execute(
            """SELECT id FROM person WHERE deleted_at IS NULL
               AND company_id IN (SELECT value FROM json_each(?)) ORDER BY display_name""",
            (_json(company_ids),),
        )
    ]
    services.tags.tag("company", company_ids, [tag])
    if people:
        services.tags.tag("person", people, [tag])
    quoted = '"' + tag.replace('"', "") + '"'
    company_view = services.views.create(ViewDraft("company", tag, f"tag:{quoted}"))
    person_view = services.views.create(ViewDraft("person", tag, f"tag:{quoted}"))
    return SavedSegment(tag, company_view, person_view, len(company_ids), len(people))


def segment_people(services: Services, company_ids: list[str]) -> list[str]:
    db = services.book.reader()
    return [
        row[0]
        for row in db.execute(
            """SELECT id FROM person WHERE deleted_at IS NULL
               AND company_id IN (SELECT value FROM json_each(?)) ORDER BY display_name""",
            (_json(company_ids),),
        )
    ]


def _json(ids: list[str]) -> str:
    return json.dumps(list(dict.fromkeys(ids)))


# ------------------------------------------------------------------------ rescore


def rescore_if_due(services: Services) -> int:
    """Recompute strength and breadth of rows not scored today (UTC); returns how many.
    Strength decays with time, so the stored column is refreshed once a day; insight
    itself always computes strength live."""
    now = services.clock.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stale = to_millis(start)
    db = services.book.reader()
    pending = db.execute(
        """SELECT EXISTS (SELECT 1 FROM person WHERE deleted_at IS NULL
                          AND (scored_at IS NULL OR scored_at < ?))
               OR EXISTS (SELECT 1 FROM company WHERE deleted_at IS NULL
                          AND (scored_at IS NULL OR scored_at < ?))""",
        (stale, stale),
    ).fetchone()[0]
    if not pending:
        return 0
    with services.book.raw_write() as connection:
        count = touch.rescore(connection, to_millis(now), stale_before_ms=stale)
    services.changes.publish(("person", "company"), reason="rescore")
    return count


# When maintenance last brought in meetings that happened (a private key of the setting
# table, in UTC milliseconds); without it, it looks back this far.
PASSED_MARKER = "insight_meetings_checked_at"
FIRST_LOOK_BACK_DAYS = 30


@dataclass(frozen=True)
class Maintained:
    meetings_entities: int  # people and companies whose planned meetings have happened
    rescored: int  # rows whose stored strength was refreshed


def maintain(services: Services) -> Maintained:
    """Keep the stored touch statistics true as time passes (run it in the background at
    start and every hour): planned meetings that have happened since the last run start
    counting as touches, and the stored strength decays once a day."""
    now_ms = to_millis(services.clock.now())
    with services.book.raw_write() as connection:
        row = connection.execute(
            "SELECT value FROM setting WHERE key = ?", (PASSED_MARKER,)
        ).fetchone()
        if row is None:
            since_ms = now_ms - FIRST_LOOK_BACK_DAYS * 86_400_000
        else:  # the column's numeric affinity may have turned the JSON text into a number
            since_ms = int(row[0] if isinstance(row[0], int | float) else json.loads(row[0]))
        passed = touch.refresh_passed(connection, since_ms, now_ms) if since_ms < now_ms else 0
        connection.execute(
            """INSERT INTO setting (key, value) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (PASSED_MARKER, json.dumps(max(now_ms, since_ms))),
        )
    if passed:
        services.changes.publish(("person", "company"), reason="meetings passed")
    return Maintained(passed, rescore_if_due(services))


def refresh_passed(services: Services, since: datetime) -> int:
    """Bring in meetings that happened since ``since`` (they count from now on)."""
    now = services.clock.now()
    with services.book.raw_write() as connection:
        count = touch.refresh_passed(connection, to_millis(since), to_millis(now))
    if count:
        services.changes.publish(("person", "company"), reason="meetings passed")
    return count
