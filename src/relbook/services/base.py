"""What every service shares: the book, the clock, and one transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from relbook.domain.errors import NotFoundError

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.orm import Session

    from relbook.services.context import Services


_Row = TypeVar("_Row")


def live(session: Session, model: type[_Row], ident: str, kind: str) -> _Row:
    """The row ``ident`` of ``model``, or NotFoundError naming ``kind`` when it is missing
    or deleted (a list can show a row another window deleted a moment ago)."""
    row = session.get(model, ident)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise NotFoundError(kind, ident)
    return row


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
