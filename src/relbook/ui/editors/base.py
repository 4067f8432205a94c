"""The editor frame: fields with their error shown right under them, save on the writer.

An editor builds a *draft* (the service's dataclass) from its widgets and hands it to the
service on the writer thread. A ``ValidationError`` comes back with one message per
field (``emails.0``, ``custom.budget``…); each is shown next to its field and nothing is
saved. Other user errors (a conflict, a missing row) show in a banner on top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPlainTextEdit,
    QScrollArea,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.widgets import button, label, tool

if TYPE_CHECKING:
    from relbook.services.fields import FieldDef
    from relbook.ui.context import UiContext


def _set_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class MultiLineField(QWidget):
    """A list of single-line values (e-mails, phones, domains) with one error per row."""

    def __init__(self, placeholder: str, values: list[str] | None = None) -> None:
        super().__init__()
        self.placeholder = placeholder
        self.rows: list[tuple[QLineEdit, QLabel]] = []
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(4)
        for value in values or []:
            self.add_row(value)
        self.add_row("")

    def add_row(self, value: str = "") -> QLineEdit:
        edit = QLineEdit(value)
        edit.setPlaceholderText(self.placeholder)
        error = label("", "error", wrap=True)
        error.hide()
        self.box.addWidget(edit)
        self.box.addWidget(error)
        self.rows.append((edit, error))
        edit.textChanged.connect(self._grow)
        return edit

    def _grow(self) -> None:
        if self.rows and self.rows[-1][0].text().strip():
            self.add_row("")

    def values(self) -> list[str]:
        return [edit.text().strip() for edit, _ in self.rows if edit.text().strip()]

    def indexed_values(self) -> list[tuple[int, str]]:
        """(row, value) of the filled rows: the draft's index ``n`` is the n-th filled row."""
        return [(i, e.text().strip()) for i, (e, _) in enumerate(self.rows) if e.text().strip()]

    def show_error(self, index: int, message: str) -> None:
        filled = [i for i, _ in self.indexed_values()]
        row = filled[index] if index < len(filled) else len(self.rows) - 1
        edit, error = self.rows[row]
        error.setText(message)
        error.show()
        _set_invalid(edit, True)

    def clear_errors(self) -> None:
        for edit, error in self.rows:
            error.hide()
            _set_invalid(edit, False)


