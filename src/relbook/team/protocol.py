"""The wire protocol: an idempotent push of mutations and a pull after an xid horizon.

**Push.** A mutation carries a client-made id, the server version the client last saw
(``base_version``) and, per changed field, the value it was based on and the new value.
Applying it on the server, in one transaction per batch:

1. its id goes into the rep's ``relbook.mutation`` log; an id already there is not applied
   again — the stored outcome is returned (a lost acknowledgement is harmless);
2. each field is compare-and-set: it is written when the server still holds the value the
   client based its change on (or already holds the new value). A field someone else changed
   meanwhile is *refused*: the first write to reach the server wins, and the refused value
   stays in the client's book as a conflict for its rep to resolve (see ``sync``);
3. a delete leaves a tombstone without data. A stale edit never resurrects it; only an
   upsert based on the tombstone's own version (a deliberate restore) does;
4. a withdraw removes the rep's share mark; when no live mark remains the row becomes a
   ``withdrawn`` tombstone without data, so unshared data does not stay on the server.

**Pull.** Rows changed by transactions at or after the client's cursor, read in one
REPEATABLE READ snapshot; the new cursor is that snapshot's ``xmin``. Every transaction
below ``xmin`` has finished, so a change committed late (by a transaction that started
before others that committed earlier) is never skipped, as a plain sequence would. Rows
already seen may come again; applying them is idempotent (versions).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

# Statuses of an outcome.
APPLIED = "applied"  # every field written (or already equal)
PARTIAL = "partial"  # some fields refused: someone changed them first
DELETED = "deleted"  # the row is a tombstone: the edit was not applied
WITHDRAWN = "withdrawn"  # nobody shares the row any more: the edit was not applied
MISSING = "missing"  # an edit for a row the server never had (send it whole)
GONE = "gone"  # a delete/withdraw of a row the server never had: nothing to do

UPSERT = "upsert"
DELETE = "delete"
WITHDRAW = "withdraw"

_RETRYABLE = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.UniqueViolation,
)
RETRIES = 6


@dataclass(frozen=True)
class FieldChange:
    base: Any  # the value the change was based on (None when the field was absent)
    new: Any = None
    remove: bool = False  # take the field off the server row (a lower interaction level)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"base": self.base}
        if self.remove:
            out["remove"] = True
        else:
            out["new"] = self.new
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> FieldChange:
        return FieldChange(data.get("base"), data.get("new"), bool(data.get("remove")))


@dataclass(frozen=True)
class Mutation:
    mutation_id: str
    entity_type: str
    entity_id: str
    op: str
    base_version: int
    fields: dict[str, FieldChange] = field(default_factory=dict)
    share_level: str | None = None  # add or update this rep's share mark
    full: bool = False  # the fields are the whole row (share, re-share, restore)

    def to_json(self) -> str:
        return json.dumps(
            {
                "fields": {k: v.to_json() for k, v in self.fields.items()},
                "share_level": self.share_level,
                "full": self.full,
            },
            sort_keys=True,
        )

    @staticmethod
    def from_journal(
        mutation_id: str,
        entity_type: str,
        entity_id: str,
        op: str,
        base_version: int,
        payload: str,
    ) -> Mutation:
        data = json.loads(payload)
        return Mutation(
            mutation_id,
            entity_type,
            entity_id,
            op,
            base_version,
            {k: FieldChange.from_json(v) for k, v in data["fields"].items()},
            data.get("share_level"),
            bool(data.get("full")),
        )


@dataclass(frozen=True)
class Outcome:
    mutation_id: str
    status: str
    version: int
    refused: tuple[str, ...] = ()
    replaced: bool = False  # the server row now holds exactly the fields sent
    # Applied on top of the very version the client based it on: the client's values plus
    # the applied fields are exactly the server row at ``version``.
    direct: bool = False
    duplicate: bool = False  # answered from the mutation log: applied by an earlier push


@dataclass(frozen=True)
class RemoteRow:
    entity_type: str
    entity_id: str
    version: int
    state: str
    data: dict[str, Any]
    deleted_base: int | None
    created_by: str
    updated_by: str
    my_level: str | None = None  # this rep's live share mark on the row, if any

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity_type, self.entity_id)


# ------------------------------------------------------------------------------- push


def push(connection: Any, team_id: str, mutations: list[Mutation]) -> list[Outcome]:
    """Apply a batch in one transaction (retried on lock conflicts); outcomes in order."""
    ordered = sorted(mutations, key=lambda m: (m.entity_type, m.entity_id))
    for attempt in range(RETRIES):
        try:
            with connection.transaction():
                outcomes = {m.mutation_id: _apply(connection, team_id, m) for m in ordered}
            return [outcomes[m.mutation_id] for m in mutations]
        except _RETRYABLE:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _apply(connection: Any, team_id: str, m: Mutation) -> Outcome:
    logged = connection.execute(
        """INSERT INTO relbook.mutation (team_id, mutation_id, entity_type, entity_id, status)
           VALUES (%s, %s, %s, %s, 'pending') ON CONFLICT DO NOTHING RETURNING 1""",
        (team_id, m.mutation_id, m.entity_type, m.entity_id),
    ).fetchone()
    if logged is None:
        row = connection.execute(
            """SELECT status, version, refused, replaced, direct FROM relbook.mutation
               WHERE team_id = %s AND rep = current_user AND mutation_id = %s""",
            (team_id, m.mutation_id),
        ).fetchone()
        return Outcome(m.mutation_id, row[0], row[1], tuple(row[2]), row[3], row[4], duplicate=True)
    if m.op == UPSERT:
        outcome = _upsert(connection, team_id, m)
    elif m.op == DELETE:
        outcome = _delete(connection, team_id, m)
    elif m.op == WITHDRAW:
        outcome = _withdraw(connection, team_id, m)
    else:
        raise ValueError(f"unknown mutation op {m.op!r}")
    connection.execute(
        """UPDATE relbook.mutation SET status = %s, version = %s, refused = %s, replaced = %s,
                  direct = %s
           WHERE team_id = %s AND rep = current_user AND mutation_id = %s""",
        (
            outcome.status,
            outcome.version,
            list(outcome.refused),
            outcome.replaced,
            outcome.direct,
            team_id,
            m.mutation_id,
        ),
    )
    return outcome


def _lock(connection: Any, team_id: str, m: Mutation) -> Any:
    return connection.execute(
        """SELECT version, state, data, generation FROM relbook.item
           WHERE team_id = %s AND entity_type = %s AND id = %s FOR UPDATE""",
        (team_id, m.entity_type, m.entity_id),
    ).fetchone()


def _whole(m: Mutation) -> dict[str, Any]:
    return {k: c.new for k, c in m.fields.items() if not c.remove}


def _mark(connection: Any, team_id: str, m: Mutation, generation: int) -> None:
    if m.share_level is None:
        return
    connection.execute(
        """INSERT INTO relbook.item_share (team_id, entity_type, id, generation, level)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (team_id, entity_type, id, rep)
           DO UPDATE SET generation = EXCLUDED.generation, level = EXCLUDED.level,
                         shared_at = now()""",
        (team_id, m.entity_type, m.entity_id, generation, m.share_level),
    )


def _upsert(connection: Any, team_id: str, m: Mutation) -> Outcome:
    row = _lock(connection, team_id, m)
    if row is None:
        if not m.full:
            return Outcome(m.mutation_id, MISSING, 0)
        inserted = connection.execute(
            """INSERT INTO relbook.item (team_id, entity_type, id, version, data)
               VALUES (%s, %s, %s, 1, %s) ON CONFLICT DO NOTHING RETURNING version""",
            (team_id, m.entity_type, m.entity_id, Jsonb(_whole(m))),
        ).fetchone()
        if inserted is None:  # another rep inserted it a moment ago: merge with theirs
            row = _lock(connection, team_id, m)
        else:
            _mark(connection, team_id, m, 1)
            return Outcome(m.mutation_id, APPLIED, 1, replaced=True, direct=True)
    version, state, data, generation = row
    if state != "live":
        revive = (state == "deleted" and m.full and m.base_version == version) or (
            state == "withdrawn" and m.full and m.share_level is not None
        )
        if not revive:
            return Outcome(m.mutation_id, DELETED if state == "deleted" else WITHDRAWN, version)
        connection.execute(
            """UPDATE relbook.item SET version = %s, state = 'live', data = %s,
                      generation = %s, deleted_base = NULL
               WHERE team_id = %s AND entity_type = %s AND id = %s""",
            (version + 1, Jsonb(_whole(m)), generation + 1, team_id, m.entity_type, m.entity_id),
        )
        _mark(connection, team_id, m, generation + 1)
        return Outcome(m.mutation_id, APPLIED, version + 1, replaced=True, direct=True)

    current: dict[str, Any] = dict(data)
    refused: list[str] = []
    changed = False
    for name, change in sorted(m.fields.items()):
        present = name in current
        value = current.get(name)
        if change.remove:
            if not present:
                continue
            if value == change.base:
                del current[name]
                changed = True
            else:
                refused.append(name)
            continue
        if present and value == change.new:
            continue  # already there (a replay, or the same edit made twice)
        if value == change.base:
            current[name] = change.new
            changed = True
        else:
            refused.append(name)
    new_version = version
    if changed:
        new_version = version + 1
        connection.execute(
            """UPDATE relbook.item SET version = %s, data = %s
               WHERE team_id = %s AND entity_type = %s AND id = %s""",
            (new_version, Jsonb(current), team_id, m.entity_type, m.entity_id),
        )
    _mark(connection, team_id, m, generation)
    status = PARTIAL if refused else APPLIED
    direct = version == m.base_version
    return Outcome(m.mutation_id, status, new_version, tuple(refused), direct=direct)


def _delete(connection: Any, team_id: str, m: Mutation) -> Outcome:
    row = _lock(connection, team_id, m)
    if row is None:
        return Outcome(m.mutation_id, GONE, 0)
    version, state, _data, _generation = row
    if state == "deleted":
        return Outcome(m.mutation_id, APPLIED, version)
    connection.execute(
        """UPDATE relbook.item SET version = %s, state = 'deleted', data = '{}'::jsonb,
                  deleted_base = %s
           WHERE team_id = %s AND entity_type = %s AND id = %s""",
        (version + 1, m.base_version, team_id, m.entity_type, m.entity_id),
    )
    return Outcome(m.mutation_id, APPLIED, version + 1)


def _withdraw(connection: Any, team_id: str, m: Mutation) -> Outcome:
    row = _lock(connection, team_id, m)  # first: concurrent withdrawals serialise here
    connection.execute(
        """DELETE FROM relbook.item_share
           WHERE team_id = %s AND entity_type = %s AND id = %s AND rep = current_user""",
        (team_id, m.entity_type, m.entity_id),
    )
    if row is None:
        return Outcome(m.mutation_id, GONE, 0)
    version, state, _data, generation = row
    if state != "live":
        return Outcome(m.mutation_id, DELETED if state == "deleted" else WITHDRAWN, version)
    others = connection.execute(
        """SELECT 1 FROM relbook.item_share
           WHERE team_id = %s AND entity_type = %s AND id = %s AND generation = %s LIMIT 1""",
        (team_id, m.entity_type, m.entity_id, generation),
    ).fetchone()
    if others:
        return Outcome(m.mutation_id, APPLIED, version)
    connection.execute(
        """UPDATE relbook.item SET version = %s, state = 'withdrawn', data = '{}'::jsonb
           WHERE team_id = %s AND entity_type = %s AND id = %s""",
        (version + 1, team_id, m.entity_type, m.entity_id),
    )
    return Outcome(m.mutation_id, WITHDRAWN, version + 1)


def forget_mutations(connection: Any, team_id: str, mutation_ids: list[str]) -> None:
    """Drop acknowledged ids from the rep's log (their outcomes were processed)."""
    if not mutation_ids:
        return
    with connection.transaction():
        connection.execute(
            """DELETE FROM relbook.mutation
               WHERE team_id = %s AND rep = current_user AND mutation_id = ANY(%s::uuid[])""",
            (team_id, mutation_ids),
        )


