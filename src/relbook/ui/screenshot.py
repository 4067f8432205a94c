"""Render every main view to PNG, offscreen (``relbook screenshot``; the README's pictures).

Each view is shown in a real main window over a real book (the demo book by default),
waits until its data is on screen and the task runner is idle, then is grabbed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZE = (1360, 860)


def _wait(app: Any, condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Run the event loop until ``condition`` holds (checked every 5 ms) or time is up."""
    from relbook.ui.qt import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            # a few more turns: queued refreshes and the paint they cause
            for _ in range(3):
                app.processEvents()
            return True
        QTimer.singleShot(5, loop.quit)
        loop.exec()  # the event loop keeps running while we wait
    return False


def _wait_for_dialog(app: Any, cls: type) -> Any:
    def find() -> Any:
        return next(
            (w for w in app.topLevelWidgets() if isinstance(w, cls) and w.isVisible()), None
        )

    if not _wait(app, lambda: find() is not None):
        raise RuntimeError(f"{cls.__name__} did not open")
    return find()


def render_all(
    book: Path | None, out: Path, *, theme: str = "", progress: Callable[[str], None] | None = None
) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if theme:
        os.environ["RELBOOK_THEME"] = theme
    from relbook.app import AppPaths
    from relbook.ui.main import build_window, create_application

    app = create_application()
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="relbook-shots-"))
    paths = AppPaths(home / "data", home / "config", home / "logs")
    if book is None:
        from relbook.services.demo import build_demo_book

        book = home / "demo.relbook"
        build_demo_book(book)
    written: list[Path] = []

    def save(widget: Any, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        written.append(path)
        if progress is not None:
            progress(str(path))

    # The welcome screen (no book yet).
    welcome = build_window(str(home / "none.relbook"), paths=paths)
    welcome.resize(*SIZE)
    welcome.show()
    _wait(app, lambda: welcome.welcome is not None and welcome.welcome.isVisible())
    save(welcome, "welcome")
    welcome.close()

    window = build_window(str(book), paths=paths, auto_backup=False)
    window.resize(*SIZE)
    window.show()
    if not _wait(app, lambda: window.ctx is not None, 60):
        raise RuntimeError(f"the book {book} did not open")
    ctx = window.ctx
    assert ctx is not None

    def settle(page: Any) -> None:
        _wait(app, lambda: page.is_loaded() and ctx.runner.is_idle())

    from relbook.ui.pages import sidebar_pages

    for spec in sidebar_pages():
        page = window.show_page(spec.id)
        if page is None:
            continue
        settle(page)
        save(window, spec.id)

    services = ctx.services
    from relbook.ui.views.customer import CustomerPage

    # A person and a company the rep talks to most: the richest 360° views.
    people = services.lists.window("person", "", [("touches", False)], 0, 1)
    companies = services.lists.window("company", "", [("last_touch", False)], 0, 1)
    deals = services.lists.window("deal", "status:open", [("amount", False)], 0, 1)
    for kind, rows in (("person", people), ("company", companies), ("deal", deals)):
        if not rows:
            continue
        window.open_entity(kind, rows[0].id)
        page = window.current_page()
        assert isinstance(page, CustomerPage)
        settle(page)
        _wait(app, lambda p=page: bool(p.timeline.entries) or p.timeline.list.count() > 0)
        save(window, f"{kind}-360")

    # Search as you type and the command palette.
    window.show_page("myday")
    settle(window.current_page())
    window.open_search()
    popup = window.search_popup
    assert popup is not None
    name = people[0].values[0] if people else "a"
    popup.input.setText(str(name).split()[0][:4])
    _wait(app, lambda: popup.last is not None and ctx.runner.is_idle())
    save(window, "search")
    popup.close_popup()
    window.open_palette()
    save(window, "command-palette")
    assert window.palette is not None
    window.palette.close_popup()

    # An editor and the quick log.
    if people:
        from relbook.ui.editors.person import PersonEditor

        window.open_entity("person", people[0].id)
        settle(window.current_page())
        window.current_page().edit()  # type: ignore[union-attr]
        _wait(
            app,
            lambda: any(
                isinstance(w, PersonEditor) for w in app.topLevelWidgets() if w.isVisible()
            ),
        )
        editor = next(
            w for w in app.topLevelWidgets() if isinstance(w, PersonEditor) and w.isVisible()
        )
        save(editor, "person-editor")
        editor.reject()
    from relbook.ui.dialogs.fields import FieldManager
    from relbook.ui.dialogs.pipelines import PipelineManager
    from relbook.ui.dialogs.settings import SettingsDialog

    # Settings and the two managers (issue 3, point 6).
    for opener, cls, name in (
        (window.open_settings, SettingsDialog, "settings"),
        (window.open_fields_manager, FieldManager, "custom-fields"),
        (window.open_pipeline_manager, PipelineManager, "pipeline-stages"),
    ):
        opener()
        dialog = _wait_for_dialog(app, cls)
        _wait(app, ctx.runner.is_idle)
        save(dialog, name)
        dialog.reject()
    if deals:
        from relbook.ui.editors.deal import DealEditor, edit_deal

        edit_deal(ctx, window, deals[0].id)
        editor = _wait_for_dialog(app, DealEditor)
        _wait(app, ctx.runner.is_idle)
        save(editor, "deal-editor")
        editor.reject()

    from relbook.ui.dialogs.quicklog import QuickLogDialog

    window.quick_log("call")
    _wait(app, ctx.runner.is_idle)
    log_dialog = next(
        w for w in app.topLevelWidgets() if isinstance(w, QuickLogDialog) and w.isVisible()
    )
    save(log_dialog, "quick-log")
    log_dialog.reject()

    # My Day in the other theme.
    from relbook.ui.style import apply_theme
    from relbook.ui.style import theme as current_theme

    dark = not current_theme().dark
    apply_theme(app, dark=dark)
    window.close()
    window = build_window(str(book), paths=paths, auto_backup=False)
    window.resize(*SIZE)
    window.show()
    _wait(app, lambda: window.ctx is not None, 60)
    page = window.show_page("myday")
    _wait(app, lambda: page is not None and page.is_loaded() and window.ctx.runner.is_idle())
    save(window, "myday-dark" if dark else "myday-light")
    window.close()
    apply_theme(app)
    return written
