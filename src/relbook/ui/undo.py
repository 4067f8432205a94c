"""Undo (Ctrl+Z) for deletes, merges and stage moves.

Each undoable write pushes an entry whose ``undo`` callable runs on the writer thread
(restore the tombstoned rows, undo the merge from its journal, put the deal back). The
window shows a toast with an Undo button after each push. Confirmation dialogs are kept
for what undo cannot bring back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import QObject, Signal

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

DEPTH = 50


@dataclass(frozen=True)
class UndoEntry:
    label: str  # what was done: "Deleted 3 people"
    undo: Callable[[], Any]


class UndoStack(QObject):
    pushed = Signal(str)  # label of the new entry
    undone = Signal(str)
    changed = Signal()

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self._ctx = ctx
        self._entries: list[UndoEntry] = []

    def push(self, label: str, undo: Callable[[], Any]) -> None:
        self._entries.append(UndoEntry(label, undo))
        del self._entries[:-DEPTH]
        self.pushed.emit(label)
        self.changed.emit()

    def can_undo(self) -> bool:
        return bool(self._entries)

    def top_label(self) -> str:
        return self._entries[-1].label if self._entries else ""

    def undo(self) -> bool:
        if not self._entries:
            self._ctx.status("Nothing to undo")
            return False
        entry = self._entries.pop()
        self.changed.emit()

        def done(_: Any) -> None:
            self._ctx.status(f"Undone: {entry.label}")
            self.undone.emit(entry.label)

        self._ctx.write(entry.undo, done, label=f"Undo {entry.label}")
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.changed.emit()
