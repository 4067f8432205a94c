"""Small helpers the insight modules share (read path: sqlite3 only, no SQLAlchemy)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relbook.domain.clock import from_millis
from relbook.domain.scoring import DAY_MS, TouchInputs


def moment(value: int | None) -> datetime | None:
    return None if value is None else from_millis(value)


def id_list(ids: Iterable[str]) -> str:
    """A JSON array for ``IN (SELECT value FROM json_each(?))`` (works on read-only
    connections, no temp tables, no parameter limit)."""
    return json.dumps(sorted(set(ids)))


@contextmanager
def read_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Several reads that see one state of the book (inside a caller's transaction: that
    one)."""
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("COMMIT")


def days_ms(days: float) -> int:
    return int(days * DAY_MS)


@dataclass(frozen=True)
class Ref:
    """A named pointer to a person, company or deal, for lists and briefings."""

    entity_type: str
    id: str
    name: str


# Columns of person/company rows that feed domain.scoring.TouchInputs, in this order.
TOUCH_COLUMNS = (
    "last_touch_at, last_two_way_at, touch_count, inbound_count, outbound_count, "
    "touch_days, touch_weight_30, touch_weight_180, first_touch_at"
)


def touch_inputs(row: Sequence[Any], engaged_people: int = 0) -> TouchInputs:
    """TouchInputs from a row slice selected with TOUCH_COLUMNS."""
    last, two_way, count, n_in, n_out, days, w30, w180, first = row
    return TouchInputs(
        last_touch_at=moment(last),
        last_two_way_at=moment(two_way),
        first_touch_at=moment(first),
        touch_count=int(count or 0),
        inbound_count=int(n_in or 0),
        outbound_count=int(n_out or 0),
        touch_days=int(days or 0),
        weight_30=float(w30 or 0.0),
        weight_180=float(w180 or 0.0),
        engaged_people=engaged_people,
    )


def book_currency(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT value FROM setting WHERE key = 'currency'").fetchone()
    return str(json.loads(row[0])) if row else "EUR"


def ensure_log10(db: sqlite3.Connection) -> None:
    """SQLite's log10() is only there when it was built with its math functions (Python's
    own builds are); elsewhere give the connection Python's."""
    try:
        db.execute("SELECT log10(10)").fetchone()
    except sqlite3.OperationalError:
        db.create_function("log10", 1, _log10, deterministic=True)


def _log10(value: float | None) -> float | None:
    import math

    return None if value is None or value <= 0 else math.log10(value)
