"""The numbers behind every chart, as a sortable table (and copyable as TSV)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from relbook.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QGuiApplication,
    QHeaderView,
    QModelIndex,
    QPainter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTableView,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 20
SORT_ROLE = Qt.ItemDataRole.UserRole + 21
TIP_CHARS = 40  # longer cells show their whole text as a tooltip


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False
    tip: str = ""


@dataclass
class Table:
    """Rows of display text with optional sort keys, ids and cell colours."""

    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    sort_keys: list[list[Any]] = field(default_factory=list)
    ids: list[tuple[str, str] | None] = field(default_factory=list)  # (kind, id) per row
    colours: dict[tuple[int, int], QColor] = field(default_factory=dict)

    def add(
        self,
        cells: Sequence[Any],
        *,
        keys: Sequence[Any] | None = None,
        entity: tuple[str, str] | None = None,
    ) -> int:
        self.rows.append(["" if c is None else str(c) for c in cells])
        self.sort_keys.append(list(keys) if keys is not None else list(cells))
        self.ids.append(entity)
        return len(self.rows) - 1

    def as_tsv(self) -> str:
        lines = ["\t".join(c.title for c in self.columns)]
        lines += ["\t".join(row) for row in self.rows]
        return "\n".join(lines)


class TableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.table = Table([])

    def set_table(self, table: Table) -> None:
        self.beginResetModel()
        self.table = table
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.table.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.table.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.table.columns):
            return None
        column = self.table.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.tip:
            return column.tip
        return None

    def data(self, index: QModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.table.rows[row][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self.table.rows[row][col]
            return text if len(text) > TIP_CHARS else None
        if role == Qt.ItemDataRole.TextAlignmentRole and self.table.columns[col].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.table.colours.get((row, col))
        if role == ID_ROLE:
            return self.table.ids[row]
        if role == SORT_ROLE:
            return self.table.sort_keys[row][col]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        table = self.table
        if not table.rows or not 0 <= column < len(table.columns):
            return

        def blank(i: int) -> bool:
            value = table.sort_keys[i][column]
            return value is None or value == ""

        def key(i: int) -> tuple[int, Any]:
            value = table.sort_keys[i][column]
            if isinstance(value, int | float):
                return (0, value)
            return (1, str(value).casefold())

        filled = [i for i in range(len(table.rows)) if not blank(i)]
        empty = [i for i in range(len(table.rows)) if blank(i)]
        # Blank cells go last whichever the direction.
        order_index = sorted(filled, key=key, reverse=order == Qt.SortOrder.DescendingOrder) + empty
        self.layoutAboutToBeChanged.emit()
        colours = {
            (new, col): table.colours[(old, col)]
            for new, old in enumerate(order_index)
            for col in range(len(table.columns))
            if (old, col) in table.colours
        }
        table.rows = [table.rows[i] for i in order_index]
        table.sort_keys = [table.sort_keys[i] for i in order_index]
        table.ids = [table.ids[i] for i in order_index]
        table.colours = colours
        self.layoutChanged.emit()


class TintDelegate(QStyledItemDelegate):
    """Paints a cell's BackgroundRole colour (the app style sheet styles ``::item``, which
    makes Qt ignore model background colours)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        tint = index.data(Qt.ItemDataRole.BackgroundRole)
        if isinstance(tint, QColor):
            painter.fillRect(option.rect, tint)
        super().paint(painter, option, index)


def table_view(model: TableModel) -> QTableView:
    view = QTableView()
    view.setItemDelegate(TintDelegate(view))
    view.setModel(model)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


def copy_table(table: Table) -> None:
    QGuiApplication.clipboard().setText(table.as_tsv())
