"""The UI measurements: the People list (lists) and event-loop stalls (stalls).

Each runs in a fresh child process (``python -m benchmarks.ui lists|stalls ...``,
offscreen) through the app's real code — ``ui.views.lists.PeoplePage`` with its
``WindowedListModel`` and task runner; the real ``MainWindow`` with its sync scheduler and
search popup — and prints one ``RESULT {json}`` line the runner turns into rows.

Lists: first paint = from creating the page until its table has painted the first rows
with their data; scroll to the end = from the scroll bar dragged to the bottom until the
last rows are painted with data. Raw = a bare QTableView over a minimal model that reads the
same 200-row blocks with plain ``sqlite3`` on the UI thread, measured the same way.

Stalls: a ``StallDetector`` (a 2 ms precise QTimer on the UI thread) records the longest
gap between its ticks. Measured while a background sync (``SyncScheduler.sync`` → the
network pool → ``services.sync.run``) ingests messages from a real Dovecot with My Day on
screen, and while the user types queries into the search popup (one key every 70 ms, so
every keystroke starts a search). Raw = the detector's longest gap with the window idle.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

RESULT = "RESULT "
KEY_INTERVAL_MS = 70


# ------------------------------------------------------------------ Qt helpers


def _qt() -> Any:
    """The app's Qt names plus the event loop and QTest (benchmark-only)."""
    from types import SimpleNamespace

    from PySide6.QtCore import QEventLoop
    from PySide6.QtTest import QTest

    from relbook.ui import qt

    names = {name: getattr(qt, name) for name in qt.__all__}
    # relbook.ui.qt exports QEventLoop too (the screenshot command waits in it)
    return SimpleNamespace(**{**names, "QEventLoop": QEventLoop, "QTest": QTest})


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the event loop until ``condition`` holds (checked every 5 ms)."""
    qt = _qt()
    if condition():
        return
    loop = qt.QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = qt.QTimer()
    timer.setInterval(5)

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")


def run_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() >= end, seconds + 5, "a pause")


class PaintClock:
    """When a widget finished painting, and whether its data was in by then.

    A Paint event seen by an event filter schedules a zero-time timer: it fires right
    after the paint (and whatever the paint loaded synchronously) is done.
    """

    def __init__(self, widget: Any, ready: Callable[[], bool]) -> None:
        qt = _qt()
        self.done: list[tuple[float, bool]] = []
        clock = self

        def finished() -> None:
            clock.done.append((time.perf_counter(), bool(clock.ready())))

        class Filter(qt.QObject):  # type: ignore[misc, name-defined]
            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == qt.QEvent.Type.Paint:
                    qt.QTimer.singleShot(0, finished)
                return False

        self.ready = ready
        self.filter = Filter()
        widget.installEventFilter(self.filter)

    def first_ready_after(self, moment: float) -> float | None:
        return next((t for t, ready in self.done if t >= moment and ready), None)


class StallDetector:
    """The longest gap between ticks of a precise timer on the UI thread."""

    def __init__(self, interval_ms: int = 2) -> None:
        qt = _qt()
        self.interval = interval_ms / 1000
        self.timer = qt.QTimer()
        self.timer.setTimerType(qt.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps = []
        self._last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        self._tick()
        gaps = sorted(self.gaps)
        stalls = [max(0.0, g - self.interval) * 1000 for g in gaps]
        return {
            "longest_ms": stalls[-1] if stalls else 0.0,
            "p99_ms": stalls[int(0.99 * (len(stalls) - 1))] if stalls else 0.0,
            "over_50ms": sum(1 for s in stalls if s > 50),
            "over_16ms": sum(1 for s in stalls if s > 16),
            "ticks": len(gaps),
        }


# ------------------------------------------------------------------ lists


def _raw_table(book: Path) -> tuple[Any, Any, Callable[[int], bool]]:
    """A bare QTableView over a minimal model reading 200-row blocks with sqlite3."""
    qt = _qt()
    from relbook.storage.pragmas import open_raw

    db = open_raw(str(book), read_only=True)
    sql = """SELECT p.display_name, c.name, p.title,
                    (SELECT address FROM person_email WHERE person_id = p.id AND position = 0),
                    p.last_touch_at, p.touch_count, p.strength
             FROM person p LEFT JOIN company c ON c.id = p.company_id
             WHERE p.deleted_at IS NULL ORDER BY p.name_key, p.id LIMIT 200 OFFSET ?"""

    class RawModel(qt.QAbstractTableModel):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.count = db.execute("SELECT count(*) FROM person WHERE deleted_at IS NULL")
            self.count = self.count.fetchone()[0]
            self.blocks: dict[int, list[tuple[Any, ...]]] = {}

        def rowCount(self, parent: Any = None) -> int:
            return 0 if parent is not None and parent.isValid() else int(self.count)

        def columnCount(self, parent: Any = None) -> int:
            return 7

        def data(self, index: Any, role: int = 0) -> Any:
            if role != qt.Qt.ItemDataRole.DisplayRole:
                return None
            block = index.row() // 200
            if block not in self.blocks:
                self.blocks[block] = db.execute(sql, (block * 200,)).fetchall()
            rows = self.blocks[block]
            offset = index.row() - block * 200
            value = rows[offset][index.column()] if offset < len(rows) else None
            return "" if value is None else str(value)

    model = RawModel()
    view = qt.QTableView()
    view.setModel(model)
    return view, model, lambda row: row // 200 in model.blocks


def _measure_table(
    make: Callable[[], tuple[Any, Any, Callable[[int], bool]]],
) -> dict[str, float]:
    """First paint and the jump to the end of one table; ``make`` builds it (view, top
    widget) and tells whether a row's data is in."""
    started = time.perf_counter()
    view, owner, has_row = make()
    owner.resize(1200, 800)
    model = view.model()
    painted = PaintClock(view.viewport(), lambda: model.rowCount() > 0 and has_row(0))
    owner.show()
    wait_until(lambda: painted.first_ready_after(started) is not None, 60, "the first rows")
    first_paint = (painted.first_ready_after(started) or started) - started
    rows = model.rowCount()
    detector = StallDetector()
    detector.start()
    jumped = time.perf_counter()
    painted.ready = lambda: has_row(rows - 1)
    view.scrollToBottom()  # the scroll bar dragged to the end
    view.viewport().update()  # a short list that fits does not scroll: paint it anyway
    wait_until(lambda: painted.first_ready_after(jumped) is not None, 60, "the last rows")
    to_end = (painted.first_ready_after(jumped) or jumped) - jumped
    stall = detector.stop()
    owner.close()
    owner.deleteLater()
    return {
        "rows": rows,
        "first_paint_ms": first_paint * 1000,
        "to_end_ms": to_end * 1000,
        "longest_stall_ms": stall["longest_ms"],
    }


