"""Starting the desktop app: ``relbook`` (no command) calls ``run_app``.

Start-up is measured (issue 7): only Qt's widgets and the sqlite3 read path load before
the first paint; SQLAlchemy is imported in the background afterwards (``warm_up``).
``RELBOOK_STARTUP_REPORT=1`` prints the time from process start to My Day painted and
quits (the benchmark's probe).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()


def qsettings_for(paths: object):  # -> QSettings
    from relbook.ui.qt import QSettings

    config_dir = Path(paths.config_dir)  # type: ignore[attr-defined]
    return QSettings(str(config_dir / "ui.ini"), QSettings.Format.IniFormat)


def create_application(argv: list[str] | None = None):  # -> QApplication
    from relbook.ui.qt import QApplication, Qt

    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Relbook")
    app.setOrganizationName("Relbook")
    app.setApplicationDisplayName("Relbook")
    app.setDesktopFileName("relbook")
    from relbook.ui.style import app_icon, apply_theme, follow_system_theme

    apply_theme(app)
    follow_system_theme(app)
    app.setWindowIcon(app_icon())
    return app


def build_window(
    book: str | None,
    *,
    log_path: Path | None = None,
    paths: object = None,
    auto_backup: bool = True,
):
    """The main window with its book opening (or the welcome screen when there is none)."""
    from relbook.app import default_paths, resolve_book
    from relbook.ui.window import MainWindow

    paths = paths or default_paths()
    window = MainWindow(paths, log_path, qsettings_for(paths))  # type: ignore[arg-type]
    window.auto_backup = auto_backup
    window.restore_state()
    path = resolve_book(paths, book)  # type: ignore[arg-type]
    window.book_path = path
    if path.exists():
        window.open_book(path)
    else:
        window.show_welcome()
    return window


def run_app(book: str | None, verbose: bool) -> int:
    from relbook.app import default_paths, setup_logging

    paths = default_paths()
    log_path = setup_logging(paths, verbose=verbose)
    app = create_application()
    from relbook.ui.errors import install_excepthook

    install_excepthook(log_path)
    window = build_window(book, log_path=log_path, paths=paths)
    if os.environ.get("RELBOOK_STARTUP_REPORT"):
        from relbook.ui.qt import QTimer

        def report() -> None:
            started = _process_start()
            elapsed = time.time() - started if started else time.perf_counter() - _T0
            print(f"relbook: first page painted after {elapsed:.3f} s", flush=True)
            QTimer.singleShot(0, window.close)

        window.ready.connect(report)
        window.book_failed.connect(lambda _e: window.close())
    window.show()
    return int(app.exec())


def _process_start() -> float | None:
    """The process's start time (Linux /proc), so the report includes interpreter start."""
    try:
        with Path("/proc/self/stat").open(encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        hertz = os.sysconf("SC_CLK_TCK")
        with Path("/proc/uptime").open(encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return time.time() - (uptime - ticks / hertz)
    except (OSError, ValueError, IndexError):
        return None