def touch_rep(connection: Any) -> None:
    with connection.transaction():
        connection.execute(
            "UPDATE relbook.rep SET last_sync_at = now() WHERE role_name = current_user"
        )


def team_members(connection: Any) -> dict[str, str]:
    with connection.transaction():
        return {
            r[0]: r[1]
            for r in connection.execute(
                "SELECT role_name::text, display_name FROM relbook.rep ORDER BY role_name"
            )
        }


# ------------------------------------------------------------------------------- pull


@dataclass
class Changes:
    horizon: int  # the cursor to store once every page is applied
    tombstones: list[tuple[str, str]]  # (type, id) of rows that became deleted/withdrawn
    _connection: Any
    _team_id: str
    _since: int
    page_size: int

    def pages(self) -> Iterator[list[RemoteRow]]:
        with self._connection.cursor(name="relbook_pull") as cursor:
            cursor.itersize = self.page_size
            cursor.execute(
                """SELECT i.entity_type, i.id::text, i.version, i.state, i.data,
                          i.deleted_base, i.created_by::text, i.updated_by::text, s.level
                   FROM relbook.item i
                   LEFT JOIN relbook.item_share s
                     ON s.team_id = i.team_id AND s.entity_type = i.entity_type
                    AND s.id = i.id AND s.rep = current_user AND s.generation = i.generation
                   WHERE i.team_id = %s AND i.changed_xid >= %s::xid8
                   ORDER BY i.changed_xid, i.entity_type, i.id""",
                (self._team_id, str(self._since)),
            )
            while True:
                rows = cursor.fetchmany(self.page_size)
                if not rows:
                    return
                yield [RemoteRow(*r) for r in rows]


@contextmanager
def changes_since(
    connection: Any, team_id: str, since: int, page_size: int = 500
) -> Iterator[Changes]:
    """The changes after ``since`` in one consistent snapshot (consume inside the block)."""
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        horizon = int(
            connection.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]
        )
        tombstones = [
            (r[0], r[1])
            for r in connection.execute(
                """SELECT entity_type, id::text FROM relbook.item
                   WHERE team_id = %s AND changed_xid >= %s::xid8 AND state <> 'live'""",
                (team_id, str(since)),
            )
        ]
        yield Changes(horizon, tombstones, connection, team_id, since, page_size)
