"""Opening a book: checks, upgrades, and the connections everything else uses.

Opening an up-to-date book touches only ``sqlite3`` (no SQLAlchemy import: start-up time).
The SQLAlchemy engine for writes is created on first use.

Rules (DESIGN.md "The book"):
- a book from a newer Relbook is refused, unchanged;
- an older book is backed up (online backup API), upgraded, then integrity-checked;
- a file that is not a readable SQLite book is never touched; the error names the
  latest backup and the way to restore it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from relbook.domain.clock import Clock, SystemClock
from relbook.domain.errors import BookCorruptError, BookError, BookTooNewError
from relbook.storage import backup, migrate
from relbook.storage.pragmas import open_raw

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

SQLITE_MAGIC = b"SQLite format 3\x00"
BOOK_SUFFIX = ".relbook"


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows


class Book:
    """An open book file. Thread-safe: each thread gets its own read connection."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._engine_lock = threading.Lock()

    # ---------------------------------------------------------------- reading
    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (autocommit: each query sees the latest commit)."""
        connection: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if connection is None:
            connection = open_raw(str(self.path), read_only=True)
            self._local.reader = connection
            with self._readers_lock:
                self._readers.append(connection)
        return connection

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that must agree with each other (one read transaction)."""
        connection = self.reader()
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("COMMIT")

    # ---------------------------------------------------------------- writing
    @property
    def engine(self) -> Engine:
        self._ensure_engine()
        assert self._engine is not None
        return self._engine

    def _ensure_engine(self) -> None:
        with self._engine_lock:
            if self._engine is None:
                from relbook.storage.session import make_engine, make_session_factory

                self._engine = make_engine(str(self.path))
                self._factory = make_session_factory(self._engine, self.clock)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One write transaction through the ORM; commits on success, rolls back on error."""
        self._ensure_engine()
        assert self._factory is not None
        with self._factory() as session, session.begin():
            yield session

    @contextmanager
    def raw_write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on a raw connection (bulk paths: ingest, demo, import)."""
        with self.session() as session:
            from relbook.storage.session import driver_connection

            yield driver_connection(session)

    def warm_up(self) -> None:
        """Import and connect the write path ahead of need (call off the UI thread)."""
        self._ensure_engine()
        with self.engine.connect():
            pass

    def close(self) -> None:
        with self._readers_lock:
            for connection in self._readers:
                # A connection may belong to a thread that already ended.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    connection.close()
            self._readers.clear()
        self._local = threading.local()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._factory = None


# ------------------------------------------------------------------- opening


def _corrupt(path: Path, detail: str) -> BookCorruptError:
    latest = backup.latest_backup(path)
    if latest:
        remedy = (
            f"The file was not changed. The latest backup is {latest.path} "
            f"({latest.taken_at:%Y-%m-%d %H:%M} UTC): restore it with "
            f'\'relbook restore "{latest.path}" --book "{path}"\'.'
        )
    else:
        remedy = "The file was not changed. No backup of it was found; check the path."
    return BookCorruptError(
        f"{path} cannot be read as a Relbook book: {detail}.",
        remedy,
        str(latest.path) if latest else None,
    )


def _check_location(path: Path) -> None:
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BookError(
            f"The book's folder {folder} is read-only; Relbook needs to write its journal there.",
            "Move the book to a writable folder, or open it with --book from one.",
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise BookError(
            f"The book {path} cannot be read and written by this user.",
            "Check the file's permissions.",
        )


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BookError(
            f"Cannot create the folder {path.parent}: {error.strerror}.",
            "Choose another location with --book.",
        ) from error
    _check_location(path)
    connection = open_raw(str(path))
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    migrate.upgrade(str(path))


def open_book(path: Path, clock: Clock | None = None, *, create: bool = False) -> Book:
    """Open (and if needed create or upgrade) the book at ``path``."""
    clock = clock or SystemClock()
    path = path.expanduser().absolute()
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        if not create:
            raise BookError(
                f"There is no book at {path}.",
                "Create one with 'relbook demo' or open the app to start an empty book.",
            )
        _create(path)
        return Book(path, clock)
    if path.is_dir():
        raise BookError(f"{path} is a folder, not a book file.", "Pass the book's file path.")
    _check_location(path)
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as error:
        raise _corrupt(path, error.strerror or str(error)) from error
    if header != SQLITE_MAGIC:
        raise _corrupt(path, "it is not an SQLite database (wrong header)")

    try:
        connection = open_raw(str(path))
        try:
            revision = migrate.current_revision(connection)
            blank = migrate.is_blank(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise _corrupt(path, str(error)) from error

    if revision is None:
        if blank:
            _use_wal(path)
            migrate.upgrade(str(path))
            return Book(path, clock)
        raise BookError(
            f"{path} is an SQLite database but not a Relbook book.",
            "Open a .relbook file, or import data with 'relbook import'.",
        )
    if revision not in migrate.SCHEMA_REVISIONS:
        raise BookTooNewError(
            f"{path} was written by a newer Relbook (schema {revision}); this version knows "
            f"schemas up to {migrate.SCHEMA_HEAD}. The book was not opened or changed.",
            "Update Relbook to open it.",
        )
    # Only a book this version may open is switched to WAL (a newer book, or another
    # program's database, is left exactly as it was).
    _use_wal(path)
    if revision != migrate.SCHEMA_HEAD:
        _upgrade_existing(path, revision, clock)
    return Book(path, clock)


def _use_wal(path: Path) -> None:
    connection = open_raw(str(path))
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        raise _corrupt(path, str(error)) from error
    finally:
        connection.close()


def _upgrade_existing(path: Path, revision: str, clock: Clock) -> None:
    taken = backup.take_backup(path, f"pre-migrate-{revision}", clock.now())
    try:
        migrate.upgrade(str(path))
    except Exception as error:
        raise BookError(
            f"Upgrading {path} from schema {revision} failed: {error}. The book is unchanged.",
            f"A copy taken before the upgrade is at {taken.path}. Please report this.",
        ) from error
    connection = open_raw(str(path))
    try:
        problems = integrity_problems(connection)
    finally:
        connection.close()
    if problems:
        raise BookCorruptError(
            f"{path} failed its integrity check after the upgrade: {problems[:3]}.",
            f'Restore the copy taken before the upgrade: relbook restore "{taken.path}".',
            str(taken.path),
        )
