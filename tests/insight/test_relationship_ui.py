"""Relationship insight in the desktop app: the Relationships tab of Insights (next
contacts, keep in touch, going cold, keep warm) with its actions, the relationship card
("Why?"), and feedback marked in a message or a note — on real books, offscreen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from relbook.services.context import Services
from relbook.services.notes import NoteDraft
from tests.insight.scenario import Scenario

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform


@pytest.fixture
def ui_ctx(qapp: object, services: Services) -> Iterator[Any]:
    from relbook.ui.context import UiContext

    ctx = UiContext(services)
    yield ctx
    ctx.close()


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def _book(services: Services, scene: Scenario) -> dict[str, str]:
    acme = scene.company("Acme", potential="50000")
    globex = scene.company("Globex")
    ann = scene.person("Ann Cold", acme)
    scene.rhythm(ann, every=14, count=6, last_days_ago=45)
    bob = scene.person("Bob Monthly", globex, cadence=30)
    scene.touch(bob, 40, direction="inbound")
    scene.deal("Orphan deal", None, stage="Negotiation", entered_days_ago=30)
    cy = scene.person("Cy Champion", globex)
    scene.touch(cy, 20, direction="inbound")
    lost = scene.deal("Globex pilot", globex, stage="Proposal", people=[cy])
    scene.move(lost, "Lost", days_ago=5, reason="budget frozen")
    return {"acme": acme, "globex": globex, "ann": ann, "bob": bob, "cy": cy}


def _panel(qtbot: Any, ui_ctx: Any) -> Any:
    from relbook.ui.insights.lists import RelationshipsPanel

    panel = RelationshipsPanel(ui_ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    panel.load()
    qtbot.waitUntil(panel.is_loaded, timeout=10_000)
    return panel


def _names(panel: Any) -> list[str]:
    return [row[0] for row in panel.model.table.rows]


def _row_of(panel: Any, name: str) -> int:
    return _names(panel).index(name)


def test_the_relationships_tab_lists_whom_to_contact_with_reasons(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.lists import (
        COLD_COMPANIES,
        COLD_PEOPLE,
        DUE,
        KEEP_WARM,
        NEXT,
        RelationshipsPanel,
    )

    _book(services, scene)
    panel = _panel(qtbot, ui_ctx)
    assert isinstance(panel, RelationshipsPanel)
    assert [b.text() for b in panel.list_buttons] == [
        "Next contacts (3)",
        "Keep in touch (2)",
        "Going cold: people (1)",
        "Going cold: companies (1)",
        "Keep warm (1)",
    ]
    panel.show_list(NEXT)
    assert _names(panel) == [n.name for n in services.insight.next_contacts(limit=200)]
    ann = panel.model.table.rows[_row_of(panel, "Ann Cold")]
    assert "going cold: usually in touch every 14 days; silent for 45" in ann[-1]
    panel.select_rows([_row_of(panel, "Ann Cold")])
    assert "Ann Cold: " in panel.detail.text() and "going cold" in panel.detail.text()

    panel.show_list(DUE)
    assert _names(panel) == ["Ann Cold", "Bob Monthly"]
    assert panel.model.table.rows[1][2] == "30 days (you set)"
    assert panel.model.table.rows[1][4] == "10 days overdue"
    panel.show_list(COLD_PEOPLE)
    assert _names(panel) == ["Ann Cold"]
    panel.show_list(COLD_COMPANIES)
    assert _names(panel) == ["Acme"]
    panel.show_list(KEEP_WARM)
    [keep_warm] = panel.model.table.rows
    assert keep_warm[:3] == ["Cy Champion", "Globex", "Globex pilot"]
    assert keep_warm[4:] == ["budget frozen", "every 90 days"]
    assert panel.accept_button.isVisible() and not panel.snooze_button.isVisible()

    # Sorting a column keeps each row's entry (the Why? of a sorted row is its own).
    panel.show_list(NEXT)
    panel.model.sort(0)
    panel.select_rows([0])
    assert panel.selected_entries()[0].name == _names(panel)[0]


def test_snooze_cadence_and_keep_warm_from_the_lists(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.lists import DUE, KEEP_WARM

    ids = _book(services, scene)
    panel = _panel(qtbot, ui_ctx)
    panel.show_list(DUE)

    panel.select_rows([_row_of(panel, "Ann Cold")])
    snooze_two_weeks = panel.snooze_button.menu().actions()[1]
    assert snooze_two_weeks.text() == "Snooze 2 weeks"
    snooze_two_weeks.trigger()
    qtbot.waitUntil(lambda: "Ann Cold" not in _names(panel), timeout=10_000)
    card = services.insight.relationship(ids["ann"])
    assert card.snoozed_until == scene.now + timedelta(days=14)
    assert ui_ctx.undo.top_label() == "Snoozed Ann Cold"

    panel.select_rows([_row_of(panel, "Bob Monthly")])
    dialog = panel.edit_cadence()
    assert dialog is not None and dialog.days.value() == 30  # the cadence he has
    dialog.days.setValue(60)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        dialog.save()
    assert services.people.detail(ids["bob"]).cadence_days == 60
    qtbot.waitUntil(lambda: "Bob Monthly" not in _names(panel), timeout=10_000)

    panel.show_list(KEEP_WARM)
    panel.select_rows([0])
    panel.accept_selected()
    qtbot.waitUntil(lambda: services.people.detail(ids["cy"]).cadence_days == 90, timeout=10_000)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=10_000)
    assert panel.list_buttons[KEEP_WARM].text() == "Keep warm (0)"


def test_a_lost_deals_people_can_be_dismissed_from_keep_warm(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.lists import KEEP_WARM

    ids = _book(services, scene)
    panel = _panel(qtbot, ui_ctx)
    panel.show_list(KEEP_WARM)
    panel.select_rows([0])
    panel.dismiss_selected()
    qtbot.waitUntil(lambda: services.insight.keep_warm_proposals() == [], timeout=10_000)
    assert services.people.detail(ids["cy"]).cadence_days is None


def test_why_opens_the_relationship_card_with_every_metric_and_the_entrys_arithmetic(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.lists import COLD_COMPANIES, NEXT, TextDialog
    from relbook.ui.insights.relationship import RelationshipDialog

    _book(services, scene)
    panel = _panel(qtbot, ui_ctx)
    panel.show_list(NEXT)
    panel.select_rows([_row_of(panel, "Ann Cold")])
    dialog = panel.explain()
    assert isinstance(dialog, RelationshipDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.is_loaded, timeout=10_000)
    metrics = dialog.metrics()
    assert list(metrics) == [
        "Last touch",
        "Last two-way touch",
        "Touches",
        "Frequency",
        "Rhythm",
        "Drift",
        "Reciprocity",
        "Trend",
        "Going cold",
        "Keep in touch",
        "At stake",
    ]
    assert metrics["Rhythm"] == "usually every 14 days"
    assert metrics["Drift"] == "+31 days — later than usual"
    assert metrics["Last touch"].endswith("45 days ago")
    assert metrics["Going cold"] == "yes — going cold: silent 45 of 28 days"
    assert metrics["Keep in touch"].startswith("every 14 days (learned from the rhythm)")
    card = services.insight.relationship(dialog.entity_id)
    assert [r[0] for r in dialog.model.table.rows] == [c.label for c in card.strength.components]
    assert dialog.score.text() == f"Strength {card.strength.score:.0f} / 100"
    explanation = dialog.explanation()
    assert explanation.startswith("Keep in touch every 14 days")  # the entry's own why
    assert "Score: (" in explanation and "Strength " in explanation
    assert dialog.cadence_button.isVisibleTo(dialog)
    dialog.reject()

    panel.show_list(COLD_COMPANIES)
    panel.select_rows([0])
    company = panel.explain()
    assert isinstance(company, RelationshipDialog)
    qtbot.addWidget(company)
    qtbot.waitUntil(company.is_loaded, timeout=10_000)
    assert company.metrics()["Breadth"] == "1 person you really talk to: Ann Cold"
    assert not company.cadence_button.isVisibleTo(company)
    assert company.edit_cadence() is None  # cadences are per person
    company.reject()

    panel.show_list(NEXT)
    panel.select_rows([_row_of(panel, "Orphan deal")])
    text = panel.explain()
    assert isinstance(text, TextDialog)
    assert "Stuck: 30 days in the stage, limit 21" in text.text.toPlainText()
    text.reject()


def test_the_relationship_card_snoozes_and_wakes(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.relationship import show_relationship

    ids = _book(services, scene)
    dialog = show_relationship(ui_ctx, ids["bob"])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.is_loaded, timeout=10_000)
    assert dialog.snooze_button.isVisibleTo(dialog)
    dialog.snooze_button.menu().actions()[0].trigger()  # 1 week
    qtbot.waitUntil(lambda: dialog.wake_button.isVisibleTo(dialog), timeout=10_000)
    assert "Snoozed" in dialog.metrics()
    dialog.wake_button.click()
    qtbot.waitUntil(lambda: dialog.snooze_button.isVisibleTo(dialog), timeout=10_000)
    assert services.insight.relationship(ids["bob"]).snoozed_until is None
    dialog.reject()


def test_words_selected_in_a_message_become_feedback(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.dialogs.feedback import SelectionFeedbackEditor
    from relbook.ui.dialogs.message import MessageDialog

    ids = _book(services, scene)
    body = "Thanks for the offer.\nGlobex quoted 20% less for the same seats."
    message = scene.touch(ids["bob"], 2, direction="inbound", subject="Re: offer", body=body)
    dialog = MessageDialog(ui_ctx, message)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.is_loaded, timeout=10_000)
    assert not dialog.feedback_button.isEnabled()

    cursor = dialog.browser.document().find("Globex quoted 20% less")
    assert not cursor.isNull()
    dialog.browser.setTextCursor(cursor)
    assert dialog.feedback_button.isEnabled()
    editor = dialog.mark_feedback()
    assert isinstance(editor, SelectionFeedbackEditor)
    qtbot.addWidget(editor)
    assert editor.quote.toPlainText() == "Globex quoted 20% less"

    editor.quote.setPlainText("Globex quoted 30% less")  # not what the message says
    with qtbot.waitSignal(editor.failed, timeout=10_000):
        editor.save()
    assert "is not in the message's text" in editor.error_for("quote")
    assert services.feedback.all() == []

    editor.quote.setPlainText("Globex quoted 20% less")
    editor.topic.setCurrentText("competitor")
    editor.subject.setText("Globex")
    editor.sentiment.setCurrentText("negative")
    with qtbot.waitSignal(editor.saved, timeout=10_000) as saved:
        editor.save()
    row = services.feedback.get(saved.args[0])
    assert (row.interaction_id, row.person_id, row.company_id) == (
        message,
        ids["bob"],
        ids["globex"],
    )
    assert (row.topic, row.subject, row.sentiment) == ("competitor", "Globex", "negative")
    themes = services.insight.competitors()
    assert [(c.name, c.mentions) for c in themes] == [("Globex", 1)]
    dialog.reject()


def test_words_selected_in_a_saved_note_become_feedback(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.editors.note import NoteEditor

    ids = _book(services, scene)
    note_id = services.notes.create(
        NoteDraft(
            body="Call went well.\nThe reporting module is too slow for them.", person_id=ids["ann"]
        )
    )
    row = services.notes.get(note_id)
    draft = NoteDraft(body=row.body, person_id=row.person_id, id=row.id, version=row.version)
    editor = NoteEditor(ui_ctx, None, draft, {"person": "Ann Cold"})
    qtbot.addWidget(editor)
    editor.show()
    assert editor.feedback_button is not None and not editor.feedback_button.isEnabled()
    cursor = editor.body.document().find("reporting module is too slow")
    editor.body.setTextCursor(cursor)
    assert editor.feedback_button.isEnabled()
    feedback = editor.mark_feedback()
    qtbot.addWidget(feedback)
    feedback.subject.setText("Reporting")
    feedback.sentiment.setCurrentText("negative")
    with qtbot.waitSignal(feedback.saved, timeout=10_000) as saved:
        feedback.save()
    kept = services.feedback.get(saved.args[0])
    assert (kept.note_id, kept.person_id, kept.company_id) == (note_id, ids["ann"], ids["acme"])
    assert kept.quote == "reporting module is too slow"

    editor.body.insertPlainText(" (edited)")  # unsaved words cannot be found in the note
    assert editor.mark_feedback() is None
    assert "Save the note first" in editor.banner.text()
    editor.reject()

    new_note = NoteEditor(ui_ctx, None, NoteDraft(body=""), {})
    qtbot.addWidget(new_note)
    assert new_note.feedback_button is None  # nothing saved to mark yet


def test_the_customer_360_strength_links_to_the_relationship_card(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.insights.relationship import RelationshipDialog
    from relbook.ui.qt import QApplication, QLabel
    from relbook.ui.views.customer import CustomerPage

    ids = _book(services, scene)
    page = CustomerPage(ui_ctx)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    with qtbot.waitSignal(page.snapshot_loaded, timeout=10_000):
        page.open_entity("company", ids["acme"])
    why = page.findChild(QLabel, "strengthWhy")
    assert why is not None and "Why?" in why.text()
    why.linkActivated.emit("why")
    dialogs = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, RelationshipDialog) and w.isVisible()
    ]
    assert len(dialogs) == 1
    card = dialogs[0]
    qtbot.waitUntil(card.is_loaded, timeout=10_000)
    assert card.entity_id == ids["acme"] and card.title.text() == "Acme"
    assert card.metrics()["Breadth"] == "1 person you really talk to: Ann Cold"
    card.reject()


def test_my_day_offers_keep_warm_for_a_lost_deals_people(
    qtbot: Any, ui_ctx: Any, services: Services, scene: Scenario
) -> None:
    from relbook.ui.qt import QToolButton
    from relbook.ui.views.myday import MyDayPage
    from relbook.ui.widgets import Card

    ids = _book(services, scene)
    page = MyDayPage(ui_ctx)
    qtbot.addWidget(page)
    page.resize(1200, 900)
    page.show()
    qtbot.waitUntil(page.is_loaded, timeout=10_000)
    card = page.findChild(Card, "keepWarm")
    assert card is not None and card.title_label is not None
    assert card.title_label.text() == "Keep warm (1)"
    keep = next(
        b for b in card.findChildren(QToolButton) if b.toolTip() == "Keep in touch every 90 days"
    )
    keep.click()
    qtbot.waitUntil(lambda: services.people.detail(ids["cy"]).cadence_days == 90, timeout=10_000)
    qtbot.waitUntil(lambda: page.findChild(Card, "keepWarm") is None, timeout=10_000)


def test_the_open_window_counts_meetings_that_have_happened(
    qtbot: Any, services: Services, book_path: Any, tmp_path: Any
) -> None:
    """Written while the meeting was still ahead, it counts once the window's upkeep sees
    it has happened (the window runs ``insight.maintain`` after start and every hour)."""
    from datetime import UTC, datetime

    from relbook.app import AppPaths
    from relbook.ui.main import build_window, create_application

    real_now = datetime.now(UTC).replace(microsecond=0)
    services.clock.at = real_now - timedelta(hours=3)  # type: ignore[attr-defined]
    scene = Scenario(services)
    ann = scene.person("Ann Planned")
    scene.meeting(real_now - timedelta(hours=1), subject="Workshop", people=[ann])
    assert services.people.detail(ann).last_touch_at is None  # ahead when it was written

    create_application()
    home = tmp_path / "home"
    window = build_window(
        str(book_path), paths=AppPaths(home / "d", home / "c", home / "l"), auto_backup=True
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(
        lambda: services.people.detail(ann).last_touch_at == real_now - timedelta(hours=1),
        timeout=20_000,
    )
    assert window._upkeep_timer is not None and window._upkeep_timer.isActive()
    window.close_book()
