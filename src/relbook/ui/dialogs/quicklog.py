"""Quick log: a call, meeting, note or offer in two keystrokes (Ctrl+L, then C/M/N/O).

Pre-filled with what the rep is looking at; Ctrl+Enter saves. A note logged here is an
interaction of kind "note" on the timeline (not a touch).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog, EntityPicker, plain_text
from relbook.ui.qt import (
    QButtonGroup,
    QHBoxLayout,
    QKeySequence,
    QLineEdit,
    QPushButton,
    QShortcut,
    QSpinBox,
    QWidget,
)
from relbook.ui.style import icon

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

KINDS = (("call", "Call"), ("meeting", "Meeting"), ("note", "Note"), ("offer", "Offer"))


class QuickLogDialog(EditorDialog):
    noun = "log entry"

    def __init__(
        self,
        ctx: UiContext,
        kind: str,
        target: tuple[str, str] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, parent, "Quick log")
        self.setObjectName("quickLog")
        self.kind = kind
        row = QWidget()
        kinds = QHBoxLayout(row)
        kinds.setContentsMargins(0, 0, 0, 0)
        kinds.setSpacing(6)
        self.kind_group = QButtonGroup(self)
        self.kind_buttons: dict[str, QPushButton] = {}
        for key, title in KINDS:
            chip = QPushButton(title)
            chip.setProperty("kind", "chip")
            chip.setCheckable(True)
            chip.setIcon(
                icon(
                    {"call": "call", "meeting": "meeting", "note": "note", "offer": "offer"}[key],
                    "accent",
                )
            )
            chip.setChecked(key == kind)
            chip.clicked.connect(lambda _=False, k=key: self.set_kind(k))
            self.kind_group.addButton(chip)
            self.kind_buttons[key] = chip
            kinds.addWidget(chip)
        kinds.addStretch(1)
        self.add_field("kind", "What", row)
        self.person = EntityPicker(ctx, "person", "Who (a person)")
        self.company = EntityPicker(ctx, "company", "Company (optional)")
        self.deal = EntityPicker(ctx, "deal", "Deal (optional)")
        self.add_field("person_ids", "With", self.person)
        self.add_field("company_id", "Company", self.company)
        self.add_field("deal_id", "Deal", self.deal)
        self.subject = self.add_field("subject", "Subject", QLineEdit())
        self.body = self.add_field("body", "Notes", plain_text("", 120))
        minutes = QSpinBox()
        minutes.setRange(0, 1440)
        minutes.setSuffix(" min")
        minutes.setSpecialValueText("not noted (type the minutes)")
        self.minutes = self.add_field("duration_minutes", "Duration", minutes)
        self.when = self.add_field(
            "occurred_at",
            "When",
            QLineEdit(""),
            hint="Empty: now. Or e.g. 'yesterday 14:30', '-2h', 2026-03-09 10:00.",
        )
        self.save_button.setText("Log  (Ctrl+Enter)")
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.save)
        for key, _title in KINDS:
            QShortcut(QKeySequence(f"Alt+{key[0].upper()}"), self, lambda k=key: self.set_kind(k))
        self._target = target
        if target is not None:
            self._prefill(*target)
        self.set_kind(kind)
        (self.subject if target else self.person).setFocus()
        self.resize(560, 560)

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.kind_buttons[kind].setChecked(True)
        self.minutes.setEnabled(kind in ("call", "meeting"))
        self.setWindowTitle(f"Log a {kind}")

    def _prefill(self, entity_type: str, entity_id: str) -> None:
        services = self.ctx.services

        def names() -> tuple[str, str, str, str | None, str]:
            if entity_type == "person":
                d = services.people.detail(entity_id)
                return "person", d.display_name, d.company_name, d.company_id, ""
            if entity_type == "company":
                return "company", services.companies.detail(entity_id).name, "", None, ""
            d = services.deals.detail(entity_id)
            return "deal", d.title, d.company_name, d.company_id, ""

        def show(result: tuple[str, str, str, str | None, str]) -> None:
            kind, name, company_name, company_id, _ = result
            if kind == "person":
                self.person.set_entity(entity_id, name)
                if company_id:
                    self.company.set_entity(company_id, company_name)
            elif kind == "company":
                self.company.set_entity(entity_id, name)
            else:
                self.deal.set_entity(entity_id, name)
                if company_id:
                    self.company.set_entity(company_id, company_name)

        self.ctx.read(names, show, owner=self)

    def build_draft(self) -> Any:
        from relbook.services.interactions import LogDraft

        return LogDraft(
            kind=self.kind,
            occurred_at=parse_when(self.when.text()),
            duration_minutes=(self.minutes.value() or None) if self.minutes.isEnabled() else None,
            subject=self.subject.text(),
            body=self.body.toPlainText(),
            person_ids=[self.person.chosen_id] if self.person.chosen_id else [],
            company_id=self.company.chosen_id if self.company.text().strip() else None,
            deal_id=self.deal.chosen_id if self.deal.text().strip() else None,
        )

    def submit(self, draft: Any) -> Any:
        interactions = self.ctx.services.interactions
        if self.person.text().strip() and not self.person.chosen_id:
            from relbook.domain.errors import FieldError, ValidationError

            name = self.person.text().strip()

            def fail() -> None:
                raise ValidationError(
                    FieldError(
                        "person_ids", f"pick '{name}' from the list (or add them as a person first)"
                    )
                )

            return fail
        return lambda: interactions.log(draft)

    def _saved(self, entity_id: Any) -> None:
        super()._saved(entity_id)
        self.ctx.status(f"Logged the {self.kind}")


def parse_when(text: str) -> datetime | None:
    """'' -> now (None); '-2h', '-30m', 'yesterday 14:30', 'today 9:00', ISO date/time."""
    from relbook.domain.errors import FieldError, ValidationError

    raw = text.strip().lower()
    if not raw:
        return None
    now = datetime.now().astimezone()
    if raw.startswith("-") and raw[-1:] in ("m", "h", "d") and raw[1:-1].isdigit():
        amount = int(raw[1:-1])
        delta = {
            "m": timedelta(minutes=amount),
            "h": timedelta(hours=amount),
            "d": timedelta(days=amount),
        }[raw[-1]]
        return (now - delta).astimezone(UTC)
    day = now.date()
    rest = raw
    for word, offset in (("yesterday", -1), ("today", 0)):
        if raw.startswith(word):
            day = day + timedelta(days=offset)
            rest = raw[len(word) :].strip()
            break
    else:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ValidationError(
                FieldError("occurred_at", f"'{text.strip()}' is not a moment")
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()
        return parsed.astimezone(UTC)
    hour, minute = (now.hour, now.minute) if rest == "" and day == now.date() else (12, 0)
    if rest:
        try:
            hour_text, _, minute_text = rest.partition(":")
            hour, minute = int(hour_text), int(minute_text or 0)
        except ValueError:
            raise ValidationError(
                FieldError("occurred_at", f"'{text.strip()}' is not a moment")
            ) from None
    try:
        local = datetime(day.year, day.month, day.day, hour, minute).astimezone()
    except ValueError:
        raise ValidationError(
            FieldError("occurred_at", f"'{text.strip()}' is not a moment")
        ) from None
    return local.astimezone(UTC)
