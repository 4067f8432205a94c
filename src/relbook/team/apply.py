"""Writing team values into the book without echoing them back.

Rows pulled from the team server are written with raw SQL inside the caller's write
transaction: no outbox row is folded for them (they came from the server), while the
book's own bookkeeping is done as the unit of work would (``version``/``updated_at``
bumped so an open editor notices, search documents, touch statistics, people counts).

A value that refers to a row this book does not have yet is stored empty; ``fix_references``
fills it in once that row arrives. A row whose *required* reference is missing (a deal
without its stage) is not written until it can be.

Teammates' interactions land with ``source = 'team'`` and links that do not count as the
rep's own touches: a colleague's e-mail is not the rep's relationship.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from relbook.domain.names import comparison_key
from relbook.storage import search_index, sequence, touch
from relbook.team.spec import BOOL, CHILDREN, JSON, REF, REF_LIST, SPECS, FieldSpec

_DEFAULTS: dict[str, dict[str, Any]] = {}


def _table_defaults(table: str) -> dict[str, Any]:
    """Python-side defaults of the NOT NULL columns (the models' ``default=``)."""
    if table not in _DEFAULTS:
        from relbook.storage.models import Base

        defaults: dict[str, Any] = {}
        for column in Base.metadata.tables[table].columns:
            if column.nullable or column.server_default is not None or column.default is None:
                continue
            arg = column.default.arg  # type: ignore[attr-defined]
            defaults[column.name] = arg(None) if callable(arg) else arg
        _DEFAULTS[table] = defaults
    return _DEFAULTS[table]


def field_default(entity_type: str, field: FieldSpec) -> Any:
    """What an absent field means locally (the column's default; children: none)."""
    if field.kind in (CHILDREN, REF_LIST):
        return []
    return _table_defaults(SPECS[entity_type].table).get(field.name)


def _to_column(field: FieldSpec, value: Any) -> Any:
    if field.kind == BOOL:
        return None if value is None else int(bool(value))
    if field.kind == JSON:
        return json.dumps(value if value is not None else {})
    return value


class LocalWriter:
    """Applies team values inside one write transaction; ``finish()`` before commit."""

    def __init__(self, conn: sqlite3.Connection, now_ms: int, team_set: set[str]) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self.team_set = team_set
        self.reindex: dict[str, set[str]] = {}
        self.touch_entities: set[str] = set()
        self.count_companies: set[str] = set()
        self.inserted: set[str] = set()
        self._exists: dict[str, bool] = {}

    # ------------------------------------------------------------------- lookups
    def exists(self, entity_type: str, entity_id: str | None) -> bool:
        if not entity_id:
            return False
        if entity_id not in self._exists:
            table = SPECS[entity_type].table
            row = self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (entity_id,)).fetchone()
            self._exists[entity_id] = row is not None
        return self._exists[entity_id]

    def local_state(self, entity_type: str, entity_id: str) -> str:
        """'absent', 'live' or 'deleted'."""
        table = SPECS[entity_type].table
        row = self.conn.execute(
            f"SELECT deleted_at FROM {table} WHERE id = ?", (entity_id,)
        ).fetchone()
        if row is None:
            return "absent"
        return "live" if row[0] is None else "deleted"

    def _resolve(self, field: FieldSpec, value: Any) -> Any:
        assert field.ref is not None
        return value if value is not None and self.exists(field.ref, value) else None

    # --------------------------------------------------------------------- writes
    def insert(self, entity_type: str, entity_id: str, data: dict[str, Any]) -> bool:
        """Create a teammate's row; False when a required reference is not here yet."""
        spec = SPECS[entity_type]
        values: dict[str, Any] = dict(_table_defaults(spec.table))
        for field in spec.fields:
            if field.kind in (CHILDREN, REF_LIST):
                continue
            value = data.get(field.name, field_default(entity_type, field))
            if field.kind == REF:
                value = self._resolve(field, value)
                if value is None and field.required:
                    return False
            values[field.name] = _to_column(field, value)
        values.update(
            id=entity_id,
            created_at=self.now_ms,
            updated_at=self.now_ms,
            version=1,
            deleted_at=None,
        )
        if entity_type in ("person", "company"):
            values["origin"] = "team"
            values["name_key"] = comparison_key(
                str(values["display_name"] if entity_type == "person" else values["name"])
            )
        if entity_type == "note":
            values["private"] = 0
        if entity_type == "interaction":
            values["source"] = "team"
            values["privacy"] = "full" if data.get("body") else "headers"
            wanted = sequence.base_seq(int(values["occurred_at"]), entity_id)
            values["seq"] = sequence.assign(self.conn, [wanted])[0]
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        self.conn.execute(
            f"INSERT INTO {spec.table} ({columns}) VALUES ({marks})", list(values.values())
        )
        self._exists[entity_id] = True
        self.inserted.add(entity_id)
        self._children(entity_type, entity_id, data, received=True)
        self._after_change(entity_type, entity_id, set(data) | {"*"})
        return True

    def update(
        self, entity_type: str, entity_id: str, updates: dict[str, Any], *, received: bool
    ) -> None:
        """Write these travelling fields (a pulled change, or the rep's own resolution)."""
        if not updates:
            return
        spec = SPECS[entity_type]
        sets: dict[str, Any] = {}
        for name, value in updates.items():
            field = spec.field(name)
            if field.kind in (CHILDREN, REF_LIST):
                continue
            resolved = self._resolve(field, value) if field.kind == REF else value
            if field.kind == REF and resolved is None and field.required:
                continue  # cannot point at a row this book lacks; keep the current one
            sets[name] = _to_column(field, resolved)
        if entity_type == "person" and "display_name" in sets:
            sets["name_key"] = comparison_key(str(sets["display_name"] or ""))
        if entity_type == "company" and "name" in sets:
            sets["name_key"] = comparison_key(str(sets["name"] or ""))
        if entity_type == "person" and "company_id" in sets:
            old = self.conn.execute(
                "SELECT company_id FROM person WHERE id = ?", (entity_id,)
            ).fetchone()
            self.count_companies |= {c for c in (old[0] if old else None, sets["company_id"]) if c}
        assignments = ", ".join(f"{name} = ?" for name in sets)
        prefix = f"{assignments}, " if assignments else ""
        self.conn.execute(
            f"UPDATE {spec.table} SET {prefix}version = version + 1, updated_at = ? WHERE id = ?",
            [*sets.values(), self.now_ms, entity_id],
        )
        self._children(entity_type, entity_id, updates, received=received)
        self._after_change(entity_type, entity_id, set(updates))

    def set_deleted(self, entity_type: str, entity_id: str, deleted: bool) -> None:
        table = SPECS[entity_type].table
        if deleted:
            self.conn.execute(
                f"""UPDATE {table} SET deleted_at = ?, version = version + 1, updated_at = ?
                    WHERE id = ? AND deleted_at IS NULL""",
                (self.now_ms, self.now_ms, entity_id),
            )
        else:
            self.conn.execute(
                f"""UPDATE {table} SET deleted_at = NULL, version = version + 1, updated_at = ?
                    WHERE id = ? AND deleted_at IS NOT NULL""",
                (self.now_ms, entity_id),
            )
        self._after_change(entity_type, entity_id, {"*"})

    # ------------------------------------------------------------------ children
    def _children(
        self, entity_type: str, entity_id: str, data: dict[str, Any], *, received: bool
    ) -> None:
        c = self.conn
        if entity_type == "company" and "domains" in data:
            c.execute("DELETE FROM company_domain WHERE company_id = ?", (entity_id,))
            c.executemany(
                "INSERT INTO company_domain (company_id, domain, position) VALUES (?, ?, ?)",
                [(entity_id, d, i) for i, d in enumerate(data["domains"] or [])],
            )
        if entity_type == "person":
            if "emails" in data:
                c.execute("DELETE FROM person_email WHERE person_id = ?", (entity_id,))
                c.executemany(
                    """INSERT INTO person_email (person_id, address, label, position)
                       VALUES (?, ?, ?, ?)""",
                    [(entity_id, e[0], e[1], i) for i, e in enumerate(data["emails"] or [])],
                )
            if "phones" in data:
                c.execute("DELETE FROM person_phone WHERE person_id = ?", (entity_id,))
                c.executemany(
                    """INSERT INTO person_phone (person_id, number, label, position)
                       VALUES (?, ?, ?, ?)""",
                    [(entity_id, p[0], p[1], i) for i, p in enumerate(data["phones"] or [])],
                )
            if "addresses" in data:
                c.execute("DELETE FROM person_address WHERE person_id = ?", (entity_id,))
                c.executemany(
                    """INSERT INTO person_address (person_id, label, street, locality, region,
                       postcode, country, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    [(entity_id, *a[:6], i) for i, a in enumerate(data["addresses"] or [])],
                )
        if entity_type == "deal" and "people" in data:
            self._deal_people(entity_id, data["people"] or [])
        if entity_type == "interaction":
            if "participants" in data:
                c.execute(
                    "DELETE FROM interaction_participant WHERE interaction_id = ?", (entity_id,)
                )
                c.executemany(
                    """INSERT INTO interaction_participant (interaction_id, role, address, name)
                       VALUES (?, ?, ?, ?)""",
                    [(entity_id, p[0], p[1], p[2]) for p in data["participants"] or []],
                )
            if "links" in data:
                self._links(entity_id, data["links"] or [], received=received)
            elif {"occurred_at", "kind", "direction", "status"} & set(data):
                self._refresh_link_copies(entity_id, received=received)

    def _deal_people(self, deal_id: str, remote: list[Any]) -> None:
        current = self.conn.execute(
            "SELECT person_id, role FROM deal_person WHERE deal_id = ?", (deal_id,)
        ).fetchall()
        keep = {p: r for p, r in current if p not in self.team_set}
        wanted = {e[0]: e[1] for e in remote if self.exists("person", e[0])}
        self.conn.execute("DELETE FROM deal_person WHERE deal_id = ?", (deal_id,))
        self.conn.executemany(
            "INSERT INTO deal_person (deal_id, person_id, role) VALUES (?, ?, ?)",
            [(deal_id, p, r) for p, r in {**keep, **wanted}.items()],
        )

    def _links(self, interaction_id: str, remote: list[Any], *, received: bool) -> None:
        row = self.conn.execute(
            "SELECT occurred_at, kind, direction, status FROM interaction WHERE id = ?",
            (interaction_id,),
        ).fetchone()
        if row is None:
            return
        occurred, kind, direction, status = row
        current = self.conn.execute(
            "SELECT entity_id, entity_type, excluded FROM interaction_link WHERE interaction_id = ?",
            (interaction_id,),
        ).fetchall()
        current_ids = {r[0] for r in current}
        wanted = {e[1]: e[0] for e in remote if e[0] in SPECS and self.exists(str(e[0]), str(e[1]))}
        gone = [r[0] for r in current if r[2] == 0 and r[0] in self.team_set and r[0] not in wanted]
        for entity_id in gone:
            self.conn.execute(
                "DELETE FROM interaction_link WHERE interaction_id = ? AND entity_id = ?",
                (interaction_id, entity_id),
            )
        is_touch = 0 if received or kind == "note" or status == "cancelled" else 1
        added = [(e, t) for e, t in wanted.items() if e not in current_ids]
        self.conn.executemany(
            """INSERT INTO interaction_link (interaction_id, entity_id, entity_type, occurred_at,
                   kind, direction, origin, reason, excluded, is_touch)
               VALUES (?, ?, ?, ?, ?, ?, 'auto', 'shared by the team', 0, ?)""",
            [(interaction_id, e, t, occurred, kind, direction, is_touch) for e, t in added],
        )
        self.touch_entities |= set(gone) | {e for e, _t in added}
        self._refresh_link_copies(interaction_id, received=received)

    def _refresh_link_copies(self, interaction_id: str, *, received: bool) -> None:
        row = self.conn.execute(
            "SELECT occurred_at, kind, direction, status FROM interaction WHERE id = ?",
            (interaction_id,),
        ).fetchone()
        if row is None:
            return
        occurred, kind, direction, status = row
        counts = 0 if received or kind == "note" or status == "cancelled" else 1
        self.conn.execute(
            """UPDATE interaction_link SET occurred_at = ?, kind = ?, direction = ?,
                      is_touch = CASE WHEN origin = 'auto' AND reason = 'shared by the team'
                                      THEN ? ELSE is_touch END
               WHERE interaction_id = ?""",
            (occurred, kind, direction, counts, interaction_id),
        )
        self.touch_entities |= {
            r[0]
            for r in self.conn.execute(
                "SELECT entity_id FROM interaction_link WHERE interaction_id = ?",
                (interaction_id,),
            )
        }

    # -------------------------------------------------------------- bookkeeping
    def _after_change(self, entity_type: str, entity_id: str, fields: set[str]) -> None:
        if entity_type in search_index.INDEXED_KINDS:
            self.reindex.setdefault(entity_type, set()).add(entity_id)
        if entity_type == "company" and ({"name", "*"} & fields):
            # People's and deals' documents carry the name of their live company.
            for kind, ids in search_index.dependents_of_companies(self.conn, [entity_id]).items():
                self.reindex.setdefault(kind, set()).update(ids)
        if entity_type == "person" and "*" in fields:
            row = self.conn.execute(
                "SELECT company_id FROM person WHERE id = ?", (entity_id,)
            ).fetchone()
            if row and row[0]:
                self.count_companies.add(row[0])
        if entity_type == "interaction" and "*" in fields:
            self.touch_entities |= {
                r[0]
                for r in self.conn.execute(
                    "SELECT entity_id FROM interaction_link WHERE interaction_id = ?",
                    (entity_id,),
                )
            }

    def finish(self) -> None:
        for kind, ids in self.reindex.items():
            search_index.refresh(self.conn, kind, ids)
        if self.count_companies:
            self.conn.executemany(
                """UPDATE company SET people_count = (SELECT count(*) FROM person p
                       WHERE p.company_id = company.id AND p.deleted_at IS NULL)
                   WHERE id = ?""",
                [(c,) for c in sorted(self.count_companies)],
            )
        if self.touch_entities:
            touch.refresh(self.conn, self.touch_entities, self.now_ms)
        self.reindex = {}
        self.count_companies = set()
        self.touch_entities = set()


# -------------------------------------------------------------- late references


def fix_references(writer: LocalWriter, arrived: Iterable[str]) -> None:
    """Fill in references that pointed at rows which have just arrived."""
    ids = json.dumps(sorted(set(arrived)))
    if ids == "[]":
        return
    conn = writer.conn
    for entity_type, spec in SPECS.items():
        for field in spec.fields:
            if field.kind == REF:
                rows = conn.execute(
                    f"""SELECT t.id, json_extract(r.data, '$.{field.name}')
                        FROM team_row r JOIN {spec.table} t ON t.id = r.entity_id
                        WHERE r.entity_type = ? AND r.state IN ('shared', 'received')
                          AND t.{field.name} IS NULL
                          AND json_extract(r.data, '$.{field.name}')
                              IN (SELECT value FROM json_each(?))""",
                    (entity_type, ids),
                ).fetchall()
                for row_id, value in rows:
                    writer.update(entity_type, row_id, {field.name: value}, received=True)
            elif field.kind == REF_LIST:
                rows = conn.execute(
                    f"""SELECT DISTINCT r.entity_id, json_extract(r.data, '$.{field.name}')
                        FROM team_row r, json_each(r.data, '$.{field.name}') e
                        WHERE r.entity_type = ? AND r.state IN ('shared', 'received')
                          AND json_extract(e.value, '$[{1 if entity_type == "interaction" else 0}]')
                              IN (SELECT value FROM json_each(?))""",
                    (entity_type, ids),
                ).fetchall()
                for row_id, value in rows:
                    if writer.exists(entity_type, row_id):
                        writer._children(
                            entity_type, row_id, {field.name: json.loads(value)}, received=True
                        )


def label_of(conn: sqlite3.Connection, entity_type: str, entity_id: str) -> str:
    spec = SPECS[entity_type]
    row = conn.execute(
        f"SELECT {spec.label_sql} FROM {spec.table} WHERE id = ?", (entity_id,)
    ).fetchone()
    return str(row[0]) if row and row[0] is not None else entity_type
