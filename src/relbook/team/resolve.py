"""Resolving a conflict the rep was shown: keep their own value, or the team's.

Keeping one's own value is an ordinary local edit (version bumped, outbox folded): the next
sync pushes it based on the team's value, so it wins there too. Keeping the team's value
just closes the record (the book already holds it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from relbook.domain.clock import to_millis
from relbook.domain.errors import NotFoundError, UserError
from relbook.storage.book import Book
from relbook.storage.session import fold_outbox
from relbook.team.apply import LocalWriter
from relbook.team.spec import SPECS
from relbook.team.sync import team_view

MINE = "mine"
THEIRS = "theirs"


@dataclass(frozen=True)
class Conflict:
    id: str
    entity_type: str
    entity_id: str
    label: str
    kind: str  # field / deleted / withdrawn
    field: str
    mine: Any
    theirs: Any
    their_rep: str
    created_at: int
    resolved_at: int | None
    resolution: str


def _conflict(row: Any) -> Conflict:
    return Conflict(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        json.loads(row[6]) if row[6] is not None else None,
        json.loads(row[7]) if row[7] is not None else None,
        row[8],
        row[9],
        row[10],
        row[11],
    )


_SELECT = """SELECT id, entity_type, entity_id, label, kind, field, mine, theirs, their_rep,
                    created_at, resolved_at, resolution FROM team_conflict"""


def list_conflicts(book: Book, *, include_resolved: bool = False) -> list[Conflict]:
    """Open (or all) conflicts, each labelled by what its row is called now (the label
    stored with it is the name the row had when it was recorded)."""
    where = "" if include_resolved else " WHERE resolved_at IS NULL"
    db = book.reader()
    out: list[Conflict] = []
    for row in db.execute(f"{_SELECT}{where} ORDER BY created_at DESC, id").fetchall():
        conflict = _conflict(row)
        spec = SPECS.get(conflict.entity_type)
        if spec is not None:
            now = db.execute(
                f"SELECT {spec.label_sql} FROM {spec.table} WHERE id = ?", (conflict.entity_id,)
            ).fetchone()
            if now is not None and now[0]:
                conflict = replace(conflict, label=str(now[0])[:400])
        out.append(conflict)
    return out


def resolve(book: Book, conflict_id: str, keep: str) -> Conflict:
    if keep not in (MINE, THEIRS):
        raise UserError(f"Keep {keep!r}? Choose 'mine' or 'theirs'.", "")
    now_ms = to_millis(book.clock.now())
    with book.raw_write() as conn:
        row = conn.execute(f"{_SELECT} WHERE id = ?", (conflict_id,)).fetchone()
        if row is None:
            raise NotFoundError("conflict", conflict_id)
        conflict = _conflict(row)
        if conflict.resolved_at is not None:
            return conflict
        if keep == MINE:
            _keep_mine(conn, conflict, now_ms)
        conn.execute(
            "UPDATE team_conflict SET resolved_at = ?, resolution = ? WHERE id = ?",
            (now_ms, keep, conflict_id),
        )
    return conflict


def _keep_mine(conn: Any, conflict: Conflict, now_ms: int) -> None:
    entity_type, entity_id = conflict.entity_type, conflict.entity_id
    table = SPECS[entity_type].table
    state = conn.execute(f"SELECT deleted_at FROM {table} WHERE id = ?", (entity_id,)).fetchone()
    if state is None:
        raise NotFoundError(entity_type, entity_id)
    writer = LocalWriter(conn, now_ms, team_view(conn).team_set)
    fields: list[str] = []
    if conflict.kind == "field":
        writer.update(entity_type, entity_id, {conflict.field: conflict.mine}, received=False)
        fields = [conflict.field]
        op = "upsert"
    elif conflict.kind == "deleted":
        writer.set_deleted(entity_type, entity_id, False)
        values = dict(conflict.mine or {})
        writer.update(entity_type, entity_id, values, received=False)
        fields = sorted(values) or ["deleted_at"]
        op = "upsert"
    else:  # withdrawn: the private copy stays (it already does); nothing to send
        writer.finish()
        return
    writer.finish()
    version = int(
        conn.execute(f"SELECT version FROM {table} WHERE id = ?", (entity_id,)).fetchone()[0]
    )
    fold_outbox(conn, entity_type, entity_id, op, version - 1, fields, now_ms)


def discard_copy(book: Book, conflict_id: str) -> None:
    """For a withdrawn row kept as a private copy: delete the copy from the book."""
    now_ms = to_millis(book.clock.now())
    with book.raw_write() as conn:
        row = conn.execute(f"{_SELECT} WHERE id = ?", (conflict_id,)).fetchone()
        if row is None:
            raise NotFoundError("conflict", conflict_id)
        conflict = _conflict(row)
        writer = LocalWriter(conn, now_ms, set())
        writer.set_deleted(conflict.entity_type, conflict.entity_id, True)
        writer.finish()
        version = int(
            conn.execute(
                f"SELECT version FROM {SPECS[conflict.entity_type].table} WHERE id = ?",
                (conflict.entity_id,),
            ).fetchone()[0]
        )
        fold_outbox(
            conn,
            conflict.entity_type,
            conflict.entity_id,
            "delete",
            version - 1,
            ["deleted_at"],
            now_ms,
        )
        conn.execute(
            "UPDATE team_conflict SET resolved_at = ?, resolution = 'discarded' WHERE id = ?",
            (now_ms, conflict_id),
        )