class EditorDialog(QDialog):
    """Title, a scrolling grid of labelled fields (each with its error label), Save/Cancel."""

    saved = Signal(str)  # the entity id
    failed = Signal(object)  # the ValidationError / UserError shown

    noun = "item"

    def __init__(self, ctx: UiContext, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setObjectName("editor")
        self.setMinimumWidth(560)
        self.fields: dict[str, tuple[QWidget, QLabel]] = {}
        self.multi: dict[str, MultiLineField] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(22, 18, 22, 16)
        outer.setSpacing(10)
        heading = label(title, "h2")
        outer.addWidget(heading)
        self.banner = label("", "error", wrap=True)
        self.banner.setObjectName("editorBanner")
        self.banner.hide()
        outer.addWidget(self.banner)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setContentsMargins(0, 0, 8, 0)
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self._row = 0
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        # Delete (undoable, so no question asked) — shown for saved entities only.
        self.delete_button = button("Delete", self._delete, kind="danger", icon_name="trash")
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.hide()
        self._delete_target: tuple[str, str] | None = None
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        self.cancel_button = button("Cancel", self.reject)
        self.save_button = button("Save", self.save, kind="primary")
        self.save_button.setDefault(True)
        self.save_button.setObjectName("saveButton")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        self.saving = False

    def offer_delete(self, kind: str, entity_id: str | None) -> None:
        """Show Delete for a saved person, company, deal, task or note (Ctrl+Z undoes)."""
        if entity_id:
            self._delete_target = (kind, entity_id)
            self.delete_button.setToolTip(f"Delete this {kind} (Ctrl+Z brings it back)")
            self.delete_button.show()

    def _delete(self) -> None:
        if self._delete_target is None:
            return
        from relbook.ui.views.lists import delete_entities

        kind, entity_id = self._delete_target
        delete_entities(self.ctx, kind, [entity_id])
        self.reject()

    # ------------------------------------------------------------- building
    def add_field(self, name: str, caption: str, widget: QWidget, hint: str = "") -> QWidget:
        caption_label = label(caption, "muted")
        caption_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        caption_label.setContentsMargins(0, 6, 0, 0)
        self.grid.addWidget(caption_label, self._row, 0)
        self.grid.addWidget(widget, self._row, 1)
        self._row += 1
        error = label("", "error", wrap=True)
        error.setObjectName(f"error:{name}")
        error.hide()
        self.grid.addWidget(error, self._row, 1)
        self._row += 1
        if hint:
            self.grid.addWidget(label(hint, "small", wrap=True), self._row, 1)
            self._row += 1
        self.fields[name] = (widget, error)
        if isinstance(widget, MultiLineField):
            self.multi[name] = widget
        return widget

    def add_section(self, title: str) -> None:
        heading = label(title, "section")
        heading.setContentsMargins(0, 10, 0, 2)
        self.grid.addWidget(heading, self._row, 0, 1, 2)
        self._row += 1

    def add_custom_fields(
        self, definitions: list[FieldDef], values: dict[str, Any]
    ) -> dict[str, QWidget]:
        widgets: dict[str, QWidget] = {}
        if not definitions:
            return widgets
        self.add_section("Your fields")
        for definition in definitions:
            widget = custom_field_widget(definition, values.get(definition.key))
            caption = definition.label + (" *" if definition.required else "")
            self.add_field(f"custom.{definition.key}", caption, widget)
            widgets[definition.key] = widget
        return widgets

    # ------------------------------------------------------------- errors
    def error_for(self, name: str) -> str:
        """The error text shown next to a field ('' when none) — tests read this."""
        if name in self.fields:
            error = self.fields[name][1]
            return error.text() if not error.isHidden() else ""
        base, _, index = name.rpartition(".")
        if base in self.multi and index.isdigit():
            filled = [i for i, _ in self.multi[base].indexed_values()]
            position = int(index)
            row = filled[position] if position < len(filled) else -1
            error = self.multi[base].rows[row][1]
            return error.text() if not error.isHidden() else ""
        return ""

    def clear_errors(self) -> None:
        self.banner.hide()
        for widget, error in self.fields.values():
            error.hide()
            _set_invalid(widget, False)
        for multi in self.multi.values():
            multi.clear_errors()

    def show_errors(self, error: BaseException) -> None:
        from relbook.domain.errors import ValidationError

        self.clear_errors()
        unplaced: list[str] = []
        if isinstance(error, ValidationError):
            first: QWidget | None = None
            for item in error.errors:
                widget = self._place(item.field, item.message)
                if widget is None:
                    unplaced.append(f"{item.field}: {item.message}")
                elif first is None:
                    first = widget
            if first is not None:
                first.setFocus()
        else:
            message = getattr(error, "message", str(error))
            remedy = getattr(error, "remedy", "")
            unplaced.append(message + (f"\n{remedy}" if remedy else ""))
        if unplaced:
            self.banner.setText("\n".join(unplaced))
            self.banner.show()
        self.failed.emit(error)

    def _place(self, field: str, message: str) -> QWidget | None:
        if field in self.fields:
            widget, error = self.fields[field]
            error.setText(message)
            error.show()
            _set_invalid(widget, True)
            return widget
        base, _, index = field.rpartition(".")
        if base in self.multi and index.isdigit():
            self.multi[base].show_error(int(index), message)
            return self.multi[base]
        # "stages.0.name" and the like: the nearest registered prefix
        parts = field.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self.fields:
                return self._place(prefix, message)
        return None

    # ------------------------------------------------------------- saving
    def build_draft(self) -> Any:
        raise NotImplementedError

    def submit(self, draft: Any) -> Callable[[], Any]:
        """The write to run on the writer thread; returns the entity id."""
        raise NotImplementedError

    def save(self) -> None:
        if self.saving:
            return
        from relbook.domain.errors import ValidationError

        self.clear_errors()
        try:
            draft = self.build_draft()
        except ValidationError as error:
            self.show_errors(error)
            return
        self.saving = True
        self.save_button.setEnabled(False)
        self.ctx.write(
            self.submit(draft), self._saved, self._failed, owner=self, label=f"save {self.noun}"
        )

    def _saved(self, entity_id: Any) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self.saved.emit(str(entity_id) if entity_id is not None else "")
        self.accept()

    def _failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError

        self.saving = False
        self.save_button.setEnabled(True)
        if isinstance(error, UserError):
            self.show_errors(error)
            return True
        return False


def custom_field_widget(definition: FieldDef, value: Any) -> QWidget:
    kind = definition.field_type
    if kind == "choice":
        combo = QComboBox()
        combo.addItem("")
        combo.addItems(list(definition.choices))
        if value:
            combo.setCurrentText(str(value))
        return combo
    edit = QLineEdit()
    if kind == "multi_choice":
        edit.setPlaceholderText(", ".join(definition.choices))
        if value:
            edit.setText(", ".join(value if isinstance(value, list) else [str(value)]))
        return edit
    if kind == "money" and isinstance(value, int):
        from relbook.domain.money import from_minor

        edit.setText(str(from_minor(value, definition.currency or "EUR")))
        edit.setPlaceholderText("amount, e.g. 12,500")
        return edit
    if kind == "date":
        edit.setPlaceholderText("YYYY-MM-DD")
    elif kind == "number":
        edit.setPlaceholderText("a number")
    elif kind == "url":
        edit.setPlaceholderText("https://…")
    if value is not None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        edit.setText(str(value))
    return edit


def custom_field_value(widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    return None


def tags_text(tags: list[str] | tuple[str, ...]) -> str:
    return ", ".join(tags)


def parse_tags(text: str) -> list[str]:
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


class EntityPicker(QLineEdit):
    """Type a name; pick a person/company/deal found by the book's search as you type.

    ``chosen_id`` is the picked entity (None while the text is free). Free text is kept
    (a person's company may be new: the service finds or creates it by name). A link to a
    record deleted since shows empty (no name) and is kept unless the rep types: undoing
    the delete finds the record still linked (``link``).
    """

    picked = Signal(str, str)  # id, title

    def __init__(self, ctx: UiContext, kind: str, placeholder: str = "") -> None:
        super().__init__()
        from relbook.ui.qt import QCompleter, QStandardItemModel

        self.ctx = ctx
        self.kind = kind
        self.chosen_id: str | None = None
        self._chosen_text = ""
        self._kept_deleted = False
        self._placeholder = placeholder or f"Type a {kind} name…"
        self.setPlaceholderText(self._placeholder)
        self._model = QStandardItemModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.activated[QModelIndex].connect(self._activated)
        self.setCompleter(self._completer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._query)
        self.textEdited.connect(self._edited)

    def set_entity(self, entity_id: str | None, title: str) -> None:
        """``title`` empty with an id: a record deleted since (its name is not shown)."""
        self.chosen_id = entity_id
        self._chosen_text = title
        self._kept_deleted = bool(entity_id) and not title
        self.setPlaceholderText(
            f"A deleted {self.kind}: kept (undo brings it back) unless you pick another"
            if self._kept_deleted
            else self._placeholder
        )
        self.setText(title)

    def link(self) -> str | None:
        """What the field links to: the picked entity, or the kept link to a deleted one."""
        if self.text().strip() or self._kept_deleted:
            return self.chosen_id
        return None

    def _edited(self, text: str) -> None:
        if text != self._chosen_text:
            self.chosen_id = None
        if self._kept_deleted:
            self._kept_deleted = False
            self.chosen_id = None
            self.setPlaceholderText(self._placeholder)
        self._timer.start()

    def _query(self) -> None:
        text = self.text().strip()
        if len(text) < 1:
            return
        search = self.ctx.services.search
        kind = self.kind
        self.ctx.read(
            lambda: search.query(text, limit_per_kind=10, kinds=(kind,)),
            self._show,
            owner=self,
            key=f"picker-{id(self)}",
        )

    def _show(self, results: Any) -> None:
        from relbook.ui.qt import QStandardItem

        self._model.clear()
        for hit in results.hits() if callable(getattr(results, "hits", None)) else []:
            item = QStandardItem(hit.title)
            item.setData(hit.id, Qt.ItemDataRole.UserRole)
            item.setToolTip(hit.subtitle)
            self._model.appendRow(item)
        if self._model.rowCount() and self.hasFocus():
            self._completer.complete()

    def _activated(self, index: Any) -> None:
        self.chosen_id = index.data(Qt.ItemDataRole.UserRole)
        self._chosen_text = index.data(Qt.ItemDataRole.DisplayRole)
        self.setText(self._chosen_text)
        self.picked.emit(self.chosen_id or "", self._chosen_text)


def plain_text(text: str = "", height: int = 90) -> QPlainTextEdit:
    edit = QPlainTextEdit(text)
    edit.setMinimumHeight(height)
    edit.setTabChangesFocus(True)
    return edit


def removable(widget: QWidget, on_remove: Callable[[], None]) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget, 1)
    row.addWidget(tool("close", "Remove", on_remove))
    return holder
