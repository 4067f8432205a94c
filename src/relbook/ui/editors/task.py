"""The task editor: a follow-up with a due day, priority and whom it is for."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog, EntityPicker, plain_text
from relbook.ui.qt import QCheckBox, QLineEdit, QWidget

if TYPE_CHECKING:
    from relbook.services.tasks import TaskDraft
    from relbook.ui.context import UiContext


class TaskEditor(EditorDialog):
    noun = "task"

    def __init__(
        self, ctx: UiContext, parent: QWidget | None, draft: TaskDraft, names: dict[str, str]
    ) -> None:
        super().__init__(ctx, parent, "Edit task" if draft.id else "New task")
        self.draft = draft
        self.title_edit = self.add_field("title", "Task", QLineEdit(draft.title))
        self.title_edit.setPlaceholderText("e.g. Send the revised offer")
        due = draft.due_at.astimezone().date().isoformat() if draft.due_at else ""
        self.due = self.add_field(
            "due_at",
            "Due",
            QLineEdit(due),
            hint="YYYY-MM-DD, or today / tomorrow. Empty: no due day.",
        )
        self.high = self.add_field("priority", "", QCheckBox("High priority"))
        self.high.setChecked(draft.priority > 0)
        self.person = EntityPicker(ctx, "person", "For a person (optional)")
        self.person.set_entity(draft.person_id, names.get("person", ""))
        self.add_field("person_id", "Person", self.person)
        self.company = EntityPicker(ctx, "company", "For a company (optional)")
        self.company.set_entity(draft.company_id, names.get("company", ""))
        self.add_field("company_id", "Company", self.company)
        self.deal = EntityPicker(ctx, "deal", "For a deal (optional)")
        self.deal.set_entity(draft.deal_id, names.get("deal", ""))
        self.add_field("deal_id", "Deal", self.deal)
        self.details = self.add_field("details", "Details", plain_text(draft.details))
        self.title_edit.setFocus()
        self.offer_delete("task", draft.id)
        self.resize(560, 520)

    def build_draft(self) -> TaskDraft:
        from relbook.domain.errors import FieldError, ValidationError
        from relbook.domain.filters import parse_date
        from relbook.services.tasks import TaskDraft

        due_text = self.due.text().strip()
        due_at = None
        if due_text:
            day = parse_date(due_text, datetime.now().date())
            if day is None:
                raise ValidationError(
                    FieldError("due_at", f"'{due_text}' is not a day (YYYY-MM-DD)")
                )
            due_at = datetime.combine(day, time(9, 0)).astimezone().astimezone(UTC)
        d = self.draft
        return TaskDraft(
            title=self.title_edit.text(),
            details=self.details.toPlainText(),
            due_at=due_at,
            all_day=True,
            reminder_at=d.reminder_at,
            person_id=self.person.link(),
            company_id=self.company.link(),
            deal_id=self.deal.link(),
            interaction_id=d.interaction_id,
            priority=1 if self.high.isChecked() else 0,
            id=d.id,
            version=d.version,
        )

    def submit(self, draft: TaskDraft) -> Any:
        tasks = self.ctx.services.tasks
        if draft.id:

            def update() -> str:
                tasks.update(draft)
                return str(draft.id)

            return update
        return lambda: tasks.create(draft)


def _names(services: Any, draft: Any) -> dict[str, str]:
    """Names of what the draft is linked to (for the pickers); none for a record deleted
    since (the picker keeps the link without showing it)."""
    from relbook.domain.errors import NotFoundError

    names = {}
    for kind, read in (
        ("person", lambda i: services.people.detail(i).display_name),
        ("company", lambda i: services.companies.detail(i).name),
        ("deal", lambda i: services.deals.detail(i).title),
    ):
        entity_id = getattr(draft, f"{kind}_id", None)
        if entity_id:
            try:
                names[kind] = read(entity_id)
            except NotFoundError:
                names[kind] = ""
    return names


def edit_task(
    ctx: UiContext,
    parent: QWidget | None,
    task_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    from relbook.services.tasks import TaskDraft

    services = ctx.services

    def load() -> tuple:
        draft = services.tasks.draft(task_id) if task_id else TaskDraft(**(preset or {}))
        return draft, _names(services, draft)

    ctx.read(load, lambda result: TaskEditor(ctx, parent, *result).open())
