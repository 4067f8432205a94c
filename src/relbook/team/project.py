"""What the team sees: the closure of the rep's shares, and each row's projection.

**Closure.** A share is a root: a company, a person or a deal, with an interaction level.
A shared company brings its people (current employees), their affiliations there and its
deals; a deal brings its pipeline and that pipeline's stages; every shared person, company
or deal brings its notes (never a private one) and feedback, and the interactions linked to
it at the root's level (an interaction linked to several shared rows travels at the most
generous of their levels). Deleted rows are never in it. Rows received from the team are
in it only when the rep shares them explicitly (a root): sharing a teammate's company does
not re-share the teammate's people.

**Projection.** A row's travelling fields (``spec``), with references emptied when they
point at a row outside the *team set* (what the team server holds as far as this book
knows, plus the closure): no id of a private row leaves the laptop.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

from relbook.team.spec import (
    BOOL,
    CHILDREN,
    JSON,
    REF,
    REF_LIST,
    SPECS,
    FieldSpec,
    max_level,
)

Key = tuple[str, str]
# Which element of a REF_LIST entry is the referenced id.
REF_INDEX: dict[tuple[str, str], int] = {("deal", "people"): 0, ("interaction", "links"): 1}
NOTHING = "nothing"


def _json(ids: Iterable[str]) -> str:
    return json.dumps(sorted(set(ids)))


def _live(conn: sqlite3.Connection, table: str, ids: Iterable[str]) -> set[str]:
    wanted = _json(ids)
    return {
        r[0]
        for r in conn.execute(
            f"SELECT id FROM {table} WHERE deleted_at IS NULL "
            "AND id IN (SELECT value FROM json_each(?))",
            (wanted,),
        )
    }


def _raise(target: dict[str, str], key: str, level: str) -> None:
    target[key] = max_level(target[key], level) if key in target else level


def closure(
    conn: sqlite3.Connection,
    roots: Iterable[tuple[str, str, str]],
    received: Collection[str] = (),
) -> dict[Key, str]:
    """Every (type, id) that travels for these roots, with its interaction level."""
    companies: dict[str, str] = {}
    people: dict[str, str] = {}
    deals: dict[str, str] = {}
    wanted: dict[str, dict[str, str]] = {"company": {}, "person": {}, "deal": {}}
    for entity_type, entity_id, level in roots:
        if entity_type in wanted:
            _raise(wanted[entity_type], entity_id, level)
    for table, target in (("company", companies), ("person", people), ("deal", deals)):
        for entity_id in _live(conn, table, wanted[table]):
            target[entity_id] = wanted[table][entity_id]
    root_ids = set(companies) | set(people) | set(deals)

    def admit(entity_id: str) -> bool:
        return entity_id in root_ids or entity_id not in received

    company_json = _json(companies)
    for person_id, company_id in conn.execute(
        """SELECT id, company_id FROM person
           WHERE deleted_at IS NULL AND company_id IN (SELECT value FROM json_each(?))
           UNION
           SELECT a.person_id, a.company_id FROM affiliation a
           JOIN person p ON p.id = a.person_id
           WHERE a.deleted_at IS NULL AND a.end_date IS NULL AND p.deleted_at IS NULL
             AND a.company_id IN (SELECT value FROM json_each(?))""",
        (company_json, company_json),
    ):
        if admit(person_id):
            _raise(people, person_id, companies[company_id])
    for deal_id, company_id in conn.execute(
        """SELECT id, company_id FROM deal
           WHERE deleted_at IS NULL AND company_id IN (SELECT value FROM json_each(?))""",
        (company_json,),
    ):
        if admit(deal_id):
            _raise(deals, deal_id, companies[company_id])

    out: dict[Key, str] = {}
    out.update({("company", k): v for k, v in companies.items()})
    out.update({("person", k): v for k, v in people.items()})
    out.update({("deal", k): v for k, v in deals.items()})

    for affiliation_id, person_id in conn.execute(
        """SELECT id, person_id FROM affiliation
           WHERE deleted_at IS NULL AND person_id IN (SELECT value FROM json_each(?))
             AND company_id IN (SELECT value FROM json_each(?))""",
        (_json(people), company_json),
    ):
        if admit(affiliation_id):
            out[("affiliation", affiliation_id)] = people[person_id]

    pipelines: dict[str, str] = {}
    for pipeline_id, deal_id in conn.execute(
        """SELECT d.pipeline_id, d.id FROM deal d JOIN pipeline p ON p.id = d.pipeline_id
           WHERE d.id IN (SELECT value FROM json_each(?)) AND p.deleted_at IS NULL""",
        (_json(deals),),
    ):
        _raise(pipelines, pipeline_id, deals[deal_id])
    for pipeline_id, level in pipelines.items():
        if admit(pipeline_id):
            out[("pipeline", pipeline_id)] = level
    for stage_id, pipeline_id in conn.execute(
        """SELECT id, pipeline_id FROM stage
           WHERE deleted_at IS NULL AND pipeline_id IN (SELECT value FROM json_each(?))""",
        (_json(pipelines),),
    ):
        if admit(stage_id):
            out[("stage", stage_id)] = pipelines[pipeline_id]

    owners: dict[str, str] = {**companies, **people, **deals}
    owner_json = _json(owners)
    for table, private in (("note", "AND private = 0"), ("feedback", "")):
        for row_id, person_id, company_id, deal_id in conn.execute(
            f"""SELECT id, person_id, company_id, deal_id FROM {table}
                WHERE deleted_at IS NULL {private}
                  AND (person_id IN (SELECT value FROM json_each(?1))
                       OR company_id IN (SELECT value FROM json_each(?1))
                       OR deal_id IN (SELECT value FROM json_each(?1)))""",
            (owner_json,),
        ):
            if not admit(row_id):
                continue
            level = ""
            for owner in (person_id, company_id, deal_id):
                if owner in owners:
                    level = max_level(level, owners[owner]) if level else owners[owner]
            out[(table, row_id)] = level

    interactions: dict[str, str] = {}
    for interaction_id, entity_id in conn.execute(
        """SELECT l.interaction_id, l.entity_id FROM interaction_link l
           JOIN interaction i ON i.id = l.interaction_id
           WHERE l.excluded = 0 AND i.deleted_at IS NULL
             AND l.entity_id IN (SELECT value FROM json_each(?))""",
        (owner_json,),
    ):
        if admit(interaction_id):
            _raise(interactions, interaction_id, owners[entity_id])
    for interaction_id, level in interactions.items():
        if level != NOTHING:
            out[("interaction", interaction_id)] = level
    return out


def fingerprint(team_set: Iterable[str], closure_levels: dict[Key, str]) -> str:
    digest = hashlib.sha256()
    for entity_id in sorted(team_set):
        digest.update(entity_id.encode())
    for key in sorted(closure_levels):
        digest.update(f"{key[0]}:{key[1]}:{closure_levels[key]}".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------- reading local rows


def _columns(entity_type: str) -> list[FieldSpec]:
    return [f for f in SPECS[entity_type].fields if f.kind not in (CHILDREN, REF_LIST)]


def read_rows(
    conn: sqlite3.Connection, entity_type: str, ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Local values of the travelling fields (plus ``deleted_at``) of these rows."""
    spec = SPECS[entity_type]
    cols = _columns(entity_type)
    wanted = _json(ids)
    names = ", ".join(f.name for f in cols)
    rows: dict[str, dict[str, Any]] = {}
    for record in conn.execute(
        f"SELECT id, deleted_at, {names} FROM {spec.table} "
        "WHERE id IN (SELECT value FROM json_each(?))",
        (wanted,),
    ):
        values: dict[str, Any] = {"deleted_at": record[1]}
        for field, value in zip(cols, record[2:], strict=True):
            values[field.name] = _from_column(field, value)
        rows[record[0]] = values
    if rows:
        for name, children in _read_children(conn, entity_type, list(rows)).items():
            for row_id, values in rows.items():
                values[name] = children.get(row_id, [])
    return rows


