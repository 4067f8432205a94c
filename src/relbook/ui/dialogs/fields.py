"""The custom-field manager: the rep's own typed fields on people, companies and deals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog
from relbook.ui.popups import PAYLOAD, RIGHT, SUBTITLE, TwoLineDelegate
from relbook.ui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTabBar,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.style import icon
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.fields import FieldDef, FieldDefDraft
    from relbook.ui.context import UiContext

OWNERS = (("person", "People"), ("company", "Companies"), ("deal", "Deals"))
TYPES = (
    ("text", "Text"),
    ("number", "Number"),
    ("money", "Money"),
    ("date", "Date"),
    ("choice", "One of a list"),
    ("multi_choice", "Several of a list"),
    ("url", "Web address"),
    ("person_ref", "A person"),
)


class FieldDefEditor(EditorDialog):
    noun = "field"

    def __init__(self, ctx: UiContext, parent: QWidget | None, draft: FieldDefDraft) -> None:
        super().__init__(ctx, parent, "Edit field" if draft.id else "New field")
        self.draft = draft
        self.label_edit = self.add_field("label", "Name", QLineEdit(draft.label))
        self.type_combo = QComboBox()
        for key, text in TYPES:
            self.type_combo.addItem(text, key)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(draft.field_type)))
        self.type_combo.setEnabled(draft.id is None)
        self.add_field("field_type", "Type", self.type_combo)
        self.choices = self.add_field(
            "choices",
            "Choices",
            QLineEdit(", ".join(draft.choices)),
            hint="For list fields: the choices, comma-separated.",
        )
        self.currency = self.add_field(
            "currency",
            "Currency",
            QLineEdit(draft.currency),
            hint="For money fields; empty = the book's currency.",
        )
        self.required = self.add_field("required", "", QCheckBox("Required"))
        self.required.setChecked(draft.required)
        self.label_edit.setFocus()
        self.resize(520, 380)

    def build_draft(self) -> FieldDefDraft:
        from dataclasses import replace

        return replace(
            self.draft,
            label=self.label_edit.text(),
            field_type=self.type_combo.currentData(),
            choices=[c.strip() for c in self.choices.text().split(",") if c.strip()],
            currency=self.currency.text().strip(),
            required=self.required.isChecked(),
        )

    def submit(self, draft: FieldDefDraft) -> Any:
        fields = self.ctx.services.fields
        return lambda: fields.save(draft)


class FieldManager(QDialog):
    def __init__(self, ctx: UiContext, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("fieldManager")
        self.setWindowTitle("Custom fields")
        self.definitions: list[FieldDef] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(label("Your fields", "h2"))
        layout.addWidget(
            label(
                "Fields appear in editors, lists (as columns) and filters (custom.key:value).",
                "muted",
                wrap=True,
            )
        )
        self.tabs = QTabBar()
        for _key, title in OWNERS:
            self.tabs.addTab(title)
        self.tabs.currentChanged.connect(lambda _i: self.load())
        layout.addWidget(self.tabs)
        self.list = QListWidget()
        self.list.setItemDelegate(TwoLineDelegate(self.list))
        self.list.itemDoubleClicked.connect(lambda _item: self.edit())
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(button("Add field", self.add, kind="primary", icon_name="plus"))
        row.addWidget(button("Edit", self.edit, icon_name="edit"))
        row.addWidget(button("Move up", lambda: self.move(-1), kind="flat"))
        row.addWidget(button("Move down", lambda: self.move(1), kind="flat"))
        row.addStretch(1)
        row.addWidget(button("Delete", self.delete, kind="danger", icon_name="trash"))
        row.addWidget(button("Close", self.accept))
        layout.addLayout(row)
        self.resize(620, 480)
        self._unsubscribe = ctx.changes.changed.connect(self._changed)
        self.load()

    @property
    def owner(self) -> str:
        return OWNERS[self.tabs.currentIndex()][0]

    def _changed(self, change: Any) -> None:
        if change.touches("field_def"):
            self.load()

    def load(self) -> None:
        fields = self.ctx.services.fields
        owner = self.owner
        self.ctx.read(
            lambda: fields.definitions(owner), self._show, owner=self, key=f"fields-{id(self)}"
        )

    def _show(self, definitions: list[FieldDef]) -> None:
        self.definitions = definitions
        self.list.clear()
        types = dict(TYPES)
        for definition in definitions:
            item = QListWidgetItem(definition.label)
            extra = f" · {', '.join(definition.choices)}" if definition.choices else ""
            item.setData(
                SUBTITLE, f"{types.get(definition.field_type, definition.field_type)}{extra}"
            )
            item.setData(
                RIGHT, f"custom.{definition.key}" + (" · required" if definition.required else "")
            )
            item.setData(PAYLOAD, definition)
            item.setIcon(icon("edit", "accent"))
            self.list.addItem(item)
        if not definitions:
            self.list.addItem(QListWidgetItem("No fields yet — Add field"))

    def selected(self) -> FieldDef | None:
        item = self.list.currentItem()
        return item.data(PAYLOAD) if item is not None else None

    def add(self) -> None:
        from relbook.services.fields import FieldDefDraft

        FieldDefEditor(self.ctx, self, FieldDefDraft(self.owner, "", "text")).open()

    def edit(self) -> None:
        from relbook.services.fields import FieldDefDraft

        d = self.selected()
        if d is None:
            return
        draft = FieldDefDraft(
            d.entity_type,
            d.label,
            d.field_type,
            d.key,
            list(d.choices),
            d.currency,
            d.required,
            d.id,
        )
        FieldDefEditor(self.ctx, self, draft).open()

    def move(self, step: int) -> None:
        d = self.selected()
        if d is None:
            return
        ids = [x.id for x in self.definitions]
        index = ids.index(d.id)
        target = max(0, min(len(ids) - 1, index + step))
        ids.insert(target, ids.pop(index))
        fields, owner = self.ctx.services.fields, self.owner
        self.ctx.write(lambda: fields.reorder(owner, ids), None, label="reorder fields")

    def delete(self) -> None:
        from relbook.services.fields import FieldDefDraft

        d = self.selected()
        if d is None:
            return
        fields = self.ctx.services.fields
        again = FieldDefDraft(
            d.entity_type, d.label, d.field_type, d.key, list(d.choices), d.currency, d.required
        )

        def done(_r: object) -> None:
            # Re-creating a retired field with its key brings its stored values back.
            self.ctx.undo.push(f"Deleted the field “{d.label}”", lambda: fields.save(again))

        self.ctx.write(lambda: fields.delete(d.id), done, label="delete field")
