"""A keyed column keeps the cards whose data did not change and makes the rest a slice
of the event loop at a time (My Day during a sync: issue 7's UI stall)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def column(qtbot: Any) -> Any:
    from relbook.ui.keyed import KeyedColumn
    from relbook.ui.qt import QVBoxLayout, QWidget

    holder = QWidget()
    qtbot.addWidget(holder)
    layout = QVBoxLayout(holder)
    holder.show()
    return KeyedColumn(layout, holder), layout


def _texts(layout: Any) -> list[str]:
    widgets = [layout.itemAt(i).widget() for i in range(layout.count())]
    return [w.text() for w in widgets if w is not None]


def _wanted(items: list[tuple[str, str]]) -> list[Any]:
    from relbook.ui.keyed import Wanted
    from relbook.ui.qt import QLabel

    return [Wanted(key, text, lambda t=text: QLabel(t)) for key, text in items]


def test_unchanged_cards_are_kept_and_changed_ones_replaced_in_place(
    qtbot: Any, column: Any
) -> None:
    keyed, layout = column
    keyed.show(_wanted([("a", "A1"), ("b", "B1"), ("c", "C1")]), now=99)
    assert _texts(layout) == ["A1", "B1", "C1"]
    kept = layout.itemAt(0).widget()
    made = keyed.made

    keyed.show(_wanted([("a", "A1"), ("c", "C2"), ("d", "D1")]))
    qtbot.waitUntil(lambda: not keyed.busy())
    assert _texts(layout) == ["A1", "C2", "D1"]
    assert layout.itemAt(0).widget() is kept
    assert keyed.made == made + 2  # only C (changed) and D (new) were made
    assert layout.itemAt(layout.count() - 1).spacerItem() is not None  # the stretch stays last


def test_changed_cards_are_made_a_slice_at_a_time(
    qtbot: Any, column: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relbook.ui import keyed as keyed_module

    keyed, layout = column
    keyed.show(_wanted([(k, k + "1") for k in "abcd"]), now=99)
    monkeypatch.setattr(keyed_module, "SLICE_S", -1.0)  # every card over budget: one per turn

    keyed.show(_wanted([(k, k + "2") for k in "abcd"]))
    # One card made now; the rest still show their old data until their turn comes.
    assert _texts(layout) == ["a2", "b1", "c1", "d1"]
    assert keyed.busy()
    qtbot.waitUntil(lambda: not keyed.busy())
    assert _texts(layout) == ["a2", "b2", "c2", "d2"]


def test_the_first_cards_asked_for_now_are_made_at_once(
    qtbot: Any, column: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relbook.ui import keyed as keyed_module

    keyed, layout = column
    monkeypatch.setattr(keyed_module, "SLICE_S", -1.0)
    keyed.show(_wanted([(k, k + "1") for k in "abcde"]), now=3)
    assert _texts(layout) == ["a1", "b1", "c1"]  # the first screen; the rest follows
    qtbot.waitUntil(lambda: not keyed.busy())
    assert _texts(layout) == ["a1", "b1", "c1", "d1", "e1"]


def test_a_newer_show_takes_over_an_unfinished_one(
    qtbot: Any, column: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relbook.ui import keyed as keyed_module

    keyed, layout = column
    keyed.show(_wanted([(k, k + "1") for k in "abc"]), now=99)
    monkeypatch.setattr(keyed_module, "SLICE_S", -1.0)
    keyed.show(_wanted([(k, k + "2") for k in "abc"]))
    keyed.show(_wanted([("c", "c3"), ("a", "a3")]))
    qtbot.waitUntil(lambda: not keyed.busy())
    assert _texts(layout) == ["c3", "a3"]


def test_a_refresher_with_an_interval_reads_at_most_once_per_interval(qtbot: Any) -> None:
    """A sync lands mail every second; a costly view (My Day) follows at its own pace:
    the first change at once, the ones after within the interval once, later."""
    import time

    from relbook.services.changes import Change
    from relbook.ui.context import Refresher
    from relbook.ui.qt import QObject, QWidget, Signal

    class Changes(QObject):
        changed = Signal(object)

    class Runner:
        closed = False

    class Ctx:
        changes = Changes()
        runner = Runner()

    owner = QWidget()
    qtbot.addWidget(owner)
    refreshed: list[float] = []
    Refresher(Ctx(), ("interaction",), lambda: refreshed.append(time.monotonic()), owner,
              min_interval_ms=400)  # fmt: skip
    mail = Change(frozenset({"interaction"}))
    Ctx.changes.changed.emit(mail)
    qtbot.waitUntil(lambda: len(refreshed) == 1)
    for _ in range(5):
        Ctx.changes.changed.emit(mail)
    qtbot.wait(100)
    assert len(refreshed) == 1  # the burst waits for the interval
    qtbot.waitUntil(lambda: len(refreshed) == 2, timeout=2_000)
    assert refreshed[1] - refreshed[0] >= 0.39
    qtbot.wait(500)
    assert len(refreshed) == 2  # five changes, one refresh
