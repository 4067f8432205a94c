"""The desktop app on the demo book, offscreen: what a user sees and does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relbook.ui.pages import sidebar_pages
from relbook.ui.qt import QApplication, QPoint, QPointF, Qt
from tests.ui.conftest import OFFSCREEN_NOISE, settle, visible_dialog

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _person(window: Any, text: str = "") -> Any:
    rows = window.ctx.services.lists.window("person", text, [("touches", False)], 0, 1)
    return rows[0]


def test_each_view_opens_on_the_demo_book(qtbot: Any, window: Any) -> None:
    shown = []
    for spec in sidebar_pages():
        page = window.show_page(spec.id)
        settle(qtbot, window)
        assert page.is_loaded(), spec.id
        shown.append(spec.id)
    assert {"myday", "people", "companies", "deals", "pipeline", "tasks", "sync"} <= set(shown)
    people = window.page("people")
    assert people.model.rowCount() == window.ctx.services.people.count()
    assert people.model.data(people.model.index(0, 0))  # the first block is on screen
    board = window.page("pipeline")
    assert board.columns and any(c.model.cards for c in board.columns.values())
    myday = window.page("myday")
    assert myday.data is not None and myday.data.meetings_today
    for kind, text in (("person", ""), ("company", ""), ("deal", "status:open")):
        row = window.ctx.services.lists.window(kind, text, None, 0, 1)[0]
        window.open_entity(kind, row.id)
        page = window.current_page()
        settle(qtbot, window)
        qtbot.waitUntil(lambda p=page: bool(p.timeline.entries) or p.timeline.list.count() > 0)
        assert page.context_entity() == (kind, row.id)


def test_last_view_is_restored_on_restart(qtbot: Any, make_window: Any, demo_book: Path) -> None:
    first = make_window(demo_book)
    first.show_page("companies")
    settle(qtbot, first)
    first.close()
    second = make_window(demo_book)
    assert second.current_page().spec_id == "companies"


def test_search_as_you_type_finds_a_person_by_a_prefix(qtbot: Any, window: Any) -> None:
    person = _person(window)
    name = person.values[0]
    prefix = name.split()[-1][:3]
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    popup = window.search_popup
    assert popup.isVisible()
    with qtbot.waitSignal(popup.results_shown, timeout=10_000) as shown:
        qtbot.keyClicks(popup.input, prefix)
    results = shown.args[0]
    qtbot.waitUntil(lambda: popup.last is not None and popup.last.text == prefix)
    people = next(g for g in popup.last.groups if g.kind == "person")
    assert person.id in [hit.id for hit in people.hits]
    # Enter opens the highlighted hit; arrows move between hits.
    while popup.results.currentItem().data(Qt.ItemDataRole.UserRole + 2).id != person.id:
        qtbot.keyClick(popup.input, Qt.Key.Key_Down)
    qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    assert not popup.isVisible()
    settle(qtbot, window)
    assert window.current_page().context_entity() == ("person", person.id)
    assert results.groups


def test_editing_and_saving_a_person(qtbot: Any, window: Any) -> None:
    from relbook.ui.editors.person import PersonEditor

    person = _person(window)
    window.open_entity("person", person.id)
    settle(qtbot, window)
    window.current_page().edit()
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), PersonEditor) is not None)
    editor = visible_dialog(QApplication.instance(), PersonEditor)
    editor.title_edit.clear()
    qtbot.keyClicks(editor.title_edit, "Chief Revenue Officer")
    editor.tags.setText("vip, renewal")
    with qtbot.waitSignal(editor.saved, timeout=10_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    detail = window.ctx.services.people.detail(person.id)
    assert detail.title == "Chief Revenue Officer"
    assert set(detail.tags) >= {"vip", "renewal"}
    # The 360° view refreshes from the change notification.
    page = window.current_page()
    qtbot.waitUntil(lambda: page.snapshot.detail.title == "Chief Revenue Officer", timeout=10_000)


def test_a_bad_value_shows_its_error_next_to_the_field_and_saves_nothing(
    qtbot: Any, window: Any
) -> None:
    from relbook.ui.editors.person import PersonEditor

    person = _person(window)
    before = window.ctx.services.people.detail(person.id)
    window.open_entity("person", person.id)
    settle(qtbot, window)
    window.current_page().edit()
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), PersonEditor) is not None)
    editor = visible_dialog(QApplication.instance(), PersonEditor)
    editor.title_edit.setText("Should not be saved")
    first_email = editor.emails.rows[0][0]
    first_email.setText("not an address")
    with qtbot.waitSignal(editor.failed, timeout=10_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "not an e-mail address" in editor.error_for("emails.0")
    error_label = editor.emails.rows[0][1]
    assert error_label.isVisible()
    # the message sits right under the field it is about
    assert error_label.y() > first_email.y()
    assert error_label.y() - first_email.y() < 3 * first_email.height()
    assert editor.isVisible()  # still open for the correction
    after = window.ctx.services.people.detail(person.id)
    assert after.title == before.title
    assert after.version == before.version


def test_dragging_a_deal_to_another_stage(qtbot: Any, window: Any) -> None:
    from relbook.ui.qt import QDragEnterEvent, QDropEvent
    from relbook.ui.views.pipeline import CARD_ROLE

    board = window.show_page("pipeline")
    settle(qtbot, window)
    open_columns = [c for c in board.columns.values() if c.stage.kind == "open"]
    source = next(c for c in open_columns if c.model.cards)
    target = next(c for c in open_columns if c is not source)
    index = source.model.index(0, 0)
    card = index.data(CARD_ROLE)
    mime = source.model.mimeData([index])
    viewport = target.list.viewport()
    point = QPoint(20, 20)
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(point),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(board.moved, timeout=10_000):
        QApplication.sendEvent(viewport, drop)
    deals = window.ctx.services.deals
    assert deals.detail(card.id).stage_id == target.stage.id
    # The board redraws from the change: the card is in its new column.
    qtbot.waitUntil(
        lambda: card.id in [c.id for c in board.columns[target.stage.id].model.cards],
        timeout=10_000,
    )
    # The move is on the deal's timeline.
    entries = window.ctx.services.timeline.for_entity(card.id, kinds=("stage",))
    assert entries and target.stage.name in entries[0].title
    # Ctrl+Z puts it back.
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: deals.detail(card.id).stage_id == source.stage.id, timeout=10_000)


def test_moving_a_deal_to_lost_asks_why(qtbot: Any, window: Any) -> None:
    from relbook.ui.views.pipeline import ReasonDialog

    board = window.show_page("pipeline")
    settle(qtbot, window)
    source = next(c for c in board.columns.values() if c.stage.kind == "open" and c.model.cards)
    lost = next(c for c in board.columns.values() if c.stage.kind == "lost")
    card = source.model.cards[0]
    board.move_deal(card.id, source.stage.id, lost.stage.id)
    dialog = visible_dialog(QApplication.instance(), ReasonDialog)
    assert dialog is not None
    dialog._accept()  # no reason: refused, nothing moved
    assert dialog.isVisible() and dialog.error.isVisible()
    dialog.reason.setText("price: the competitor was 20% cheaper")
    with qtbot.waitSignal(board.moved, timeout=10_000):
        dialog._accept()
    detail = window.ctx.services.deals.detail(card.id)
    assert detail.status == "lost"
    assert detail.lost_reason == "price: the competitor was 20% cheaper"


def test_undo_of_a_delete(qtbot: Any, window: Any) -> None:
    from relbook.ui.views.lists import delete_entities

    person = _person(window)
    people = window.ctx.services.people
    count = people.count()
    page = window.show_page("people")
    settle(qtbot, window)
    with qtbot.waitSignal(window.ctx.undo.pushed, timeout=10_000):
        delete_entities(window.ctx, "person", [person.id])
    assert people.count() == count - 1
    assert window.toast.isVisible() and "Undo" in window.toast.action.text()
    qtbot.waitUntil(lambda: page.model.rowCount() == count - 1, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: people.count() == count, timeout=10_000)
    assert people.detail(person.id).display_name == person.values[0]
    qtbot.waitUntil(lambda: page.model.rowCount() == count, timeout=10_000)


def test_the_filter_bar_filters_and_explains_a_bad_filter(qtbot: Any, window: Any) -> None:
    page = window.show_page("people")
    settle(qtbot, window)
    total = page.model.rowCount()
    page.filter.setText("tag:")
    page._apply_filter()
    qtbot.waitUntil(page.filter_error.isVisible, timeout=10_000)
    assert "position" in page.filter_error.text()
    company = window.ctx.services.lists.window("company", "", None, 0, 1)[0].values[0]
    page.filter.setText(f'company:"{company}"')
    page._apply_filter()
    qtbot.waitUntil(lambda: not page.filter_error.isVisible() and page.model.loaded, timeout=10_000)
    assert 0 < page.model.rowCount() < total


def test_quick_log_in_two_keystrokes(qtbot: Any, window: Any) -> None:
    from relbook.ui.dialogs.quicklog import QuickLogDialog

    person = _person(window)
    window.open_entity("person", person.id)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), QuickLogDialog) is not None)
    dialog = visible_dialog(QApplication.instance(), QuickLogDialog)
    assert dialog.kind == "call"
    qtbot.waitUntil(lambda: dialog.person.chosen_id == person.id, timeout=10_000)
    dialog.subject.setText("Called about the renewal")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.subject, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    entries = window.ctx.services.timeline.for_entity(person.id, kinds=("call",), limit=5)
    assert entries[0].title == "Called about the renewal"
    page = window.current_page()
    qtbot.waitUntil(
        lambda: "Called about the renewal" in [e.title for e in page.timeline.entries],
        timeout=10_000,
    )


def test_command_palette_lists_every_action(qtbot: Any, window: Any) -> None:
    qtbot.keyClick(
        window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    palette = window.palette
    assert palette.isVisible()
    titles = [palette.results.item(i).text() for i in range(palette.results.count())]
    for expected in (
        "Go to People",
        "New person",
        "Log a call",
        "Search the book",
        "Settings",
        "Manage custom fields",
        "Manage pipelines and stages",
    ):
        assert expected in titles
    qtbot.keyClicks(palette.input, "go compan")
    assert palette.results.currentItem().text() == "Go to Companies"
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.current_page().spec_id == "companies"


def test_welcome_flow_starts_an_empty_book(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    book = tmp_path / "new.relbook"
    window = make_window(book, wait=False)
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    assert not book.exists()
    with qtbot.waitSignal(window.book_opened, timeout=20_000):
        qtbot.mouseClick(window.welcome.buttons["empty"], Qt.MouseButton.LeftButton)
    assert book.exists()
    settle(qtbot, window)
    assert window.current_page().spec_id == "myday"
    assert window.ctx.services.people.count() == 0


def test_welcome_flow_opens_the_demo_book(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window(tmp_path / "none.relbook", wait=False)
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    with qtbot.waitSignal(window.book_opened, timeout=60_000):
        qtbot.mouseClick(window.welcome.buttons["demo"], Qt.MouseButton.LeftButton)
    assert window.book_path == window.welcome.demo_path()
    settle(qtbot, window)
    assert window.ctx.services.people.count() > 100


def test_a_book_that_cannot_be_opened_shows_why_on_the_welcome_screen(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.relbook"
    broken.write_bytes(b"this is not a database" * 100)
    window = make_window(broken, wait=False)
    qtbot.waitUntil(
        lambda: window.welcome is not None and window.welcome.isVisible(), timeout=20_000
    )
    assert "cannot be read as a Relbook book" in window.welcome.error.text()
    assert broken.read_bytes() == b"this is not a database" * 100
