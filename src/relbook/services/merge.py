"""Merging two people (or two companies) into one — with a preview, and an exact undo.

Nothing is lost. Everything that hangs off the merged entity moves to the survivor:
e-mail addresses, phones, postal addresses, affiliations, deal roles, interaction links
and participants, notes, tasks, feedback, tags, shares, link rules, custom-field values
and person references in other records' custom fields (companies: domains, people,
deals, subsidiaries…). A value both hold once is kept once. Where both hold a different
scalar value (title, birthday, website…), the survivor keeps its own unless the caller
chooses the other's; the value not kept is written into the survivor's "about" text and
into the merge journal, so it stays visible and comes back on undo. The merged entity
becomes a tombstone.

Every row the merge changes is journalled (before and after) in ``merge_record``; undo
replays the journal backwards, so the book returns to exactly what it held before. Undo
is refused while a later merge involving either entity is in place (undo that first).

The merge works on the raw connection inside one transaction, so it bumps versions,
folds outbox rows, refreshes the search documents and touch statistics itself (see
docs/ENGINEERING.md, bulk paths).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from relbook.domain.clock import from_millis, to_millis
from relbook.domain.errors import NotFoundError, UserError
from relbook.domain.ids import new_id
from relbook.domain.money import format_money
from relbook.domain.names import comparison_key
from relbook.services.base import Service
from relbook.services.fields import custom_value_sql
from relbook.storage import search_index, touch
from relbook.storage.session import driver_connection, fold_outbox

KINDS = ("person", "company")
_CHILD_FIELD = {
    "person_email": "emails",
    "person_phone": "phones",
    "person_address": "addresses",
    "company_domain": "domains",
}
SURVIVOR = "survivor"
OTHER = "other"
_CHUNK = 400

# Shareable tables (their rows carry version/updated_at and travel through the outbox).
_SHAREABLE = {
    "person": "person",
    "company": "company",
    "affiliation": "affiliation",
    "deal": "deal",
    "task": "task",
    "note": "note",
    "feedback": "feedback",
    "interaction": "interaction",
}


@dataclass(frozen=True)
class FieldMerge:
    """One field of the merged result: both values, the result, and whether they clash."""

    field: str  # choice key: "name", "title", "custom.budget"…
    label: str
    survivor_value: str
    other_value: str
    result_value: str
    conflict: bool
    taken_from: str  # "survivor" / "other" / "both"


@dataclass(frozen=True)
class MergePreview:
    kind: str
    survivor_id: str
    other_id: str
    survivor_name: str
    other_name: str
    fields: tuple[FieldMerge, ...]
    moves: dict[str, int]  # what moves to the survivor: "interactions" → 120, …
    about_after: str  # the survivor's "about" text after the merge

    @property
    def conflicts(self) -> tuple[FieldMerge, ...]:
        return tuple(f for f in self.fields if f.conflict)

    def describe(self) -> list[str]:
        lines = [f"Merge {self.other_name} into {self.survivor_name}:"]
        for item in self.fields:
            if item.conflict:
                lines.append(
                    f"  {item.label}: keeps '{item.result_value}' (other value "
                    f"'{item.other_value if item.taken_from != OTHER else item.survivor_value}' "
                    "is kept in About)"
                )
            elif item.taken_from == OTHER:
                lines.append(f"  {item.label}: takes '{item.other_value}'")
        moved = [f"{count} {what}" for what, count in self.moves.items() if count]
        if moved:
            lines.append("  moves: " + ", ".join(moved))
        return lines


@dataclass(frozen=True)
class MergeRecordInfo:
    id: str
    kind: str
    survivor_id: str
    merged_id: str
    merged_name: str
    created_at: Any
    undone_at: Any


@dataclass
class _Plan:
    fields: list[FieldMerge]
    updates: dict[str, Any]  # survivor column → new value
    lost: list[str]  # "title: CFO" values not kept
    about_after: str
    primary_company: str | None  # person merges: the company that stays current


@dataclass
class _Journal:
    raw: sqlite3.Connection
    ops: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    links_changed: bool = False  # interaction links moved: touch statistics need a refresh

    # -- recording
    def note_change(self, table: str, ident: str, column: str) -> None:
        if table in _SHAREABLE:
            self.touched.setdefault(table, {}).setdefault(ident, set()).add(column)

    def update(self, table: str, where: dict[str, Any], changes: dict[str, Any]) -> None:
        """Change some columns of one row (``where`` names it after the change)."""
        columns = ", ".join(changes)
        row = self.raw.execute(
            f"SELECT {columns} FROM {table} WHERE " + _where_sql(where), list(where.values())
        ).fetchone()
        if row is None:
            return
        before = dict(zip(changes, row, strict=True))
        if before == changes:
            return
        sets = ", ".join(f"{c} = ?" for c in changes)
        self.raw.execute(
            f"UPDATE {table} SET {sets} WHERE " + _where_sql(where),
            [*changes.values(), *where.values()],
        )
        after_where = {k: changes.get(k, v) for k, v in where.items()}
        self.ops.append(
            {
                "op": "update",
                "table": table,
                "where": _encode(after_where),
                "before": _encode(before),
                "after": _encode(changes),
            }
        )
        ident = after_where.get("id")
        if isinstance(ident, str):
            for column in changes:
                self.note_change(table, ident, column)

    def move(self, table: str, column: str, old: str, new: str, key: str) -> list[Any]:
        """Point every row whose ``column`` is ``old`` at ``new``; returns their keys."""
        keys = [
            r[0] for r in self.raw.execute(f"SELECT {key} FROM {table} WHERE {column} = ?", (old,))
        ]
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            self.raw.execute(
                f"UPDATE {table} SET {column} = ? WHERE {column} = ? AND {key} IN ({marks})",
                [new, old, *chunk],
            )
        if keys:
            self.links_changed |= table == "interaction_link"
            self.ops.append(
                {
                    "op": "move",
                    "table": table,
                    "column": column,
                    "key": key,
                    "keys": keys,
                    "before": old,
                    "after": new,
                }
            )
            if key == "id":
                for ident in keys:
                    self.note_change(table, str(ident), column)
        return keys

    def delete(self, table: str, where: dict[str, Any]) -> None:
        cursor = self.raw.execute(
            f"SELECT * FROM {table} WHERE " + _where_sql(where), list(where.values())
        )
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        self.links_changed |= table == "interaction_link" and bool(rows)
        self.raw.execute(f"DELETE FROM {table} WHERE " + _where_sql(where), list(where.values()))
        for row in rows:
            self.ops.append(
                {"op": "delete", "table": table, "row": _encode(dict(zip(names, row, strict=True)))}
            )

    # -- replay
    def undo(self, ops: Sequence[dict[str, Any]]) -> None:
        for op in reversed(ops):
            table = op["table"]
            self.links_changed |= table == "interaction_link"
            if op["op"] == "update":
                before = _decode(op["before"])
                where = _decode(op["where"])
                sets = ", ".join(f"{c} = ?" for c in before)
                self.raw.execute(
                    f"UPDATE {table} SET {sets} WHERE " + _where_sql(where),
                    [*before.values(), *where.values()],
                )
                ident = where.get("id")
                if isinstance(ident, str):
                    for column in before:
                        self.note_change(table, ident, column)
            elif op["op"] == "move":
                for chunk in _chunks(op["keys"]):
                    marks = ",".join("?" * len(chunk))
                    self.raw.execute(
                        f"UPDATE {table} SET {op['column']} = ? WHERE {op['column']} = ? "
                        f"AND {op['key']} IN ({marks})",
                        [op["before"], op["after"], *chunk],
                    )
                if op["key"] == "id":
                    for ident in op["keys"]:
                        self.note_change(table, str(ident), op["column"])
            elif op["op"] == "delete":
                row = _decode(op["row"])
                self._reinsert(table, row)

    def _reinsert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        try:
            self.raw.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values())
            )
        except sqlite3.IntegrityError:
            # Its integer key was reused since; the row comes back under a new key.
            rest = {k: v for k, v in row.items() if k != "id"}
            if len(rest) == len(row):
                raise
            self.raw.execute(
                f"INSERT INTO {table} ({', '.join(rest)}) VALUES ({', '.join('?' * len(rest))})",
                list(rest.values()),
            )


def _where_sql(where: Mapping[str, Any]) -> str:
    return " AND ".join(f"{column} = ?" for column in where)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _encode(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: {"$bytes": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v
        for k, v in values.items()
    }


def _decode(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: base64.b64decode(v["$bytes"]) if isinstance(v, dict) and "$bytes" in v else v
        for k, v in values.items()
    }


def _empty(value: Any) -> bool:
    return value is None or value in ("", b"")


# ----------------------------------------------------------------------- fields

_PERSON_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "Name", ("display_name", "given_name", "family_name")),
    ("title", "Title", ("title",)),
    ("birthday", "Birthday", ("birthday",)),
    ("company", "Current company", ("company_id",)),
    ("cadence_days", "Keep-in-touch cadence (days)", ("cadence_days",)),
    ("snoozed_until", "Snoozed until", ("snoozed_until",)),
    ("photo", "Photo", ("photo",)),
)
_COMPANY_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "Name", ("name",)),
    ("website", "Website", ("website",)),
    ("industry", "Industry", ("industry",)),
    ("employees", "Employees", ("employees",)),
    (
        "values",
        "Current and potential value",
        ("currency", "current_value_minor", "potential_value_minor"),
    ),
    ("parent", "Parent company", ("parent_id",)),
)


class MergeService(Service):
    # ------------------------------------------------------------------ reads
    def preview(
        self,
        kind: str,
        survivor_id: str,
        other_id: str,
        choices: Mapping[str, str] | None = None,
    ) -> MergePreview:
        """What the survivor will hold after merging ``other_id`` into it (writes nothing)."""
        db = self.db
        survivor, other = self._load_pair(db, kind, survivor_id, other_id)
        plan = self._plan(db, kind, survivor, other, dict(choices or {}))
        return MergePreview(
            kind,
            survivor_id,
            other_id,
            _name(kind, survivor),
            _name(kind, other),
            tuple(plan.fields),
            self._moves(db, kind, other_id, survivor_id),
            plan.about_after,
        )

    def records(self, entity_id: str | None = None, limit: int = 50) -> list[MergeRecordInfo]:
        """Recent merges (optionally those involving one entity), newest first."""
        sql = """SELECT m.id, m.entity_type, m.survivor_id, m.merged_id,
                        coalesce(p.display_name, c.name, ''), m.created_at, m.undone_at
                 FROM merge_record m
                 LEFT JOIN person p ON m.entity_type = 'person' AND p.id = m.merged_id
                 LEFT JOIN company c ON m.entity_type = 'company' AND c.id = m.merged_id"""
        params: tuple[Any, ...] = ()
        if entity_id:
            sql += " WHERE m.survivor_id = ? OR m.merged_id = ?"
            params = (entity_id, entity_id)
        sql += " ORDER BY m.rowid DESC LIMIT ?"
        return [
            MergeRecordInfo(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                from_millis(r[5]),
                None if r[6] is None else from_millis(r[6]),
            )
            for r in self.db.execute(sql, (*params, limit))
        ]

    # ------------------------------------------------------------------ writes
    def merge(
        self,
        kind: str,
        survivor_id: str,
        other_id: str,
        choices: Mapping[str, str] | None = None,
    ) -> str:
        """Merge ``other_id`` into ``survivor_id``; returns the merge record id (for undo).

        ``choices`` maps a conflicting field (see ``preview``) to "survivor" or "other".
        """
        choices = dict(choices or {})
        bad = [v for v in choices.values() if v not in (SURVIVOR, OTHER)]
        if bad:
            raise UserError(
                f"'{bad[0]}' is not a merge choice.", "Choose 'survivor' or 'other' per field."
            )
        now = self.clock.now()
        now_ms = to_millis(now)
        kinds = ("person", "company", "deal", "task", "note", "feedback", "affiliation", "tag")
        with self.write(kinds, reason="merge") as session:
            raw = driver_connection(session)
            survivor, other = self._load_pair(raw, kind, survivor_id, other_id)
            plan = self._plan(raw, kind, survivor, other, choices)
            unscored = _unscored(raw, kind, survivor, other)
            journal = _Journal(raw)
            if kind == "person":
                self._merge_person(raw, journal, survivor, other, plan)
            else:
                self._merge_company(raw, journal, survivor, other, plan)
            journal.update(kind, {"id": other_id}, {"deleted_at": now_ms})
            record_id = new_id()
            payload = {
                "ops": journal.ops,
                "touched": {
                    t: {i: sorted(c) for i, c in ids.items()} for t, ids in journal.touched.items()
                },
                "lost": plan.lost,
                "unscored": sorted(unscored),
                "choices": choices,
                "fields": [f.__dict__ for f in plan.fields],
            }
            raw.execute(
                """INSERT INTO merge_record(id, entity_type, survivor_id, merged_id, journal,
                                            created_at, undone_at)
                   VALUES (?, ?, ?, ?, ?, ?, NULL)""",
                (record_id, kind, survivor_id, other_id, json.dumps(payload), now_ms),
            )
            self._finish(raw, journal, kind, survivor_id, other_id, now_ms, survivor, other)
        return record_id

    def undo(self, merge_record_id: str) -> None:
        """Put the book back as it was before this merge."""
        now_ms = to_millis(self.clock.now())
        kinds = ("person", "company", "deal", "task", "note", "feedback", "affiliation", "tag")
        with self.write(kinds, reason="merge undone") as session:
            raw = driver_connection(session)
            row = raw.execute(
                """SELECT rowid, entity_type, survivor_id, merged_id, journal, undone_at
                   FROM merge_record WHERE id = ?""",
                (merge_record_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError("merge", merge_record_id)
            rowid, kind, survivor_id, other_id, payload_text, undone_at = row
            if undone_at is not None:
                raise UserError(
                    "This merge was already undone.", "Refresh the view to see the current state."
                )
            later = raw.execute(
                """SELECT id FROM merge_record WHERE rowid > ? AND undone_at IS NULL
                   AND (survivor_id IN (?, ?) OR merged_id IN (?, ?))
                   ORDER BY rowid DESC LIMIT 1""",
                (rowid, survivor_id, other_id, survivor_id, other_id),
            ).fetchone()
            if later is not None:
                raise UserError(
                    "A later merge involves the same records; this one cannot be undone first.",
                    f"Undo the later merge ({later[0]}) first.",
                )
            payload = json.loads(payload_text)
            journal = _Journal(raw)
            journal.undo(payload["ops"])
            for table, ids in payload.get("touched", {}).items():
                for ident, columns in ids.items():
                    for column in columns:
                        journal.note_change(table, ident, column)
            raw.execute(
                "UPDATE merge_record SET undone_at = ? WHERE id = ?", (now_ms, merge_record_id)
            )
            survivor = _row(raw, kind, survivor_id) or {}
            other = _row(raw, kind, other_id) or {}
            self._finish(raw, journal, kind, survivor_id, other_id, now_ms, survivor, other)
            # Never scored before the merge and nothing to score now: as they were.
            for ident in payload.get("unscored", []):
                for table in ("person", "company"):
                    raw.execute(
                        f"""UPDATE {table} SET strength = NULL, scored_at = NULL
                            WHERE id = ? AND touch_count = 0""",
                        (ident,),
                    )

    # ------------------------------------------------------------------ planning
    def _load_pair(
        self, db: sqlite3.Connection, kind: str, survivor_id: str, other_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if kind not in KINDS:
            raise UserError(f"Cannot merge '{kind}' records.", "Merge people or companies.")
        if survivor_id == other_id:
            raise UserError("A record cannot be merged with itself.", "Choose two records.")
        survivor = _row(db, kind, survivor_id)
        other = _row(db, kind, other_id)
        for ident, found in ((survivor_id, survivor), (other_id, other)):
            if found is None or found["deleted_at"] is not None:
                raise NotFoundError(kind, ident)
        assert survivor is not None and other is not None
        return survivor, other

    def _plan(
        self,
        db: sqlite3.Connection,
        kind: str,
        survivor: dict[str, Any],
        other: dict[str, Any],
        choices: dict[str, str],
    ) -> _Plan:
        fields: list[FieldMerge] = []
        updates: dict[str, Any] = {}
        lost: list[str] = []
        specs = _PERSON_FIELDS if kind == "person" else _COMPANY_FIELDS
        for key, label, columns in specs:
            mine = tuple(survivor[c] for c in columns)
            theirs = tuple(other[c] for c in columns)
            shown_mine = _show(db, kind, key, survivor)
            shown_theirs = _show(db, kind, key, other)
            if key == "parent" and other["parent_id"] == survivor["id"]:
                theirs, shown_theirs = (None,), ""  # the other was the survivor's subsidiary
            if key == "parent" and survivor["parent_id"] == other["id"]:
                mine, shown_mine = (None,), ""  # the survivor was the other's subsidiary
            conflict = False
            if _blank(key, theirs):
                taken = SURVIVOR
            elif _same(key, mine, theirs):
                taken = "both"
            elif _blank(key, mine):
                taken = OTHER
            else:
                conflict = True
                taken = choices.get(key, SURVIVOR)
                dropped = shown_theirs if taken == SURVIVOR else shown_mine
                if key == "name":
                    lost.append(
                        ("Also known as: " if kind == "person" else "Also called: ") + dropped
                    )
                elif key == "photo":
                    lost.append(f"{label}: the other photo is kept in the merge history")
                else:
                    lost.append(f"{label}: {dropped}")
            if taken == OTHER:
                updates.update(dict(zip(columns, theirs, strict=True)))
                if key == "name":
                    updates["name_key"] = comparison_key(_name(kind, other))
            result = shown_theirs if taken == OTHER else shown_mine
            fields.append(FieldMerge(key, label, shown_mine, shown_theirs, result, conflict, taken))
        if kind == "company" and survivor["parent_id"] == other["id"]:
            # The survivor was the other's subsidiary: it takes the other's own parent.
            updates.setdefault("parent_id", None)
        custom_mine = json.loads(survivor["custom"] or "{}")
        custom_theirs = json.loads(other["custom"] or "{}")
        merged_custom = dict(custom_mine)
        labels = _field_labels(db, kind)
        for key, value in custom_theirs.items():
            if _empty(value) or value == []:
                continue
            label = labels.get(key, key)
            name = f"custom.{key}"
            current = custom_mine.get(key)
            if _empty(current) or current == []:
                merged_custom[key] = value
                fields.append(FieldMerge(name, label, "", _text(value), _text(value), False, OTHER))
            elif current == value:
                continue
            elif isinstance(current, list) and isinstance(value, list):
                merged_custom[key] = sorted({*map(str, current), *map(str, value)})
                fields.append(
                    FieldMerge(
                        name,
                        label,
                        _text(current),
                        _text(value),
                        _text(merged_custom[key]),
                        False,
                        "both",
                    )
                )
            else:
                taken = choices.get(name, SURVIVOR)
                if taken == OTHER:
                    merged_custom[key] = value
                lost.append(f"{label}: {_text(current if taken == OTHER else value)}")
                fields.append(
                    FieldMerge(
                        name,
                        label,
                        _text(current),
                        _text(value),
                        _text(merged_custom[key]),
                        True,
                        taken,
                    )
                )
        if merged_custom != custom_mine:
            updates["custom"] = json.dumps(merged_custom, ensure_ascii=False)
        about = str(survivor["about"] or "")
        other_about = str(other["about"] or "").strip()
        if other_about and other_about not in about:
            about = f"{about}\n\n{other_about}" if about else other_about
        other_name = _name(kind, other)
        if lost:
            day = self.clock.now().date().isoformat()
            block = f"Merged with {other_name} on {day}. " + "; ".join(lost) + "."
            about = f"{about}\n\n{block}" if about else block
        if about != (survivor["about"] or ""):
            updates["about"] = about
        primary_company = None
        if kind == "person":
            primary_company = updates.get("company_id", survivor["company_id"])
        return _Plan(fields, updates, lost, about, primary_company)

    def _moves(
        self, db: sqlite3.Connection, kind: str, other_id: str, survivor_id: str
    ) -> dict[str, int]:
        def count(sql: str, *params: Any) -> int:
            return int(db.execute(sql, params).fetchone()[0])

        live = "deleted_at IS NULL"
        moves: dict[str, int] = {}
        column = "person_id" if kind == "person" else "company_id"
        if kind == "person":
            moves["e-mail addresses"] = count(
                """SELECT count(*) FROM person_email WHERE person_id = ? AND address NOT IN
                   (SELECT address FROM person_email WHERE person_id = ?)""",
                other_id,
                survivor_id,
            )
            moves["phone numbers"] = count(
                """SELECT count(*) FROM person_phone WHERE person_id = ? AND number NOT IN
                   (SELECT number FROM person_phone WHERE person_id = ?)""",
                other_id,
                survivor_id,
            )
            moves["postal addresses"] = count(
                "SELECT count(*) FROM person_address WHERE person_id = ?", other_id
            )
            moves["affiliations"] = count(
                f"SELECT count(*) FROM affiliation WHERE person_id = ? AND {live}", other_id
            )
            moves["deals"] = count("SELECT count(*) FROM deal_person WHERE person_id = ?", other_id)
        else:
            moves["domains"] = count(
                """SELECT count(*) FROM company_domain WHERE company_id = ? AND domain NOT IN
                   (SELECT domain FROM company_domain WHERE company_id = ?)""",
                other_id,
                survivor_id,
            )
            moves["people"] = count(
                f"SELECT count(*) FROM person WHERE company_id = ? AND {live}", other_id
            )
            moves["affiliations"] = count(
                f"SELECT count(*) FROM affiliation WHERE company_id = ? AND {live}", other_id
            )
            moves["deals"] = count(
                f"SELECT count(*) FROM deal WHERE company_id = ? AND {live}", other_id
            )
            moves["subsidiaries"] = count(
                f"SELECT count(*) FROM company WHERE parent_id = ? AND id != ? AND {live}",
                other_id,
                survivor_id,
            )
        moves["interactions"] = count(
            """SELECT count(*) FROM interaction_link WHERE entity_id = ? AND interaction_id NOT IN
               (SELECT interaction_id FROM interaction_link WHERE entity_id = ?)""",
            other_id,
            survivor_id,
        )
        for table, label in (("note", "notes"), ("task", "tasks"), ("feedback", "feedback")):
            moves[label] = count(
                f"SELECT count(*) FROM {table} WHERE {column} = ? AND {live}", other_id
            )
        moves["tags"] = count(
            """SELECT count(*) FROM entity_tag WHERE entity_id = ? AND tag_id NOT IN
               (SELECT tag_id FROM entity_tag WHERE entity_id = ?)""",
            other_id,
            survivor_id,
        )
        return moves

    # ------------------------------------------------------------------ merging
    def _merge_person(
        self,
        raw: sqlite3.Connection,
        journal: _Journal,
        survivor: dict[str, Any],
        other: dict[str, Any],
        plan: _Plan,
    ) -> None:
        keep, gone = survivor["id"], other["id"]
        if plan.updates:
            journal.update("person", {"id": keep}, plan.updates)
        _move_children(raw, journal, "person_email", "person_id", keep, gone, ("address",))
        _move_children(raw, journal, "person_phone", "person_id", keep, gone, ("number",))
        _move_children(
            raw,
            journal,
            "person_address",
            "person_id",
            keep,
            gone,
            ("label", "street", "locality", "region", "postcode", "country"),
        )
        journal.move("affiliation", "person_id", gone, keep, "id")
        # One current employer: open primary affiliations elsewhere become secondary.
        for ident, company_id in raw.execute(
            """SELECT id, company_id FROM affiliation WHERE person_id = ? AND is_primary = 1
               AND end_date IS NULL AND deleted_at IS NULL""",
            (keep,),
        ).fetchall():
            if company_id != plan.primary_company:
                journal.update("affiliation", {"id": ident}, {"is_primary": 0})
        for deal_id, role in raw.execute(
            "SELECT deal_id, role FROM deal_person WHERE person_id = ?", (gone,)
        ).fetchall():
            mine = raw.execute(
                "SELECT role FROM deal_person WHERE deal_id = ? AND person_id = ?",
                (deal_id, keep),
            ).fetchone()
            if mine is None:
                journal.update(
                    "deal_person", {"deal_id": deal_id, "person_id": gone}, {"person_id": keep}
                )
            else:
                if role and role != mine[0]:
                    merged_role = f"{mine[0]}, {role}" if mine[0] else role
                    journal.update(
                        "deal_person",
                        {"deal_id": deal_id, "person_id": keep},
                        {"role": merged_role[:100]},
                    )
                journal.delete("deal_person", {"deal_id": deal_id, "person_id": gone})
            journal.note_change("deal", deal_id, "people")
        journal.move("interaction_participant", "person_id", gone, keep, "id")
        self._move_common(raw, journal, "person", keep, gone)
        _repoint_person_refs(raw, journal, gone, keep)

    def _merge_company(
        self,
        raw: sqlite3.Connection,
        journal: _Journal,
        survivor: dict[str, Any],
        other: dict[str, Any],
        plan: _Plan,
    ) -> None:
        keep, gone = survivor["id"], other["id"]
        if plan.updates:
            journal.update("company", {"id": keep}, plan.updates)
        _move_children(raw, journal, "company_domain", "company_id", keep, gone, ("domain",))
        journal.move("person", "company_id", gone, keep, "id")
        journal.move("affiliation", "company_id", gone, keep, "id")
        journal.move("deal", "company_id", gone, keep, "id")
        journal.move("company", "parent_id", gone, keep, "id")
        self._move_common(raw, journal, "company", keep, gone)

    def _move_common(
        self, raw: sqlite3.Connection, journal: _Journal, kind: str, keep: str, gone: str
    ) -> None:
        column = "person_id" if kind == "person" else "company_id"
        for table in ("task", "note", "feedback"):
            journal.move(table, column, gone, keep, "id")
        # Interaction links: one per interaction and entity.
        shared = [
            r[0]
            for r in raw.execute(
                """SELECT interaction_id FROM interaction_link WHERE entity_id = ?
                   AND interaction_id IN (SELECT interaction_id FROM interaction_link
                                          WHERE entity_id = ?)""",
                (gone, keep),
            )
        ]
        for interaction_id in shared:
            journal.delete(
                "interaction_link", {"interaction_id": interaction_id, "entity_id": gone}
            )
        journal.move("interaction_link", "entity_id", gone, keep, "interaction_id")
        # Tags, shares, link rules.
        tags = raw.execute(
            "SELECT tag_id FROM entity_tag WHERE entity_id = ? AND tag_id IN "
            "(SELECT tag_id FROM entity_tag WHERE entity_id = ?)",
            (gone, keep),
        ).fetchall()
        for (tag_id,) in tags:
            journal.delete("entity_tag", {"tag_id": tag_id, "entity_id": gone})
        if journal.move("entity_tag", "entity_id", gone, keep, "tag_id"):
            journal.note_change(kind, keep, "tags")
        has_share = raw.execute(
            "SELECT 1 FROM share WHERE entity_type = ? AND entity_id = ?", (kind, keep)
        ).fetchone()
        if has_share:
            journal.delete("share", {"entity_type": kind, "entity_id": gone})
        else:
            journal.move("share", "entity_id", gone, keep, "entity_type")
        journal.move("link_rule", "entity_id", gone, keep, "id")

    # ------------------------------------------------------------------ after
    def _finish(
        self,
        raw: sqlite3.Connection,
        journal: _Journal,
        kind: str,
        survivor_id: str,
        other_id: str,
        now_ms: int,
        survivor: dict[str, Any],
        other: dict[str, Any],
    ) -> None:
        """Versions, outbox, search documents, people counts and touch statistics."""
        journal.note_change(kind, survivor_id, "merge")
        journal.note_change(kind, other_id, "deleted_at")
        for table, ids in journal.touched.items():
            for ident, columns in ids.items():
                row = raw.execute(
                    f"SELECT version, deleted_at FROM {table} WHERE id = ?", (ident,)
                ).fetchone()
                if row is None:
                    continue
                raw.execute(
                    f"UPDATE {table} SET version = version + 1, updated_at = ? WHERE id = ?",
                    (now_ms, ident),
                )
                op = "delete" if row[1] is not None else "upsert"
                fold_outbox(raw, table, ident, op, row[0], sorted(columns), now_ms)
        companies = (
            {c for c in (survivor.get("company_id"), other.get("company_id")) if c}
            if kind == "person"
            else {survivor_id, other_id}
        )
        people: set[str] = set(journal.touched.get("person", {}))
        if kind == "person":
            people |= {survivor_id, other_id}
            current = raw.execute(
                "SELECT company_id FROM person WHERE id = ?", (survivor_id,)
            ).fetchone()
            if current and current[0]:
                companies.add(current[0])
        for company_id in companies:
            raw.execute(
                """UPDATE company SET people_count = (SELECT count(*) FROM person
                   WHERE company_id = ? AND deleted_at IS NULL) WHERE id = ?""",
                (company_id, company_id),
            )
        if kind == "company":
            search_index.refresh(raw, "company", [survivor_id, other_id])
            people |= set(search_index.people_of_companies(raw, [survivor_id, other_id]))
            deals = [
                r[0]
                for r in raw.execute(
                    "SELECT id FROM deal WHERE company_id IN (?, ?)", (survivor_id, other_id)
                )
            ]
            search_index.refresh(raw, "deal", deals)
        search_index.refresh(raw, "person", people)
        # Statistics follow the links; entities never scored and whose links did not move
        # keep their (empty) statistics, so an undo leaves them exactly as they were.
        candidates = {survivor_id, other_id, *companies}
        if not journal.links_changed:
            candidates = {
                ident
                for ident in candidates
                if raw.execute(
                    "SELECT 1 FROM person WHERE id = ? AND scored_at IS NOT NULL UNION ALL "
                    "SELECT 1 FROM company WHERE id = ? AND scored_at IS NOT NULL",
                    (ident, ident),
                ).fetchone()
            }
        touch.refresh(raw, candidates, now_ms)


# ----------------------------------------------------------------------- helpers


def _row(db: sqlite3.Connection, kind: str, ident: str) -> dict[str, Any] | None:
    cursor = db.execute(f"SELECT * FROM {kind} WHERE id = ?", (ident,))
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def _name(kind: str, row: Mapping[str, Any]) -> str:
    return str(row["display_name"] if kind == "person" else row["name"])


def _unscored(
    raw: sqlite3.Connection, kind: str, survivor: Mapping[str, Any], other: Mapping[str, Any]
) -> set[str]:
    """Entities whose touch statistics were never computed (undo leaves them so)."""
    found = {row["id"] for row in (survivor, other) if row["scored_at"] is None}
    if kind == "person":
        for company_id in {survivor["company_id"], other["company_id"]} - {None}:
            row = raw.execute(
                "SELECT scored_at FROM company WHERE id = ?", (company_id,)
            ).fetchone()
            if row is not None and row[0] is None:
                found.add(company_id)
    return found


def _blank(key: str, values: tuple[Any, ...]) -> bool:
    if key == "values":  # (currency, current, potential): a currency alone is no value
        return values[1] is None and values[2] is None
    return all(_empty(v) for v in values)


def _same(key: str, mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> bool:
    if key == "name":
        return comparison_key(str(mine[0] or "")) == comparison_key(str(theirs[0] or ""))
    return mine == theirs


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _company_shown(db: sqlite3.Connection, company_id: str | None) -> str:
    """A linked company by name; one deleted since is marked so (the merge keeps the link
    it picks, and the rep should see that it points at a deleted company)."""
    if not company_id:
        return ""
    found = db.execute(
        "SELECT name, deleted_at IS NOT NULL FROM company WHERE id = ?", (company_id,)
    ).fetchone()
    if found is None:
        return ""
    return f"{found[0]} (deleted)" if found[1] else str(found[0])


def _show(db: sqlite3.Connection, kind: str, key: str, row: Mapping[str, Any]) -> str:
    """A field's value as the rep reads it."""
    if key == "name":
        return _name(kind, row)
    if key in ("company", "parent"):
        return _company_shown(db, row["company_id" if key == "company" else "parent_id"])
    if key == "photo":
        return f"photo ({len(row['photo']) // 1024 + 1} KB)" if row["photo"] else ""
    if key == "values":
        if row["current_value_minor"] is None and row["potential_value_minor"] is None:
            return ""
        current = format_money(row["current_value_minor"], row["currency"]) or "–"
        potential = format_money(row["potential_value_minor"], row["currency"]) or "–"
        return f"{current} now, {potential} potential"
    if key == "snoozed_until":
        value = row["snoozed_until"]
        return "" if value is None else from_millis(value).date().isoformat()
    columns = {
        "title": "title",
        "birthday": "birthday",
        "cadence_days": "cadence_days",
        "website": "website",
        "industry": "industry",
        "employees": "employees",
    }
    return _text(row[columns[key]])


