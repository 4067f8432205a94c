"""The deal editor: company, pipeline and stage, amount, probability, close date, people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import (
    EditorDialog,
    EntityPicker,
    custom_field_value,
    parse_tags,
    plain_text,
    tags_text,
)
from relbook.ui.qt import QComboBox, QLineEdit, QSpinBox, QWidget

if TYPE_CHECKING:
    from relbook.services.deals import DealDraft
    from relbook.services.fields import FieldDef
    from relbook.services.pipelines import PipelineInfo
    from relbook.ui.context import UiContext


class DealEditor(EditorDialog):
    noun = "deal"

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        draft: DealDraft,
        definitions: list[FieldDef],
        pipelines: list[PipelineInfo],
        company_name: str,
        people: list[tuple[str, str, str]],
    ) -> None:
        super().__init__(ctx, parent, "Edit deal" if draft.id else "New deal")
        self.draft = draft
        self.pipelines = pipelines
        self.people = people  # (id, name, role)
        self.title_edit = self.add_field("title", "Title", QLineEdit(draft.title))
        self.company = EntityPicker(ctx, "company", "Company")
        self.company.set_entity(draft.company_id, company_name)
        self.add_field("company_id", "Company", self.company)
        self.pipeline = QComboBox()
        for pipeline in pipelines:
            self.pipeline.addItem(pipeline.name, pipeline.id)
        default = next((p for p in pipelines if p.id == draft.pipeline_id), None) or next(
            (p for p in pipelines if p.is_default), pipelines[0] if pipelines else None
        )
        if default is not None:
            self.pipeline.setCurrentIndex(self.pipeline.findData(default.id))
        self.add_field("pipeline_id", "Pipeline", self.pipeline)
        self.stage = QComboBox()
        self.add_field("stage_id", "Stage", self.stage)
        self.pipeline.currentIndexChanged.connect(self._fill_stages)
        self._fill_stages()
        if draft.stage_id:
            self.stage.setCurrentIndex(max(0, self.stage.findData(draft.stage_id)))
        self.add_section("Value")
        self.amount = self.add_field(
            "amount", "Amount", QLineEdit("" if draft.amount is None else str(draft.amount))
        )
        self.amount.setPlaceholderText("e.g. 24,000 or 24k")
        self.currency = self.add_field("currency", "Currency", QLineEdit(draft.currency))
        self.currency.setPlaceholderText("the book's currency")
        probability = QSpinBox()
        probability.setRange(-1, 100)
        probability.setSpecialValueText("the stage's")
        probability.setSuffix(" %")
        probability.setValue(-1 if draft.probability is None else draft.probability)
        self.probability = self.add_field("probability", "Probability", probability)
        self.close_date = self.add_field(
            "expected_close", "Expected close", QLineEdit(draft.expected_close or "")
        )
        self.close_date.setPlaceholderText("YYYY-MM-DD")
        self.add_section("Context")
        self.person_picker = EntityPicker(ctx, "person", "Add a person to the deal…")
        self.person_picker.picked.connect(self._add_person)
        self.people_label = QLineEdit(", ".join(n for _, n, _ in people))
        self.people_label.setReadOnly(True)
        self.people_label.setPlaceholderText("nobody yet")
        self.add_field("people", "People", self.people_label)
        self.add_field("people_add", "", self.person_picker)
        self.competitors = self.add_field(
            "competitors", "Competitors", QLineEdit(", ".join(draft.competitors))
        )
        self.tags = self.add_field("tags", "Tags", QLineEdit(tags_text(draft.tags)))
        self.description = self.add_field(
            "description", "Description", plain_text(draft.description)
        )
        self.lost_reason = self.add_field(
            "lost_reason", "Lost because", QLineEdit(draft.lost_reason)
        )
        self.won_reason = self.add_field("won_reason", "Won because", QLineEdit(draft.won_reason))
        self.custom = self.add_custom_fields(definitions, draft.custom)
        self.title_edit.setFocus()
        self.offer_delete("deal", draft.id)
        self.resize(620, 720)

    def _fill_stages(self) -> None:
        pipeline_id = self.pipeline.currentData()
        pipeline = next((p for p in self.pipelines if p.id == pipeline_id), None)
        self.stage.clear()
        for stage in pipeline.stages if pipeline else ():
            self.stage.addItem(f"{stage.name}  ({stage.probability}%)", stage.id)

    def _add_person(self, person_id: str, name: str) -> None:
        if person_id and person_id not in {p for p, _, _ in self.people}:
            self.people.append((person_id, name, ""))
            self.people_label.setText(", ".join(n for _, n, _ in self.people))
        self.person_picker.clear()

    def build_draft(self) -> DealDraft:
        from relbook.services.deals import DealDraft

        d = self.draft
        return DealDraft(
            title=self.title_edit.text(),
            company_id=self.company.link(),
            pipeline_id=self.pipeline.currentData(),
            stage_id=self.stage.currentData(),
            amount=self.amount.text().strip() or None,
            currency=self.currency.text().strip(),
            probability=None if self.probability.value() < 0 else self.probability.value(),
            expected_close=self.close_date.text().strip() or None,
            people=[(pid, role) for pid, _, role in self.people],
            competitors=parse_tags(self.competitors.text()),
            description=self.description.toPlainText(),
            tags=parse_tags(self.tags.text()),
            custom={key: custom_field_value(w) for key, w in self.custom.items()},
            lost_reason=self.lost_reason.text(),
            won_reason=self.won_reason.text(),
            id=d.id,
            version=d.version,
        )

    def submit(self, draft: DealDraft) -> Any:
        deals = self.ctx.services.deals
        if draft.id:

            def update() -> str:
                deals.update(draft)
                return str(draft.id)

            return update
        return lambda: deals.create(draft)


def edit_deal(
    ctx: UiContext,
    parent: QWidget | None,
    deal_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    from relbook.services.deals import DealDraft

    services = ctx.services

    def load() -> tuple:
        pipelines = services.pipelines.all() or [services.pipelines.default_pipeline()]
        definitions = services.fields.definitions("deal")
        if deal_id:
            detail = services.deals.detail(deal_id)
            people = [(p[0], p[1], p[2]) for p in detail.people]
            return (
                services.deals.draft(deal_id),
                definitions,
                pipelines,
                detail.company_name,
                people,
            )
        draft = DealDraft(**{k: v for k, v in (preset or {}).items() if k != "person_names"})
        company_name = ""
        if draft.company_id:
            company_name = services.companies.detail(draft.company_id).name
        names = (preset or {}).get("person_names", {})
        people = [(pid, names.get(pid, ""), role) for pid, role in draft.people]
        return draft, definitions, pipelines, company_name, people

    def show(result: tuple) -> None:
        editor = DealEditor(ctx, parent, *result)
        editor.saved.connect(lambda did: None if deal_id else ctx.open_entity("deal", did))
        editor.open()

    ctx.read(load, show)
