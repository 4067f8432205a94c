"""One sync with the team server: replay, prepare, push, pull.

1. **Replay** the journal: mutations prepared earlier whose acknowledgement never came
   (a crash, a dropped connection) are sent again with the same ids; the server answers
   them from its mutation log instead of applying them twice.
2. **Prepare** (one local transaction): the outbox says which rows changed; together with
   the closure of the rep's shares it decides, per row, what goes out — the fields that
   differ from what the server last had (compare-and-set on their old values), a whole row
   for something newly shared, a delete, or a withdrawal for what is no longer shared.
   They are written to the journal and the outbox rows are consumed, atomically.
   The mass-delete guard runs here: nothing is journaled when it trips.
3. **Push** the journal in batches and process each outcome (the server version, the
   fields the server refused). Refused fields are left for the pull to settle.
4. **Pull** everything changed after the cursor and merge it three-way (base = the values
   last agreed with the server): a field only the team changed is taken; a field only
   this book changed is kept (it goes out next time); a field both changed is a conflict —
   the server's value wins (it got there first) and the rep's value is kept as a conflict
   record to resolve. Tombstones delete locally (a row with unsent edits, or one changed
   after the deleting rep last saw it, leaves a conflict record too).

The journal is emptied before anything new is prepared, so two mutations of one row are
never in flight at once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from relbook.domain.clock import to_millis
from relbook.domain.errors import GuardTripped
from relbook.domain.ids import new_id
from relbook.storage.book import Book
from relbook.team import protocol
from relbook.team.apply import LocalWriter, field_default, fix_references, label_of
from relbook.team.project import Key, closure, fingerprint, live_tracked, normalize, project
from relbook.team.project import read_rows as read_local
from relbook.team.protocol import DELETE, UPSERT, WITHDRAW, FieldChange, Mutation, Outcome
from relbook.team.spec import APPLY_ORDER, REF, SPECS

SHARED = "shared"  # this rep's share mark is on the server
RECEIVED = "received"  # a teammate's row (or one this rep no longer marks but still holds)
DETACHED = "detached"  # unshared by this rep while others still share it: not synced
DELETED = "deleted"  # a tombstone on the server
WITHDRAWN = "withdrawn"  # nobody shares it any more
LIVE_STATES = (SHARED, RECEIVED)
log = logging.getLogger(__name__)
BATCH = 200
_ORDER = {t: i for i, t in enumerate(APPLY_ORDER)}


@dataclass
class Tracked:
    state: str
    server_version: int
    level: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    author: str = ""
    editor: str = ""


@dataclass(frozen=True)
class DeleteGuard:
    """Stops a sync that would delete or withdraw a large share of the shared rows."""

    min_rows: int = 10
    share: float = 0.3

    def check(self, deletions: int, total: int, direction: str) -> None:
        if deletions < self.min_rows or deletions <= self.share * max(total, 1):
            return
        if direction == "push":
            what = (
                f"This sync would delete or withdraw {deletions} of the {total} rows your "
                "team sees from the team server."
            )
            remedy = (
                "If you meant it (you unshared or deleted them), confirm with "
                "'relbook team sync --yes' or the Team view's Sync anyway; otherwise restore "
                "or share them again first. Nothing was sent."
            )
        else:
            what = (
                f"The team server deleted or withdrew {deletions} of the {total} shared rows "
                "this book holds."
            )
            remedy = (
                "If that is expected (a teammate unshared an account), confirm with "
                "'relbook team sync --yes' or the Team view's Sync anyway; nothing was removed "
                "from your book yet."
            )
        raise GuardTripped(what, remedy)


@dataclass
class SyncReport:
    pushed: int = 0
    refused: int = 0
    pulled: int = 0
    conflicts: int = 0


# -------------------------------------------------------------------- local state


def load_tracked(conn: sqlite3.Connection, keys: Iterable[Key] | None = None) -> dict[Key, Tracked]:
    sql = "SELECT entity_type, entity_id, state, server_version, level, data, author, editor FROM team_row"
    if keys is None:
        rows = conn.execute(sql).fetchall()
    else:
        wanted = json.dumps([list(k) for k in keys])
        rows = conn.execute(
            sql
            + """ WHERE (entity_type, entity_id) IN
                     (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')
                      FROM json_each(?))""",
            (wanted,),
        ).fetchall()
    return {(r[0], r[1]): Tracked(r[2], r[3], r[4], json.loads(r[5]), r[6], r[7]) for r in rows}


def save_tracked(conn: sqlite3.Connection, key: Key, row: Tracked, now_ms: int) -> None:
    conn.execute(
        """INSERT INTO team_row (entity_type, entity_id, state, server_version, level, data,
                                 author, editor, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (entity_type, entity_id) DO UPDATE SET state = excluded.state,
               server_version = excluded.server_version, level = excluded.level,
               data = excluded.data, author = excluded.author, editor = excluded.editor,
               updated_at = excluded.updated_at""",
        (
            key[0],
            key[1],
            row.state,
            row.server_version,
            row.level,
            json.dumps(row.data, sort_keys=True),
            row.author,
            row.editor,
            now_ms,
        ),
    )


def drop_tracked(conn: sqlite3.Connection, key: Key) -> None:
    conn.execute("DELETE FROM team_row WHERE entity_type = ? AND entity_id = ?", key)


def record_conflict(
    conn: sqlite3.Connection,
    key: Key,
    kind: str,
    field_name: str,
    mine: Any,
    theirs: Any,
    their_rep: str,
    now_ms: int,
) -> None:
    conn.execute(
        """INSERT INTO team_conflict (id, entity_type, entity_id, label, kind, field, mine,
                                      theirs, their_rep, created_at, resolution)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')""",
        (
            new_id(),
            key[0],
            key[1],
            label_of(conn, key[0], key[1])[:400],
            kind,
            field_name,
            json.dumps(mine),
            json.dumps(theirs),
            their_rep,
            now_ms,
        ),
    )


