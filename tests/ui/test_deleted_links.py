"""Editing a record whose company, person or deal was deleted since: the editor opens,
shows no deleted name, and saving keeps the link, so undoing the delete finds it again."""

from __future__ import annotations

from typing import Any

from relbook.services.companies import CompanyDraft
from relbook.services.deals import DealDraft
from relbook.services.people import PersonDraft
from relbook.services.tasks import TaskDraft
from relbook.ui.qt import QApplication, Qt
from tests.ui.conftest import visible_dialog


def _save(qtbot: Any, editor: Any) -> None:
    with qtbot.waitSignal(editor.saved, timeout=10_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)


def test_editors_keep_a_link_to_a_deleted_record_without_showing_its_name(
    qtbot: Any, window: Any
) -> None:
    from relbook.ui.editors.company import CompanyEditor, edit_company
    from relbook.ui.editors.deal import DealEditor, edit_deal
    from relbook.ui.editors.task import TaskEditor, edit_task

    services = window.ctx.services
    vandelay = services.companies.create(CompanyDraft(name="Vandelay Industries"))
    labs = services.companies.create(CompanyDraft(name="Kramerica", parent_id=vandelay))
    ann = services.people.create(PersonDraft(given_name="Ann", family_name="Kessler"))
    deal = services.deals.create(DealDraft(title="Latex rollout", company_id=vandelay))
    task = services.tasks.create(TaskDraft(title="Call Ann", person_id=ann, deal_id=deal))
    services.companies.delete([vandelay])
    services.people.delete([ann])

    edit_deal(window.ctx, window, deal)
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), DealEditor) is not None)
    editor = visible_dialog(QApplication.instance(), DealEditor)
    assert editor.company.text() == ""
    assert "deleted company" in editor.company.placeholderText()
    editor.title_edit.setText("Latex rollout 2")
    _save(qtbot, editor)

    edit_company(window.ctx, window, labs)
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), CompanyEditor) is not None)
    editor = visible_dialog(QApplication.instance(), CompanyEditor)
    assert editor.parent_picker.text() == ""
    _save(qtbot, editor)

    # Before, the task editor did not open at all: its person was "not found".
    edit_task(window.ctx, window, task)
    qtbot.waitUntil(lambda: visible_dialog(QApplication.instance(), TaskEditor) is not None)
    editor = visible_dialog(QApplication.instance(), TaskEditor)
    assert (editor.person.text(), editor.deal.text()) == ("", "Latex rollout 2")
    editor.title_edit.setText("Call Ann back")
    _save(qtbot, editor)

    services.companies.restore([vandelay])
    services.people.restore([ann])

    assert services.deals.detail(deal).company_name == "Vandelay Industries"
    assert services.companies.detail(labs).parent_name == "Vandelay Industries"
    saved = services.tasks.get(task)
    assert (saved.title, saved.person_name) == ("Call Ann back", "Ann Kessler")
