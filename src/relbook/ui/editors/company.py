"""The company editor."""

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
    from relbook.services.companies import CompanyDraft
    from relbook.services.fields import FieldDef
    from relbook.ui.context import UiContext


class CompanyEditor(EditorDialog):
    noun = "company"

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        draft: CompanyDraft,
        definitions: list[FieldDef],
        parent_name: str = "",
    ) -> None:
        super().__init__(ctx, parent, "Edit company" if draft.id else "New company")
        self.draft = draft
        self.name = self.add_field("name", "Name", QLineEdit(draft.name))
        self.domains = self.add_field(
            "domains",
            "E-mail domains",
            MultiLineField("example.com", list(draft.domains)),
            hint="Mail from these domains is linked to this company.",
        )
        self.website = self.add_field("website", "Website", QLineEdit(draft.website))
        self.industry = self.add_field("industry", "Industry", QLineEdit(draft.industry))
        employees = QSpinBox()
        employees.setRange(0, 10_000_000)
        employees.setSpecialValueText("unknown")
        employees.setValue(draft.employees or 0)
        self.employees = self.add_field("employees", "Employees", employees)
        self.parent_picker = EntityPicker(ctx, "company", "Parent company (optional)")
        self.parent_picker.set_entity(draft.parent_id, parent_name)
        self.add_field("parent_id", "Part of", self.parent_picker)
        self.add_section("Value")
        self.currency = self.add_field("currency", "Currency", QLineEdit(draft.currency))
        self.currency.setPlaceholderText("the book's currency")
        self.current = self.add_field(
            "current_value", "Yearly value now", QLineEdit(_text(draft.current_value))
        )
        self.potential = self.add_field(
            "potential_value", "Potential", QLineEdit(_text(draft.potential_value))
        )
        self.tags = self.add_field(
            "tags", "Tags", QLineEdit(tags_text(draft.tags)), hint="Separate tags with commas."
        )
        self.about = self.add_field("about", "About", plain_text(draft.about))
        self.custom = self.add_custom_fields(definitions, draft.custom)
        self.name.setFocus()
        self.offer_delete("company", draft.id)
        self.resize(620, 680)

    def build_draft(self) -> CompanyDraft:
        from relbook.services.companies import CompanyDraft

        d = self.draft
        parent_id = self.parent_picker.link()
        return CompanyDraft(
            name=self.name.text(),
            domains=self.domains.values(),
            website=self.website.text(),
            industry=self.industry.text(),
            employees=self.employees.value() or None,
            currency=self.currency.text().strip(),
            current_value=self.current.text().strip() or None,
            potential_value=self.potential.text().strip() or None,
            parent_id=parent_id,
            about=self.about.toPlainText(),
            tags=parse_tags(self.tags.text()),
            custom={key: custom_field_value(w) for key, w in self.custom.items()},
            origin=d.origin,
            id=d.id,
            version=d.version,
        )

    def submit(self, draft: CompanyDraft) -> Any:
        companies = self.ctx.services.companies
        if draft.id:

            def update() -> str:
                companies.update(draft)
                return str(draft.id)

            return update
        return lambda: companies.create(draft)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def edit_company(
    ctx: UiContext,
    parent: QWidget | None,
    company_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    from relbook.services.companies import CompanyDraft

    companies, fields = ctx.services.companies, ctx.services.fields

    def load() -> tuple[CompanyDraft, list, str]:
        if company_id:
            detail = companies.detail(company_id)
            return companies.draft(company_id), fields.definitions("company"), detail.parent_name
        return CompanyDraft(**(preset or {})), fields.definitions("company"), ""

    def show(result: tuple[CompanyDraft, list, str]) -> None:
        editor = CompanyEditor(ctx, parent, *result)
        editor.saved.connect(lambda cid: None if company_id else ctx.open_entity("company", cid))
        editor.open()

    ctx.read(load, show)
