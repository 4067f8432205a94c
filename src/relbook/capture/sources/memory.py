"""An in-memory source: a fake mailbox with a change log, for fast tests and the contract.

It behaves like a well-kept server: a full listing resumes by key (so items deleted
meanwhile never make it skip one), incremental cursors replay every change after them,
and cursors from before ``invalidate_cursors`` are refused with ``CursorInvalid``. Tests
can break an item (a per-item error), make the connection drop after some pages
(``fail_after_pages``), or make a listing come back empty.

Cursors: ``<epoch>:<seq>`` (incremental, after change ``seq``) and
``<epoch>:list:<seq>:<last locator>`` (inside a full listing started at change ``seq``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from relbook.capture.sources.base import (
    CancelToken,
    CapturedItem,
    CursorInvalid,
    Page,
    SourceChange,
    SourceError,
)


@dataclass
class _Entry:
    item: CapturedItem | None
    version_tag: str
    error: str | None = None


@dataclass
class _Scope:
    entries: dict[str, _Entry] = field(default_factory=dict)
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, op, locator)


class MemorySource:
    def __init__(self, account_id: str, *, page_size: int = 50) -> None:
        self.account_id = account_id
        self.page_size = page_size
        self.fail_after_pages: int | None = None  # raise SourceError after N pages of a call
        self.pages_served = 0
        self.closed = False
        self._epoch = 1
        self._seq = 0
        self._scopes: dict[str, _Scope] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the "server" side
    def add_scope(self, scope: str) -> None:
        with self._lock:
            self._scopes.setdefault(scope, _Scope())

    def put(
        self, scope: str, locator: str, item: CapturedItem, *, version_tag: str | None = None
    ) -> None:
        """Create or change an item (a new version tag unless one is given)."""
        with self._lock:
            entries = self._scopes.setdefault(scope, _Scope())
            self._seq += 1
            tag = version_tag or f"v{self._seq}"
            entries.entries[locator] = _Entry(replace(item), tag)
            entries.log.append((self._seq, "upsert", locator))

    def break_item(self, scope: str, locator: str, message: str) -> None:
        """An item the source cannot read (reported per item, the rest goes on)."""
        with self._lock:
            entries = self._scopes.setdefault(scope, _Scope())
            self._seq += 1
            entries.entries[locator] = _Entry(None, f"v{self._seq}", message)
            entries.log.append((self._seq, "upsert", locator))

    def delete(self, scope: str, locator: str) -> None:
        with self._lock:
            entries = self._scopes[scope]
            if entries.entries.pop(locator, None) is not None:
                self._seq += 1
                entries.log.append((self._seq, "delete", locator))

    def invalidate_cursors(self) -> None:
        """The server forgets every cursor it issued (UIDVALIDITY change, sync state lost)."""
        with self._lock:
            self._epoch += 1

    def locators(self, scope: str) -> list[str]:
        with self._lock:
            return sorted(self._scopes.get(scope, _Scope()).entries)

    # ------------------------------------------------------------------ the Source
    def scopes(self) -> list[str]:
        with self._lock:
            return sorted(self._scopes)

    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        for served, page in enumerate(self._pages(scope, cursor)):
            cancel.check()
            if self.fail_after_pages is not None and served >= self.fail_after_pages:
                raise SourceError(
                    f"The connection to the test server dropped after {served} pages.",
                    "Sync again; what was stored stays.",
                )
            self.pages_served += 1
            yield page

    def close(self) -> None:
        self.closed = True

    # ------------------------------------------------------------------ internals
    def _pages(self, scope: str, cursor: str | None) -> Iterator[Page]:
        with self._lock:
            state = self._scopes.get(scope)
            if state is None:
                raise SourceError(f"The folder {scope!r} does not exist on the test server.")
            epoch, listing, start_seq, position = self._parse(cursor)
            if listing:
                snapshot = sorted(
                    (loc, entry) for loc, entry in state.entries.items() if loc > position
                )
                total = len(state.entries)
                done = total - len(snapshot)
                if not snapshot:
                    yield Page([], f"{epoch}:{start_seq}", listing_complete=True)
                    return
                for start in range(0, len(snapshot), self.page_size):
                    chunk = snapshot[start : start + self.page_size]
                    changes = [self._change("upsert", loc, entry) for loc, entry in chunk]
                    last = start + self.page_size >= len(snapshot)
                    done += len(chunk)
                    next_cursor = (
                        f"{epoch}:{start_seq}"
                        if last
                        else f"{epoch}:list:{start_seq}:{chunk[-1][0]}"
                    )
                    yield Page(changes, next_cursor, listing_complete=last, progress=(done, total))
                return
            pending = [entry for entry in state.log if entry[0] > start_seq]
            latest = {loc: seq for seq, _op, loc in pending}
            for start in range(0, len(pending), self.page_size):
                logged = pending[start : start + self.page_size]
                changes = []
                for seq, op, loc in logged:
                    if latest[loc] != seq:
                        continue  # superseded: a later change in the log carries it
                    current = state.entries.get(loc)
                    if op == "delete" or current is None:
                        changes.append(SourceChange("delete", loc))
                    else:
                        changes.append(self._change("upsert", loc, current))
                yield Page(changes, f"{epoch}:{logged[-1][0]}")

    def _parse(self, cursor: str | None) -> tuple[int, bool, int, str]:
        """(epoch, listing?, start seq, last listed locator)."""
        if cursor is None:
            return self._epoch, True, self._seq, ""
        parts = cursor.split(":", 3)
        try:
            epoch = int(parts[0])
            if len(parts) == 4 and parts[1] == "list":
                result = (epoch, True, int(parts[2]), parts[3])
            elif len(parts) == 2:
                result = (epoch, False, int(parts[1]), "")
            else:
                raise ValueError(cursor)
        except ValueError as error:
            raise CursorInvalid(f"unreadable cursor {cursor!r}") from error
        if epoch != self._epoch:
            raise CursorInvalid(f"cursor from epoch {epoch}; the server is at {self._epoch}")
        return result

    @staticmethod
    def _change(op: str, locator: str, entry: _Entry) -> SourceChange:
        if entry.error is not None:
            return SourceChange(op, locator, None, entry.version_tag, error=entry.error)
        assert entry.item is not None
        return SourceChange(op, locator, replace(entry.item), entry.version_tag)
