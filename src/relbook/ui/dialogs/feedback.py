"""Recording what a customer said about a product, a competitor, the price or service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog, plain_text
from relbook.ui.qt import QComboBox, QLineEdit, QWidget

if TYPE_CHECKING:
    from relbook.services.feedback import FeedbackDraft
    from relbook.ui.context import UiContext

TOPICS = ("product", "competitor", "price", "service", "other")
SENTIMENTS = ("positive", "neutral", "negative")


class FeedbackEditor(EditorDialog):
    noun = "feedback"

    def __init__(self, ctx: UiContext, parent: QWidget | None, draft: FeedbackDraft) -> None:
        super().__init__(ctx, parent, "Edit feedback" if draft.id else "Record feedback")
        self.draft = draft
        self.topic = QComboBox()
        self.topic.addItems(TOPICS)
        self.topic.setCurrentText(draft.topic)
        self.add_field("topic", "About", self.topic)
        self.subject = self.add_field(
            "subject",
            "Which",
            QLineEdit(draft.subject),
            hint="The product or competitor it is about.",
        )
        self.sentiment = QComboBox()
        self.sentiment.addItems(SENTIMENTS)
        self.sentiment.setCurrentText(draft.sentiment)
        self.add_field("sentiment", "Tone", self.sentiment)
        self.quote = self.add_field("quote", "What they said", plain_text(draft.quote, 110))
        self.subject.setFocus()
        self.resize(520, 420)

    def build_draft(self) -> FeedbackDraft:
        from dataclasses import replace

        return replace(
            self.draft,
            topic=self.topic.currentText(),
            subject=self.subject.text(),
            sentiment=self.sentiment.currentText(),
            quote=self.quote.toPlainText(),
        )

    def submit(self, draft: FeedbackDraft) -> Any:
        feedback = self.ctx.services.feedback
        if draft.id:

            def update() -> str:
                feedback.update(draft)
                return str(draft.id)

            return update
        return lambda: feedback.create(draft)


def edit_feedback(
    ctx: UiContext, parent: QWidget | None, feedback_id: str | None, preset: dict[str, Any] | None
) -> None:
    from relbook.services.feedback import FeedbackDraft

    service = ctx.services.feedback

    def load() -> FeedbackDraft:
        if not feedback_id:
            return FeedbackDraft(**(preset or {}))
        row = service.get(feedback_id)
        return FeedbackDraft(
            topic=row.topic,
            subject=row.subject,
            sentiment=row.sentiment,
            quote=row.quote,
            person_id=row.person_id,
            company_id=row.company_id,
            deal_id=row.deal_id,
            interaction_id=row.interaction_id,
            note_id=row.note_id,
            occurred_at=row.occurred_at,
            id=row.id,
        )

    ctx.read(load, lambda draft: FeedbackEditor(ctx, parent, draft).open())
