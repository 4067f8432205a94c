"""What every service shares: the book, the clock, and one transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.orm import Session

    from relbook.services.context import Services


class Service:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.book = services.book
        self.clock = services.clock

    @property
    def db(self) -> sqlite3.Connection:
        """The calling thread's read connection."""
        return self.book.reader()

    @contextmanager
    def write(self, kinds: tuple[str, ...], reason: str = "") -> Iterator[Session]:
        """One write transaction; on commit, listeners hear that ``kinds`` changed."""
        with self.book.session() as session:
            yield session
        self.services.changes.publish(kinds, reason=reason)
