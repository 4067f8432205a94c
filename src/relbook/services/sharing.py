"""Sharing with the team: private by default, shared per company, person or deal.

``share`` marks a company (with its people and deals), a person or a deal as shared, with
how much of its interactions travels (``nothing``, ``metadata``, ``subject``, ``full``);
``unshare`` takes the mark away: the next sync withdraws everything that no longer travels
from the team server (rows nobody else shares become tombstones without data) and stops
sending updates. ``preview`` answers "what does my team see of this?" exactly: the rows and
fields that travel (``team.spec`` lists them) and what stays on the laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relbook.domain.clock import from_millis
from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.domain.kinds import ShareLevel
from relbook.services.base import Service
from relbook.team.apply import label_of
from relbook.team.project import closure, normalize, project
from relbook.team.project import read_rows as read_local
from relbook.team.spec import BOOL, CHILDREN, REF, REF_LIST, SHAREABLE_ROOTS, SPECS
from relbook.team.sync import LIVE_STATES, RECEIVED, SHARED, share_roots, team_view

LEVELS = tuple(level.value for level in ShareLevel)
# The kinds of row that travel, in the order previews list them.
ENTITY_ORDER: tuple[str, ...] = tuple(SPECS)


def field_kind(entity_type: str, name: str) -> str | None:
    """How a travelling field is shown: ``REF``, ``REF_LIST``, ``CHILDREN``, ``BOOL``, a
    plain value — or None for a field this version does not send."""
    spec = SPECS.get(entity_type)
    if spec is None or name not in spec.names:
        return None
    return spec.field(name).kind


def _in_spec_order(entity_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    order = {name: i for i, name in enumerate(SPECS[entity_type].names)}
    return dict(sorted(fields.items(), key=lambda item: order.get(item[0], len(order))))


LEVEL_LABELS = {
    "nothing": "no interactions",
    "metadata": "who and when (no subjects, no text)",
    "subject": "who, when and the subject line",
    "full": "full text",
}


@dataclass(frozen=True)
class SharedItem:
    entity_type: str
    entity_id: str
    label: str
    level: str
    shared_at: datetime
    on_server: bool  # False until the next sync has sent it


@dataclass(frozen=True)
class PreviewRow:
    entity_type: str
    entity_id: str
    label: str
    fields: dict[str, Any]  # exactly what the team server gets (or has) of the row
    source: str  # "you" (travels from this book) or "team" (a teammate shared it)


@dataclass(frozen=True)
class TeamPreview:
    entity_type: str
    entity_id: str
    label: str
    level: str | None  # the share level this preview is for (None: not shared by you)
    shared: bool  # shared by you (explicitly)
    rows: tuple[PreviewRow, ...]
    withheld: tuple[str, ...]  # what stays on the laptop, in words

    @property
    def visible(self) -> bool:
        return bool(self.rows)


def _check(entity_type: str, level: str | None = None) -> None:
    problems: list[FieldError] = []
    if entity_type not in SHAREABLE_ROOTS:
        problems.append(FieldError("entity_type", "only a company, a person or a deal is shared"))
    if level is not None and level not in LEVELS:
        problems.append(FieldError("level", "must be nothing, metadata, subject or full"))
    if problems:
        raise ValidationError(problems)


class SharingService(Service):
    # ------------------------------------------------------------------ writes
    def share(self, entity_type: str, entity_id: str, level: str = "metadata") -> None:
        """Share (or change the interaction level of) a company, person or deal."""
        _check(entity_type, level)
        table = SPECS[entity_type].table
        row = self.db.execute(
            f"SELECT deleted_at FROM {table} WHERE id = ?", (entity_id,)
        ).fetchone()
        if row is None or row[0] is not None:
            raise NotFoundError(entity_type, entity_id)
        from relbook.storage.models import Share

        with self.write(("share",), reason="share") as session:
            existing = session.get(Share, (entity_type, entity_id))
            if existing is None:
                session.add(
                    Share(
                        entity_type=entity_type,
                        entity_id=entity_id,
                        interaction_level=level,
                        shared_at=self.clock.now(),
                    )
                )
            else:
                existing.interaction_level = level

    def unshare(self, entity_type: str, entity_id: str) -> bool:
        """Stop sharing; the next sync withdraws it from the team. False if not shared."""
        _check(entity_type)
        from relbook.storage.models import Share

        with self.write(("share",), reason="unshare") as session:
            existing = session.get(Share, (entity_type, entity_id))
            if existing is None:
                return False
            session.delete(existing)
            return True

    # ------------------------------------------------------------------- reads
    def level_of(self, entity_type: str, entity_id: str) -> str | None:
        row = self.db.execute(
            "SELECT interaction_level FROM share WHERE entity_type = ? AND entity_id = ?",
            (entity_type, entity_id),
        ).fetchone()
        return str(row[0]) if row else None

    def shared(self) -> list[SharedItem]:
        """What the rep shares. A deleted record is not listed (nothing of it travels but
        its tombstone); its share stays, so undoing the delete shares it again."""
        db = self.db
        items: list[SharedItem] = []
        for entity_type, entity_id, level, shared_at, state in db.execute(
            """SELECT s.entity_type, s.entity_id, s.interaction_level, s.shared_at, r.state
               FROM share s LEFT JOIN team_row r
                 ON r.entity_type = s.entity_type AND r.entity_id = s.entity_id
               LEFT JOIN person p ON s.entity_type = 'person' AND p.id = s.entity_id
                    AND p.deleted_at IS NULL
               LEFT JOIN company c ON s.entity_type = 'company' AND c.id = s.entity_id
                    AND c.deleted_at IS NULL
               LEFT JOIN deal d ON s.entity_type = 'deal' AND d.id = s.entity_id
                    AND d.deleted_at IS NULL
               WHERE coalesce(p.id, c.id, d.id) IS NOT NULL
               ORDER BY s.shared_at DESC, s.entity_id"""
        ):
            items.append(
                SharedItem(
                    entity_type,
                    entity_id,
                    label_of(db, entity_type, entity_id),
                    level,
                    from_millis(shared_at),
                    state == SHARED,
                )
            )
        return items

    def preview(self, entity_type: str, entity_id: str, level: str | None = None) -> TeamPreview:
        """What the team sees of this row — or would see if it were shared at ``level``."""
        _check(entity_type, level)
        with self.book.snapshot() as db:
            return self._preview(db, entity_type, entity_id, level)

    def _preview(self, db: Any, entity_type: str, entity_id: str, level: str | None) -> TeamPreview:
        table = SPECS[entity_type].table
        if (
            db.execute(
                f"SELECT 1 FROM {table} WHERE id = ? AND deleted_at IS NULL", (entity_id,)
            ).fetchone()
            is None
        ):
            raise NotFoundError(entity_type, entity_id)
        view = team_view(db)
        current = self.level_of(entity_type, entity_id)
        wanted = level or current
        levels = view.closure
        team_set = view.team_set
        if level is not None and level != current:
            roots = [r for r in share_roots(db) if (r[0], r[1]) != (entity_type, entity_id)]
            roots.append((entity_type, entity_id, level))
            received = {k[1] for k, t in view.tracked.items() if t.state == RECEIVED}
            levels = closure(db, roots, received)
            team_set = {k[1] for k in levels} | {
                k[1] for k, t in view.tracked.items() if t.state in LIVE_STATES
            }
        mine: dict[tuple[str, str], str] = {}
        if wanted is not None:
            received = {k[1] for k, t in view.tracked.items() if t.state == RECEIVED}
            mine = closure(db, [(entity_type, entity_id, wanted)], received)
        rows: list[PreviewRow] = []
        by_type: dict[str, list[str]] = {}
        for key in mine:
            by_type.setdefault(key[0], []).append(key[1])
        for kind in SPECS:
            ids = by_type.get(kind, [])
            if not ids:
                continue
            values = read_local(db, kind, ids)
            for row_id in sorted(ids):
                key = (kind, row_id)
                fields = project(kind, values[row_id], team_set, level=levels.get(key, wanted))
                rows.append(PreviewRow(kind, row_id, label_of(db, kind, row_id), fields, "you"))
        for key, tracked in view.tracked.items():
            if key in mine or tracked.state != RECEIVED:
                continue
            if key == (entity_type, entity_id) or _refers_to(key[0], tracked.data, entity_id):
                fields = _in_spec_order(key[0], tracked.data)
                rows.append(
                    PreviewRow(key[0], key[1], label_of(db, key[0], key[1]), fields, "team")
                )
        rows.sort(key=lambda r: (r.entity_id != entity_id, list(SPECS).index(r.entity_type)))
        withheld = self._withheld(db, mine, wanted)
        return TeamPreview(
            entity_type,
            entity_id,
            label_of(db, entity_type, entity_id),
            wanted,
            current is not None,
            tuple(rows),
            tuple(withheld),
        )

    def _withheld(self, db: Any, mine: dict[tuple[str, str], str], level: str | None) -> list[str]:
        owners = [k[1] for k in mine if k[0] in ("person", "company", "deal")]
        out: list[str] = []
        if level is None:
            out.append("Nothing of this travels from your book: it is private.")
            return out
        import json

        marks = json.dumps(owners)
        private = db.execute(
            """SELECT count(*) FROM note WHERE deleted_at IS NULL AND private = 1
               AND (person_id IN (SELECT value FROM json_each(?1))
                    OR company_id IN (SELECT value FROM json_each(?1))
                    OR deal_id IN (SELECT value FROM json_each(?1)))""",
            (marks,),
        ).fetchone()[0]
        if private:
            out.append(
                f"{_count(private, 'private note')} "
                f"{'stays' if private == 1 else 'stay'} on your laptop."
            )
        linked = db.execute(
            """SELECT count(DISTINCT l.interaction_id) FROM interaction_link l
               JOIN interaction i ON i.id = l.interaction_id
               WHERE l.excluded = 0 AND i.deleted_at IS NULL
                 AND l.entity_id IN (SELECT value FROM json_each(?))""",
            (marks,),
        ).fetchone()[0]
        interactions = _count(linked, "interaction")
        if linked and level == "nothing":
            verb = "stays" if linked == 1 else "stay"
            out.append(f"{interactions} {verb} private (interactions: nothing).")
        elif linked and level == "metadata":
            out.append(f"Subjects and text of {interactions} stay private.")
        elif linked and level == "subject":
            out.append(f"The text of {interactions} stays private.")
        out.append(
            "Tasks, tags, your keep-in-touch cadence, photos and where items came from never "
            "travel."
        )
        return out


def _count(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _refers_to(entity_type: str, data: dict[str, Any], target: str) -> bool:
    spec = SPECS[entity_type]
    for field in spec.fields:
        value = data.get(field.name)
        if field.kind == REF and value == target:
            return True
        if field.kind == REF_LIST and any(target in entry for entry in value or []):
            return True
    return False


__all__ = [
    "BOOL",
    "CHILDREN",
    "ENTITY_ORDER",
    "LEVELS",
    "LEVEL_LABELS",
    "REF",
    "REF_LIST",
    "PreviewRow",
    "SharedItem",
    "SharingService",
    "TeamPreview",
    "field_kind",
]
_ = normalize  # re-exported for callers comparing previews with server rows
