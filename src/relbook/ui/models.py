"""A windowed table model: 50,000 rows open at once without loading them.

``rowCount`` comes from one COUNT query; rows arrive in blocks of 200 from
``services.lists.window`` on a background thread when the view first paints them
(MACHINE-FACTS: ~20 ms to paint, smooth to the bottom). Sorting and filtering happen in
SQLite (never a QSortFilterProxyModel). A block not yet loaded shows empty cells for a
moment; a newer sort/filter makes older answers stale (generation counter).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from relbook.ui.fmt import cell
from relbook.ui.qt import QAbstractTableModel, QModelIndex, Qt, Signal

if TYPE_CHECKING:
    from relbook.services.lists import ColumnSpec, ListRow
    from relbook.ui.context import UiContext

BLOCK = 200
MAX_BLOCKS = 60
ID_ROLE = Qt.ItemDataRole.UserRole + 10
RAW_ROLE = Qt.ItemDataRole.UserRole + 11


class WindowedListModel(QAbstractTableModel):
    counted = Signal(int)  # the row count after a (re)load
    block_loaded = Signal(int)  # first row of a block that arrived
    failed = Signal(object)  # a filter the book cannot read (FilterSyntaxError)

    def __init__(self, ctx: UiContext, kind: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.kind = kind
        self.all_columns: list[ColumnSpec] = []
        self.columns: list[ColumnSpec] = []
        self.filter_text = ""
        self.sort_keys: list[tuple[str, bool]] = []
        self._count = 0
        self._blocks: OrderedDict[int, list[ListRow]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0
        self.loaded = False

    # --------------------------------------------------------------- setup
    def set_columns(self, all_columns: list[ColumnSpec], visible_keys: list[str]) -> None:
        self.all_columns = all_columns
        by_key = {c.key: c for c in all_columns}
        chosen = [by_key[k] for k in visible_keys if k in by_key]
        self.beginResetModel()
        self.columns = chosen or [c for c in all_columns if c.visible]
        self._blocks.clear()
        self._pending.clear()
        self._generation += 1
        self.endResetModel()

    def reload(self, filter_text: str | None = None, sort: list[tuple[str, bool]] | None = None):
        """Count again and drop the loaded rows (after a filter, a sort or a change)."""
        if filter_text is not None:
            self.filter_text = filter_text
        if sort is not None:
            self.sort_keys = sort
        self._generation += 1
        generation = self._generation
        lists = self.ctx.services.lists
        kind, text, sort, columns = self.kind, self.filter_text, self.sort_keys, self.columns
        self.loaded = False

        def work() -> tuple[int, list[ListRow]]:
            count = lists.count(kind, text)
            first = lists.window(kind, text, sort or None, 0, BLOCK, columns)
            return count, first

        self.ctx.read(
            work,
            lambda result: self._counted(generation, *result),
            lambda error: self._failed(generation, error),
            owner=self,
            key=f"list-count-{id(self)}",
        )

    def _counted(self, generation: int, count: int, first: list[ListRow]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._count = count
        self._blocks.clear()
        self._pending.clear()
        self._blocks[0] = first
        self.endResetModel()
        self.loaded = True
        self.counted.emit(count)

    def _failed(self, generation: int, error: BaseException) -> bool:
        from relbook.domain.errors import FilterSyntaxError

        if generation == self._generation and isinstance(error, FilterSyntaxError):
            self.loaded = True
            self.failed.emit(error)
            return True
        return False

    # --------------------------------------------------------------- blocks
    def _row(self, row: int) -> ListRow | None:
        block = row // BLOCK
        rows = self._blocks.get(block)
        if rows is None:
            self._request(block)
            return None
        self._blocks.move_to_end(block)
        offset = row - block * BLOCK
        return rows[offset] if offset < len(rows) else None

    def _request(self, block: int) -> None:
        if block in self._pending:
            return
        self._pending.add(block)
        generation = self._generation
        lists = self.ctx.services.lists
        kind, text, sort, columns = self.kind, self.filter_text, self.sort_keys, self.columns

        def work() -> list[ListRow]:
            return lists.window(kind, text, sort or None, block * BLOCK, BLOCK, columns)

        self.ctx.read(
            work,
            lambda rows: self._arrived(generation, block, rows),
            owner=self,
        )

    def _arrived(self, generation: int, block: int, rows: list[ListRow]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(block)
        self._blocks[block] = rows
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
        first = block * BLOCK
        last = min(self._count, first + BLOCK) - 1
        if last >= first and self.columns:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        self.block_loaded.emit(first)

    # --------------------------------------------------------------- Qt API
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            column = self.columns[index.column()]
            if column.align_right:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            ID_ROLE,
            RAW_ROLE,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        row = self._row(index.row())
        if row is None:
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        if role == ID_ROLE:
            return row.id
        value = row.values[index.column()]
        if role == RAW_ROLE:
            return value
        text = cell(value, self.columns[index.column()].value_type)
        if role == Qt.ItemDataRole.ToolTipRole:
            return text if len(text) > 30 else None
        return text

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            column = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.label
            if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or not self.columns[column].sortable:
            return
        ascending = order == Qt.SortOrder.AscendingOrder
        self.reload(sort=[(self.columns[column].key, ascending)])

    # --------------------------------------------------------------- helpers
    def id_at(self, row: int) -> str | None:
        found = self._row(row)
        return found.id if found is not None else None

    def row_values(self, row: int) -> ListRow | None:
        return self._row(row)

    def column_index(self, key: str) -> int:
        return next((i for i, c in enumerate(self.columns) if c.key == key), -1)
