"""Lists of people, companies, deals and tasks: filter bar, saved views, sortable columns
(custom fields too), multi-select actions (tag, export, merge, delete — undoable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import plural
from relbook.ui.models import BLOCK, WindowedListModel
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QPushButton,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import icon
from relbook.ui.widgets import button, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.views import ViewInfo
    from relbook.ui.context import UiContext

NOUNS = {
    "person": ("person", "people"),
    "company": ("company", "companies"),
    "deal": ("deal", "deals"),
    "task": ("task", "tasks"),
}
PLACEHOLDERS = {
    "person": 'Filter people — e.g.  tag:vip  company:acme  last-touch>30d  "big fish"',
    "company": "Filter companies — e.g.  industry:software  value>10k  tag:key-account",
    "deal": "Filter deals — e.g.  stage:proposal  amount>10000  close<2026-06-30",
    "task": "Filter tasks — e.g.  due<today  is:open  person:anna",
}


def delete_entities(
    ctx: UiContext, kind: str, ids: list[str], on_done: Callable[[], None] | None = None
) -> None:
    """Soft-delete with undo (no confirmation: Ctrl+Z brings them back)."""
    service = _service(ctx, kind)
    noun_one, noun_many = NOUNS.get(kind, (kind, kind + "s"))

    def done(deleted: list[str]) -> None:
        if not deleted:
            return
        text = f"Deleted {plural(len(deleted), noun_one, noun_many)}"
        ctx.undo.push(text, lambda: service.restore(deleted))
        if on_done is not None:
            on_done()

    ctx.write(lambda: service.delete(list(ids)), done, label=f"delete {kind}")


def _service(ctx: UiContext, kind: str) -> Any:
    services = ctx.services
    return {
        "person": lambda: services.people,
        "company": lambda: services.companies,
        "deal": lambda: services.deals,
        "task": lambda: services.tasks,
        "note": lambda: services.notes,
    }[kind]()


@dataclass(frozen=True)
class BuiltinView:
    """A view every book has (not stored, cannot be renamed): the first one opens."""

    id: str
    name: str
    filter_text: str
    sort: tuple[tuple[str, bool], ...] = ()
    columns: tuple[str, ...] = ()


ALL = BuiltinView("builtin:all", "All", "")
OPEN_DEAL_COLUMNS = (
    "title",
    "company",
    "stage",
    "amount",
    "probability",
    "weighted",
    "close",
    "days_in_stage",
)
OPEN_TASK_COLUMNS = ("title", "due", "person", "company", "deal", "priority")
BUILTIN_VIEWS: dict[str, tuple[BuiltinView, ...]] = {
    "person": (ALL,),
    "company": (ALL,),
    # Lists of work open on what is still to do; the closed past is one click away.
    "deal": (
        BuiltinView("builtin:open", "Open", "is:open", (("close", True),), OPEN_DEAL_COLUMNS),
        ALL,
    ),
    "task": (
        BuiltinView("builtin:open", "Open", "is:open", (("due", True),), OPEN_TASK_COLUMNS),
        BuiltinView(
            "builtin:overdue", "Overdue", "is:overdue", (("due", True),), OPEN_TASK_COLUMNS
        ),
        ALL,
    ),
}


class SavedViewsBar(QWidget):
    """The built-in views plus the rep's saved views as chips; right-click a saved one to
    update, rename, move or delete it."""

    chosen = Signal(object)  # ViewInfo or BuiltinView

    def __init__(self, page: ListPage) -> None:
        super().__init__()
        self.page = page
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)
        self.builtins = BUILTIN_VIEWS[page.kind]
        self.views: list[ViewInfo] = []
        self.current_id: str = self.builtins[0].id
        self.buttons: dict[str, QPushButton] = {}

    def current(self) -> ViewInfo | BuiltinView:
        return next(
            (v for v in (*self.builtins, *self.views) if v.id == self.current_id),
            self.builtins[0],
        )

    def set_views(self, views: list[ViewInfo]) -> None:
        self.views = views
        clear_layout(self.layout_)
        self.buttons = {}
        if self.current_id not in {v.id for v in (*self.builtins, *views)}:
            self.current_id = self.builtins[0].id
        for builtin in self.builtins:
            self._add(builtin.id, builtin.name, saved=False)
        for view in views:
            self._add(view.id, view.name)
        save = button("Save view", self.page.save_view, kind="flat", icon_name="plus")
        save.setToolTip("Save the current filter, columns and sort as a view")
        self.layout_.addWidget(save)
        self.layout_.addStretch(1)

    def _add(self, view_id: str, name: str, *, saved: bool = True) -> None:
        chip = QPushButton(name)
        chip.setProperty("kind", "chip")
        chip.setCheckable(True)
        chip.setChecked(view_id == self.current_id)
        chip.setCursor(Qt.CursorShape.PointingHandCursor)
        chip.clicked.connect(lambda _=False, v=view_id: self.choose(v))
        if saved:
            chip.setToolTip("Right-click to update, rename, move or delete this view")
            chip.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            chip.customContextMenuRequested.connect(
                lambda _pos, v=view_id, c=chip: self._menu(v, c)
            )
        self.buttons[view_id] = chip
        self.layout_.addWidget(chip)

    def choose(self, view_id: str) -> None:
        self.current_id = view_id
        for key, chip in self.buttons.items():
            chip.setChecked(key == view_id)
        self.chosen.emit(self.current())

    def _menu(self, view_id: str, chip: QPushButton) -> None:
        menu = QMenu(self)
        menu.addAction("Update with the current filter and columns").triggered.connect(
            lambda: self.page.update_view(view_id)
        )
        menu.addAction("Rename…").triggered.connect(lambda: self.page.rename_view(view_id))
        menu.addAction("Move left").triggered.connect(lambda: self.page.move_view(view_id, -1))
        menu.addAction("Move right").triggered.connect(lambda: self.page.move_view(view_id, 1))
        menu.addSeparator()
        menu.addAction("Delete view").triggered.connect(lambda: self.page.delete_view(view_id))
        menu.popup(chip.mapToGlobal(chip.rect().bottomLeft()))


class ListPage(Page):
    kind = "person"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.model = WindowedListModel(ctx, self.kind)
        self._visible_keys: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 14, 24, 16)
        layout.setSpacing(10)

        self.views_bar = SavedViewsBar(self)
        self.views_bar.chosen.connect(self._apply_view)
        layout.addWidget(self.views_bar)

        filter_row = QHBoxLayout()
        filter_row.setSpacing(8)
        self.filter = QLineEdit()
        self.filter.setObjectName("filterBar")
        self.filter.setPlaceholderText(PLACEHOLDERS[self.kind])
        self.filter.setClearButtonEnabled(True)
        self.filter.addAction(icon("filter", "muted"), QLineEdit.ActionPosition.LeadingPosition)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(180)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter.returnPressed.connect(self._apply_filter)
        filter_row.addWidget(self.filter, 1)
        self.count_label = label("", "muted")
        filter_row.addWidget(self.count_label)
        columns_button = button("Columns", kind="flat", icon_name="more")
        self.columns_menu = QMenu(columns_button)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        columns_button.setMenu(self.columns_menu)
        filter_row.addWidget(columns_button)
        add = button(f"New {NOUNS[self.kind][0]}", self.new_item, kind="primary", icon_name="plus")
        filter_row.addWidget(add)
        layout.addLayout(filter_row)
        self.filter_error = label("", "error", wrap=True)
        self.filter_error.setObjectName("filterError")
        self.filter_error.hide()
        layout.addWidget(self.filter_error)

        self.actions_row = QWidget()
        actions = QHBoxLayout(self.actions_row)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(6)
        self.selection_label = label("", "h3")
        actions.addWidget(self.selection_label)
        for text, icon_name, handler in self._selection_actions():
            actions.addWidget(button(text, handler, kind="flat", icon_name=icon_name))
        actions.addStretch(1)
        self.actions_row.hide()
        layout.addWidget(self.actions_row)

        self.table = QTableView()
        self.table.setObjectName("listTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(False)
        self.table.setAlternatingRowColors(False)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        header.setSectionsMovable(False)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._header_clicked)
        header.setDefaultSectionSize(150)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)

        self.model.counted.connect(self._counted)
        self.model.block_loaded.connect(lambda _first: self._reselect())
        self.model.failed.connect(self._filter_failed)
        # Ids selected before a refresh: selected again as their rows arrive.
        self._keep_selection: set[str] = set()
        self._reselecting = False
        self._refresher = Refresher(
            ctx,
            (self.kind, "tag", "field_def", "saved_view", *self.related_kinds()),
            self.refresh,
            self,
        )
        self._loaded_once = False
        self._columns_loaded = False
        self.load()

    def related_kinds(self) -> tuple[str, ...]:
        return {
            "person": ("company", "interaction"),
            "company": ("person", "interaction"),
            "deal": ("company", "stage", "pipeline"),
            "task": ("person", "company", "deal"),
        }[self.kind]

    # ------------------------------------------------------------ loading
    def load(self) -> None:
        lists = self.ctx.services.lists
        views = self.ctx.services.views
        kind = self.kind

        def work() -> tuple[list, list]:
            return lists.columns(kind), views.all(kind)

        self.ctx.read(work, self._loaded_columns, owner=self)

    def _loaded_columns(self, result: tuple[list, list]) -> None:
        columns, views = result
        self.model.all_columns = columns
        self.views_bar.set_views(views)
        self._columns_loaded = True
        self._apply_view(self.views_bar.current())

    def refresh(self) -> None:
        """Something changed in the book: re-count, keep filter/sort/scroll."""
        if not self._columns_loaded:
            return
        lists = self.ctx.services.lists
        views = self.ctx.services.views
        kind = self.kind

        def work() -> tuple[list, list]:
            return lists.columns(kind), views.all(kind)

        def done(result: tuple[list, list]) -> None:
            columns, views_list = result
            rows = self.selected_rows()
            known = [self.model.id_at(r) for r in rows] if len(rows) <= BLOCK * 5 else []
            self._keep_selection = {i for i in known if i}
            if [c.key for c in columns] != [c.key for c in self.model.all_columns]:
                keys = [c.key for c in self.model.columns]
                self.model.set_columns(columns, keys)
            self.views_bar.set_views(views_list)
            scroll = self.table.verticalScrollBar().value()
            self.model.reload()
            self.model.counted.connect(
                lambda _c, s=scroll: self.table.verticalScrollBar().setValue(s),
                Qt.ConnectionType.SingleShotConnection,
            )

        self.ctx.read(work, done, owner=self)

    def _size_columns(self) -> None:
        widths = {"name": 220, "title": 240, "email": 240, "company": 200, "tags": 180}
        by_type = {"bool": 70, "percent": 80, "days": 110, "number": 100, "moment": 130}
        for index, column in enumerate(self.model.columns):
            width = widths.get(column.key) or by_type.get(column.value_type)
            self.table.setColumnWidth(index, width or (130 if column.align_right else 160))

    def _counted(self, count: int) -> None:
        one, many = NOUNS[self.kind]
        self.count_label.setText(plural(count, one, many))
        self.filter_error.hide()
        self.filter.setProperty("invalid", False)
        self.filter.style().unpolish(self.filter)
        self.filter.style().polish(self.filter)
        self._loaded_once = True
        self._update_sort_indicator()
        self._reselect()

    def _reselect(self) -> None:
        """After a refresh the rows the rep had selected are selected again."""
        if not self._keep_selection:
            return
        from relbook.ui.qt import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for block, rows in list(self.model._blocks.items()):
            for offset, row in enumerate(rows):
                if row.id in self._keep_selection:
                    index = self.model.index(block * BLOCK + offset, 0)
                    selection.select(index, index)
        if selection.isEmpty():
            return
        self._reselecting = True
        self.table.selectionModel().select(
            selection,
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._reselecting = False

    def _filter_failed(self, error: Any) -> None:
        self.filter_error.setText(error.message + ("\n" + error.remedy if error.remedy else ""))
        self.filter_error.show()
        self.filter.setProperty("invalid", True)
        self.filter.style().unpolish(self.filter)
        self.filter.style().polish(self.filter)
        self._loaded_once = True

    def _apply_filter(self) -> None:
        self._filter_timer.stop()
        self._keep_selection = set()
        if self.filter.text() != self.model.filter_text:
            self.model.reload(filter_text=self.filter.text())

    def _header_clicked(self, section: int) -> None:
        if not 0 <= section < len(self.model.columns) or not self.model.columns[section].sortable:
            return
        key = self.model.columns[section].key
        current = self.model.sort_keys[0] if self.model.sort_keys else None
        ascending = not (current is not None and current[0] == key and current[1])
        self.model.reload(sort=[(key, ascending)])

    def _update_sort_indicator(self) -> None:
        header = self.table.horizontalHeader()
        if not self.model.sort_keys:
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            return
        key, ascending = self.model.sort_keys[0]
        index = self.model.column_index(key)
        header.setSortIndicator(
            index, Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder
        )

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        shown = {c.key for c in self.model.columns}
        for column in self.model.all_columns:
            action = self.columns_menu.addAction(column.label)
            action.setCheckable(True)
            action.setChecked(column.key in shown)
            action.toggled.connect(lambda on, key=column.key: self.toggle_column(key, on))

    def toggle_column(self, key: str, on: bool) -> None:
        keys = [c.key for c in self.model.columns]
        if on and key not in keys:
            keys.append(key)
        elif not on and key in keys and len(keys) > 1:
            keys.remove(key)
        self._visible_keys = keys
        self.model.set_columns(self.model.all_columns, keys)
        self._size_columns()
        self.model.reload()

    # ------------------------------------------------------------ saved views
    def _apply_view(self, view: ViewInfo | BuiltinView) -> None:
        self._visible_keys = list(view.columns)
        self.model.set_columns(self.model.all_columns, self._visible_keys)
        self.filter.blockSignals(True)
        self.filter.setText(view.filter_text)
        self.filter.blockSignals(False)
        self._size_columns()
        self.model.reload(filter_text=view.filter_text, sort=list(view.sort))

    def _draft(self, name: str, view_id: str | None = None):  # -> ViewDraft
        from relbook.services.views import ViewDraft

        return ViewDraft(
            self.kind,
            name,
            self.filter.text(),
            [c.key for c in self.model.columns],
            list(self.model.sort_keys),
            view_id,
        )

    def save_view(self, name: str | None = None) -> None:
        """Save the filter, columns and sort as a view (asks for the name unless given)."""
        if name is None:
            name, ok = QInputDialog.getText(self, "Save view", "Name of the view:")
            if not ok:
                return
        if not name.strip():
            return
        draft = self._draft(name)
        views = self.ctx.services.views
        kind = self.kind

        def create() -> str:
            view_id = views.create(draft)
            # A new view goes last, after the rep's own order of the others.
            ids = [v.id for v in views.all(kind) if v.id != view_id]
            views.reorder(kind, [*ids, view_id])
            return view_id

        def done(view_id: str) -> None:
            self.views_bar.current_id = view_id
            self.ctx.status(f"Saved view “{name.strip()}”")

        self.ctx.write(create, done, label="save view")

    def update_view(self, view_id: str) -> None:
        view = next(v for v in self.views_bar.views if v.id == view_id)
        draft = self._draft(view.name, view_id)
        views = self.ctx.services.views
        self.ctx.write(
            lambda: views.update(draft), lambda _r: self.ctx.status(f"Updated “{view.name}”")
        )

    def rename_view(self, view_id: str, name: str | None = None) -> None:
        view = next(v for v in self.views_bar.views if v.id == view_id)
        ok = True
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename view", "New name:", text=view.name)
        if ok and name.strip():
            views = self.ctx.services.views
            self.ctx.write(lambda: views.rename(view_id, name), None, label="rename view")

    def move_view(self, view_id: str, step: int) -> None:
        ids = [v.id for v in self.views_bar.views]
        index = ids.index(view_id)
        target = max(0, min(len(ids) - 1, index + step))
        ids.insert(target, ids.pop(index))
        views = self.ctx.services.views
        kind = self.kind
        self.ctx.write(lambda: views.reorder(kind, ids), None, label="reorder views")

    def delete_view(self, view_id: str) -> None:
        view = next(v for v in self.views_bar.views if v.id == view_id)
        views = self.ctx.services.views

        def done(_r: object) -> None:
            self.ctx.undo.push(f"Deleted view “{view.name}”", lambda: views.restore(view_id))
            if self.views_bar.current_id == view_id:
                self.views_bar.choose(self.views_bar.builtins[0].id)

        self.ctx.write(lambda: views.delete(view_id), done, label="delete view")

    # ------------------------------------------------------------ selection
    def _selection_actions(self) -> list[tuple[str, str, Callable[[], None]]]:
        items: list[tuple[str, str, Callable[[], None]]] = []
        if self.kind in ("person", "company", "deal"):
            items.append(("Tag…", "tag", self.tag_selected))
        items.append(("Export…", "export", self.export_selected))
        if self.kind in ("person", "company"):
            items.append(("Merge", "merge", self.merge_selected))
        if self.kind == "task":
            items.append(("Mark done", "check", self.complete_selected))
        items.append(("Delete", "trash", self.delete_selected))
        return items

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def _selection_changed(self, *_args: object) -> None:
        if not self._reselecting:
            self._keep_selection = set()  # the rep chose anew
        rows = self.selected_rows()
        if len(rows) > 1:
            one, many = NOUNS[self.kind]
            self.selection_label.setText(f"{plural(len(rows), one, many)} selected")
            self.actions_row.show()
        else:
            self.actions_row.hide()

    def with_selected_ids(self, action: Callable[[list[str]], None]) -> None:
        """Ids of the selected rows — fetched in the background when they are not loaded."""
        rows = self.selected_rows()
        if not rows:
            return
        known = [self.model.id_at(r) for r in rows]
        if all(known):
            action([k for k in known if k])
            return
        lists = self.ctx.services.lists
        kind, text, sort = self.kind, self.model.filter_text, list(self.model.sort_keys)
        columns = self.model.columns[:1]

        def work() -> list[str]:
            wanted = set(rows)
            ids: list[str] = []
            start = rows[0] - rows[0] % BLOCK
            while start <= rows[-1]:
                window = lists.window(kind, text, sort or None, start, BLOCK * 10, columns)
                ids += [row.id for i, row in enumerate(window) if start + i in wanted]
                start += BLOCK * 10
            return ids

        self.ctx.read(work, action, owner=self)

    def tag_selected(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Tag", "Add this tag to the selected rows:")
            if not ok:
                return
        if not name.strip():
            return
        tags = self.ctx.services.tags
        kind = self.kind

        def run(ids: list[str]) -> None:
            self.ctx.write(
                lambda: tags.tag(kind, ids, [name.strip()]),
                lambda _r: self.ctx.status(f"Tagged {len(ids)} with “{name.strip()}”"),
                label="tag",
            )

        self.with_selected_ids(run)

    def export_selected(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export", str(Path.home() / f"{NOUNS[self.kind][1]}.csv"), "CSV (*.csv)"
            )
        if path:
            self.with_selected_ids(lambda ids: self.export_ids(ids, Path(path)))

    def export_ids(
        self, ids: list[str], path: Path, on_done: Callable[[int], None] | None = None
    ) -> None:
        from relbook.ui.export import export_rows

        lists = self.ctx.services.lists
        kind, columns = self.kind, list(self.model.columns)

        def done(count: int) -> None:
            self.ctx.status(f"Exported {count} rows to {path.name}")
            if on_done is not None:
                on_done(count)

        self.ctx.read(lambda: export_rows(lists, kind, columns, ids, path), done, label="export")

    def merge_selected(self) -> None:
        def run(ids: list[str]) -> None:
            if len(ids) < 2:
                return
            from relbook.ui.dialogs.merge import merge_entities

            merge_entities(self.ctx, self, self.kind, ids)

        self.with_selected_ids(run)

    def complete_selected(self) -> None:
        tasks = self.ctx.services.tasks

        def run(ids: list[str]) -> None:
            self.ctx.write(lambda: tasks.complete(ids), None, label="complete tasks")
            self.ctx.undo.push(f"Completed {plural(len(ids), 'task')}", lambda: tasks.reopen(ids))

        self.with_selected_ids(run)

    def delete_selected(self) -> None:
        self.with_selected_ids(lambda ids: delete_entities(self.ctx, self.kind, ids))

    # ------------------------------------------------------------ actions
    def open_row(self, row: int) -> None:
        entity_id = self.model.id_at(row)
        if entity_id is None:
            return
        if self.kind == "task":
            from relbook.ui.editors.task import edit_task

            edit_task(self.ctx, self, entity_id)
        else:
            self.ctx.open_entity(self.kind, entity_id)

    def new_item(self) -> None:
        from relbook.ui import editors

        editors.new(self.ctx, self, self.kind, None)

    def _context_menu(self, pos: Any) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        if index.row() not in self.selected_rows():
            self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.addAction(icon("open"), "Open").triggered.connect(lambda: self.open_row(index.row()))
        for text, icon_name, handler in self._selection_actions():
            menu.addAction(icon(icon_name), text).triggered.connect(lambda _=False, h=handler: h())
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.delete_selected()
            return
        super().keyPressEvent(event)

    def activated(self) -> None:
        if self._columns_loaded and self._loaded_once:
            self.table.setFocus()

    def is_loaded(self) -> bool:
        return self._loaded_once

    def commands(self) -> list[Command]:
        one, many = NOUNS[self.kind]
        return [
            Command(
                f"{self.kind}.filter",
                f"Filter {many}",
                self.filter.setFocus,
                "Ctrl+F",
                "filter",
                "List",
            ),
            Command(
                f"{self.kind}.save_view",
                f"Save this {one} view",
                self.save_view,
                "",
                "star",
                "List",
            ),
            Command(
                f"{self.kind}.export",
                f"Export selected {many}",
                self.export_selected,
                "",
                "export",
                "List",
            ),
            Command(
                f"{self.kind}.delete",
                f"Delete selected {many}",
                self.delete_selected,
                "Del",
                "trash",
                "List",
                bind=False,  # the table takes Delete itself (a filter's Delete edits text)
            ),
            Command(
                f"{self.kind}.select_all",
                f"Select all {many}",
                self.table.selectAll,
                "Ctrl+A",
                "check",
                "List",
                bind=False,  # the table's own Ctrl+A
            ),
        ]


class PeoplePage(ListPage):
    kind = "person"


class CompaniesPage(ListPage):
    kind = "company"


class DealsPage(ListPage):
    kind = "deal"


class TasksPage(ListPage):
    kind = "task"