def share_roots(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return [
        (r[0], r[1], r[2])
        for r in conn.execute("SELECT entity_type, entity_id, interaction_level FROM share")
    ]


@dataclass
class TeamView:
    """The closure and team set as this book sees them now."""

    tracked: dict[Key, Tracked]
    closure: dict[Key, str]
    team_set: set[str]
    # The first pull after (re)connecting: rows this book already holds are taken up
    # again instead of being treated as its own private copies (see ``_adopt``).
    adopt: bool = False


def team_view(conn: sqlite3.Connection) -> TeamView:
    tracked = load_tracked(conn)
    received = {k[1] for k, t in tracked.items() if t.state == RECEIVED}
    levels = closure(conn, share_roots(conn), received)
    team_set = {k[1] for k in levels} | live_tracked(conn, tracked, LIVE_STATES)
    return TeamView(tracked, levels, team_set)


def _rows(conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, dict[str, Any]]:
    by_type: dict[str, list[str]] = {}
    for entity_type, entity_id in keys:
        by_type.setdefault(entity_type, []).append(entity_id)
    out: dict[Key, dict[str, Any]] = {}
    for entity_type, ids in by_type.items():
        for entity_id, values in read_local(conn, entity_type, ids).items():
            out[(entity_type, entity_id)] = values
    return out


def changed_fields(
    entity_type: str, projected: dict[str, Any], shadow: dict[str, Any], team_set: set[str]
) -> list[str]:
    spec = SPECS[entity_type]
    out: list[str] = []
    for name, value in projected.items():
        spec_field = spec.field(name)
        base = shadow.get(name, field_default(entity_type, spec_field))
        if value != normalize(entity_type, spec_field, base, team_set):
            out.append(name)
    return out


# ------------------------------------------------------------------------- prepare


def journal_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM team_journal").fetchone()[0])


def prepare(
    book: Book, *, guard: DeleteGuard | None = None, confirm: bool = False
) -> list[Mutation]:
    """Turn the outbox (and changes of what is shared) into journaled mutations."""
    guard = guard or DeleteGuard()
    now_ms = to_millis(book.clock.now())
    with book.raw_write() as conn:
        if journal_size(conn):
            return []
        view = team_view(conn)
        tracked, levels, team_set = view.tracked, view.closure, view.team_set
        stored = conn.execute("SELECT fingerprint FROM team_link WHERE id = 1").fetchone()
        print_now = fingerprint(team_set, levels)
        outbox = {
            (r[0], r[1]): r[2]
            for r in conn.execute("SELECT entity_type, entity_id, mutation_id FROM outbox")
        }
        candidates = {k for k in outbox if k[0] in SPECS}
        for key, level in levels.items():
            row = tracked.get(key)
            if row is None or row.state != SHARED or row.level != level:
                candidates.add(key)
        candidates |= {k for k, t in tracked.items() if t.state == SHARED and k not in levels}
        if stored is None or stored[0] != print_now:
            candidates |= set(levels)
            candidates |= {k for k, t in tracked.items() if t.state in LIVE_STATES}
        local = _rows(conn, candidates)
        mutations: list[Mutation] = []
        for key in sorted(candidates, key=lambda k: (_ORDER[k[0]], k[1])):
            mutation = _plan(key, local.get(key), tracked.get(key), levels, team_set, outbox)
            if mutation is not None:
                mutations.append(mutation)
        deletions = sum(1 for m in mutations if m.op in (DELETE, WITHDRAW))
        total = sum(1 for t in tracked.values() if t.state in LIVE_STATES)
        if not confirm:
            guard.check(deletions, total, "push")
        base_seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM team_journal").fetchone()[0])
        conn.executemany(
            """INSERT INTO team_journal (mutation_id, seq, entity_type, entity_id, op,
                                         base_version, payload, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    m.mutation_id,
                    base_seq + i + 1,
                    m.entity_type,
                    m.entity_id,
                    m.op,
                    m.base_version,
                    m.to_json(),
                    now_ms,
                )
                for i, m in enumerate(mutations)
            ],
        )
        conn.execute("DELETE FROM outbox")
        conn.execute(
            "UPDATE team_link SET fingerprint = ?, pending_question = '' WHERE id = 1",
            (print_now,),
        )
    return mutations


def _plan(
    key: Key,
    values: dict[str, Any] | None,
    row: Tracked | None,
    levels: dict[Key, str],
    team_set: set[str],
    outbox: dict[Key, str],
) -> Mutation | None:
    entity_type, entity_id = key
    mutation_id = outbox.get(key) or new_id()
    live = values is not None and values.get("deleted_at") is None
    if not live or values is None:
        if row is not None and row.state in LIVE_STATES:
            return Mutation(mutation_id, entity_type, entity_id, DELETE, row.server_version)
        return None
    if key in levels:
        level = levels[key]
        projected = project(entity_type, values, team_set, level=level)
        if row is None or row.state not in LIVE_STATES:
            base = row.data if row is not None else {}
            whole = {n: FieldChange(base.get(n), v) for n, v in projected.items()}
            version = row.server_version if row is not None else 0
            return Mutation(
                mutation_id, entity_type, entity_id, UPSERT, version, whole, level, full=True
            )
        fields = _diff(entity_type, projected, row.data, team_set, allow_remove=True)
        share = level if (row.state != SHARED or row.level != level) else None
        if not fields and share is None:
            return None
        return Mutation(
            mutation_id, entity_type, entity_id, UPSERT, row.server_version, fields, share
        )
    if row is not None and row.state == SHARED:
        return Mutation(mutation_id, entity_type, entity_id, WITHDRAW, row.server_version)
    if row is not None and row.state == RECEIVED:
        projected = project(entity_type, values, team_set, only=row.data.keys())
        fields = _diff(entity_type, projected, row.data, team_set, allow_remove=False)
        if fields:
            return Mutation(mutation_id, entity_type, entity_id, UPSERT, row.server_version, fields)
    return None


def _diff(
    entity_type: str,
    projected: dict[str, Any],
    shadow: dict[str, Any],
    team_set: set[str],
    *,
    allow_remove: bool,
) -> dict[str, FieldChange]:
    spec = SPECS[entity_type]
    fields: dict[str, FieldChange] = {}
    for name in changed_fields(entity_type, projected, shadow, team_set):
        spec_field = spec.field(name)
        if spec_field.kind == REF and spec_field.required and projected[name] is None:
            continue  # a required reference this book cannot resolve is never sent empty
        fields[name] = FieldChange(shadow.get(name), projected[name])
    if allow_remove:
        for name, value in shadow.items():
            if name not in projected and name in spec.names:
                fields[name] = FieldChange(value, remove=True)
    return fields


# -------------------------------------------------------------------------- replay


def pending_mutations(book: Book, limit: int = BATCH) -> list[Mutation]:
    rows = (
        book.reader()
        .execute(
            """SELECT mutation_id, entity_type, entity_id, op, base_version, payload
           FROM team_journal ORDER BY seq LIMIT ?""",
            (limit,),
        )
        .fetchall()
    )
    return [Mutation.from_journal(*r) for r in rows]


def replay(book: Book, connection: Any, team_id: str, role: str, report: SyncReport) -> None:
    """Send the journal (oldest first) and process the outcomes."""
    while True:
        mutations = pending_mutations(book)
        if not mutations:
            return
        outcomes = protocol.push(connection, team_id, mutations)
        acknowledge(book, mutations, outcomes, role, report)
        try:
            protocol.forget_mutations(connection, team_id, [m.mutation_id for m in mutations])
        except Exception:  # only pruning: a later sync prunes again
            log.warning("could not prune acknowledged mutation ids", exc_info=True)


def acknowledge(
    book: Book, mutations: list[Mutation], outcomes: list[Outcome], role: str, report: SyncReport
) -> None:
    now_ms = to_millis(book.clock.now())
    with book.raw_write() as conn:
        waiting = {
            r[0]
            for r in conn.execute(
                "SELECT mutation_id FROM team_journal WHERE mutation_id IN "
                "(SELECT value FROM json_each(?))",
                (json.dumps([m.mutation_id for m in mutations]),),
            )
        }
        tracked = load_tracked(conn, [(m.entity_type, m.entity_id) for m in mutations])
        writer = LocalWriter(conn, now_ms, set())
        for mutation, outcome in zip(mutations, outcomes, strict=True):
            if mutation.mutation_id not in waiting:
                continue  # acknowledged already by a sync running at the same time
            key = (mutation.entity_type, mutation.entity_id)
            _acknowledge_one(conn, writer, key, tracked.get(key), mutation, outcome, role, now_ms)
            report.pushed += 1
            report.refused += len(outcome.refused)
        writer.finish()
        conn.executemany(
            "DELETE FROM team_journal WHERE mutation_id = ?",
            [(m.mutation_id,) for m in mutations],
        )


def _acknowledge_one(
    conn: sqlite3.Connection,
    writer: LocalWriter,
    key: Key,
    row: Tracked | None,
    m: Mutation,
    outcome: Outcome,
    role: str,
    now_ms: int,
) -> None:
    status = outcome.status
    if status in (protocol.APPLIED, protocol.PARTIAL) and m.op == UPSERT:
        if outcome.replaced:
            data = {n: c.new for n, c in m.fields.items() if not c.remove}
            version = outcome.version
        else:
            data = dict(row.data) if row is not None else {}
            for name, change in m.fields.items():
                if name in outcome.refused:
                    continue
                if change.remove:
                    data.pop(name, None)
                else:
                    data[name] = change.new
            version = row.server_version if row is not None else 0
            if status == protocol.APPLIED and outcome.direct:
                version = outcome.version
        state = SHARED if m.share_level is not None else (row.state if row else RECEIVED)
        if state not in LIVE_STATES:
            state = RECEIVED
        level = m.share_level if m.share_level is not None else (row.level if row else "")
        author = row.author if row is not None and row.author else role
        save_tracked(conn, key, Tracked(state, version, level, data, author, role), now_ms)
    elif status == protocol.APPLIED and m.op == DELETE:
        kept = row.data if row is not None else {}
        author = row.author if row is not None else ""
        save_tracked(conn, key, Tracked(DELETED, outcome.version, "", kept, author, role), now_ms)
    elif status == protocol.APPLIED and m.op == WITHDRAW:
        if row is not None:  # others still share it: stop syncing it here
            row.state = DETACHED
            save_tracked(conn, key, row, now_ms)
    elif status == protocol.WITHDRAWN and m.op == WITHDRAW:
        drop_tracked(conn, key)  # the row is private again; the server holds no data of it
    elif status in (protocol.MISSING, protocol.GONE):
        drop_tracked(conn, key)
    elif status == protocol.DELETED and m.op == UPSERT and (row is None or row.state == DETACHED):
        # Shared again, but a teammate had deleted it meanwhile: the delete wins here too,
        # and what this rep tried to send is kept for them.
        mine = {n: c.new for n, c in m.fields.items() if not c.remove}
        record_conflict(conn, key, "deleted", "", mine, None, "", now_ms)
        writer.set_deleted(key[0], key[1], True)
        save_tracked(conn, key, Tracked(DELETED, outcome.version, "", {}, "", ""), now_ms)
    # Otherwise DELETED / WITHDRAWN for an upsert: the pull brings the tombstone.


# ---------------------------------------------------------------------------- pull


def pull(
    book: Book,
    connection: Any,
    team_id: str,
    report: SyncReport,
    *,
    guard: DeleteGuard | None = None,
    confirm: bool = False,
    save_cursor: bool = True,
) -> None:
    """Apply every change after the stored cursor; store the new cursor at the end."""
    guard = guard or DeleteGuard()
    reader = book.reader()
    row = reader.execute("SELECT cursor FROM team_link WHERE id = 1").fetchone()
    since = int(row[0]) if row else 0
    with protocol.changes_since(connection, team_id, since) as changes:
        view = team_view(reader)
        view.adopt = since == 0
        affected = [
            k
            for k in changes.tombstones
            if k in view.tracked and view.tracked[k].state in LIVE_STATES
        ]
        total = sum(1 for t in view.tracked.values() if t.state in LIVE_STATES)
        if not confirm:
            guard.check(len(affected), total, "pull")
        for page in changes.pages():
            apply_page(book, page, view, report)
        horizon = changes.horizon
    if save_cursor:
        with book.raw_write() as conn:
            conn.execute("UPDATE team_link SET cursor = ? WHERE id = 1", (str(horizon),))


def apply_page(
    book: Book, page: list[protocol.RemoteRow], view: TeamView, report: SyncReport
) -> None:
    now_ms = to_millis(book.clock.now())
    page = sorted(
        (r for r in page if r.entity_type in SPECS),
        key=lambda r: (_ORDER[r.entity_type], r.entity_id),
    )
    with book.raw_write() as conn:
        tracked = load_tracked(conn, [r.key for r in page])
        writer = LocalWriter(conn, now_ms, view.team_set)
        before = int(conn.execute("SELECT count(*) FROM team_conflict").fetchone()[0])
        for remote in page:
            if _apply_remote(conn, writer, remote, tracked.get(remote.key), view, now_ms):
                report.pulled += 1
        arrived = set(writer.inserted)
        fix_references(writer, arrived)
        materialize_pending(writer)
        fix_references(writer, writer.inserted - arrived)
        writer.finish()
        after = int(conn.execute("SELECT count(*) FROM team_conflict").fetchone()[0])
        report.conflicts += after - before


def materialize_pending(writer: LocalWriter) -> None:
    """Write teammates' rows that waited for a row they require (a deal for its stage)."""
    for entity_type in APPLY_ORDER:
        table = SPECS[entity_type].table
        for entity_id, data in writer.conn.execute(
            f"""SELECT r.entity_id, r.data FROM team_row r
                LEFT JOIN {table} t ON t.id = r.entity_id
                WHERE r.entity_type = ? AND r.state = 'received' AND t.id IS NULL""",
            (entity_type,),
        ).fetchall():
            if writer.insert(entity_type, entity_id, json.loads(data)):
                writer.team_set.add(entity_id)


def _apply_remote(
    conn: sqlite3.Connection,
    writer: LocalWriter,
    remote: protocol.RemoteRow,
    row: Tracked | None,
    view: TeamView,
    now_ms: int,
) -> bool:
    """Apply one pulled row; False when there was nothing to do."""
    key = remote.key
    entity_type, entity_id = key
    if row is not None and remote.version <= row.server_version:
        return False  # seen already (a page delivered twice, or our own push)
    if row is not None and row.state == DETACHED:
        if remote.state != "live":
            drop_tracked(conn, key)
        return False
    local = writer.local_state(entity_type, entity_id)
    if remote.state == "live":
        return _apply_live(conn, writer, remote, row, local, view, now_ms)
    if row is None:
        return False  # a tombstone of something this book never had
    if remote.state == "deleted":
        if row.state in LIVE_STATES and local == "live":
            values = read_local(conn, entity_type, [entity_id])[entity_id]
            mine = project(entity_type, values, view.team_set)
            pending = changed_fields(entity_type, mine, row.data, view.team_set)
            if pending or row.server_version > (remote.deleted_base or 0):
                record_conflict(conn, key, "deleted", "", mine, None, remote.updated_by, now_ms)
            writer.set_deleted(entity_type, entity_id, True)
        writer.team_set.discard(entity_id)
        tombstone = Tracked(
            DELETED, remote.version, row.level, row.data, row.author, remote.updated_by
        )
        save_tracked(conn, key, tombstone, now_ms)
        return True
    # withdrawn: nobody shares it any more
    if row.state in LIVE_STATES:
        if key in view.closure:
            pass  # this rep shares it: it goes back to the server whole at the next push
        elif local == "deleted":
            # The rep deleted it and that delete has not gone out yet: it still will.
            row.server_version = remote.version
            save_tracked(conn, key, row, now_ms)
            return True
        elif local == "live":
            values = read_local(conn, entity_type, [entity_id])[entity_id]
            mine = project(entity_type, values, view.team_set)
            pending = changed_fields(entity_type, mine, row.data, view.team_set)
            if pending:
                edits = {n: mine[n] for n in pending}
                record_conflict(conn, key, "withdrawn", "", edits, None, remote.updated_by, now_ms)
                drop_tracked(conn, key)  # kept as this rep's private copy
                writer.team_set.discard(entity_id)
                return True
            writer.set_deleted(entity_type, entity_id, True)
            writer.team_set.discard(entity_id)
    withdrawn = Tracked(
        WITHDRAWN, remote.version, row.level, row.data, row.author, remote.updated_by
    )
    save_tracked(conn, key, withdrawn, now_ms)
    return True


def _apply_live(
    conn: sqlite3.Connection,
    writer: LocalWriter,
    remote: protocol.RemoteRow,
    row: Tracked | None,
    local: str,
    view: TeamView,
    now_ms: int,
) -> bool:
    key = remote.key
    entity_type, entity_id = key
    if row is None:
        if local == "live" and view.adopt:
            _adopt(conn, writer, remote, view, now_ms)
            return True
        if local != "absent":
            return False  # this book's own private row (it withdrew it earlier)
        if writer.insert(entity_type, entity_id, remote.data):
            writer.team_set.add(entity_id)
        received = Tracked(
            RECEIVED, remote.version, "", remote.data, remote.created_by, remote.updated_by
        )
        save_tracked(conn, key, received, now_ms)
        return True
    revive = row.state in (DELETED, WITHDRAWN)
    if local == "absent":
        if writer.insert(entity_type, entity_id, remote.data):
            writer.team_set.add(entity_id)
    elif local == "live" or revive:
        if local == "deleted":
            writer.set_deleted(entity_type, entity_id, False)
        writer.team_set.add(entity_id)
        _merge(conn, writer, remote, row, view.team_set, now_ms)
    # else: the rep deleted it here; the delete goes out with the next push.
    state = RECEIVED if revive else row.state
    if state == SHARED and remote.my_level is None:
        state = RECEIVED  # restored meanwhile without this rep's mark: marked again if shared
    author = row.author or remote.created_by
    updated = Tracked(state, remote.version, row.level, remote.data, author, remote.updated_by)
    save_tracked(conn, key, updated, now_ms)
    return True


def _adopt(
    conn: sqlite3.Connection,
    writer: LocalWriter,
    remote: protocol.RemoteRow,
    view: TeamView,
    now_ms: int,
) -> None:
    """A team row this book already holds but does not track (it was disconnected and
    connected again): what the two last agreed on is not known, so the team's values are
    taken and every differing value of the book's is kept as a conflict to resolve."""
    entity_type, entity_id = remote.key
    spec = SPECS[entity_type]
    values = read_local(conn, entity_type, [entity_id])[entity_id]
    mine = project(entity_type, values, view.team_set)
    updates: dict[str, Any] = {}
    for spec_field in spec.fields:
        name = spec_field.name
        theirs = remote.data.get(name, field_default(entity_type, spec_field))
        current = mine[name]
        if current == normalize(entity_type, spec_field, theirs, view.team_set):
            continue
        if current not in (None, "", [], {}, field_default(entity_type, spec_field)):
            record_conflict(
                conn, remote.key, "field", name, current, theirs, remote.updated_by, now_ms
            )
        updates[name] = theirs
    writer.update(entity_type, entity_id, updates, received=True)
    writer.team_set.add(entity_id)
    state = SHARED if remote.my_level is not None else RECEIVED
    adopted = Tracked(
        state,
        remote.version,
        remote.my_level or "",
        remote.data,
        remote.created_by,
        remote.updated_by,
    )
    save_tracked(conn, remote.key, adopted, now_ms)


def _merge(
    conn: sqlite3.Connection,
    writer: LocalWriter,
    remote: protocol.RemoteRow,
    row: Tracked,
    team_set: set[str],
    now_ms: int,
) -> None:
    """Three-way merge of a teammate's change into the local row (server wins a tie)."""
    entity_type, entity_id = remote.key
    spec = SPECS[entity_type]
    values = read_local(conn, entity_type, [entity_id])[entity_id]
    mine = project(entity_type, values, team_set)
    updates: dict[str, Any] = {}
    for spec_field in spec.fields:
        name = spec_field.name
        if name not in remote.data and name not in row.data:
            continue
        default = field_default(entity_type, spec_field)
        base = row.data.get(name, default)
        theirs = remote.data.get(name, default)
        if theirs == base:
            continue
        current = mine[name]
        if current not in (
            normalize(entity_type, spec_field, base, team_set),
            normalize(entity_type, spec_field, theirs, team_set),
        ):
            record_conflict(
                conn, remote.key, "field", name, current, theirs, remote.updated_by, now_ms
            )
        updates[name] = theirs
    writer.update(entity_type, entity_id, updates, received=row.state == RECEIVED)


# ---------------------------------------------------------------------------- sync


def sync(
    book: Book,
    connection: Any,
    team_id: str,
    role: str,
    *,
    read_connection: Any = None,
    guard: DeleteGuard | None = None,
    confirm: bool = False,
) -> SyncReport:
    report = SyncReport()
    replay(book, connection, team_id, role, report)
    prepare(book, guard=guard, confirm=confirm)
    replay(book, connection, team_id, role, report)
    pull(book, read_connection or connection, team_id, report, guard=guard, confirm=confirm)
    return report
