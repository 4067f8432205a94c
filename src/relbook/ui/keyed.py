"""A column of cards keyed by the data they show: a refresh rebuilds only what changed.

My Day is rebuilt each time mail lands (a sync lands some every few seconds). Making its
thousand labels again each time froze the window for 150–230 ms on a big book (benchmark,
issue 7). A ``KeyedColumn`` keeps each card with the data it was made from and, on a
refresh, keeps a card whose data is equal, makes the changed ones a few at a time — a
slice of the event loop each (``SLICE_S``), the old card showing until its new one is
placed — and drops the cards no longer wanted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from relbook.ui.qt import QBoxLayout, QTimer, QWidget

# How long one turn of the event loop may spend making cards (the rest waits for the next);
# a card takes ~7 ms on a busy day's book.
SLICE_S = 0.008


@dataclass(frozen=True)
class Wanted:
    """One card of the column: its key (unique in the column), the data it shows (compared
    with ``==``) and how to make it."""

    key: str
    data: object
    build: Callable[[], QWidget]


class KeyedColumn:
    def __init__(self, layout: QBoxLayout, owner: QWidget) -> None:
        self._layout = layout
        self._owner = owner
        self._shown: dict[str, tuple[object, QWidget]] = {}
        self._generation = 0
        self._pending = False
        layout.addStretch(1)  # stays last: cards are inserted before it
        self.made = 0  # cards made since the column was created (tests read it)

    def show(self, wanted: Sequence[Wanted], *, now: int = 0) -> None:
        """Make the column show ``wanted`` in order: the first ``now`` cards at once (what
        the first paint must show), the other changed ones a slice at a time."""
        self._generation += 1
        self._step(self._generation, list(wanted), 0, now)

    def busy(self) -> bool:
        """Cards are still being made for the last ``show``."""
        return self._pending

    def _step(self, generation: int, wanted: list[Wanted], start: int, now: int) -> None:
        if generation != self._generation:
            return  # a newer show took over
        started = time.perf_counter()
        self._pending = True
        for index in range(start, len(wanted)):
            item = wanted[index]
            shown = self._shown.get(item.key)
            if shown is not None and shown[0] == item.data:
                widget = shown[1]
            else:
                if index >= now and index > start and time.perf_counter() - started > SLICE_S:
                    # A 1 ms timer, not 0: zero timers run back to back ahead of every
                    # other timer, so a chain of slices held the loop like one long call.
                    QTimer.singleShot(
                        1, self._owner, lambda at=index: self._step(generation, wanted, at, now)
                    )
                    return
                widget = item.build()
                self._prepare(widget)
                self.made += 1
                if shown is not None:
                    self._drop(shown[1])
                self._shown[item.key] = (item.data, widget)
            if self._layout.indexOf(widget) != index:
                if self._layout.indexOf(widget) >= 0:
                    self._layout.removeWidget(widget)
                self._layout.insertWidget(index, widget)
        keep = {item.key for item in wanted}
        for key in [k for k in self._shown if k not in keep]:
            self._drop(self._shown.pop(key)[1])
        self._pending = False

    def _prepare(self, widget: QWidget) -> None:
        """Style and lay out a new card before it joins the column, at the column's width:
        inside this slice, not in one layout pass over every card made since."""
        widget.ensurePolished()
        holder = self._layout.parentWidget()
        width = holder.width() if holder is not None else 0
        if width > 0:
            widget.resize(
                width,
                widget.heightForWidth(width)
                if widget.hasHeightForWidth()
                else widget.sizeHint().height(),
            )
        inner = widget.layout()
        if inner is not None:
            inner.activate()

    def _drop(self, widget: QWidget) -> None:
        self._layout.removeWidget(widget)
        widget.hide()
        widget.deleteLater()