def _field_labels(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT key, label FROM custom_field_def WHERE entity_type = ?", (kind,)
        )
    }


def _move_children(
    raw: sqlite3.Connection,
    journal: _Journal,
    table: str,
    column: str,
    keep: str,
    gone: str,
    identity: tuple[str, ...],
) -> None:
    """Move child rows (e-mails, phones…) after the survivor's; a value both hold stays once."""
    cols = ", ".join(identity)
    mine = {
        tuple(r) for r in raw.execute(f"SELECT {cols} FROM {table} WHERE {column} = ?", (keep,))
    }
    position = raw.execute(
        f"SELECT coalesce(max(position) + 1, 0) FROM {table} WHERE {column} = ?", (keep,)
    ).fetchone()[0]
    for row in raw.execute(
        f"SELECT id, {cols} FROM {table} WHERE {column} = ? ORDER BY position, id", (gone,)
    ).fetchall():
        ident, values = row[0], tuple(row[1:])
        if values in mine:
            journal.delete(table, {"id": ident})
            continue
        journal.update(table, {"id": ident}, {column: keep, "position": position})
        mine.add(values)
        position += 1
    parent = "person" if column == "person_id" else "company"
    journal.note_change(parent, keep, _CHILD_FIELD[table])


def _repoint_person_refs(raw: sqlite3.Connection, journal: _Journal, gone: str, keep: str) -> None:
    """Custom fields of type 'person ref' that point at the merged person."""
    for entity_type, key in raw.execute(
        "SELECT entity_type, key FROM custom_field_def WHERE field_type = 'person_ref' "
        "AND deleted_at IS NULL"
    ).fetchall():
        for ident, custom in raw.execute(
            f"SELECT id, custom FROM {entity_type} WHERE {custom_value_sql('custom', key)} = ?",
            (gone,),
        ).fetchall():
            values = json.loads(custom)
            values[key] = keep
            journal.update(
                entity_type, {"id": ident}, {"custom": json.dumps(values, ensure_ascii=False)}
            )
