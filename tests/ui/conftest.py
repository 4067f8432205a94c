"""Fixtures for the desktop app's tests: a demo book (built once, copied per test) and a
main window over it, offscreen. Tests wait with qtbot.waitUntil / waitSignal, never sleep."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relbook.app import AppPaths

# The offscreen platform cannot resize a native window to a dialog's size hints; harmless.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from relbook.services.demo import build_demo_book

    path = tmp_path_factory.mktemp("demo") / "demo.relbook"
    build_demo_book(path)
    return path


@pytest.fixture
def demo_book(tmp_path: Path, demo_template: Path) -> Path:
    path = tmp_path / "demo.relbook"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    root = tmp_path / "home"
    return AppPaths(root / "data", root / "config", root / "logs")


@pytest.fixture
def make_window(qtbot: Any, app_paths: AppPaths) -> Iterator[Any]:
    from relbook.ui.main import build_window, create_application

    create_application()
    windows: list[Any] = []

    def make(book: Path | None, *, wait: bool = True) -> Any:
        window = build_window(str(book) if book else None, paths=app_paths, auto_backup=False)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        if wait and book is not None and book.exists():
            qtbot.waitUntil(lambda: window.ctx is not None, timeout=20_000)
            settle(qtbot, window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def window(make_window: Any, demo_book: Path) -> Any:
    return make_window(demo_book)


def settle(qtbot: Any, window: Any, timeout: int = 20_000) -> None:
    """Wait until the current page has its data and no background task is pending."""

    def done() -> bool:
        page = window.current_page()
        return (
            window.ctx is not None
            and window.ctx.runner.is_idle()
            and (page is None or page.is_loaded())
        )

    qtbot.waitUntil(done, timeout=timeout)


def idle(qtbot: Any, window: Any, timeout: int = 20_000) -> None:
    qtbot.waitUntil(window.ctx.runner.is_idle, timeout=timeout)


def visible_dialog(app: Any, cls: type) -> Any:
    return next((w for w in app.topLevelWidgets() if isinstance(w, cls) and w.isVisible()), None)
