"""The background task runner: serial writes, stale reads dropped, errors reported."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from relbook.domain.errors import UserError
from relbook.ui.qt import QObject, QThread
from relbook.ui.tasks import TaskRunner


@pytest.fixture
def runner(qapp: Any) -> Any:
    runner = TaskRunner()
    reported: list[BaseException] = []
    runner.error_reporter = reported.append
    runner.reported = reported  # type: ignore[attr-defined]
    yield runner
    runner.shutdown()


def test_writes_run_one_at_a_time_in_order_off_the_ui_thread(qtbot: Any, runner: Any) -> None:
    order: list[int] = []
    active = [0]
    overlap = [False]
    lock = threading.Lock()
    ui_thread = QThread.currentThread()
    threads: list[bool] = []

    def job(n: int) -> Any:
        def run() -> int:
            with lock:
                active[0] += 1
                overlap[0] |= active[0] > 1
            threads.append(QThread.currentThread() is ui_thread)
            order.append(n)
            with lock:
                active[0] -= 1
            return n

        return run

    results: list[int] = []
    for n in range(20):
        runner.write(job(n), results.append)
    qtbot.waitUntil(runner.is_idle, timeout=10_000)
    assert order == list(range(20))
    assert results == list(range(20))
    assert not overlap[0]
    assert not any(threads)


def test_a_newer_read_with_the_same_key_makes_the_older_stale(qtbot: Any, runner: Any) -> None:
    gate = threading.Event()
    shown: list[str] = []

    def slow() -> str:
        gate.wait(5)
        return "old"

    runner.read(slow, shown.append, key="search")
    runner.read(lambda: "new", shown.append, key="search")
    qtbot.waitUntil(lambda: shown == ["new"], timeout=5000)
    gate.set()
    qtbot.waitUntil(runner.is_idle, timeout=5000)
    assert shown == ["new"]


def test_failures_reach_the_handler_or_the_error_reporter(qtbot: Any, runner: Any) -> None:
    handled: list[BaseException] = []

    def fail() -> None:
        raise UserError("The file x.vcf cannot be read.", "Export it again.")

    runner.write(fail, None, lambda error: handled.append(error) or True)
    runner.write(fail)
    qtbot.waitUntil(runner.is_idle, timeout=5000)
    assert len(handled) == 1
    assert [str(e) for e in runner.reported] == ["The file x.vcf cannot be read. Export it again."]


def test_callbacks_of_a_deleted_owner_are_dropped(qtbot: Any, runner: Any) -> None:
    owner = QObject()
    called: list[object] = []
    gate = threading.Event()

    def slow() -> int:
        gate.wait(5)
        return 1

    runner.read(slow, called.append, owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _valid(owner), timeout=5000)
    gate.set()
    qtbot.waitUntil(runner.is_idle, timeout=5000)
    assert called == []


def _valid(obj: QObject) -> bool:
    from relbook.ui.qt import isValid

    return isValid(obj)


def test_results_arriving_after_shutdown_start_no_new_work(qtbot: Any, qapp: Any) -> None:
    """A page whose callback chains another read must not fail while the window closes."""
    runner = TaskRunner()
    reported: list[BaseException] = []
    runner.error_reporter = reported.append
    chained: list[object] = []
    runner.read(lambda: 1, lambda _v: chained.append(runner.read(lambda: 2)))
    runner.shutdown()  # the first result is still queued for the UI thread
    qtbot.waitUntil(runner.is_idle, timeout=5000)
    assert chained == [] and reported == []
