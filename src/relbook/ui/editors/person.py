"""The person editor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import (
    EditorDialog,
    EntityPicker,
    MultiLineField,
    custom_field_value,
    parse_tags,
    plain_text,
    tags_text,
)
from relbook.ui.qt import QLineEdit, QSpinBox, QWidget

if TYPE_CHECKING:
    from relbook.services.fields import FieldDef
    from relbook.services.people import PersonDraft
    from relbook.ui.context import UiContext


class PersonEditor(EditorDialog):
    noun = "person"

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        draft: PersonDraft,
        definitions: list[FieldDef],
    ) -> None:
        super().__init__(ctx, parent, "Edit person" if draft.id else "New person")
        self.draft = draft
        self.given = self.add_field("given_name", "First name", QLineEdit(draft.given_name))
        self.family = self.add_field("family_name", "Last name", QLineEdit(draft.family_name))
        self.display = self.add_field(
            "display_name",
            "Shown as",
            QLineEdit(draft.display_name),
            hint="Leave empty to use first and last name.",
        )
        self.title_edit = self.add_field("title", "Role / title", QLineEdit(draft.title))
        self.company = EntityPicker(ctx, "company", "Company (pick or type a new one)")
        self.company.set_entity(draft.company_id, draft.company_name)
        self.add_field("company_id", "Company", self.company)
        self.add_section("Contact")
        self.emails = self.add_field(
            "emails", "E-mail", MultiLineField("name@example.com", [e.value for e in draft.emails])
        )
        self.phones = self.add_field(
            "phones", "Phone", MultiLineField("+49 30 1234567", [p.value for p in draft.phones])
        )
        self.birthday = self.add_field(
            "birthday",
            "Birthday",
            QLineEdit(draft.birthday or ""),
            hint="YYYY-MM-DD, or --MM-DD without the year.",
        )
        self.add_section("Relationship")
        self.tags = self.add_field(
            "tags", "Tags", QLineEdit(tags_text(draft.tags)), hint="Separate tags with commas."
        )
        cadence = QSpinBox()
        cadence.setRange(0, 3650)
        cadence.setSpecialValueText("learned from your rhythm")
        cadence.setSuffix(" days")
        cadence.setValue(draft.cadence_days or 0)
        self.cadence = self.add_field("cadence_days", "Keep in touch every", cadence)
        self.about = self.add_field("about", "About", plain_text(draft.about))
        self.custom = self.add_custom_fields(definitions, draft.custom)
        self.given.setFocus()
        self.offer_delete("person", draft.id)
        self.resize(620, 700)

    def build_draft(self) -> PersonDraft:
        from relbook.services.people import Labeled, PersonDraft

        d = self.draft
        company_id = self.company.chosen_id
        company_name = self.company.text().strip()
        return PersonDraft(
            given_name=self.given.text(),
            family_name=self.family.text(),
            display_name=self.display.text(),
            title=self.title_edit.text(),
            birthday=self.birthday.text().strip() or None,
            about=self.about.toPlainText(),
            emails=[
                Labeled(v, next((e.label for e in d.emails if e.value == v), ""))
                for v in self.emails.values()
            ],
            phones=[
                Labeled(v, next((p.label for p in d.phones if p.value == v), ""))
                for v in self.phones.values()
            ],
            addresses=list(d.addresses),
            company_id=company_id,
            company_name="" if company_id else company_name,
            tags=parse_tags(self.tags.text()),
            custom={key: custom_field_value(w) for key, w in self.custom.items()},
            cadence_days=self.cadence.value() or None,
            origin=d.origin,
            id=d.id,
            version=d.version,
        )

    def submit(self, draft: PersonDraft) -> Any:
        people = self.ctx.services.people
        if draft.id:

            def update() -> str:
                people.update(draft)
                return str(draft.id)

            return update
        return lambda: people.create(draft)


def edit_person(
    ctx: UiContext,
    parent: QWidget | None,
    person_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    """Load the draft in the background, then open the editor."""
    from relbook.services.people import PersonDraft

    people, fields = ctx.services.people, ctx.services.fields

    def load() -> tuple[PersonDraft, list]:
        draft = people.draft(person_id) if person_id else PersonDraft(**(preset or {}))
        return draft, fields.definitions("person")

    def show(result: tuple[PersonDraft, list]) -> None:
        editor = PersonEditor(ctx, parent, *result)
        editor.saved.connect(lambda pid: None if person_id else ctx.open_entity("person", pid))
        editor.open()

    ctx.read(load, show)
