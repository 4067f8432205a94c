"""The words of a full-text index that start with a prefix, read from FTS5 itself.

FTS5 answers a prefix of four letters or more (no prefix table) by reading and merging
the postings of every word that starts with it before it returns a row: 150 ms for
"afte" (after, afternoon, afternoons: 700,000 postings) over a million messages, however
small the LIMIT. The same words written out (``"after" OR "afternoon" OR …``) are walked
newest first and stop after the first rows (under 1 ms). This module finds those words.

It asks FTS5's own vocabulary (an ``fts5vocab`` table of kind ``instance`` in the
connection's temp schema, one per index): the first row at or after a word reads one
posting of that word, not its list, so stepping from word to word costs a seek per index
segment (more when the step passes a long list: up to a few ms). Words of a deleted row
may still be listed until FTS5 merges its segments; matching them finds nothing extra.
"""

from __future__ import annotations

import sqlite3
import time

from relbook.storage.search_ddl import FTS_TABLES

# More words than this: keep the prefix (a long OR costs a seek per word per segment).
MOST_WORDS = 32
# Stepping through the words takes longer than this: keep the prefix (FTS5 reads them all).
BUDGET_S = 0.025
# Sorts after a word and before every longer word starting with it (words are made of
# letters and digits only; control characters separate them).
_AFTER = "\x01"


def vocabulary(table: str) -> str:
    return f"temp.{table}_words"


def _create(connection: sqlite3.Connection) -> None:
    """The temp vocabulary tables of this connection (its own: nothing is written to the
    book, so a read-only connection may create them)."""
    (query_only,) = connection.execute("PRAGMA query_only").fetchone()
    if query_only:
        connection.execute("PRAGMA query_only=OFF")
    try:
        for table in FTS_TABLES.values():
            connection.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary(table)} "
                f"USING fts5vocab(main, {table}, instance)"
            )
    finally:
        if query_only:
            connection.execute("PRAGMA query_only=ON")


def words_with_prefix(
    connection: sqlite3.Connection,
    table: str,
    prefix: str,
    *,
    most: int = MOST_WORDS,
    budget_s: float = BUDGET_S,
) -> tuple[str, ...] | None:
    """Every word of ``table``'s index that starts with ``prefix`` (as the index stores
    words: folded), in order; None when there are more than ``most`` of them or finding
    them takes longer than ``budget_s`` (the caller then keeps the prefix query)."""
    try:
        return _words(connection, table, prefix, most, budget_s)
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
    _create(connection)
    return _words(connection, table, prefix, most, budget_s)


def _words(
    connection: sqlite3.Connection, table: str, prefix: str, most: int, budget_s: float
) -> tuple[str, ...] | None:
    statement = f"SELECT term FROM {vocabulary(table)} WHERE term >= ? LIMIT 1"
    started = time.perf_counter()
    words: list[str] = []
    start = prefix
    while True:
        row = connection.execute(statement, (start,)).fetchone()
        if row is None or not row[0].startswith(prefix):
            return tuple(words)
        words.append(row[0])
        if len(words) > most or time.perf_counter() - started > budget_s:
            return None
        start = row[0] + _AFTER
