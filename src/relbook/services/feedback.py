"""Feedback: what customers say about products, competitors, price and service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from relbook.domain.clock import ensure_utc, from_millis, to_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.kinds import FeedbackTopic, Sentiment
from relbook.services import validate
from relbook.services.base import Service
from relbook.storage.models import Feedback


@dataclass
class FeedbackDraft:
    topic: str = "product"
    subject: str = ""  # the product or competitor it is about
    sentiment: str = "neutral"
    quote: str = ""
    person_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    interaction_id: str | None = None
    note_id: str | None = None
    occurred_at: datetime | None = None
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class FeedbackRow:
    id: str
    topic: str
    subject: str
    sentiment: str
    quote: str
    occurred_at: datetime
    person_id: str | None
    person_name: str
    company_id: str | None
    company_name: str
    deal_id: str | None
    interaction_id: str | None
    note_id: str | None


_SELECT = """
    SELECT f.id, f.topic, f.subject, f.sentiment, f.quote, f.occurred_at, f.person_id,
           coalesce(p.display_name, ''), f.company_id, coalesce(c.name, ''), f.deal_id,
           f.interaction_id, f.note_id
    FROM feedback f LEFT JOIN person p ON p.id = f.person_id AND p.deleted_at IS NULL
    LEFT JOIN company c ON c.id = f.company_id AND c.deleted_at IS NULL
    WHERE f.deleted_at IS NULL"""


def _row(r: Any) -> FeedbackRow:
    return FeedbackRow(r[0], r[1], r[2], r[3], r[4], from_millis(r[5]), *r[6:13])


class FeedbackService(Service):
    def get(self, feedback_id: str) -> FeedbackRow:
        row = self.db.execute(_SELECT + " AND f.id = ?", (feedback_id,)).fetchone()
        if row is None:
            raise NotFoundError("feedback", feedback_id)
        return _row(row)

    def for_entity(self, entity_id: str, limit: int = 100) -> list[FeedbackRow]:
        rows = self.db.execute(
            _SELECT
            + """ AND (f.person_id = ? OR f.company_id = ? OR f.deal_id = ?
                              OR f.interaction_id = ? OR f.note_id = ?)
                         ORDER BY f.occurred_at DESC LIMIT ?""",
            (entity_id, entity_id, entity_id, entity_id, entity_id, limit),
        )
        return [_row(r) for r in rows]

    def all(
        self, *, topic: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[FeedbackRow]:
        sql, params = _SELECT, list[object]()
        if topic:
            sql += " AND f.topic = ?"
            params.append(topic)
        if since:
            sql += " AND f.occurred_at >= ?"
            params.append(to_millis(since))
        rows = self.db.execute(sql + " ORDER BY f.occurred_at DESC LIMIT ?", (*params, limit))
        return [_row(r) for r in rows]

    def _clean(self, draft: FeedbackDraft) -> FeedbackDraft:
        problems = validate.Problems()
        if draft.topic not in {t.value for t in FeedbackTopic}:
            problems.add("topic", "must be product, competitor, price, service or other")
        if draft.sentiment not in {s.value for s in Sentiment}:
            problems.add("sentiment", "must be positive, neutral or negative")
        quote = draft.quote.strip()
        if not quote and not draft.subject.strip():
            problems.add("quote", "say what the feedback is")
        if draft.topic == FeedbackTopic.COMPETITOR and not draft.subject.strip():
            problems.add("subject", "name the competitor")
        if not any(
            (draft.person_id, draft.company_id, draft.deal_id, draft.interaction_id, draft.note_id)
        ):
            problems.add("person_id", "feedback comes from a person, company or deal")
        for kind in ("person", "company", "deal", "interaction", "note"):
            column = f"{kind}_id"
            kept = validate.stored(self.db, "feedback", draft.id, column)
            validate.reference(self.db, kind, getattr(draft, column), column, problems, kept=kept)
        problems.raise_if_any()
        return FeedbackDraft(
            topic=draft.topic,
            subject=" ".join(draft.subject.split())[:200],
            sentiment=draft.sentiment,
            quote=quote,
            person_id=draft.person_id,
            company_id=draft.company_id,
            deal_id=draft.deal_id,
            interaction_id=draft.interaction_id,
            note_id=draft.note_id,
            occurred_at=ensure_utc(draft.occurred_at) if draft.occurred_at else self.clock.now(),
            id=draft.id,
            version=draft.version,
        )

    def create(self, draft: FeedbackDraft) -> str:
        clean = self._clean(draft)
        with self.write(("feedback",)) as session:
            assert clean.occurred_at is not None
            row = Feedback(topic=clean.topic, occurred_at=clean.occurred_at)
            _apply(row, clean)
            session.add(row)
            session.flush()
            return row.id

    def update(self, draft: FeedbackDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean = self._clean(draft)
        with self.write(("feedback",)) as session:
            row = session.get(Feedback, draft.id)
            if row is None or row.deleted_at is not None:
                raise NotFoundError("feedback", draft.id)
            _apply(row, clean)

    def delete(self, feedback_ids: list[str]) -> list[str]:
        now = self.clock.now()
        deleted = []
        with self.write(("feedback",), reason="delete") as session:
            for row in session.scalars(select(Feedback).where(Feedback.id.in_(feedback_ids))):
                if row.deleted_at is None:
                    row.deleted_at = now
                    deleted.append(row.id)
        return deleted

    def restore(self, feedback_ids: list[str]) -> None:
        with self.write(("feedback",), reason="restore") as session:
            for row in session.scalars(select(Feedback).where(Feedback.id.in_(feedback_ids))):
                row.deleted_at = None


def _apply(row: Feedback, clean: FeedbackDraft) -> None:
    row.topic = clean.topic
    row.subject = clean.subject
    row.sentiment = clean.sentiment
    row.quote = clean.quote
    row.person_id = clean.person_id
    row.company_id = clean.company_id
    row.deal_id = clean.deal_id
    row.interaction_id = clean.interaction_id
    row.note_id = clean.note_id
    assert clean.occurred_at is not None
    row.occurred_at = clean.occurred_at
