"""The first-run screen: open the demo book, start an empty book, import contacts,
connect a mailbox. Also shown when a book cannot be opened (with why and the way out)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import app_icon, icon
from relbook.ui.tasks import TaskRunner
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.ui.window import MainWindow

CHOICES = (
    (
        "demo",
        "sparkle",
        "Open the demo book",
        "A realistic book with people, companies, deals and a year of mail and meetings.",
    ),
    ("empty", "book", "Start an empty book", "A fresh book, ready for your own contacts."),
    (
        "import",
        "import",
        "Import contacts",
        "Start a book from a vCard (.vcf) or CSV export of your address book.",
    ),
    (
        "mailbox",
        "mailbox",
        "Connect a mailbox",
        "Start a book that fills itself from Exchange, IMAP or a CalDAV calendar.",
    ),
)


class WelcomeScreen(QWidget):
    demo_progress = Signal(float, str)
    demo_finished = Signal(object)  # the demo book's path

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self._runner = TaskRunner(self, read_threads=1)
        self._runner.error_reporter = lambda error: window_error(window, error)
        self._cancel = threading.Event()
        self._after_open: str = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 40, 40, 40)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column = QVBoxLayout()
        column.setSpacing(14)
        logo = label()
        logo.setPixmap(app_icon().pixmap(QSize(64, 64)))
        column.addWidget(logo, 0, Qt.AlignmentFlag.AlignHCenter)
        title = label("Welcome to Relbook", "h1")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(title)
        subtitle = label(
            "Your relationship book — it fills itself from your mail and calendar, "
            "and tells you who to talk to next.",
            "muted",
            wrap=True,
        )
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        subtitle.setFixedWidth(560)
        subtitle.setMinimumHeight(subtitle.heightForWidth(560))
        column.addWidget(subtitle, 0, Qt.AlignmentFlag.AlignHCenter)
        self.error = label("", "error", wrap=True)
        self.error.setObjectName("welcomeError")
        self.error.setMaximumWidth(640)
        self.error.hide()
        column.addWidget(self.error, 0, Qt.AlignmentFlag.AlignHCenter)
        grid = QGridLayout()
        grid.setSpacing(14)
        self.buttons: dict[str, QPushButton] = {}
        for index, (key, icon_name, heading, text) in enumerate(CHOICES):
            grid.addWidget(self._choice(key, icon_name, heading, text), index // 2, index % 2)
        column.addSpacing(10)
        column.addLayout(grid)
        self.progress_box = QFrame()
        self.progress_box.setProperty("role", "card")
        progress_layout = QHBoxLayout(self.progress_box)
        progress_layout.setContentsMargins(16, 12, 16, 12)
        self.progress_label = label("", "muted")
        progress_layout.addWidget(self.progress_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        progress_layout.addWidget(self.progress, 1)
        self.cancel_button = button("Cancel", self.cancel_demo)
        progress_layout.addWidget(self.cancel_button)
        self.progress_box.hide()
        column.addWidget(self.progress_box)
        other = QHBoxLayout()
        other.addStretch(1)
        other.addWidget(
            button("Open a book file…", window.choose_book, kind="flat", icon_name="folder")
        )
        other.addStretch(1)
        column.addLayout(other)
        self.location = label("", "small")
        self.location.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.location)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(760)
        outer.addWidget(holder, 0, Qt.AlignmentFlag.AlignCenter)
        self.demo_progress.connect(self._show_progress)

    def _choice(self, key: str, icon_name: str, heading: str, text: str) -> QPushButton:
        choice = QPushButton()
        choice.setObjectName(f"welcome-{key}")
        choice.setCursor(Qt.CursorShape.PointingHandCursor)
        choice.setMinimumSize(330, 96)
        choice.setStyleSheet(
            "QPushButton { text-align: left; padding: 14px; border-radius: 12px; }"
        )
        layout = QHBoxLayout(choice)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(14)
        picture = label()
        picture.setPixmap(icon(icon_name, "accent", 28).pixmap(QSize(28, 28)))
        picture.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(picture, 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        words.setSpacing(2)
        head = label(heading, "h3")
        head.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        body = label(text, "muted", wrap=True)
        body.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        words.addWidget(head)
        words.addWidget(body)
        words.addStretch(1)  # every card's heading on the same line
        layout.addLayout(words, 1)
        choice.clicked.connect(lambda: self.choose(key))
        self.buttons[key] = choice
        return choice

    def busy(self) -> bool:
        """The demo book is being built (the screen must stay until it is done)."""
        return self.progress_box.isVisible()

    def set_error(self, error: BaseException | None) -> None:
        target = self.window_.target_book_path()
        self.location.setText(f"New books are created at {target}")
        if error is None:
            self.error.hide()
            return
        from relbook.ui.errors import describe

        _title, text, _bug = describe(error, self.window_.log_path)
        self.error.setText(text)
        self.error.show()

    # ---------------------------------------------------------------- choices
    def choose(self, key: str) -> None:
        if key == "demo":
            self.open_demo()
        elif key == "empty":
            self.start_empty()
        elif key == "import":
            files, _ = QFileDialog.getOpenFileNames(
                self, "Import contacts", str(Path.home()), "Contacts (*.vcf *.csv)"
            )
            if files:
                self.start_empty(after=lambda: self.window_.import_files([Path(f) for f in files]))
        elif key == "mailbox":
            self.start_empty(after=self._connect_mailbox)

    def _connect_mailbox(self) -> None:
        from relbook.ui.pages import page_spec

        if page_spec("sync").available():
            page = self.window_.show_page("sync")
            if page is not None and hasattr(page, "add_account"):
                page.add_account()

    def start_empty(self, after: Any = None) -> None:
        path = self.window_.target_book_path()
        if path.exists() and path.name == "demo.relbook":
            path = path.with_name("book.relbook")
        if after is not None:
            from relbook.ui.qt import Qt as _Qt

            self.window_.book_opened.connect(after, _Qt.ConnectionType.SingleShotConnection)
        self.window_.open_book(path, create=True)

    def demo_path(self) -> Path:
        return self.window_.paths.data_dir / "demo.relbook"

    def open_demo(self) -> None:
        path = self.demo_path()
        if path.exists():
            self.window_.open_book(path)
            return
        from relbook.services.demo import build_demo_book

        self._cancel.clear()
        self.progress.setValue(0)
        self.progress_label.setText("Building the demo book…")
        self.progress_box.show()
        for choice in self.buttons.values():
            choice.setEnabled(False)

        def progress(fraction: float, phase: str) -> None:
            self.demo_progress.emit(fraction, phase)  # from the worker: queued to the UI

        def work() -> Path:
            path.parent.mkdir(parents=True, exist_ok=True)
            build_demo_book(path, progress=progress, cancel=self._cancel.is_set)
            return path

        self._runner.read(work, self._demo_built, self._demo_failed, owner=self)

    def _show_progress(self, fraction: float, phase: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress_label.setText(phase)

    def cancel_demo(self) -> None:
        self._cancel.set()
        self.progress_label.setText("Cancelling…")

    def _demo_built(self, path: Path) -> None:
        self._reset()
        self.demo_finished.emit(path)
        self.window_.open_book(path)

    def _demo_failed(self, error: BaseException) -> bool:
        from relbook.services.demo import DemoCancelled

        self._reset()
        if isinstance(error, DemoCancelled):
            self.progress_label.setText("Cancelled — nothing was written.")
            return True
        self.set_error(error)
        return True

    def _reset(self) -> None:
        self.progress_box.hide()
        for choice in self.buttons.values():
            choice.setEnabled(True)


def window_error(window: MainWindow, error: BaseException) -> None:
    from relbook.ui.errors import show_error

    show_error(window, error, window.log_path)
