"""Notes: what the rep writes down. A private note never leaves the laptop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from relbook.domain.clock import ensure_utc, from_millis
from relbook.domain.errors import NotFoundError
from relbook.services import validate
from relbook.services.base import Service
from relbook.storage.models import Note

NOTE_LIMIT = 200_000


@dataclass
class NoteDraft:
    body: str = ""
    private: bool = False
    pinned: bool = False
    person_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    interaction_id: str | None = None
    occurred_at: datetime | None = None  # None: now
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class NoteRow:
    id: str
    body: str
    private: bool
    pinned: bool
    occurred_at: datetime
    person_id: str | None
    company_id: str | None
    deal_id: str | None
    interaction_id: str | None
    version: int


class NoteService(Service):
    _SELECT = """SELECT id, body, private, pinned, occurred_at, person_id, company_id, deal_id,
                        interaction_id, version FROM note WHERE deleted_at IS NULL"""

    def _row(self, r: Any) -> NoteRow:
        return NoteRow(
            r[0], r[1], bool(r[2]), bool(r[3]), from_millis(r[4]), r[5], r[6], r[7], r[8], r[9]
        )

    def get(self, note_id: str) -> NoteRow:
        row = self.db.execute(self._SELECT + " AND id = ?", (note_id,)).fetchone()
        if row is None:
            raise NotFoundError("note", note_id)
        return self._row(row)

    def for_entity(self, entity_id: str, limit: int = 200) -> list[NoteRow]:
        rows = self.db.execute(
            self._SELECT
            + """ AND (person_id = ? OR company_id = ? OR deal_id = ? OR interaction_id = ?)
                 ORDER BY pinned DESC, occurred_at DESC LIMIT ?""",
            (entity_id, entity_id, entity_id, entity_id, limit),
        )
        return [self._row(r) for r in rows]

    def _clean(self, draft: NoteDraft) -> NoteDraft:
        problems = validate.Problems()
        body = draft.body.strip()
        if not body:
            problems.add("body", "a note needs some text")
        elif len(body) > NOTE_LIMIT:
            problems.add("body", f"is longer than {NOTE_LIMIT:,} characters")
        if not any((draft.person_id, draft.company_id, draft.deal_id, draft.interaction_id)):
            problems.add("person_id", "a note belongs to a person, company or deal")
        for kind in ("person", "company", "deal", "interaction"):
            column = f"{kind}_id"
            kept = validate.stored(self.db, "note", draft.id, column)
            validate.reference(self.db, kind, getattr(draft, column), column, problems, kept=kept)
        problems.raise_if_any()
        return NoteDraft(
            body=body,
            private=draft.private,
            pinned=draft.pinned,
            person_id=draft.person_id,
            company_id=draft.company_id,
            deal_id=draft.deal_id,
            interaction_id=draft.interaction_id,
            occurred_at=ensure_utc(draft.occurred_at) if draft.occurred_at else self.clock.now(),
            id=draft.id,
            version=draft.version,
        )

    def create(self, draft: NoteDraft) -> str:
        clean = self._clean(draft)
        with self.write(("note",)) as session:
            note = Note(body=clean.body, occurred_at=clean.occurred_at)
            _apply(note, clean)
            session.add(note)
            session.flush()
            return note.id

    def update(self, draft: NoteDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean = self._clean(draft)
        with self.write(("note",)) as session:
            note = session.get(Note, draft.id)
            if note is None or note.deleted_at is not None:
                raise NotFoundError("note", draft.id)
            _apply(note, clean)

    def delete(self, note_ids: list[str]) -> list[str]:
        now = self.clock.now()
        deleted = []
        with self.write(("note",), reason="delete") as session:
            for note in session.scalars(select(Note).where(Note.id.in_(note_ids))):
                if note.deleted_at is None:
                    note.deleted_at = now
                    deleted.append(note.id)
        return deleted

    def restore(self, note_ids: list[str]) -> None:
        with self.write(("note",), reason="restore") as session:
            for note in session.scalars(select(Note).where(Note.id.in_(note_ids))):
                note.deleted_at = None


def _apply(note: Note, clean: NoteDraft) -> None:
    note.body = clean.body
    note.private = clean.private
    note.pinned = clean.pinned
    note.person_id = clean.person_id
    note.company_id = clean.company_id
    note.deal_id = clean.deal_id
    note.interaction_id = clean.interaction_id
    assert clean.occurred_at is not None
    note.occurred_at = clean.occurred_at
