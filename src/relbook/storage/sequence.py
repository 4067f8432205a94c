"""The time-ordered integer key of interactions (``interaction.seq``, the FTS rowid).

``seq = occurred_ms * 1024 + bucket`` with the bucket taken from the natural key, so keys
sort by when things happened and a replay computes the same key. Rare collisions (same
millisecond, same bucket) probe upwards.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable

SLOTS = 1024


def base_seq(occurred_ms: int, key: str) -> int:
    return occurred_ms * SLOTS + zlib.crc32(key.encode("utf-8")) % SLOTS


def assign(connection: sqlite3.Connection, wanted: Iterable[int]) -> list[int]:
    """Free keys near ``wanted`` (in order), not used in the table nor by each other."""
    result: list[int] = []
    taken: set[int] = set()
    for seq in wanted:
        candidate = seq
        while (
            candidate in taken
            or connection.execute(
                "SELECT 1 FROM interaction WHERE seq = ?", (candidate,)
            ).fetchone()
        ):
            candidate += 1
        taken.add(candidate)
        result.append(candidate)
    return result
