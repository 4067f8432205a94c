"""Bulk loading into a book: raw ``executemany`` in large batches, indexes built at the end.

The ORM's unit of work is the right path for edits and the wrong one for a million rows
(MACHINE-FACTS: ``add_all`` runs at a tenth of raw speed). The loader here writes plain
rows and leaves the derived state — search documents, touch statistics, people counts —
to ``finish_derived_state``, which calls the same storage functions the unit of work does.

Columns a caller does not name are filled from the model's Python-side defaults, so a
column added to the schema later (with a default) does not break the loader.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from relbook.storage.models import Base

# Secondary indexes of these tables are dropped for the load and rebuilt (sorted) after it:
# inserting into a B-tree in key order is several times faster than in random order.
BULK_TABLES = (
    "company",
    "company_domain",
    "person",
    "person_email",
    "person_phone",
    "person_address",
    "affiliation",
    "deal",
    "deal_person",
    "deal_stage_change",
    "interaction",
    "interaction_participant",
    "interaction_link",
    "task",
    "note",
    "feedback",
    "entity_tag",
)
INTERACTION_FTS_TRIGGERS = "trg_interaction_fts_%"


def _python_default(table: str, column: Any) -> Any:
    default = column.default
    if default is None:
        raise LookupError(
            f"the demo loader does not fill {table}.{column.name} (NOT NULL, no default)"
        )
    value = default.arg(None) if default.is_callable else default.arg
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


class TableBuffer:
    """Rows for one table; ``columns`` are the caller's, defaults are appended."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        model_table = Base.metadata.tables[table]
        extra: list[str] = []
        extra_values: list[Any] = []
        for column in model_table.columns:
            if column.name in columns or column.nullable or column.server_default is not None:
                continue
            if (
                column.primary_key
                and column.autoincrement in (True, "auto")
                and (column.type.python_type is int)
            ):
                continue
            extra.append(column.name)
            extra_values.append(_python_default(table, column))
        names = [*columns, *extra]
        self.table = table
        self.width = len(names)
        self.prefix = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
        self.row_marks = f"({', '.join('?' * len(names))})"
        self._sql: dict[int, str] = {}
        self.extra = tuple(extra_values)
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def sql(self, rows: int) -> str:
        """An INSERT of ``rows`` rows in one statement."""
        found = self._sql.get(rows)
        if found is None:
            found = self.prefix + ",".join([self.row_marks] * rows)
            if len(self._sql) < 4:
                self._sql[rows] = found
        return found

    def statements(self, variable_limit: int) -> list[tuple[str, list[Any]]]:
        """The buffered rows as multi-row INSERTs (one parameter binding per statement:
        the writer thread takes the GIL once per few hundred rows, not once per row)."""
        per = max(1, min(500, variable_limit // self.width))
        rows = self.rows
        self.written += len(rows)
        self.rows = []
        out = []
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            out.append((self.sql(len(chunk)), [value for row in chunk for value in row]))
        return out


_Job = list[tuple[str, list[Any]]]


class BulkWriter:
    """Buffers rows per table and writes them in batches on a writer thread.

    ``sqlite3`` releases the GIL while SQLite works, so the writer thread's inserts — and
    the full-text indexing the interaction triggers do for each row — run on the second
    core while the caller generates the next batch. Batches keep their order (parents are
    written before children: tables flush in the order they were defined). The caller
    must not use the connection until ``close``; errors on the writer thread surface at
    the next ``flush`` or at ``close``.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        batch: int = 5000,
        on_flush: Callable[[], None] | None = None,
        after_job: Callable[[sqlite3.Connection], None] | None = None,
        queue_depth: int = 3,
    ) -> None:
        self.connection = connection
        self.batch = batch
        self.on_flush = on_flush
        self.after_job = after_job
        self.tables: dict[str, TableBuffer] = {}
        self.variable_limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=queue_depth)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is not None or self._stop.is_set():
                continue  # drain: after a failure nothing more is written
            try:
                for sql, params in job:
                    self.connection.execute(sql, params)
                if self.after_job is not None:
                    self.after_job(self.connection)
            except BaseException as error:  # re-raised on the caller's thread
                self._error = error

    def define(self, table: str, columns: Sequence[str]) -> TableBuffer:
        buffer = TableBuffer(table, columns)
        self.tables[table] = buffer
        return buffer

    def add(self, buffer: TableBuffer, row: tuple[Any, ...]) -> None:
        buffer.rows.append(row + buffer.extra if buffer.extra else row)
        if len(buffer.rows) >= self.batch:
            self.flush()

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error

    def flush(self) -> None:
        self._raise_pending()
        job = self._job()
        if job:
            self._jobs.put(job)
        if self.on_flush is not None:
            self.on_flush()

    def close(self, *, discard: bool = False) -> None:
        """Wait until everything is written (``discard``: stop writing, e.g. on cancel)."""
        if discard:
            self._stop.set()
        elif self._thread.is_alive():
            job = self._job()
            if job:
                self._jobs.put(job)
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        if not discard:
            self._raise_pending()

    def _job(self) -> _Job:
        job: _Job = []
        for buffer in self.tables.values():
            if buffer.rows:
                job += buffer.statements(self.variable_limit)
        return job

    def counts(self) -> dict[str, int]:
        return {name: buffer.written for name, buffer in self.tables.items()}


def drop_secondary_indexes(connection: sqlite3.Connection) -> list[str]:
    """Drop the named (non-constraint) indexes of ``BULK_TABLES``; returns their DDL."""
    marks = ",".join("?" * len(BULK_TABLES))
    rows = connection.execute(
        f"""SELECT name, sql FROM sqlite_master
            WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})
            ORDER BY name""",
        BULK_TABLES,
    ).fetchall()
    for name, _sql in rows:
        connection.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


class InteractionIndexer:
    """Indexes the interactions written so far, one set-based statement per batch.

    Run as the writer's ``after_job`` while the per-row triggers are dropped: the same
    documents the triggers would add, at about half the cost, and on the writer thread.
    """

    def __init__(self) -> None:
        self.done = 0

    def __call__(self, connection: sqlite3.Connection) -> None:
        newest = connection.execute("SELECT max(rowid) FROM interaction").fetchone()[0] or 0
        if newest > self.done:
            connection.execute(
                """INSERT INTO fts_interaction(rowid, subject, body)
                   SELECT seq, subject, body FROM interaction
                   WHERE rowid > ? AND rowid <= ? AND deleted_at IS NULL""",
                (self.done, newest),
            )
            self.done = newest


def drop_interaction_fts_triggers(connection: sqlite3.Connection) -> list[str]:
    """Per-row index maintenance is replaced by ``InteractionIndexer`` during the load."""
    rows = connection.execute(
        """SELECT name, sql FROM sqlite_master
           WHERE type = 'trigger' AND tbl_name = 'interaction' AND name LIKE ?
           ORDER BY name""",
        (INTERACTION_FTS_TRIGGERS,),
    ).fetchall()
    for name, _sql in rows:
        connection.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def execute_all(connection: sqlite3.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        connection.execute(statement)
