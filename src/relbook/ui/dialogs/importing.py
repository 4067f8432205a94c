"""Importing files dropped on the window or chosen in a dialog (mail, calendar, contacts).

The work runs on the writer thread through ``services.file_import``; the report names
every file and item that could not be read, and the rest is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import QMessageBox, QWidget

if TYPE_CHECKING:
    from relbook.ui.context import UiContext


def import_files(ctx: UiContext, parent: QWidget | None, files: list[Path]) -> None:
    services = ctx.services
    names = ", ".join(f.name for f in files[:3]) + ("…" if len(files) > 3 else "")
    ctx.status(f"Importing {names}…")

    def work() -> Any:
        service = services.file_import
        return service.import_paths(list(files))

    def done(report: Any) -> None:
        text = report.describe() if hasattr(report, "describe") else str(report)
        box = QMessageBox(parent)
        box.setObjectName("importReport")
        box.setWindowTitle("Import")
        box.setText(text)
        box.open()

    ctx.write(work, done, label="import files")
