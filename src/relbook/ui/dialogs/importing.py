"""Importing files dropped on the window or chosen in a dialog (mail, calendar, contacts).

Files and folders (walked recursively) are recognised by their content — .eml, mbox,
Maildir, .ics, .vcf, .csv — by ``services.file_import``. The import runs in the task
runner's long-job pool (it commits batch by batch itself, like a sync); this dialog shows
its progress, can cancel it (what was committed stays) and ends with a report naming
every file, what it held, and each item that could not be read and why.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from relbook.ui.qt import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.file_import import FileImportReport, FileProgress
    from relbook.ui.context import UiContext

KIND_NAMES = {
    "eml": "e-mail",
    "mbox": "mailbox (mbox)",
    "maildir": "Maildir folder",
    "ics": "calendar (.ics)",
    "vcf": "contacts (vCard)",
    "csv": "contacts (CSV)",
    "outlook-msg": "Outlook message",
    "unknown": "not importable",
}
PROGRESS_EVERY = 0.1  # seconds between progress signals from the worker


class ImportDialog(QDialog):
    """Progress, Cancel, then the per-file, per-item report of one import."""

    progress = Signal(object)  # FileProgress, from the import's thread (queued)
    finished_import = Signal(object)  # FileImportReport, or None when cancelled/failed

    def __init__(self, ctx: UiContext, files: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from relbook.services.file_import import CancelToken

        self.ctx = ctx
        self.files = list(files)
        self.report: FileImportReport | None = None
        self.state = "running"  # running / cancelling / cancelled / done / failed
        self.token = CancelToken()
        self.last: FileProgress | None = None
        self.setObjectName("importDialog")
        self.setWindowTitle("Import")
        self.setMinimumSize(640, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        names = ", ".join(f.name for f in self.files[:3]) + ("…" if len(self.files) > 3 else "")
        self.heading = label(f"Importing {names}", "h2", wrap=True)
        layout.addWidget(self.heading)
        self.current = label("Looking at the files…", "muted", wrap=True)
        self.current.setObjectName("importCurrent")
        layout.addWidget(self.current)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        layout.addWidget(self.bar)
        self.counts = label("", "small")
        layout.addWidget(self.counts)
        self.summary = label("", wrap=True, selectable=True)
        self.summary.setObjectName("importSummary")
        self.summary.hide()
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setObjectName("importReport")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["File", "Recognised as", "Items", "Problems"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.hide()
        layout.addWidget(self.tree, 1)
        layout.addStretch(0)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = button("Cancel", self.cancel, icon_name="close")
        self.close_button = button("Close", self.accept, kind="primary")
        self.close_button.hide()
        row.addWidget(self.cancel_button)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        self.progress.connect(self._on_progress)

    # ---------------------------------------------------------------- running
    def start(self) -> None:
        service = self.ctx.services.file_import
        files, token, emit = list(self.files), self.token, self.progress.emit
        last_sent = [0.0]

        def tell(step: FileProgress) -> None:
            now = time.monotonic()
            if now - last_sent[0] >= PROGRESS_EVERY or step.files_done == step.files_total:
                last_sent[0] = now
                emit(step)

        self.ctx.network(
            lambda: service.run(files, cancel=token, progress=tell),
            self._done,
            self._failed,
            owner=self,
            label="import files",
        )

    def cancel(self) -> None:
        if self.state != "running":
            self.reject()
            return
        self.state = "cancelling"
        self.token.cancel()
        self.cancel_button.setEnabled(False)
        self.current.setText("Cancelling after the current batch… what is stored stays.")

    def reject(self) -> None:
        # Closing the window (Esc) while running cancels rather than hides the import.
        if self.state == "running":
            self.cancel()
            return
        if self.state == "cancelling":
            return
        super().reject()

    def _on_progress(self, step: FileProgress) -> None:
        self.last = step
        if self.state != "running":
            return
        if step.files_total:
            self.bar.setRange(0, step.files_total)
            self.bar.setValue(step.files_done)
        if step.path:
            self.current.setText(f"Reading {Path(step.path).name}")
        self.counts.setText(
            f"{step.files_done:,} of {step.files_total:,} files · "
            f"{step.items_done:,} items read · {step.stored:,} stored"
        )

    def _done(self, report: FileImportReport) -> None:
        self.report = report
        self.state = "done"
        self._finish(report.summary(), report)
        self.finished_import.emit(report)

    def _failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError
        from relbook.services.file_import import Cancelled

        if isinstance(error, Cancelled):
            self.state = "cancelled"
            stored = self.last.stored if self.last is not None else 0
            self._finish(
                f"Cancelled. {stored:,} item(s) stored before stopping are kept; importing "
                "the same files again skips them and goes on.",
                None,
            )
            self.finished_import.emit(None)
            return True
        self.state = "failed"
        if isinstance(error, UserError):
            text = error.message + (f" {error.remedy}" if error.remedy else "")
            self._finish(f"The import stopped: {text}", None)
            self.finished_import.emit(None)
            return True
        self._finish("The import stopped because of a bug; the details are in the log.", None)
        self.finished_import.emit(None)
        return False

    def _finish(self, text: str, report: FileImportReport | None) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.current.hide()
        self.summary.setText(text)
        self.summary.show()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setFocus()
        if report is not None:
            self._fill(report)
            self.heading.setText(
                "Import finished" if not report.skipped else "Import finished, with problems"
            )

    def _fill(self, report: FileImportReport) -> None:
        self.tree.clear()
        items: dict[str, QTreeWidgetItem] = {}
        # Files with problems first: they are what the rep has to look at.
        for outcome in sorted(report.files, key=lambda o: (o.problems == 0, o.path)):
            path = Path(outcome.path)
            item = QTreeWidgetItem(
                [
                    path.name or str(path),
                    KIND_NAMES.get(outcome.kind, outcome.kind),
                    f"{outcome.items:,}",
                    f"{outcome.problems:,}" if outcome.problems else "",
                ]
            )
            item.setToolTip(0, str(path))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
            items[str(path)] = item
        other: QTreeWidgetItem | None = None
        for problem in report.problems:
            parent, key = _owner(items, problem.where)
            where = problem.where[len(key) :].lstrip(" :,") if key else problem.where
            text = f"{where}: {problem.message}" if where else problem.message
            if parent is None:
                if other is None:
                    other = QTreeWidgetItem(["Other problems", "", "", ""])
                    self.tree.addTopLevelItem(other)
                parent = other
            verdict = "skipped" if problem.skipped else "kept, with a limit"
            child = QTreeWidgetItem([text, verdict, "", ""])
            child.setToolTip(0, f"{problem.where}\n{problem.message}")
            parent.addChild(child)
            parent.setExpanded(True)
        self.tree.setVisible(self.tree.topLevelItemCount() > 0)

    def problem_texts(self) -> list[str]:
        """Every reported item as shown (tests read it)."""
        found = []
        for top in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(top)
            found += [item.child(i).text(0) for i in range(item.childCount())]
        return found


def _owner(items: dict[str, QTreeWidgetItem], where: str) -> tuple[QTreeWidgetItem | None, str]:
    """The file row a problem belongs to (its ``where`` starts with the path or name),
    and that prefix."""
    best: tuple[str, QTreeWidgetItem] | None = None
    for path, item in items.items():
        for key in (path, Path(path).name):
            if key and where.startswith(key) and (best is None or len(key) > len(best[0])):
                best = (key, item)
    return (best[1], best[0]) if best else (None, "")


def import_files(ctx: UiContext, parent: QWidget | None, files: list[Path]) -> ImportDialog:
    """Start importing ``files`` (files or folders) and show the import dialog."""
    dialog = ImportDialog(ctx, files, parent)
    dialog.open()
    dialog.start()
    return dialog