def _from_column(field: FieldSpec, value: Any) -> Any:
    if field.kind == BOOL:
        return None if value is None else bool(value)
    if field.kind == JSON:
        return json.loads(value) if isinstance(value, str) else value
    return value


_CHILD_SQL: dict[tuple[str, str], str] = {
    ("company", "domains"): """SELECT company_id, domain FROM company_domain
        WHERE company_id IN (SELECT value FROM json_each(?)) ORDER BY company_id, position, id""",
    ("person", "emails"): """SELECT person_id, address, label FROM person_email
        WHERE person_id IN (SELECT value FROM json_each(?)) ORDER BY person_id, position, id""",
    ("person", "phones"): """SELECT person_id, number, label FROM person_phone
        WHERE person_id IN (SELECT value FROM json_each(?)) ORDER BY person_id, position, id""",
    ("person", "addresses"): """SELECT person_id, label, street, locality, region, postcode,
        country FROM person_address
        WHERE person_id IN (SELECT value FROM json_each(?)) ORDER BY person_id, position, id""",
    ("deal", "people"): """SELECT deal_id, person_id, role FROM deal_person
        WHERE deal_id IN (SELECT value FROM json_each(?)) ORDER BY deal_id, person_id""",
    ("interaction", "participants"): """SELECT interaction_id, role, address, name
        FROM interaction_participant
        WHERE interaction_id IN (SELECT value FROM json_each(?)) ORDER BY interaction_id, id""",
    ("interaction", "links"): """SELECT interaction_id, entity_type, entity_id
        FROM interaction_link WHERE excluded = 0
          AND interaction_id IN (SELECT value FROM json_each(?))
        ORDER BY interaction_id, entity_type, entity_id""",
}


