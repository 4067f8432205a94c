"""The colleague relink in the background: after the rep changes their own addresses or
internal domains, past mail is linked again (colleagues are not customers).

On a long history that is minutes of work, so it never runs in the settings dialog's save:
the service notes the job with the setting (one transaction), and this object runs
``services.relink.run_pending`` on the network pool — chunk by chunk, each chunk its own
short write, so edits and syncs go on meanwhile — with progress in a toast. Closing the
book cancels it between chunks; the note stays, and the next start finishes it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import QObject, Qt, Signal, Slot

if TYPE_CHECKING:
    from relbook.services.changes import Change
    from relbook.ui.context import UiContext

PROGRESS_EVERY_S = 2.0  # a toast at most this often


class ColleagueRelinker(QObject):
    progressed = Signal(int, int)  # done, total (emitted from the worker; queued)
    finished = Signal(int)  # interactions whose links changed

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.running = False
        self._again = False
        self._stopped = False
        self._shown_at = 0.0
        self.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        ctx.changes.changed.connect(self._on_change)

    def start(self) -> None:
        """Run the pending relink, if there is one (a no-op otherwise)."""
        if self._stopped or self.ctx.runner.closed:
            return
        if self.running:
            self._again = True  # a newer change: look again when this run ends
            return
        self.running = True
        services = self.ctx.services

        def pending() -> Any:
            return services.relink.pending()  # the service is reached on the worker (imports)

        self.ctx.read(pending, self._found, self._failed, owner=self)

    def stop(self) -> None:
        """Stop between chunks (closing the book); the job stays noted."""
        self._stopped = True

    @Slot(object)
    def _on_change(self, change: Change) -> None:
        if change.touches("setting"):
            self.start()

    def _found(self, job: Any) -> None:
        if job is None or self._stopped:
            self.running = False
            return
        relink = self.ctx.services.relink
        self.ctx.network(
            lambda: relink.run_pending(cancel=lambda: self._stopped, progress=self.progressed.emit),
            self._done,
            self._failed,
            owner=self,
            label="linking past mail again",
        )

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total and done < total and now - self._shown_at >= PROGRESS_EVERY_S:
            self._shown_at = now
            self.ctx.status(
                f"Linking past mail again for your colleague settings… "
                f"{done:,} of {total:,} messages"
            )

    def _done(self, result: Any) -> None:
        self.running = False
        if self._stopped:
            return
        changed = int(getattr(result, "interactions", 0))
        if changed:
            self.ctx.status(f"Past mail linked again: {changed:,} messages changed their links")
        self.finished.emit(changed)
        if self._again:
            self._again = False
            self.start()

    def _failed(self, _error: BaseException) -> bool | None:
        self.running = False
        return None  # the runner reports it (the job stays noted and runs at next start)
