"""Building a demo book: into a new book file (all or nothing), or into an open empty book.

Both paths run the same generator inside ONE transaction: secondary indexes and the
interaction search triggers are dropped first and rebuilt after the rows are in (sorted
index builds and one FTS 'rebuild' are much faster than per-row maintenance), then the
derived state the ORM unit of work would otherwise keep is computed with the storage
layer's own functions: search documents (``search_index.rebuild``), touch statistics
(``touch.refresh`` for every linked person and company, people before companies),
companies' people counts, and people's values at stake and deals' contacts
(``stake.refresh_all``; their triggers are dropped during the load like the indexes).

The demo book starts with an empty outbox: it is sample data, not edits waiting for a
team server.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from relbook.domain.clock import Clock, SystemClock, to_millis
from relbook.domain.errors import BookError, UserError
from relbook.services.demo.bulk import (
    BulkWriter,
    InteractionIndexer,
    drop_interaction_fts_triggers,
    drop_secondary_indexes,
    execute_all,
)
from relbook.services.demo.generate import DemoGenerator
from relbook.services.demo.scale import MAX_SCALE, DemoCounts
from relbook.storage import search_index, stake, touch
from relbook.storage.book import Book, open_book
from relbook.storage.pragmas import open_raw

DEFAULT_SEED = 2026
ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

# Share of the progress bar per phase (measured on the benchmark book).
_PHASES = (("Writing people, deals and interactions", 0.62), ("Building indexes", 0.08),
           ("Building the search index", 0.20), ("Computing rhythms and last touches", 0.10))  # fmt: skip
_STARTS = tuple(sum(share for _, share in _PHASES[:index]) for index in range(len(_PHASES)))
_TOUCH_CHUNK = 2000


class DemoCancelled(Exception):
    """The build was cancelled; nothing of it was kept."""


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    seed: int
    scale: float
    rows: dict[str, int]  # rows written per table
    seconds: float
    size_bytes: int

    def describe(self) -> str:
        r = self.rows
        return (
            f"{r.get('person', 0):,} people, {r.get('company', 0):,} companies, "
            f"{r.get('deal', 0):,} deals, {r.get('interaction', 0):,} interactions, "
            f"{r.get('task', 0):,} tasks, {r.get('note', 0):,} notes"
        )


class _Progress:
    """Maps phase fractions onto 0..1, and raises DemoCancelled when asked to stop."""

    def __init__(self, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
        self.progress = progress
        self.cancel = cancel
        self.phase = 0
        self.last = -1.0

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise DemoCancelled("The demo book build was cancelled.")

    def report(self, fraction: float) -> None:
        self.check()
        if self.progress is None:
            return
        fraction = max(0.0, min(1.0, fraction))
        if self.phase == len(_PHASES) - 1 and fraction == 1.0:
            value = 1.0  # exactly: the shares' float sum is not
        else:
            value = min(1.0, _STARTS[self.phase] + _PHASES[self.phase][1] * fraction)
        if value - self.last >= 0.005 or fraction == 1.0:
            self.last = value
            self.progress(value, _PHASES[self.phase][0])

    def enter(self, phase: int) -> None:
        self.phase = phase
        self.last = -1.0
        self.report(0.0)

    @contextmanager
    def interruptible(self, connection: sqlite3.Connection) -> Iterator[None]:
        """Long single statements (index builds, FTS rebuild) stop when cancel() says so."""
        if self.cancel is None:
            yield
            return
        cancel = self.cancel
        connection.set_progress_handler(lambda: 1 if cancel() else 0, 200_000)
        try:
            yield
        except sqlite3.OperationalError as error:
            if "interrupt" in str(error).lower() and cancel():
                raise DemoCancelled("The demo book build was cancelled.") from error
            raise
        finally:
            connection.set_progress_handler(None, 0)


def _check_empty(connection: sqlite3.Connection) -> None:
    for table in ("person", "company", "deal", "interaction"):
        if connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise UserError(
                "This book already holds people, companies or interactions; the demo is only "
                "written into an empty book.",
                "Create a new demo book with 'relbook demo --out PATH'.",
            )


def fill(
    connection: sqlite3.Connection,
    *,
    now: datetime,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict[str, int]:
    """Write the demo book into an empty book, inside the caller's open transaction."""
    counts = DemoCounts.for_scale(scale)
    steps = _Progress(progress, cancel)
    _check_empty(connection)
    steps.enter(0)
    indexes = drop_secondary_indexes(connection)
    triggers = drop_interaction_fts_triggers(connection)
    # Without their indexes the value-at-stake triggers would scan a table per row.
    ranking_triggers = stake.drop_triggers(connection)
    generator = DemoGenerator(seed, now, counts)
    generator.plan()
    writer = BulkWriter(connection, on_flush=steps.check, after_job=InteractionIndexer())
    try:
        generator.write(writer, steps.report)
    except BaseException:
        writer.close(discard=True)
        raise
    writer.close()

    steps.enter(1)
    with steps.interruptible(connection):
        for number, statement in enumerate(indexes):
            execute_all(connection, [statement])
            steps.report((number + 1) / max(1, len(indexes)))
    steps.enter(2)
    with steps.interruptible(connection):
        execute_all(connection, triggers)
        # The documents of people, companies, deals and notes (composed from several tables).
        for kind in search_index.INDEXED_KINDS:
            ids = [row[0] for row in connection.execute(f"SELECT id FROM {kind}")]
            search_index.refresh(connection, kind, ids)
        connection.execute(
            """UPDATE company SET people_count = (
                   SELECT count(*) FROM person p
                   WHERE p.company_id = company.id AND p.deleted_at IS NULL)"""
        )
    steps.enter(3)
    now_ms = to_millis(now)
    people = _linked(connection, "person")
    companies = _linked(connection, "company")
    ordered = people + companies  # a company's breadth reads its people's stats
    for start in range(0, len(ordered), _TOUCH_CHUNK):
        touch.refresh(connection, ordered[start : start + _TOUCH_CHUNK], now_ms)
        steps.report((start + _TOUCH_CHUNK) / max(1, len(ordered)))
    # Values at stake and deal contacts (a contact is the person touched last), at once.
    execute_all(connection, ranking_triggers)
    stake.refresh_all(connection)
    steps.report(1.0)
    return writer.counts()


