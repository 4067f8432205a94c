"""Showing errors: the user's own (what and the way out) and bugs (with the log path)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from relbook.ui.qt import QApplication, QMessageBox, Qt, QWidget

log = logging.getLogger(__name__)


def describe(error: BaseException, log_path: Path | None) -> tuple[str, str, bool]:
    """(title, text, is_bug) for an error."""
    from relbook.domain.errors import UserError

    if isinstance(error, UserError):
        text = error.message
        if error.remedy:
            text += "\n\n" + error.remedy
        return "Relbook", text, False
    where = f"\n\nDetails are in the log: {log_path}" if log_path else ""
    return (
        "Something went wrong",
        f"Something went wrong (a bug in Relbook): {type(error).__name__}.{where}\n\n"
        "Your book is safe: the change that failed was not saved.",
        True,
    )


def show_error(parent: QWidget | None, error: BaseException, log_path: Path | None) -> QMessageBox:
    title, text, bug = describe(error, log_path)
    box = QMessageBox(parent)
    box.setObjectName("errorBox")
    box.setIcon(QMessageBox.Icon.Critical if bug else QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def install_excepthook(log_path: Path | None) -> None:
    """An exception escaping a slot is a bug: log it and say so, never crash silently."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        from relbook.domain.errors import UserError

        if not isinstance(error, UserError):
            log.error("unhandled exception", exc_info=(kind, error, tb))
        app = QApplication.instance()
        if app is not None:
            show_error(QApplication.activeWindow(), error, log_path)

    sys.excepthook = hook