def measure_lists(book: Path, built_at: datetime, runs: int) -> dict[str, Any]:
    from relbook.app import open_services
    from relbook.domain.clock import FixedClock
    from relbook.ui.context import UiContext
    from relbook.ui.main import create_application
    from relbook.ui.models import BLOCK
    from relbook.ui.views.lists import PeoplePage

    create_application()
    services = open_services(book, clock=FixedClock(built_at))
    ctx = UiContext(services)

    def app_table() -> tuple[Any, Any, Callable[[int], bool]]:
        page = PeoplePage(ctx)
        model = page.model
        return page.table, page, lambda row: model._blocks.get(row // BLOCK) is not None

    def raw_table() -> tuple[Any, Any, Callable[[int], bool]]:
        view, _model, has_row = _raw_table(book)
        return view, view, has_row

    _measure_table(app_table)  # warm: imports, statement caches, page cache
    _measure_table(raw_table)
    app, raw = [], []
    for _ in range(runs):
        app.append(_measure_table(app_table))
        raw.append(_measure_table(raw_table))
    ctx.close()
    services.close()
    return {"app": app, "raw": raw}


# ------------------------------------------------------------------ stalls


def measure_stalls(
    book: Path, built_at: datetime, messages: int, queries: list[str], seed: int
) -> dict[str, Any]:
    from PySide6.QtGui import QKeyEvent

    from benchmarks.ingest import ImapServer, dovecot_available
    from benchmarks.mail import contacts_of, make_messages, rep_of
    from relbook.app import AppPaths
    from relbook.storage.pragmas import open_raw
    from relbook.ui.main import build_window, create_application

    qt = _qt()
    ok, reason = dovecot_available()
    if not ok:
        return {"skipped": reason}
    db = open_raw(str(book), read_only=True)
    mail = make_messages(
        rep_of(db), contacts_of(db), messages, seed=seed, tag="stalls", now=built_at
    )
    db.close()
    server = ImapServer(mail)
    del mail
    home = Path(tempfile.mkdtemp(prefix="relbook-bench-ui-"))
    try:
        create_application()
        paths = AppPaths(home / "data", home / "config", home / "logs")
        window = build_window(str(book), paths=paths, auto_backup=False)
        window.resize(1280, 800)
        window.show()
        wait_until(lambda: window._ready_sent, 120, "My Day")
        ctx = window.ctx
        assert ctx is not None
        wait_until(ctx.runner.is_idle, 120, "the window to settle")

        detector = StallDetector()
        detector.start()
        run_for(2.0)
        idle = detector.stop()

        account_id = server.add_account(ctx.services, "Benchmark stalls")
        sync_page = window.page("sync")
        finished: list[Any] = []
        sync_page.scheduler.finished.connect(lambda _a, outcome: finished.append(outcome))
        wait_until(ctx.runner.is_idle, 60, "the sync page to load")
        detector.start()
        started = time.perf_counter()
        if not sync_page.scheduler.is_running(account_id):
            sync_page.scheduler.sync(account_id)
        wait_until(lambda: bool(finished), 3600, "the sync to finish")
        sync_seconds = time.perf_counter() - started
        wait_until(ctx.runner.is_idle, 120, "the refreshes after the sync")
        during_sync = detector.stop()
        outcome = finished[0]
        stored = int(getattr(outcome, "items_stored", 0))

        window.open_search("")
        popup = window.search_popup
        assert popup is not None
        shown: list[str] = []
        popup.results_shown.connect(lambda results: shown.append(results.text))
        keys: list[str] = []
        for query in queries:
            keys += [*query, "\b"]
        keys.pop()
        feeder = qt.QTimer()
        feeder.setInterval(KEY_INTERVAL_MS)
        position = [0]

        def press() -> None:
            if position[0] >= len(keys):
                feeder.stop()
                return
            key = keys[position[0]]
            position[0] += 1
            if key == "\b":
                popup.input.clear()
            else:  # a key event carrying the character (QTest's keys are ASCII only)
                for kind in (qt.QEvent.Type.KeyPress, qt.QEvent.Type.KeyRelease):
                    event = QKeyEvent(kind, 0, qt.Qt.KeyboardModifier.NoModifier, key)
                    qt.QApplication.sendEvent(popup.input, event)

        detector.start()
        feeder.timeout.connect(press)
        feeder.start()
        wait_until(lambda: not feeder.isActive(), 600, "the typing")
        last = queries[-1].strip()
        wait_until(lambda: bool(shown) and shown[-1].strip() == last, 60, "the last results")
        wait_until(ctx.runner.is_idle, 60, "the searches")
        typing = detector.stop()
        searches = len(shown)
        window.close()
        return {
            "idle": idle,
            "sync": during_sync,
            "typing": typing,
            "messages": messages,
            "stored": stored,
            "sync_seconds": sync_seconds,
            "status": str(getattr(outcome, "status", outcome)),
            "keys": len(keys),
            "searches_shown": searches,
        }
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)


# ------------------------------------------------------------------ entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui")
    parser.add_argument("mode", choices=("lists", "stalls"))
    parser.add_argument("--book", type=Path, required=True)
    parser.add_argument("--built-at", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--queries", default="[]", help="a JSON list of queries to type")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    built_at = datetime.fromisoformat(args.built_at)
    if args.mode == "lists":
        result = measure_lists(args.book, built_at, max(1, args.runs))
    else:
        result = measure_stalls(
            args.book, built_at, args.messages, json.loads(args.queries), args.seed
        )
    print(RESULT + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
