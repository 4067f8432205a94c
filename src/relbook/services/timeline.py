"""One timeline per person, company or deal: every interaction (with why it is linked),
plus the rep's notes, stage moves and completed tasks — newest first, a page at a time.

Reads the ``interaction_link (entity_id, occurred_at)`` index: a person's latest 200
interactions is one index range, whatever the size of the book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relbook.domain.clock import from_millis, to_millis
from relbook.domain.search_query import build_query
from relbook.services.base import Service

SNIPPET = 240


@dataclass(frozen=True)
class TimelineEntry:
    entry_type: str  # interaction / note / stage / task
    kind: str  # email, meeting, call… for interactions; note, stage, task otherwise
    id: str
    occurred_at: datetime
    title: str
    snippet: str
    direction: str = "none"
    reason: str = ""  # why this interaction is on this timeline
    origin: str = ""  # auto / manual / rule
    source: str = ""
    status: str = "done"
    duration_minutes: int | None = None
    private: bool = False


class TimelineService(Service):
    def for_entity(
        self,
        entity_id: str,
        *,
        kinds: tuple[str, ...] | None = None,
        text: str | None = None,
        before: datetime | None = None,
        limit: int = 200,
        include_other: bool = True,
    ) -> list[TimelineEntry]:
        """Newest first. ``kinds`` filters interaction kinds (plus 'note', 'stage', 'task'
        for the rep's own entries); ``text`` searches inside; ``before`` pages back."""
        db = self.db
        before_ms = to_millis(before) if before else None
        conditions = ["l.entity_id = ?", "l.excluded = 0", "i.deleted_at IS NULL"]
        params: list[object] = [entity_id]
        if before_ms is not None:
            conditions.append("l.occurred_at < ?")
            params.append(before_ms)
        interaction_kinds = (
            None if kinds is None else [k for k in kinds if k not in ("stage", "task")]
        )
        if interaction_kinds is not None:
            if interaction_kinds:
                conditions.append(f"l.kind IN ({','.join('?' * len(interaction_kinds))})")
                params += interaction_kinds
            else:
                conditions.append("0")
        query = build_query(text) if text else None
        if text and query is None:
            return []
        if query is not None:
            conditions.append(
                "i.seq IN (SELECT rowid FROM fts_interaction WHERE fts_interaction MATCH ?)"
            )
            params.append(query.fts)
        rows = db.execute(
            f"""SELECT i.id, i.kind, l.occurred_at, i.subject, substr(i.body, 1, {SNIPPET}),
                       i.direction, l.reason, l.origin, i.source, i.status, i.duration_minutes
                FROM interaction_link l JOIN interaction i ON i.id = l.interaction_id
                WHERE {" AND ".join(conditions)}
                ORDER BY l.occurred_at DESC LIMIT ?""",
            (*params, limit),
        ).fetchall()
        entries = [
            TimelineEntry(
                "interaction",
                r[1],
                r[0],
                from_millis(r[2]),
                r[3] or f"({r[1]})",
                " ".join((r[4] or "").split()),
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
            )
            for r in rows
        ]
        if include_other:
            entries += self._others(
                entity_id, kinds, query.words if query else None, before_ms, limit
            )
            entries.sort(key=lambda e: e.occurred_at, reverse=True)
        return entries[:limit]

    def _others(
        self,
        entity_id: str,
        kinds: tuple[str, ...] | None,
        words: tuple[str, ...] | None,
        before_ms: int | None,
        limit: int,
    ) -> list[TimelineEntry]:
        db = self.db
        found: list[TimelineEntry] = []
        cutoff = "" if before_ms is None else f" AND {{col}} < {int(before_ms)}"

        def wanted(kind: str) -> bool:
            return kinds is None or kind in kinds

        def matches(*texts: str) -> bool:
            if not words:
                return True
            haystack = " ".join(texts).lower()
            return all(w in haystack for w in words)

        if wanted("note"):
            for r in db.execute(
                f"""SELECT id, body, occurred_at, private FROM note WHERE deleted_at IS NULL
                    AND (person_id = ? OR company_id = ? OR deal_id = ?)
                    {cutoff.format(col="occurred_at")} ORDER BY occurred_at DESC LIMIT ?""",
                (entity_id, entity_id, entity_id, limit),
            ):
                if matches(r[1]):
                    first_line = r[1].strip().splitlines()[0] if r[1].strip() else ""
                    found.append(
                        TimelineEntry(
                            "note",
                            "note",
                            r[0],
                            from_millis(r[2]),
                            first_line[:120],
                            " ".join(r[1].split())[:SNIPPET],
                            origin="manual",
                            private=bool(r[3]),
                        )
                    )
        if wanted("stage"):
            for r in db.execute(
                f"""SELECT ch.id, ch.changed_at, coalesce(a.name, ''), b.name, ch.note, d.title, d.id
                    FROM deal_stage_change ch JOIN deal d ON d.id = ch.deal_id
                    LEFT JOIN stage a ON a.id = ch.from_stage_id JOIN stage b ON b.id = ch.to_stage_id
                    WHERE d.deleted_at IS NULL AND (d.id = ? OR d.company_id = ?)
                    {cutoff.format(col="ch.changed_at")} ORDER BY ch.changed_at DESC LIMIT ?""",
                (entity_id, entity_id, limit),
            ):
                move = f"{r[2]} → {r[3]}" if r[2] else f"created in {r[3]}"
                title = f"Deal '{r[5]}': {move}"
                if matches(title, r[4]):
                    found.append(
                        TimelineEntry(
                            "stage", "stage", r[6], from_millis(r[1]), title, r[4], origin="manual"
                        )
                    )
        if wanted("task"):
            for r in db.execute(
                f"""SELECT id, title, done_at, details FROM task WHERE deleted_at IS NULL
                    AND done_at IS NOT NULL AND (person_id = ? OR company_id = ? OR deal_id = ?)
                    {cutoff.format(col="done_at")} ORDER BY done_at DESC LIMIT ?""",
                (entity_id, entity_id, entity_id, limit),
            ):
                if matches(r[1], r[3]):
                    found.append(
                        TimelineEntry(
                            "task",
                            "task",
                            r[0],
                            from_millis(r[2]),
                            f"Done: {r[1]}",
                            " ".join(r[3].split())[:SNIPPET],
                            origin="manual",
                        )
                    )
        return found
