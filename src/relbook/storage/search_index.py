"""Keeps the small full-text indexes (people, companies, deals, notes) in step.

The interaction index is maintained by triggers (see ``search_ddl``); these documents are
composed from several tables, so the storage layer refreshes them for the rows a
transaction touched (``storage.session`` calls ``refresh`` after every flush; bulk paths
call it themselves).

A person's and a deal's document carry their company's name while the company is live: a
deleted company's name is not searchable through its people and deals, so deleting or
restoring a company refreshes their documents too (``dependents_of_companies``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from relbook.storage.search_ddl import FTS_TABLES

_BATCH = 500

# The rep's own text-like fields are part of a document's "extra" words (numbers, money,
# dates and person references are filtered, not searched).
SEARCHED_FIELD_TYPES = ("text", "choice", "multi_choice", "url")
_CUSTOM = (
    """coalesce((SELECT group_concat(e.value, ' ') FROM json_each({a}.custom) e
                 JOIN custom_field_def f ON f.entity_type = '{kind}' AND f.key = e.key
                 AND f.deleted_at IS NULL AND f.field_type IN ("""
    + ", ".join(f"'{t}'" for t in SEARCHED_FIELD_TYPES)
    + ")), '')"
)

_DOCUMENTS: dict[str, str] = {
    "person": """
        SELECT p.rowid, p.display_name,
               (SELECT group_concat(address, ' ') FROM person_email WHERE person_id = p.id),
               coalesce(c.name, ''), p.title,
               trim(coalesce((SELECT group_concat(t.name, ' ') FROM entity_tag et
                              JOIN tag t ON t.id = et.tag_id WHERE et.entity_id = p.id), '')
                    || ' ' ||
                    coalesce((SELECT group_concat(number, ' ') FROM person_phone
                              WHERE person_id = p.id), '')
                    || ' ' || """
    + _CUSTOM.format(a="p", kind="person")
    + """)
        FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
        WHERE p.deleted_at IS NULL AND p.id IN ({ids})""",
    "company": """
        SELECT c.rowid, c.name,
               (SELECT group_concat(domain, ' ') FROM company_domain WHERE company_id = c.id),
               trim(c.industry || ' ' || c.website || ' ' ||
                    coalesce((SELECT group_concat(t.name, ' ') FROM entity_tag et
                              JOIN tag t ON t.id = et.tag_id WHERE et.entity_id = c.id), '')
                    || ' ' || """
    + _CUSTOM.format(a="c", kind="company")
    + """)
        FROM company c WHERE c.deleted_at IS NULL AND c.id IN ({ids})""",
    "deal": """
        SELECT d.rowid, d.title, coalesce(c.name, ''),
               trim(coalesce((SELECT group_concat(value, ' ') FROM json_each(d.competitors)), '')
                    || ' ' || d.lost_reason || ' ' || """
    + _CUSTOM.format(a="d", kind="deal")
    + """)
        FROM deal d LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
        WHERE d.deleted_at IS NULL AND d.id IN ({ids})""",
    "note": """
        SELECT n.rowid, n.body FROM note n WHERE n.deleted_at IS NULL AND n.id IN ({ids})""",
}

_COLUMNS: dict[str, str] = {
    "person": "rowid, name, emails, company, title, extra",
    "company": "rowid, name, domains, extra",
    "deal": "rowid, title, company, extra",
    "note": "rowid, body",
}

INDEXED_KINDS: tuple[str, ...] = tuple(_DOCUMENTS)


def _batches(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def refresh(connection: sqlite3.Connection, kind: str, ids: Iterable[str]) -> None:
    """Re-index the given rows of ``kind`` (deleted or missing rows leave the index)."""
    table = FTS_TABLES[kind]
    unique = sorted(set(ids))
    for batch in _batches(unique):
        marks = ",".join("?" * len(batch))
        connection.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {kind} WHERE id IN ({marks}))",
            batch,
        )
        connection.execute(
            f"INSERT INTO {table}({_COLUMNS[kind]}) " + _DOCUMENTS[kind].format(ids=marks),
            batch,
        )


def _of_companies(
    connection: sqlite3.Connection, table: str, company_ids: Iterable[str]
) -> list[str]:
    ids = sorted(set(company_ids))
    found: list[str] = []
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        found += [
            row[0]
            for row in connection.execute(
                f"SELECT id FROM {table} WHERE company_id IN ({marks})", batch
            )
        ]
    return found


def people_of_companies(connection: sqlite3.Connection, company_ids: Iterable[str]) -> list[str]:
    return _of_companies(connection, "person", company_ids)


def dependents_of_companies(
    connection: sqlite3.Connection, company_ids: Iterable[str]
) -> dict[str, list[str]]:
    """The people and deals whose documents carry these companies' names (a rename, a
    delete or a restore of a company changes what finds them)."""
    ids = sorted(set(company_ids))
    return {
        "person": _of_companies(connection, "person", ids),
        "deal": _of_companies(connection, "deal", ids),
    }


def rebuild(connection: sqlite3.Connection) -> None:
    """Drop and recompose every index (``relbook doctor --repair``)."""
    for kind in INDEXED_KINDS:
        connection.execute(f"DELETE FROM {FTS_TABLES[kind]}")
        connection.execute(
            f"INSERT INTO {FTS_TABLES[kind]}({_COLUMNS[kind]}) "
            + _DOCUMENTS[kind].format(ids=f"SELECT id FROM {kind}")
        )
    connection.execute("INSERT INTO fts_interaction(fts_interaction) VALUES ('rebuild')")


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    problems: list[str] = []
    for kind, table in FTS_TABLES.items():
        try:
            connection.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(f"search index for {kind}: {error}")
    for kind in INDEXED_KINDS:
        live = connection.execute(
            f"SELECT count(*) FROM {kind} WHERE deleted_at IS NULL"
        ).fetchone()[0]
        indexed = connection.execute(f"SELECT count(*) FROM {FTS_TABLES[kind]}").fetchone()[0]
        if live != indexed:
            problems.append(f"search index for {kind}: {indexed} entries for {live} rows")
    return problems
