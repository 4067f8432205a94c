"""The note editor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog, EntityPicker, plain_text
from relbook.ui.qt import QCheckBox, QHBoxLayout, QPushButton, QWidget
from relbook.ui.widgets import button

if TYPE_CHECKING:
    from relbook.services.notes import NoteDraft
    from relbook.ui.context import UiContext


class NoteEditor(EditorDialog):
    noun = "note"

    def __init__(
        self, ctx: UiContext, parent: QWidget | None, draft: NoteDraft, names: dict[str, str]
    ) -> None:
        super().__init__(ctx, parent, "Edit note" if draft.id else "New note")
        self.draft = draft
        self.body = self.add_field("body", "Note", plain_text(draft.body, 180))
        self.feedback_button: QPushButton | None = None
        if draft.id:  # a saved note: words in it can be kept as feedback
            self.feedback_button = button(
                "Mark selection as feedback…",
                self.mark_feedback,
                icon_name="feedback",
                tip="Keep the selected words as what the customer said (save changes first)",
            )
            self.feedback_button.setEnabled(False)
            self.body.copyAvailable.connect(self._selection_changed)
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(self.feedback_button)
            row.addStretch(1)
            self.add_field("feedback", "", holder)
        self.person = EntityPicker(ctx, "person", "About a person")
        self.person.set_entity(draft.person_id, names.get("person", ""))
        self.add_field("person_id", "Person", self.person)
        self.company = EntityPicker(ctx, "company", "About a company")
        self.company.set_entity(draft.company_id, names.get("company", ""))
        self.add_field("company_id", "Company", self.company)
        self.deal = EntityPicker(ctx, "deal", "About a deal")
        self.deal.set_entity(draft.deal_id, names.get("deal", ""))
        self.add_field("deal_id", "Deal", self.deal)
        self.pinned = self.add_field("pinned", "", QCheckBox("Pin to the top"))
        self.pinned.setChecked(draft.pinned)
        self.private = self.add_field(
            "private", "", QCheckBox("Private — never shared with the team")
        )
        self.private.setChecked(draft.private)
        self.body.setFocus()
        self.offer_delete("note", draft.id)
        self.resize(560, 520)

    def _selection_changed(self, selected: bool) -> None:
        if self.feedback_button is not None:
            self.feedback_button.setEnabled(selected)

    def mark_feedback(self) -> Any:
        """The selected words as feedback; an edited note is saved first so the words are
        found in it."""
        from relbook.ui.dialogs.feedback import mark_as_feedback

        quote = " ".join(self.body.textCursor().selectedText().split())
        if self.body.document().isModified():
            self.banner.setText("Save the note first: feedback is marked in the saved text.")
            self.banner.show()
            return None
        return mark_as_feedback(self.ctx, self, "note", str(self.draft.id), quote)

    def build_draft(self) -> NoteDraft:
        from relbook.services.notes import NoteDraft

        d = self.draft
        return NoteDraft(
            body=self.body.toPlainText(),
            private=self.private.isChecked(),
            pinned=self.pinned.isChecked(),
            person_id=self.person.link(),
            company_id=self.company.link(),
            deal_id=self.deal.link(),
            interaction_id=d.interaction_id,
            occurred_at=d.occurred_at,
            id=d.id,
            version=d.version,
        )

    def submit(self, draft: NoteDraft) -> Any:
        notes = self.ctx.services.notes
        if draft.id:

            def update() -> str:
                notes.update(draft)
                return str(draft.id)

            return update
        return lambda: notes.create(draft)


def edit_note(
    ctx: UiContext,
    parent: QWidget | None,
    note_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    from relbook.services.notes import NoteDraft
    from relbook.ui.editors.task import _names

    services = ctx.services

    def load() -> tuple:
        if note_id:
            row = services.notes.get(note_id)
            draft = NoteDraft(
                body=row.body,
                private=row.private,
                pinned=row.pinned,
                person_id=row.person_id,
                company_id=row.company_id,
                deal_id=row.deal_id,
                interaction_id=row.interaction_id,
                occurred_at=row.occurred_at,
                id=row.id,
                version=row.version,
            )
        else:
            draft = NoteDraft(**(preset or {}))
        return draft, _names(services, draft)

    ctx.read(load, lambda result: NoteEditor(ctx, parent, *result).open())