def _read_children(
    conn: sqlite3.Connection, entity_type: str, ids: list[str]
) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    wanted = _json(ids)
    for field in SPECS[entity_type].fields:
        if field.kind not in (CHILDREN, REF_LIST):
            continue
        by_row: dict[str, list[Any]] = {}
        for record in conn.execute(_CHILD_SQL[(entity_type, field.name)], (wanted,)):
            value: Any = record[1] if len(record) == 2 else list(record[1:])
            by_row.setdefault(record[0], []).append(value)
        out[field.name] = by_row
    return out


# -------------------------------------------------------------------------- projection


def normalize(entity_type: str, field: FieldSpec, value: Any, team_set: Collection[str]) -> Any:
    """The value as this book can show it to the team: references outside the team set
    become empty (so a reference this book cannot resolve never counts as a change)."""
    if field.kind == REF:
        return value if value in team_set else None
    if field.kind == REF_LIST:
        index = REF_INDEX[(entity_type, field.name)]
        entries = [list(e) for e in (value or []) if e[index] in team_set]
        return sorted(entries)
    return value


def project(
    entity_type: str,
    values: dict[str, Any],
    team_set: Collection[str],
    *,
    level: str | None = None,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """The travelling fields of one local row (``level``: interactions' share level;
    ``only``: restrict to the fields the server row has — a teammate's row)."""
    spec = SPECS[entity_type]
    names = spec.names_at(level) if level and entity_type == "interaction" else spec.names
    if only is not None:
        names = tuple(n for n in names if n in only)
    return {n: normalize(entity_type, spec.field(n), values.get(n), team_set) for n in names}


def live_tracked(
    conn: sqlite3.Connection, tracked: dict[Key, Any], states: Collection[str]
) -> set[str]:
    """Ids of tracked rows in ``states`` whose local row exists and is not deleted."""
    by_type: dict[str, list[str]] = {}
    for (entity_type, entity_id), row in tracked.items():
        if row.state in states:
            by_type.setdefault(entity_type, []).append(entity_id)
    live: set[str] = set()
    for entity_type, ids in by_type.items():
        live |= _live(conn, SPECS[entity_type].table, ids)
    return live
