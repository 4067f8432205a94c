"""The write path: a SQLAlchemy engine and a unit of work that keeps derived state in step.

Every flush, whatever service made it:
- stamps ``created_at``/``updated_at`` and bumps ``version`` on shareable rows;
- folds one outbox row per changed shareable entity (same transaction);
- refreshes the full-text documents of changed people, companies, deals and notes;
- recomputes touch statistics of entities whose interaction links changed.

Transactions start with ``BEGIN IMMEDIATE`` so a writer never fails half-way on a lock
upgrade; SQLite's own busy timeout makes a second writer wait instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from relbook.domain.clock import Clock, to_millis
from relbook.domain.ids import new_id
from relbook.storage import search_index, sequence, touch
from relbook.storage.models import (
    SHAREABLE_MODELS,
    Company,
    Deal,
    Interaction,
    InteractionLink,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    Shareable,
)
from relbook.storage.pragmas import apply_pragmas

_ENTITY_TYPE_OF: dict[type[Any], str] = {model: name for name, model in SHAREABLE_MODELS.items()}
_INDEXED: dict[type[Any], str] = {Person: "person", Company: "company", Deal: "deal", Note: "note"}
# Derived columns: recomputed locally, never an edit of the rep's, never pushed.
DERIVED_FIELDS = frozenset(
    {
        "created_at",
        "updated_at",
        "version",
        "last_touch_at",
        "last_inbound_at",
        "last_outbound_at",
        "first_touch_at",
        "touch_count",
        "inbound_count",
        "outbound_count",
        "rhythm_days",
        "strength",
        "last_two_way_at",
        "touch_days",
        "touch_weight_30",
        "touch_weight_180",
        "scored_at",
        "people_count",
        "engaged_people",
        "seq",
        "stake_minor",
        "stake_deals_minor",
        "contact_person_id",
    }
)


def make_engine(path: str, *, foreign_keys: bool = True) -> Engine:
    """The writer engine. ``foreign_keys=False`` only for migrations: batch-mode table
    rebuilds must not cascade, and the pragma cannot change inside a transaction."""
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=4,
        connect_args={"check_same_thread": False, "timeout": 10},
        # Keys as written: SQLite's json_extract('$."预算"') does not match an escaped
        # key ("\u9884\u7b97"), and custom field keys may be in any script.
        json_serializer=lambda value: json.dumps(value, ensure_ascii=False),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        apply_pragmas(dbapi_connection)
        if not foreign_keys:
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine, clock: Clock) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False, info={"clock": clock})
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", _after_flush)
    return factory


def driver_connection(session: Session) -> sqlite3.Connection:
    """The raw sqlite3 connection inside the session's current transaction."""
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


# ----------------------------------------------------------------- flush listeners


