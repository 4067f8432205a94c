"""What every page and dialog gets: the services, the task runner, change notifications,
undo, navigation and error reporting (one object, passed down; no globals)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import QObject, Qt, QTimer, QWidget, Signal, Slot
from relbook.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from relbook.services.changes import Change
    from relbook.services.context import Services
    from relbook.ui.undo import UndoStack

log = logging.getLogger(__name__)


class ChangeBridge(QObject):
    """``services.changes`` (thread-agnostic) -> the Qt signal ``changed`` on the UI thread.

    Services publish after a commit on whatever thread wrote; the internal signal is
    connected with a queued connection so listeners always run on the UI thread, later,
    never inside the writer's call stack.
    """

    _incoming = Signal(object)
    changed = Signal(object)  # relbook.services.changes.Change

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = services.changes.subscribe(
            self._incoming.emit
        )

    @Slot(object)
    def _deliver(self, change: Change) -> None:
        self.changed.emit(change)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


class Refresher(QObject):
    """Coalesces change notifications into one refresh per event-loop turn for a view;
    with ``min_interval_ms``, at most one refresh per that interval (a sync commits a page
    of mail every second or so: a view costly to read need not follow each one)."""

    def __init__(
        self,
        ctx: UiContext,
        kinds: tuple[str, ...],
        refresh: Callable[[], None],
        owner: QWidget,
        *,
        min_interval_ms: int = 0,
    ) -> None:
        super().__init__(owner)
        self._ctx = ctx
        self._kinds = kinds
        self._refresh = refresh
        self._min_interval = min_interval_ms / 1000
        self._last = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._fire)
        ctx.changes.changed.connect(self._on_change)

    @Slot(object)
    def _on_change(self, change: Change) -> None:
        if not self._kinds or change.touches(*self._kinds):
            self._schedule()

    def _schedule(self) -> None:
        if self._timer.isActive():
            return  # already coming
        wait = self._last + self._min_interval - time.monotonic()
        self._timer.start(math.ceil(wait * 1000) if wait > 0 else 0)

    def _fire(self) -> None:
        # A change that arrived as the book was closing: its views are going away.
        if not self._ctx.runner.closed:
            self._last = time.monotonic()
            self._refresh()

    def now(self) -> None:
        self._timer.start(0)


class _Prefetch:
    def __init__(self, ctx: UiContext, fn: Callable[[], Any]) -> None:
        self._state = "pending"
        self._result: Any = None
        self._success: Callable[[Any], None] | None = None
        self._fallback: Callable[[], None] | None = None
        ctx.read(fn, self._arrived, self._failed, label="prefetch")

    def _arrived(self, result: Any) -> None:
        self._state, self._result = "done", result
        if self._success is not None:
            self._success(result)

    def _failed(self, _error: BaseException) -> bool:
        self._state = "failed"
        if self._fallback is not None:
            self._fallback()
        return True  # the fallback's own read reports it

    def hand_to(self, success: Callable[[Any], None], fallback: Callable[[], None]) -> None:
        if self._state == "done":
            success(self._result)
        elif self._state == "failed":
            fallback()
        else:
            self._success, self._fallback = success, fallback


class UiContext(QObject):
    """The UI's handle on one open book."""

    open_requested = Signal(str, str)  # kind, id  (person/company/deal)
    page_requested = Signal(str)  # page id
    status_message = Signal(str)

    def __init__(
        self,
        services: Services,
        *,
        log_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        from relbook.ui.undo import UndoStack

        self.services = services
        self.log_path = log_path
        self.runner = TaskRunner(self)
        self.changes = ChangeBridge(services, self)
        self.undo: UndoStack = UndoStack(self)
        self.window: QWidget | None = None
        self.runner.error_reporter = self.report_error
        self._prefetched: dict[str, _Prefetch] = {}

    # ------------------------------------------------------------- helpers
    def read(
        self,
        fn: Callable[[], Any],
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], bool | None] | None = None,
        **kw: Any,
    ) -> int:
        return self.runner.read(fn, success, failure, **kw)

    def write(
        self,
        fn: Callable[[], Any],
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], bool | None] | None = None,
        **kw: Any,
    ) -> int:
        return self.runner.write(fn, success, failure, **kw)

    def network(
        self,
        fn: Callable[[], Any],
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], bool | None] | None = None,
        **kw: Any,
    ) -> int:
        return self.runner.network(fn, success, failure, **kw)

    def prefetch(self, key: str, fn: Callable[[], Any]) -> None:
        """Start a read before anything asks for it (start-up: My Day's data while the
        window's shell is built); the first ``take_prefetched(key, …)`` gets it."""
        self._prefetched[key] = _Prefetch(self, fn)

    def take_prefetched(
        self, key: str, success: Callable[[Any], None], fallback: Callable[[], None]
    ) -> bool:
        """Hand the prefetched result to ``success`` (now, or when it arrives); if the
        read failed, ``fallback`` runs instead (the caller reads again and reports). False
        when nothing was prefetched under ``key``."""
        found = self._prefetched.pop(key, None)
        if found is None:
            return False
        found.hand_to(success, fallback)
        return True

    def open_entity(self, kind: str, entity_id: str) -> None:
        self.open_requested.emit(kind, entity_id)

    def show_page(self, page_id: str) -> None:
        self.page_requested.emit(page_id)

    def status(self, text: str) -> None:
        self.status_message.emit(text)

    def report_error(self, error: BaseException, parent: QWidget | None = None) -> None:
        from relbook.ui.errors import show_error

        show_error(parent or self.window, error, self.log_path)

    def close(self) -> None:
        self.changes.close()
        self.runner.shutdown()
