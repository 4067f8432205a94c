"""The background task runner: the UI thread never waits on disk or network.

Reads run on a small ``QThreadPool`` (each worker thread has its own read-only SQLite
connection through ``Book.reader()``). Writes run on ONE serial writer thread, in the
order they were submitted, so two edits never race (Anki's ``aqt.operations`` works
the same way). A job is a plain callable; its result or exception comes back to the UI
thread as a signal and is handed to the job's success or failure callback there.

- ``key``: a newer read with the same key makes the older result stale; stale results
  are dropped (search-as-you-type, list windows).
- ``owner``: a QObject whose deletion cancels the callbacks (a closed dialog or page).
- A failure without a handler (or whose handler returns False) goes to the error
  reporter: UserError -> its message; anything else -> "something went wrong" + log.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relbook.ui.qt import QObject, QRunnable, Qt, QThreadPool, Signal, Slot, isValid

log = logging.getLogger(__name__)

Success = Callable[[Any], None]
Failure = Callable[[BaseException], bool | None]


@dataclass
class _Job:
    id: int
    label: str
    success: Success | None
    failure: Failure | None
    owner: QObject | None
    key: str | None
    write: bool


class _Runnable(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], done: Signal) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job_id = job_id
        self._fn = fn
        self._done = done

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as error:  # handed to the UI thread; never lost
            error.__relbook_tb__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._done.emit((self._job_id, False, error))
        else:
            self._done.emit((self._job_id, True, result))
        finally:
            self._fn = None  # type: ignore[assignment]


class TaskRunner(QObject):
    """Runs reads in parallel and writes one at a time, reporting back as signals."""

    # The payload is always a tuple (never a bare None: see the PySide6 6.12 note in
    # MACHINE-FACTS and tests/ui/test_signal_refcount.py).
    _done = Signal(object)
    busy_changed = Signal(bool)
    idle = Signal()
    write_started = Signal(str)
    write_finished = Signal(str)

    def __init__(self, parent: QObject | None = None, *, read_threads: int = 2) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, _Job] = {}
        self._latest: dict[str, int] = {}
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(read_threads)
        self._reads.setExpiryTimeout(-1)  # keep threads (and their SQLite connections)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)  # the one database writer
        self._writer.setExpiryTimeout(-1)
        # Network work (account syncs, connection tests): long, so never on the writer
        # (the sync service commits page by page itself) nor in the read pool.
        self._network = QThreadPool(self)
        self._network.setMaxThreadCount(2)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self.error_reporter: Callable[[BaseException], None] = _log_only
        self._closed = False

    # ----------------------------------------------------------------- submit
    def read(
        self,
        fn: Callable[[], Any],
        success: Success | None = None,
        failure: Failure | None = None,
        *,
        owner: QObject | None = None,
        key: str | None = None,
        label: str = "",
    ) -> int:
        return self._submit(fn, success, failure, owner, key, label, write=False)

    def write(
        self,
        fn: Callable[[], Any],
        success: Success | None = None,
        failure: Failure | None = None,
        *,
        owner: QObject | None = None,
        label: str = "",
    ) -> int:
        return self._submit(fn, success, failure, owner, None, label, write=True)

    def network(
        self,
        fn: Callable[[], Any],
        success: Success | None = None,
        failure: Failure | None = None,
        *,
        owner: QObject | None = None,
        label: str = "",
    ) -> int:
        """Long network work (a sync, a connection test) on its own small pool."""
        return self._submit(fn, success, failure, owner, None, label, write=False, pool="network")

    def _submit(
        self,
        fn: Callable[[], Any],
        success: Success | None,
        failure: Failure | None,
        owner: QObject | None,
        key: str | None,
        label: str,
        *,
        write: bool,
        pool: str = "",
    ) -> int:
        if self._closed:
            raise RuntimeError("the task runner is shut down")
        job_id = next(self._ids)
        was_idle = not self._jobs
        self._jobs[job_id] = _Job(job_id, label, success, failure, owner, key, write)
        if key is not None:
            self._latest[key] = job_id
        runnable = _Runnable(job_id, fn, self._done)
        if write:
            self.write_started.emit(label)
            self._writer.start(runnable)
        elif pool == "network":
            self._network.start(runnable)
        else:
            self._reads.start(runnable)
        if was_idle:
            self.busy_changed.emit(True)
        return job_id

    # ----------------------------------------------------------------- results
    @Slot(object)
    def _on_done(self, payload: tuple[int, bool, Any]) -> None:
        job_id, ok, value = payload
        job = self._jobs.pop(job_id, None)
        try:
            if job is None:
                return
            if job.write:
                self.write_finished.emit(job.label)
            stale = job.key is not None and self._latest.get(job.key) != job_id
            if job.key is not None and not stale:
                del self._latest[job.key]
            # After shutdown (the window is closing) results only arrive late: their
            # callbacks would start new work on a closed runner.
            gone = self._closed or (job.owner is not None and not isValid(job.owner))
            if ok:
                if not stale and not gone and job.success is not None:
                    try:
                        job.success(value)
                    except Exception as error:
                        self._report(error)
                return
            if gone or stale:
                if not _is_user_error(value):
                    _log_bug(value)
                return
            if not _is_user_error(value):
                _log_bug(value)
            handled = False
            if job.failure is not None:
                try:
                    handled = bool(job.failure(value))
                except Exception as error:
                    self._report(error)
                    return
            if not handled:
                self._report(value)
        finally:
            if not self._jobs:
                self.busy_changed.emit(False)
                self.idle.emit()

    def _report(self, error: BaseException) -> None:
        if not _is_user_error(error):
            _log_bug(error)
        try:
            self.error_reporter(error)
        except Exception:
            log.exception("the error reporter failed")

    # ----------------------------------------------------------------- state
    @property
    def pending(self) -> int:
        return len(self._jobs)

    def is_idle(self) -> bool:
        return not self._jobs

    @property
    def closed(self) -> bool:
        """Shut down: the book is closing and takes no more work."""
        return self._closed

    def pending_writes(self) -> int:
        return sum(1 for job in self._jobs.values() if job.write)

    def shutdown(self, read_timeout_ms: int = 3000) -> None:
        """Finish every queued write (nothing is lost); abandon queued reads."""
        self._closed = True
        self._reads.clear()
        self._network.clear()
        self._writer.waitForDone()
        self._reads.waitForDone(read_timeout_ms)
        self._network.waitForDone(read_timeout_ms)


def _is_user_error(error: BaseException) -> bool:
    from relbook.domain.errors import UserError

    return isinstance(error, UserError)


def _log_bug(error: BaseException) -> None:
    if getattr(error, "__relbook_logged__", False):
        return
    text = getattr(error, "__relbook_tb__", None)
    if text:
        log.error("background task failed:\n%s", text)
    else:
        log.error("task failed", exc_info=(type(error), error, error.__traceback__))
    with contextlib.suppress(AttributeError):
        error.__relbook_logged__ = True  # type: ignore[attr-defined]


def _log_only(error: BaseException) -> None:
    log.warning("unreported task error: %s", error)