def _changed_fields(obj: Any) -> list[str]:
    state = inspect(obj)
    changed = []
    for attr in state.mapper.attrs:
        history = state.attrs[attr.key].history
        if history.has_changes() and attr.key not in DERIVED_FIELDS:
            changed.append(attr.key)
    return changed


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    clock: Clock = session.info["clock"]
    now = clock.now()
    pending: dict[tuple[str, str], dict[str, Any]] = session.info.setdefault("outbox", {})
    touched: set[str] = session.info.setdefault("touched_entities", set())
    reindex: dict[str, set[str]] = session.info.setdefault("reindex", {})

    # A child row changed on its own (an e-mail edited in place) dirties its parent.
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, PersonEmail | PersonPhone):
            # Added by person_id alone, the relationship is not loaded yet: load it.
            parent = obj.person or (session.get(Person, obj.person_id) if obj.person_id else None)
            if parent is not None and parent not in session.new:
                _mark_parent(parent, "emails" if isinstance(obj, PersonEmail) else "phones")
        if isinstance(obj, InteractionLink):
            touched.add(obj.entity_id)

    new_interactions = [o for o in session.new if isinstance(o, Interaction) and o.seq is None]
    if new_interactions:
        raw = driver_connection(session)
        wanted = [
            sequence.base_seq(to_millis(o.occurred_at), o.natural_key or o.id or new_id())
            for o in new_interactions
        ]
        for obj, seq in zip(new_interactions, sequence.assign(raw, wanted), strict=True):
            obj.seq = seq

    for obj in session.new:
        if isinstance(obj, Shareable):
            # The column default fires only at INSERT; outbox keys need the id now.
            obj.id = obj.id or new_id()
            obj.created_at = obj.created_at or now
            obj.updated_at = now
            obj.version = 1
            kind = _ENTITY_TYPE_OF[type(obj)]
            pending[(kind, obj.id)] = {"op": "upsert", "base": 0, "fields": ["*"]}
            if type(obj) in _INDEXED:
                reindex.setdefault(_INDEXED[type(obj)], set()).add(obj.id)

    extra: dict[int, set[str]] = session.info.pop("extra_fields", {})
    for obj in session.dirty:
        if not isinstance(obj, Shareable) or not session.is_modified(obj):
            continue
        fields = _changed_fields(obj) + sorted(extra.get(id(obj), ()))
        if type(obj) in _INDEXED:
            reindex.setdefault(_INDEXED[type(obj)], set()).add(obj.id)
        if not fields:
            continue
        base = obj.version or 0
        obj.version = base + 1
        obj.updated_at = now
        kind = _ENTITY_TYPE_OF[type(obj)]
        op = "delete" if obj.deleted_at is not None else "upsert"
        entry = pending.setdefault((kind, obj.id), {"op": op, "base": base, "fields": []})
        entry["op"] = op
        entry["fields"] = sorted(set(entry["fields"]) | set(fields))

    for obj in session.deleted:
        if isinstance(obj, Shareable):
            kind = _ENTITY_TYPE_OF[type(obj)]
            pending[(kind, obj.id)] = {"op": "purge", "base": obj.version, "fields": []}
            if type(obj) in _INDEXED:
                reindex.setdefault(_INDEXED[type(obj)], set()).add(obj.id)


def mark_changed(session: Session, obj: Shareable, field: str) -> None:
    """Record a change that lives outside the row (its tags, say) as an edit of the row."""
    from sqlalchemy.orm.attributes import flag_modified

    session.info.setdefault("extra_fields", {}).setdefault(id(obj), set()).add(field)
    flag_modified(obj, "updated_at")


def _mark_parent(person: Person, key: str) -> None:
    from sqlalchemy.orm.attributes import flag_modified

    flag_modified(person, key)


def _after_flush(session: Session, _context: object) -> None:
    raw = driver_connection(session)
    clock: Clock = session.info["clock"]
    now_ms = to_millis(clock.now())
    pending: dict[tuple[str, str], dict[str, Any]] = session.info.pop("outbox", {})
    for (kind, entity_id), entry in pending.items():
        fold_outbox(raw, kind, entity_id, entry["op"], entry["base"], entry["fields"], now_ms)

    reindex: dict[str, set[str]] = session.info.pop("reindex", {})
    if "company" in reindex:
        # People's and deals' documents carry the name of their live company.
        dependents = search_index.dependents_of_companies(raw, reindex["company"])
        for dependent_kind, dependent_ids in dependents.items():
            reindex.setdefault(dependent_kind, set()).update(dependent_ids)
    for kind, ids in reindex.items():
        search_index.refresh(raw, kind, ids)

    touched: set[str] = session.info.pop("touched_entities", set())
    if touched:
        touch.refresh(raw, touched, now_ms)


def fold_outbox(
    raw: sqlite3.Connection,
    kind: str,
    entity_id: str,
    op: str,
    base_version: int,
    fields: list[str],
    now_ms: int,
) -> None:
    """Record a change for the team push; a second change before a push folds into the first."""
    row = raw.execute(
        "SELECT base_version, fields FROM outbox WHERE entity_type = ? AND entity_id = ?",
        (kind, entity_id),
    ).fetchone()
    seq = raw.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox").fetchone()[0]
    if row is None:
        raw.execute(
            """INSERT INTO outbox(entity_type, entity_id, seq, mutation_id, op, base_version,
                                  fields, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (kind, entity_id, seq, new_id(), op, base_version, json.dumps(sorted(fields)), now_ms),
        )
        return
    merged = sorted(set(json.loads(row[1])) | set(fields))
    raw.execute(
        """UPDATE outbox SET seq = ?, mutation_id = ?, op = ?, fields = ?, queued_at = ?
           WHERE entity_type = ? AND entity_id = ?""",
        (seq, new_id(), op, json.dumps(merged), now_ms, kind, entity_id),
    )
