"""Recording what a customer said about a product, a competitor, the price or service —
typed in, or marked in the text of a note or a message (``mark_as_feedback``)."""

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

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        draft: FeedbackDraft,
        title: str = "",
    ) -> None:
        super().__init__(ctx, parent, title or ("Edit feedback" if draft.id else "Record feedback"))
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


class SelectionFeedbackEditor(FeedbackEditor):
    """Feedback from words selected in a note or a message: saved through
    ``services.insight.mark_feedback``, which checks the words are in the source and links
    the feedback to its person, company and deal."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        source_type: str,
        source_id: str,
        quote: str,
    ) -> None:
        from relbook.services.feedback import FeedbackDraft

        where = "note" if source_type == "note" else "message"
        super().__init__(
            ctx,
            parent,
            FeedbackDraft(quote=" ".join(quote.split())),
            f"Mark as feedback — from the {where}",
        )
        self.source_type = source_type
        self.source_id = source_id

    def submit(self, draft: FeedbackDraft) -> Any:
        from relbook.services.insight.actions import FeedbackSelection

        insight = self.ctx.services.insight
        selection = FeedbackSelection(
            source_type=self.source_type,
            source_id=self.source_id,
            quote=draft.quote,
            topic=draft.topic,
            subject=draft.subject,
            sentiment=draft.sentiment,
        )
        return lambda: insight.mark_feedback(selection)


def mark_as_feedback(
    ctx: UiContext, parent: QWidget | None, source_type: str, source_id: str, quote: str
) -> SelectionFeedbackEditor | None:
    """Open the feedback editor for the selected words (nothing selected: a hint)."""
    if not " ".join(quote.split()):
        ctx.status("Select the words that are the feedback first.")
        return None
    editor = SelectionFeedbackEditor(ctx, parent, source_type, source_id, quote)
    editor.saved.connect(lambda _id: ctx.status("Kept as feedback"))
    editor.open()
    return editor
