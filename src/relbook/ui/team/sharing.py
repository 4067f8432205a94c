"""Sharing one company, person or deal with the team, from the Customer 360°.

``SharingButton`` sits in the 360° header and says whether the item is private or shared
(and at which level); it opens ``SharingDialog``: choose private or a share level, see
exactly what the team would get ("what does my team see of this?"), share or unshare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.qt import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.style import icon
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

PRIVATE = ""
CHOICES: tuple[tuple[str, str], ...] = (
    (PRIVATE, "Private — only you see it"),
    ("nothing", "Shared, without its interactions"),
    ("metadata", "Shared, interactions: who and when"),
    ("subject", "Shared, interactions with their subject lines"),
    ("full", "Shared, interactions in full text"),
)
SHORT = {
    "nothing": "no interactions",
    "metadata": "who and when",
    "subject": "subjects",
    "full": "full text",
}
NOUNS = {
    "company": ("company", "companies"),
    "person": ("person", "people"),
    "deal": ("deal", "deals"),
    "affiliation": ("job", "jobs"),
    "pipeline": ("pipeline", "pipelines"),
    "stage": ("stage", "stages"),
    "interaction": ("interaction", "interactions"),
    "note": ("note", "notes"),
    "feedback": ("feedback", "feedback"),
}
# What the preview and the conflicts call each travelling field (``team.spec``).
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "display_name": "Name",
    "given_name": "Given name",
    "family_name": "Family name",
    "current_value_minor": "Current value",
    "potential_value_minor": "Potential value",
    "amount_minor": "Amount",
    "parent_id": "Parent company",
    "company_id": "Company",
    "person_id": "Person",
    "deal_id": "Deal",
    "pipeline_id": "Pipeline",
    "stage_id": "Stage",
    "interaction_id": "Interaction",
    "note_id": "Note",
    "custom": "Custom fields",
    "emails": "E-mail addresses",
    "phones": "Phone numbers",
    "is_primary": "Main job",
    "start_date": "Started",
    "end_date": "Ended",
    "stale_after_days": "Stale after (days)",
    "expected_close": "Expected close",
    "closed_at": "Closed",
    "stage_entered_at": "In this stage since",
    "occurred_at": "When",
    "ends_at": "Ends",
    "all_day": "All day",
    "duration_minutes": "Duration (minutes)",
    "links": "Linked to",
    "body": "Text",
    "attachments": "Attachment names",
    "lost_reason": "Lost reason",
    "won_reason": "Won reason",
}


def noun(entity_type: str, count: int = 1) -> str:
    one, many = NOUNS.get(entity_type, (entity_type, entity_type))
    return one if count == 1 else many


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def level_text(level: str | None) -> str:
    return "Private" if not level else f"Shared · {SHORT.get(level, level)}"


def is_empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def show_value(entity_type: str, name: str, value: Any, row: dict[str, Any] | None = None) -> str:
    """A field's value as the rep reads it (money with its currency, moments as dates,
    references as what they point at)."""
    from relbook.domain.clock import from_millis
    from relbook.services.sharing import BOOL, CHILDREN, REF, REF_LIST, field_kind
    from relbook.ui.fmt import money, when

    kind = field_kind(entity_type, name)
    if kind == REF:
        return "linked" if value else "—"
    if kind == REF_LIST:
        return f"{len(value or [])} link(s)"
    if kind == CHILDREN:
        items = [" ".join(str(x) for x in (v if isinstance(v, list) else [v]) if x) for v in value]
        return ", ".join(items) or "—"
    if is_empty(value):
        return "—"
    if kind == BOOL:
        return "yes" if value else "no"
    if name.endswith("_minor") and isinstance(value, int):
        return money(value, str((row or {}).get("currency") or ""))
    if name.endswith("_at") and isinstance(value, int):
        return when(from_millis(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    text = " ".join(str(value).split())
    return text if len(text) <= 90 else text[:89] + "…"


def travelling_summary(rows: Any) -> str:
    """'1 company, 2 people and 3 interactions' for the rows of a preview."""
    from relbook.services.sharing import ENTITY_ORDER

    counts: dict[str, int] = {}
    for row in rows:
        counts[row.entity_type] = counts.get(row.entity_type, 0) + 1
    parts = [f"{counts[t]} {noun(t, counts[t])}" for t in ENTITY_ORDER if counts.get(t)]
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else "nothing"


@dataclass(frozen=True)
class _Loaded:
    level: str | None
    connected: bool
    team_name: str
    members: dict[str, str]


class SharingButton(QPushButton):
    """'Private' / 'Shared · level' in the 360° header; opens the sharing dialog."""

    def __init__(self, ctx: UiContext, kind: str, entity_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.kind = kind
        self.entity_id = entity_id
        self.level: str | None = None
        self.setObjectName("shareButton")
        self.setIcon(icon("team"))
        self.setText("Private")
        self.setToolTip("Share with your team, or see what your team sees of this")
        self.clicked.connect(self.open_dialog)
        Refresher(ctx, ("share", "team"), self.load, self)
        self.load()

    def load(self) -> None:
        sharing = self.ctx.services.sharing
        kind, entity_id = self.kind, self.entity_id
        self.ctx.read(
            lambda: sharing.level_of(kind, entity_id),
            self._show,
            owner=self,
            key=f"share-level-{id(self)}",
        )

    def _show(self, level: str | None) -> None:
        self.level = level
        self.setText(level_text(level))

    def open_dialog(self) -> SharingDialog:
        dialog = SharingDialog(self.ctx, self.kind, self.entity_id, self.window())
        dialog.open()
        return dialog


class SharingDialog(QDialog):
    """Choose private or a share level; preview exactly what the team gets; apply."""

    def __init__(self, ctx: UiContext, kind: str, entity_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.kind = kind
        self.entity_id = entity_id
        self.current: str | None = None
        self.preview: Any = None
        self.loaded = False
        self.setWindowTitle("Share with your team")
        self.setObjectName("sharingDialog")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        self.title = label("", "h2", wrap=True)
        layout.addWidget(self.title)
        self.who = label("", "muted", wrap=True)
        layout.addWidget(self.who)
        row = QHBoxLayout()
        row.addWidget(label("Sharing:"))
        self.level = QComboBox()
        self.level.setObjectName("shareLevel")
        for key, text in CHOICES:
            self.level.addItem(text, key)
        self.level.currentIndexChanged.connect(self.load_preview)
        row.addWidget(self.level, 1)
        layout.addLayout(row)
        layout.addWidget(label("What your team sees of this", "h3"))
        self.summary = label("", "muted", wrap=True)
        self.summary.setObjectName("shareSummary")
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setObjectName("sharePreview")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Row / field", "Value the team gets"])
        self.tree.setColumnWidth(0, 260)
        self.tree.setMinimumHeight(260)
        layout.addWidget(self.tree, 1)
        self.withheld = label("", "muted", wrap=True)
        self.withheld.setObjectName("shareWithheld")
        layout.addWidget(self.withheld)
        buttons = QHBoxLayout()
        self.unshare_button = button("Stop sharing", self.unshare, kind="danger", icon_name="close")
        self.unshare_button.setObjectName("unshareButton")
        self.unshare_button.hide()
        buttons.addWidget(self.unshare_button)
        buttons.addStretch(1)
        buttons.addWidget(button("Cancel", self.reject))
        self.apply_button = button("Share", self.apply, kind="primary", icon_name="check")
        self.apply_button.setObjectName("applyShare")
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)
        self.resize(720, 600)
        self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        services = self.ctx.services
        kind, entity_id = self.kind, self.entity_id

        def work() -> _Loaded:
            status = services.team.status()
            return _Loaded(
                services.sharing.level_of(kind, entity_id),
                status.connected,
                status.team_name,
                services.team.members(),
            )

        self.ctx.read(work, self._loaded, owner=self)

    def _loaded(self, loaded: _Loaded) -> None:
        self.current = loaded.level
        if loaded.connected:
            names = ", ".join(sorted(loaded.members.values())) or "no one yet"
            count = len(loaded.members)
            self.who.setText(
                f"Shared with team “{loaded.team_name}” ({count} rep{'s' if count != 1 else ''}:"
                f" {names}). Changes reach them at the next sync."
            )
        else:
            self.who.setText(
                "This book is not connected to a team server yet: shared items go out once "
                "it is (Team page → Connect)."
            )
        self.unshare_button.setVisible(loaded.level is not None)
        index = self.level.findData(loaded.level or PRIVATE)
        self.level.blockSignals(True)
        self.level.setCurrentIndex(max(0, index))
        self.level.blockSignals(False)
        self.load_preview()

    def choice(self) -> str | None:
        return str(self.level.currentData()) or None

    def load_preview(self) -> None:
        sharing = self.ctx.services.sharing
        kind, entity_id, level = self.kind, self.entity_id, self.choice()
        if level == self.current:  # nothing to change: the button just closes
            self.apply_button.setText("Keep private" if level is None else "Done")
        elif level is None:
            self.apply_button.setText("Stop sharing")
        else:
            self.apply_button.setText("Share" if self.current is None else "Save")

        def work() -> Any:
            return sharing.preview(kind, entity_id, level)

        self.ctx.read(work, self._show_preview, owner=self, key=f"share-preview-{id(self)}")

    def _show_preview(self, preview: Any) -> None:
        self.preview = preview
        private = self.choice() is None
        self.title.setText(f"{noun(preview.entity_type).capitalize()} “{preview.label}”")
        self.tree.clear()
        rows = [r for r in preview.rows if not private or r.source == "team"]
        for row in rows:
            origin = "from you" if row.source == "you" else "from a teammate"
            top = QTreeWidgetItem([f"{noun(row.entity_type).capitalize()} · {row.label}", origin])
            empty = 0
            for name, value in row.fields.items():  # in the order the service lists them
                if is_empty(value):
                    empty += 1  # travels as empty: counted, not listed
                    continue
                text = show_value(row.entity_type, name, value, row.fields)
                top.addChild(QTreeWidgetItem([field_label(name), text]))
            if empty:
                more = QTreeWidgetItem([f"{empty} empty field{'s' if empty != 1 else ''}", ""])
                more.setForeground(0, self.palette().placeholderText())
                top.addChild(more)
            self.tree.addTopLevelItem(top)
            top.setExpanded(row.entity_id == self.entity_id)
        if not rows:
            self.tree.addTopLevelItem(
                QTreeWidgetItem(["Nothing: your team sees nothing of it", ""])
            )
            self.summary.setText("Nothing of this is on the team server.")
        else:
            mine = [r for r in rows if r.source == "you"]
            theirs = [r for r in rows if r.source == "team"]
            parts = []
            if mine:
                parts.append(f"From your book: {travelling_summary(mine)}.")
            if theirs:
                parts.append(f"Shared by teammates: {travelling_summary(theirs)}.")
            self.summary.setText(" ".join(parts))
        lines = list(preview.withheld)
        if private:
            lines = ["Nothing of this travels from your book: it stays private."]
            if self.current is not None:
                lines.append("Stopping sharing withdraws your rows from the team at the next sync.")
        self.withheld.setText("\n".join(f"• {line}" for line in lines))
        self.loaded = True

    # ------------------------------------------------------------------ actions
    def apply(self) -> None:
        level = self.choice()
        if level == self.current:
            self.accept()
            return
        if level is None:
            self.unshare()
            return
        sharing = self.ctx.services.sharing
        kind, entity_id = self.kind, self.entity_id
        self.ctx.write(
            lambda: sharing.share(kind, entity_id, level),
            lambda _r: self.ctx.status("Shared: it goes to your team at the next sync."),
            label="share",
        )
        self.accept()

    def unshare(self) -> None:
        sharing = self.ctx.services.sharing
        kind, entity_id = self.kind, self.entity_id
        self.ctx.write(
            lambda: sharing.unshare(kind, entity_id),
            lambda _r: self.ctx.status(
                "No longer shared: the next sync withdraws it from your team."
            ),
            label="unshare",
        )
        self.accept()
