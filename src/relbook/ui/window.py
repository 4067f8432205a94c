"""The main window: sidebar, top bar with search, pages, palette, toasts, shortcuts.

The window appears at once; the book opens in the background. Without a book (first
run, or the book could not be opened) the welcome screen shows instead of the pages.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.ui.pages import PAGES, Command, Page, page_spec, sidebar_pages
from relbook.ui.qt import (
    QAction,
    QDragEnterEvent,
    QDropEvent,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QSettings,
    QSize,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import app_icon, icon
from relbook.ui.tasks import TaskRunner
from relbook.ui.widgets import SIDEBAR_WIDTH, ElidedLabel, Toast, label

if TYPE_CHECKING:
    from relbook.app import AppPaths
    from relbook.services.context import Services
    from relbook.ui.context import UiContext

log = logging.getLogger(__name__)

IMPORTABLE = (".eml", ".mbox", ".ics", ".vcf", ".csv", ".mbx")
INSIGHT_UPKEEP_MS = 60 * 60 * 1000  # services.insight.maintain, while the book is open
CUSTOMER_TITLES = {"person": "Person", "company": "Company", "deal": "Deal"}
QUICK_LOG_KEYS = (
    ("call", "C", "Log a call"),
    ("meeting", "M", "Log a meeting"),
    ("note", "N", "Write a note"),
    ("offer", "O", "Log an offer"),
)


class MainWindow(QMainWindow):
    book_opened = Signal()
    book_failed = Signal(object)
    page_shown = Signal(str)
    ready = Signal()  # the first page has its data on screen (start-up measurement)

    def __init__(self, paths: AppPaths, log_path: Path | None, settings: QSettings) -> None:
        super().__init__()
        self.paths = paths
        self.log_path = log_path
        self.qsettings = settings
        self.ctx: UiContext | None = None
        self.book_path: Path | None = None
        self._pages: dict[str, Page] = {}
        self._history: list[tuple[str, tuple[str, str] | None]] = []
        self._current: str = ""
        self._ready_sent = False
        self.auto_backup = True  # the daily backup after start-up (off for screenshots)
        self._background_started = False  # the sync and team pages' timers run
        self._upkeep_timer: QTimer | None = None  # insight upkeep, hourly
        self.relinker: Any = None  # ColleagueRelinker of the open book
        self.started_at = time.perf_counter()
        self.setWindowTitle("Relbook")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(960, 620)
        self._opener = TaskRunner(self, read_threads=1)
        self._opener.error_reporter = lambda _e: None

        self.root = QStackedWidget()
        self.setCentralWidget(self.root)
        self.loading = QWidget()
        loading_layout = QVBoxLayout(self.loading)
        loading_layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label = label("Opening your book…", "muted")
        loading_layout.addWidget(self.loading_label)
        self.root.addWidget(self.loading)
        self.welcome: QWidget | None = None
        self.shell: QWidget | None = None
        self.toast = Toast(self)
        self.search_popup = None
        self.palette = None
        self.statusBar().setSizeGripEnabled(False)
        self.statusBar().hide()
        self._install_global_actions()

    # ================================================================ book
    def open_book(self, path: Path, *, create: bool = False) -> None:
        """Open (or create) the book at ``path`` in the background."""
        from relbook.app import open_services

        self.close_book()
        self.book_path = path
        self.loading_label.setText(f"Opening {path.name}…")
        self.root.setCurrentWidget(self.loading)
        self._opener.read(
            lambda: open_services(path, create=create),
            lambda services: self._book_ready(path, services),
            self._book_failed,
            owner=self,
        )

    def _book_failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError

        if not isinstance(error, UserError):
            from relbook.ui.tasks import _log_bug

            _log_bug(error)
        self.show_welcome(error)
        self.book_failed.emit(error)
        return True

    def _book_ready(self, path: Path, services: Services) -> None:
        from relbook.ui.context import UiContext

        self.paths.remember_book(path)
        ctx = UiContext(services, log_path=self.log_path, parent=self)
        ctx.window = self
        self.ctx = ctx
        from relbook.ui.relinking import ColleagueRelinker

        self.relinker = ColleagueRelinker(ctx, ctx)
        ctx.open_requested.connect(self.open_entity)
        ctx.page_requested.connect(self.show_page)
        ctx.status_message.connect(lambda text: self.toast.show_message(text, ms=3500))
        ctx.undo.pushed.connect(lambda text: self.toast.show_message(text, "Undo", ctx.undo.undo))
        last = str(self.qsettings.value("ui/last_page", "myday"))
        if last not in {p.id for p in sidebar_pages()}:
            last = "myday"
        if last == "myday":  # its data is read while the shell is built
            from relbook.ui.views.myday import prefetch

            prefetch(ctx)
        self._build_shell()
        self.setWindowTitle(f"{path.stem} — Relbook")
        self.root.setCurrentWidget(self.shell)
        self.show_page(last)
        self.book_opened.emit()
        # After the first page has its data: load the write path (SQLAlchemy) and take the
        # daily backup (a fixed delay raced the first page's own read on a big book).
        if self._ready_sent:
            QTimer.singleShot(300, self._after_first_paint)
        else:
            self.ready.connect(
                lambda: QTimer.singleShot(300, self._after_first_paint),
                Qt.ConnectionType.SingleShotConnection,
            )

    def _after_first_paint(self, waited_ms: int = 0) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        page = self.current_page()
        if page is not None and not page.is_loaded() and waited_ms < 10_000:
            # The first page is still making its cards (My Day below the fold): imports
            # on a worker meanwhile would make each of its slices wait for the interpreter.
            QTimer.singleShot(100, self, lambda: self._after_first_paint(waited_ms + 100))
            return

        # The write path and the services first (on a worker), then what uses them: each
        # reached from here would otherwise be imported on the UI thread.
        def failed(_error: BaseException) -> None:
            self._after_warm_up(ctx)  # the runner reports the error; the rest still runs

        ctx.read(ctx.services.warm_up, lambda _r: self._after_warm_up(ctx), failed, label="warm up")

    def _after_warm_up(self, ctx: UiContext) -> None:
        if ctx is not self.ctx:
            return  # the book was closed meanwhile
        # What start-up made (modules, classes, the window) lives as long as the app: out
        # of the collector's sight. A full collection walks every tracked object with the
        # interpreter held — on a sync's thread that froze the window 50-80 ms at a time.
        gc.freeze()
        services = ctx.services
        if self.relinker is not None:
            self.relinker.start()  # a colleague relink cut off last time goes on
        if self.auto_backup:
            ctx.write(services.maintenance.backup_if_due, lambda _r: None, label="daily backup")
            # Meetings that have happened start counting as touches; strength decays daily.
            self._insight_upkeep()
            if self._upkeep_timer is None:
                self._upkeep_timer = QTimer(self)
                self._upkeep_timer.setInterval(INSIGHT_UPKEEP_MS)
                self._upkeep_timer.timeout.connect(self._insight_upkeep)
                self._upkeep_timer.start()
            self._start_background_pages()

    def _start_background_pages(self) -> None:
        self._background_started = True
        # The sync page owns the timer that syncs due accounts in the background.
        if page_spec("sync").available():
            self.page("sync")
        # The team page (next turn of the event loop: both at once held the UI ~100 ms)
        # owns the one that syncs with the team server (when connected).
        QTimer.singleShot(0, self, self._start_team_page)

    def _start_team_page(self) -> None:
        if self.ctx is not None and self._background_started and page_spec("team").available():
            start = getattr(self.page("team"), "start_background", None)
            if callable(start):
                start()

    def _insight_upkeep(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            ctx.write(ctx.services.insight.maintain, lambda _r: None, label="insight upkeep")

    def close_book(self) -> None:
        if self.ctx is None:
            return
        gc.unfreeze()  # what the book's window made may go now
        self._save_state()
        ctx = self.ctx
        self.ctx = None
        if self.relinker is not None:
            self.relinker.stop()
            self.relinker = None
        self._drop_pages()
        self._background_started = False
        self._history.clear()
        ctx.close()
        ctx.services.close()
        ctx.deleteLater()

    # ================================================================ theme
    def theme_changed(self) -> None:
        """The system switched light/dark (the style sheet is already re-applied).

        Icons and avatars are pixmaps drawn in the old colours, so the sidebar, the top
        bar and the pages are built again, over the same open book, on the same view.
        """
        if self.welcome is not None and not self.welcome.busy():
            showing = self.root.currentWidget() is self.welcome
            self.root.removeWidget(self.welcome)
            self.welcome.deleteLater()
            self.welcome = None
            if showing:
                self.show_welcome()
        if self.ctx is None or self.shell is None:
            return
        current = self._current or "myday"
        entity = self.context_entity() if current == "customer" else None
        history = list(self._history)
        background = self._background_started
        self._drop_pages()
        for popup in (self.search_popup, self.palette):
            if popup is not None:
                popup.hide()
                popup.deleteLater()
        self._build_shell()
        self.root.setCurrentWidget(self.shell)
        if background:
            self._start_background_pages()  # the rebuilt pages own the background timers
        if entity is not None:
            self.open_entity(*entity)
        else:
            self.show_page(current if current != "customer" else "myday", remember=False)
        self._history = history

    def _drop_pages(self) -> None:
        for page in self._pages.values():
            stop = getattr(page, "stop", None)
            if callable(stop):
                stop()
            page.hide()
            page.deleteLater()
        self._pages.clear()
        self._current = ""
        if self.shell is not None:
            self.root.removeWidget(self.shell)
            self.shell.deleteLater()
            self.shell = None

    # ================================================================ welcome
    def show_welcome(self, error: BaseException | None = None) -> None:
        from relbook.ui.views.welcome import WelcomeScreen

        if self.welcome is None:
            self.welcome = WelcomeScreen(self)
            self.root.addWidget(self.welcome)
        self.welcome.set_error(error)
        self.root.setCurrentWidget(self.welcome)
        self.setWindowTitle("Welcome — Relbook")

    def target_book_path(self) -> Path:
        from relbook.app import resolve_book

        return self.book_path or resolve_book(self.paths, None)

    # ================================================================ shell
    def _build_shell(self) -> None:
        shell = QWidget()
        outer = QHBoxLayout(shell)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(SIDEBAR_WIDTH)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(10, 14, 10, 10)
        side.setSpacing(6)
        brand_row = QHBoxLayout()
        brand_row.setContentsMargins(8, 0, 0, 6)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(26, 26)))
        brand_row.addWidget(logo)
        brand = label("Relbook")
        brand.setObjectName("brand")
        brand_row.addWidget(brand)
        brand_row.addStretch(1)
        side.addLayout(brand_row)
        self.nav = QListWidget()
        self.nav.setObjectName("sidebarList")
        self.nav.setIconSize(QSize(19, 19))
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for spec in sidebar_pages():
            item = QListWidgetItem(icon(spec.icon, "muted"), "  " + spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.id)
            item.setToolTip(f"{spec.title}  ({spec.shortcut})" if spec.shortcut else spec.title)
            self.nav.addItem(item)
            if spec.id == "review" and self.ctx is not None:
                from relbook.ui.views.review import SidebarCount

                self.review_count = SidebarCount(self.ctx, item, spec.title, self.nav)
        self.nav.currentItemChanged.connect(self._nav_changed)
        side.addWidget(self.nav, 1)
        settings_button = QPushButton("  Settings")
        settings_button.setObjectName("sidebarSettings")
        settings_button.setProperty("kind", "flat")
        settings_button.setToolTip("Settings (Ctrl+,)")
        settings_button.setIcon(icon("settings", "muted"))
        settings_button.clicked.connect(self.open_settings)
        side.addWidget(settings_button)
        self.book_name = ElidedLabel("", "small", mode=Qt.TextElideMode.ElideMiddle)
        self.book_name.setObjectName("bookName")
        self.book_name.setText(str(self.book_path or ""))
        side.addWidget(self.book_name)
        outer.addWidget(sidebar)

        main = QWidget()
        column = QVBoxLayout(main)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        top = QFrame()
        top.setObjectName("topBar")
        bar = QHBoxLayout(top)
        bar.setContentsMargins(24, 10, 16, 10)
        bar.setSpacing(8)
        self.page_title = label("")
        self.page_title.setObjectName("pageTitle")
        bar.addWidget(self.page_title)
        bar.addStretch(1)
        self.search_button = QPushButton("  Search…                                   Ctrl+K")
        self.search_button.setObjectName("globalSearch")
        self.search_button.setIcon(icon("search", "muted"))
        self.search_button.setCursor(Qt.CursorShape.IBeamCursor)
        self.search_button.clicked.connect(lambda: self.open_search())  # noqa: PLW0108 - not the bool
        bar.addWidget(self.search_button)
        new_button = QPushButton("  New")
        new_button.setProperty("kind", "primary")
        new_button.setIcon(icon("plus", "accent_text"))
        new_menu = QMenu(new_button)
        for kind, title, key in (
            ("person", "Person", "Ctrl+N"),
            ("company", "Company", "Ctrl+Shift+C"),
            ("deal", "Deal", "Ctrl+Shift+D"),
            ("task", "Task", "Ctrl+T"),
            ("note", "Note", "Ctrl+Shift+N"),
        ):
            action = new_menu.addAction(icon(_kind_icon(kind)), f"{title}\t{key}")
            action.triggered.connect(lambda _=False, k=kind: self.new_entity(k))
        new_button.setMenu(new_menu)
        log_button = QPushButton("  Log")
        log_button.setIcon(icon("call"))
        log_menu = QMenu(log_button)
        for kind, key, title in QUICK_LOG_KEYS:
            action = log_menu.addAction(icon(_kind_icon(kind)), f"{title}\tCtrl+L, {key}")
            action.triggered.connect(lambda _=False, k=kind: self.quick_log(k))
        log_button.setMenu(log_menu)
        bar.addWidget(log_button)
        bar.addWidget(new_button)
        palette_button = QPushButton()
        palette_button.setProperty("kind", "flat")
        palette_button.setIcon(icon("command", "muted"))
        palette_button.setToolTip("Command palette (Ctrl+Shift+P)")
        palette_button.clicked.connect(lambda: self.open_palette())  # noqa: PLW0108
        bar.addWidget(palette_button)
        column.addWidget(top)
        self.stack = QStackedWidget()
        column.addWidget(self.stack, 1)
        outer.addWidget(main, 1)

        self.shell = shell
        self.root.addWidget(shell)
        from relbook.ui.popups import CommandPalette, SearchPopup

        assert self.ctx is not None
        self.search_popup = SearchPopup(self, self.ctx)
        self.search_popup.activated.connect(self._open_search_hit)
        self.palette = CommandPalette(self, self.commands)

    def _nav_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            self.show_page(str(item.data(Qt.ItemDataRole.UserRole)))

    # ================================================================ pages
    def page(self, page_id: str) -> Page:
        page = self._pages.get(page_id)
        if page is None:
            assert self.ctx is not None
            page = page_spec(page_id).build(self.ctx)
            page.spec_id = page_id
            self._pages[page_id] = page
            self.stack.addWidget(page)
        return page

    def current_page(self) -> Page | None:
        return self._pages.get(self._current)

    def show_page(self, page_id: str, *, remember: bool = True) -> Page | None:
        if self.ctx is None or self.shell is None:
            return None
        spec = page_spec(page_id)
        if remember and self._current and self._current != page_id:
            previous = self.current_page()
            entity = previous.context_entity() if previous is not None else None
            self._history.append((self._current, entity))
            del self._history[:-30]
        page = self.page(page_id)
        self._current = page_id
        self.stack.setCurrentWidget(page)
        self.page_title.setText(spec.title if page_id != "customer" else "")
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == page_id:
                if self.nav.currentRow() != row:
                    self.nav.blockSignals(True)
                    self.nav.setCurrentRow(row)
                    self.nav.blockSignals(False)
                break
        else:
            self.nav.blockSignals(True)
            self.nav.clearSelection()
            self.nav.setCurrentRow(-1)
            self.nav.blockSignals(False)
        if spec.sidebar:
            self.qsettings.setValue("ui/last_page", page_id)
        self.bind_page_shortcuts(page)
        page.activated()
        self.page_shown.emit(page_id)
        if not self._ready_sent:
            self._watch_ready(page)
        return page

    def bind_page_shortcuts(self, page: Page) -> None:
        """Bind the shortcuts of the page's palette commands (active while it is shown).

        The action looks the command up again when the keys are pressed, so it runs what
        the page offers at that moment (the 360° view's commands follow its entity). Keys
        the window already binds stay the window's (two actions on one key would make Qt
        call the shortcut ambiguous and run neither).
        """
        for action in getattr(page, "_shortcut_actions", []):
            page.removeAction(action)
            action.deleteLater()
        actions: list[QAction] = []
        taken = self.global_shortcuts()
        for command in page.commands():
            keys = QKeySequence(command.shortcut).toString() if command.shortcut else ""
            if not keys or not command.bind or keys in taken:
                continue
            taken.add(keys)
            action = QAction(page)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(
                lambda _=False, p=page, c=command.id: self._run_page_command(p, c)
            )
            page.addAction(action)
            actions.append(action)
        page._shortcut_actions = actions  # type: ignore[attr-defined]

    def _run_page_command(self, page: Page, command_id: str) -> None:
        if page is not self.current_page():
            return
        command = next((c for c in page.commands() if c.id == command_id), None)
        if command is not None:
            command.run()

    def global_shortcuts(self) -> set[str]:
        return {a.shortcut().toString() for a in self.actions() if not a.shortcut().isEmpty()}

    def _watch_ready(self, page: Page) -> None:
        def check() -> None:
            if self._ready_sent:
                return
            if page.first_screen_shown():
                self._ready_sent = True
                self.ready.emit()
            else:
                QTimer.singleShot(5, check)

        QTimer.singleShot(0, check)

    def open_entity(self, kind: str, entity_id: str) -> None:
        if kind in ("person", "company", "deal"):
            page = self.show_page("customer")
            if page is not None:
                page.open_entity(kind, entity_id)  # type: ignore[attr-defined]
                self.bind_page_shortcuts(page)  # its commands follow the entity
                self.page_title.setText(CUSTOMER_TITLES[kind])
        elif kind == "interaction":
            from relbook.ui.dialogs.message import MessageDialog

            assert self.ctx is not None
            MessageDialog(self.ctx, entity_id, self).open()
        elif kind == "note":
            from relbook.ui.editors.note import edit_note

            assert self.ctx is not None
            edit_note(self.ctx, self, entity_id)
        elif kind == "task":
            from relbook.ui.editors.task import edit_task

            assert self.ctx is not None
            edit_task(self.ctx, self, entity_id)

    def go_back(self) -> None:
        while self._history:
            page_id, entity = self._history.pop()
            if page_id == "customer" and entity is not None:
                page = self.show_page("customer", remember=False)
                if page is not None:
                    page.open_entity(*entity)  # type: ignore[attr-defined]
                    self.bind_page_shortcuts(page)
                    self.page_title.setText(CUSTOMER_TITLES.get(entity[0], ""))
                return
            if page_id != "customer":
                self.show_page(page_id, remember=False)
                return

    # ================================================================ popups
    def open_search(self, text: str = "") -> None:
        if self.search_popup is not None and self.ctx is not None:
            if self.palette is not None:
                self.palette.close_popup()
            self.search_popup.open(text)

    def open_palette(self, text: str = "") -> None:
        if self.palette is not None and self.ctx is not None:
            if self.search_popup is not None:
                self.search_popup.close_popup()
            self.palette.open(text)

    def _open_search_hit(self, hit: Any) -> None:
        self.open_entity(hit.kind, hit.id)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        for popup in (self.search_popup, self.palette):
            if popup is not None and popup.isVisible():
                popup.place()
        if self.toast.isVisible():
            self.toast.place()

    # ================================================================ actions
    def _shortcut(self, keys: str, run: Any) -> QAction:
        action = QAction(self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _=False: run())
        self.addAction(action)
        return action

    def _install_global_actions(self) -> None:
        self._shortcut("Ctrl+K", self.open_search)
        self._shortcut("Ctrl+Shift+P", self.open_palette)
        self._shortcut("Ctrl+P", self.open_palette)
        self._shortcut("Ctrl+Z", self.undo)
        self._shortcut("Alt+Left", self.go_back)
        self._shortcut("Ctrl+N", lambda: self.new_entity("person"))
        self._shortcut("Ctrl+Shift+C", lambda: self.new_entity("company"))
        self._shortcut("Ctrl+Shift+D", lambda: self.new_entity("deal"))
        self._shortcut("Ctrl+T", lambda: self.new_entity("task"))
        self._shortcut("Ctrl+Shift+N", lambda: self.new_entity("note"))
        self._shortcut("Ctrl+,", self.open_settings)
        self._shortcut("F5", self.refresh_page)
        self._shortcut("Ctrl+Q", self.close)
        for kind, key, _title in QUICK_LOG_KEYS:
            self._shortcut(f"Ctrl+L, {key}", lambda k=kind: self.quick_log(k))
        for spec in PAGES:
            if spec.shortcut and spec.sidebar:
                self._shortcut(spec.shortcut, lambda p=spec.id: self._go(p))

    def _go(self, page_id: str) -> None:
        if self.ctx is not None and page_spec(page_id).available():
            self.show_page(page_id)

    def undo(self) -> None:
        if self.ctx is not None:
            self.ctx.undo.undo()

    def refresh_page(self) -> None:
        page = self.current_page()
        if page is not None:
            page.activated()

    def context_entity(self) -> tuple[str, str] | None:
        page = self.current_page()
        return page.context_entity() if page is not None else None

    def new_entity(self, kind: str) -> None:
        if self.ctx is None:
            return
        from relbook.ui import editors

        editors.new(self.ctx, self, kind, self.context_entity())

    def quick_log(self, kind: str) -> None:
        if self.ctx is None:
            return
        from relbook.ui.dialogs.quicklog import QuickLogDialog

        dialog = QuickLogDialog(self.ctx, kind, self.context_entity(), self)
        dialog.open()

    def open_settings(self) -> None:
        if self.ctx is None:
            return
        from relbook.ui.dialogs.settings import SettingsDialog

        SettingsDialog(self.ctx, self).open()

    def open_fields_manager(self) -> None:
        if self.ctx is None:
            return
        from relbook.ui.dialogs.fields import FieldManager

        FieldManager(self.ctx, self).open()

    def open_pipeline_manager(self) -> None:
        if self.ctx is None:
            return
        from relbook.ui.dialogs.pipelines import PipelineManager

        PipelineManager(self.ctx, self).open()

    def choose_book(self) -> None:
        from relbook.ui.qt import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Open a book", str(self.target_book_path().parent), "Relbook books (*.relbook)"
        )
        if path:
            self.open_book(Path(path))

    def commands(self) -> list[Command]:
        """Every action the palette offers: global ones, then the current page's."""
        items: list[Command] = []
        for spec in sidebar_pages():
            items.append(
                Command(
                    f"go.{spec.id}",
                    f"Go to {spec.title}",
                    lambda p=spec.id: self.show_page(p),
                    spec.shortcut,
                    spec.icon,
                    "Navigate",
                )
            )
        for kind, title, key in (
            ("person", "New person", "Ctrl+N"),
            ("company", "New company", "Ctrl+Shift+C"),
            ("deal", "New deal", "Ctrl+Shift+D"),
            ("task", "New task", "Ctrl+T"),
            ("note", "New note", "Ctrl+Shift+N"),
        ):
            items.append(
                Command(
                    f"new.{kind}",
                    title,
                    lambda k=kind: self.new_entity(k),
                    key,
                    _kind_icon(kind),
                    "Create",
                )
            )
        for kind, key, title in QUICK_LOG_KEYS:
            items.append(
                Command(
                    f"log.{kind}",
                    title,
                    lambda k=kind: self.quick_log(k),
                    f"Ctrl+L, {key}",
                    _kind_icon(kind),
                    "Log",
                )
            )
        items += [
            Command("search", "Search the book", self.open_search, "Ctrl+K", "search", "Find"),
            Command(
                "undo",
                f"Undo {self.ctx.undo.top_label() if self.ctx else ''}".strip(),
                self.undo,
                "Ctrl+Z",
                "undo",
                "Edit",
            ),
            Command("back", "Back", self.go_back, "Alt+Left", "chevron-right", "Navigate"),
            Command("refresh", "Refresh this page", self.refresh_page, "F5", "sync", "View"),
            Command("settings", "Settings", self.open_settings, "Ctrl+,", "settings", "Book"),
            Command("fields", "Manage custom fields", self.open_fields_manager, "", "edit", "Book"),
            Command(
                "pipelines",
                "Manage pipelines and stages",
                self.open_pipeline_manager,
                "",
                "pipeline",
                "Book",
            ),
            Command("book.open", "Open another book…", self.choose_book, "", "folder", "Book"),
            Command("book.backup", "Back up the book now", self.backup_now, "", "export", "Book"),
            Command(
                "import",
                "Import files (mail, calendar, contacts)…",
                self.import_dialog,
                "",
                "import",
                "Book",
            ),
            Command("quit", "Quit Relbook", self.close, "Ctrl+Q", "close", "App"),
        ]
        page = self.current_page()
        if page is not None:
            items += page.commands()
        return items

    def backup_now(self) -> None:
        if self.ctx is None:
            return
        maintenance = self.ctx.services.maintenance
        self.ctx.write(
            maintenance.backup_now,
            lambda taken: self.toast.show_message(f"Backup written: {taken.path.name}"),
            label="backup",
        )

    # ================================================================ files
    def import_dialog(self) -> None:
        from relbook.ui.qt import QFileDialog

        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Import files",
            str(Path.home()),
            "Mail, calendar and contacts (*.eml *.mbox *.ics *.vcf *.csv);;All files (*)",
        )
        if files:
            self.import_files([Path(f) for f in files])

    def import_files(self, files: list[Path]) -> None:
        from relbook.ui.dialogs.importing import import_files

        if self.ctx is not None:
            import_files(self.ctx, self, files)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.ctx is not None and _dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if self.ctx is not None and _dropped_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = _dropped_files(event)
        if files and self.ctx is not None:
            event.acceptProposedAction()
            self.import_files(files)

    # ================================================================ state
    def restore_state(self) -> None:
        geometry = self.qsettings.value("ui/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.qsettings.value("ui/state")
        if state is not None:
            self.restoreState(state)

    def _save_state(self) -> None:
        self.qsettings.setValue("ui/geometry", self.saveGeometry())
        self.qsettings.setValue("ui/state", self.saveState())
        if self._current and page_spec(self._current).sidebar:
            self.qsettings.setValue("ui/last_page", self._current)
        self.qsettings.sync()

    def closeEvent(self, event: Any) -> None:
        self._save_state()
        self.close_book()
        self._opener.shutdown()
        super().closeEvent(event)


def _kind_icon(kind: str) -> str:
    from relbook.ui.fmt import KIND_ICONS

    return KIND_ICONS.get(kind, "plus")


def _dropped_files(event: Any) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    # Any local file or folder: the import recognises mail, mbox, Maildir, .ics, .vcf
    # and .csv by their content and reports everything else by name (Maildir files have
    # no extension, so filtering by IMPORTABLE here would drop them).
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
