"""The PySide6 6.12 guard (MACHINE-FACTS): on 6.12.0 with Python 3.11, emitting a
Signal(object) carrying None 1,000 times corrupted None's reference count and aborted the
interpreter. This loop must pass before the PySide6 pin in pyproject.toml moves."""

from __future__ import annotations

import sys
from typing import Any

from relbook.ui.qt import QObject, Signal


class _Emitter(QObject):
    carried = Signal(object)


def test_emitting_none_a_thousand_times_leaves_none_intact(qapp: Any) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.carried.connect(received.append)
    before = sys.getrefcount(None)
    for _ in range(1000):
        emitter.carried.emit(None)
    del received[:]  # drop the references the slot kept
    after = sys.getrefcount(None)
    assert abs(after - before) < 50  # unchanged but for unrelated interpreter activity
    emitter.carried.emit(None)  # still alive and well


def test_standard_item_model_survives_many_appends(qapp: Any) -> None:
    from relbook.ui.qt import QStandardItem, QStandardItemModel

    model = QStandardItemModel()
    for index in range(6000):
        model.appendRow(QStandardItem(str(index)))
    assert model.rowCount() == 6000
