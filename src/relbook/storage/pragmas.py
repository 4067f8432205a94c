"""Connection settings every connection to a book gets, whichever library opened it."""

from __future__ import annotations

import sqlite3

BUSY_TIMEOUT_MS = 10_000

# WAL: readers never block the writer; FULL: a committed edit survives power loss.
CONNECTION_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
    "PRAGMA mmap_size=268435456",
)


def apply_pragmas(connection: sqlite3.Connection, *, read_only: bool = False) -> None:
    for pragma in CONNECTION_PRAGMAS:
        connection.execute(pragma)
    if read_only:
        connection.execute("PRAGMA query_only=ON")


def open_raw(path: str, *, read_only: bool = False) -> sqlite3.Connection:
    """A plain sqlite3 connection with the book's settings (autocommit mode)."""
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    apply_pragmas(connection, read_only=read_only)
    return connection