def _linked(connection: sqlite3.Connection, entity_type: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT DISTINCT entity_id FROM interaction_link WHERE entity_type = ? ORDER BY 1",
            (entity_type,),
        )
    ]


def build_demo(
    book: Book,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> DemoSummary:
    """Fill an open, empty book with the demo in one transaction (cancel: nothing written)."""
    _check_scale(scale)
    started = time.monotonic()
    with book.raw_write() as connection:
        rows = fill(
            connection, now=book.clock.now(), seed=seed, scale=scale,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    return DemoSummary(
        book.path, seed, scale, rows, time.monotonic() - started, book.path.stat().st_size
    )


def _check_scale(scale: float) -> None:
    try:
        DemoCounts.for_scale(scale)
    except ValueError as error:
        raise UserError(
            f"A demo book's scale must be above 0 and at most {MAX_SCALE:g} (got {scale}).",
            "Use --scale 1 for the demo book, --scale 200 for the benchmark book.",
        ) from error


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm")]


def _remove(path: Path) -> None:
    for candidate in (path, *_sidecars(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def building_path(path: Path) -> Path:
    """Where a demo book is assembled before it is moved into place."""
    return path.with_name(f".{path.name}.building")


def build_demo_book(
    path: Path,
    *,
    clock: Clock | None = None,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    force: bool = False,
) -> DemoSummary:
    """Create a new book file at ``path`` holding the demo. Safe to run on a worker thread.

    The book is assembled in a hidden file next to ``path`` and moved into place only when
    complete: a cancelled (``DemoCancelled``) or failed build leaves no file behind. An
    existing file at ``path`` is only replaced with ``force``.
    """
    _check_scale(scale)
    clock = clock or SystemClock()
    path = path.expanduser().absolute()
    if path.is_dir():
        raise UserError(
            f"{path} is a folder.", "Give the demo book a file name, e.g. demo.relbook."
        )
    if path.exists() and not force:
        raise UserError(
            f"{path} already exists; the demo book does not overwrite it.",
            "Choose another path with --out, or pass --force to replace that file.",
        )
    started = time.monotonic()
    temp = building_path(path)
    _remove(temp)
    try:
        open_book(temp, clock, create=True).close()
        connection = open_raw(str(temp))
        try:
            # A fresh file that is deleted on any failure: no journal, no fsync until the end.
            connection.execute("PRAGMA journal_mode=MEMORY")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA cache_size=-262144")
            connection.execute("BEGIN IMMEDIATE")
            rows = fill(
                connection, now=clock.now(), seed=seed, scale=scale,
                progress=progress, cancel=cancel,
            )  # fmt: skip
            connection.execute("COMMIT")
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()
        _fsync(temp)
        for sidecar in _sidecars(path):
            with contextlib.suppress(FileNotFoundError):
                sidecar.unlink()
        temp.replace(path)
        _fsync_folder(path.parent)
    except BaseException:
        _remove(temp)
        raise
    return DemoSummary(path, seed, scale, rows, time.monotonic() - started, path.stat().st_size)


def _fsync(path: Path) -> None:
    try:
        with path.open("rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as error:
        raise BookError(f"Cannot write the demo book {path}: {error.strerror}.",
                        "Check free disk space and permissions.") from error  # fmt: skip


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
