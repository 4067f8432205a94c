"""The pipeline board: a column per stage, deal cards dragged between stages.

Each column shows its count, amount and weighted amount. A drop moves the deal on the
writer thread (``services.deals.move_stage``: the move is recorded on the deal's
timeline) and pushes an undo entry. Won and lost ask for the reason first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import money, plural
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QAbstractItemView,
    QAbstractListModel,
    QColor,
    QComboBox,
    QDialog,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QMenu,
    QMimeData,
    QModelIndex,
    QPainter,
    QRect,
    QScrollArea,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import icon, theme
from relbook.ui.widgets import button, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.deals import Board, BoardColumn, DealCard
    from relbook.ui.context import UiContext

MIME = "application/x-relbook-deal"
CARD_ROLE = Qt.ItemDataRole.UserRole + 20


def deal_mime(deal_id: str, from_stage_id: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(MIME, f"{deal_id}\n{from_stage_id}".encode())
    return mime


def read_mime(mime: QMimeData | None) -> tuple[str, str] | None:
    if mime is None or not mime.hasFormat(MIME):
        return None
    deal_id, _, stage_id = bytes(mime.data(MIME).data()).decode().partition("\n")
    return deal_id, stage_id


class CardModel(QAbstractListModel):
    def __init__(self, stage_id: str) -> None:
        super().__init__()
        self.stage_id = stage_id
        self.cards: list[DealCard] = []

    def set_cards(self, cards: list[DealCard]) -> None:
        self.beginResetModel()
        self.cards = cards
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cards)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        card = self.cards[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return card.title
        if role == CARD_ROLE:
            return card
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{card.title} — {card.company_name}"
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        card = self.cards[indexes[0].row()]
        return deal_mime(card.id, self.stage_id)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction


def title_lines(metrics: QFontMetrics, text: str, width: int, most: int = 2) -> list[str]:
    """``text`` wrapped at word boundaries into at most ``most`` lines, the last elided."""
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < most - 1:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        if metrics.horizontalAdvance(line) > width:  # one word longer than the card
            line = metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
        lines.append(line)
    if words:
        lines.append(metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
    return lines or [""]


class CardDelegate(QStyledItemDelegate):
    """A deal card: title (two lines at most), company, amount · probability, days in stage."""

    PAD_X, PAD_Y, GAP = 12, 9, 3

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(option.font)
        small.setPointSizeF(small.pointSizeF() * 0.88)
        return bold, small

    def _inner_width(self, option: QStyleOptionViewItem) -> int:
        view = self.parent()
        width = option.rect.width()
        if width <= 0 and isinstance(view, QListView):
            width = view.viewport().width()
        return max(40, width - 8 - 2 * self.PAD_X + 2)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        card: DealCard = index.data(CARD_ROLE)
        bold, small = self._fonts(option)
        metrics, small_metrics = QFontMetrics(bold), QFontMetrics(small)
        lines = title_lines(metrics, card.title, self._inner_width(option))
        height = (
            8
            + 2 * self.PAD_Y
            + len(lines) * metrics.height()
            + self.GAP
            + small_metrics.height()
            + 5
            + small_metrics.height()
        )
        return QSize(option.rect.width(), height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        card: DealCard = index.data(CARD_ROLE)
        t = theme()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.setPen(QColor(t.accent if selected else (t.muted if hovered else t.border)))
        painter.setBrush(QColor(t.surface))
        painter.drawRoundedRect(rect, 8, 8)
        if card.stale:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.warning))
            painter.drawRoundedRect(QRect(rect.x(), rect.y() + 8, 3, rect.height() - 16), 1.5, 1.5)
        inner = rect.adjusted(self.PAD_X, self.PAD_Y, -self.PAD_X + 2, -self.PAD_Y)
        bold, small = self._fonts(option)
        painter.setFont(bold)
        painter.setPen(QColor(t.text))
        metrics = painter.fontMetrics()
        y = inner.y()
        for line in title_lines(metrics, card.title, inner.width()):
            painter.drawText(
                QRect(inner.x(), y, inner.width(), metrics.height()),
                Qt.AlignmentFlag.AlignLeft,
                line,
            )
            y += metrics.height()
        painter.setFont(small)
        small_metrics = painter.fontMetrics()
        y += self.GAP
        painter.setPen(QColor(t.muted))
        painter.drawText(
            QRect(inner.x(), y, inner.width(), small_metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            small_metrics.elidedText(
                card.company_name or "—", Qt.TextElideMode.ElideRight, inner.width()
            ),
        )
        y += small_metrics.height() + 5
        amount = money(card.amount_minor, card.currency, compact=True) if card.amount_minor else "—"
        painter.setPen(QColor(t.text))
        painter.drawText(
            QRect(inner.x(), y, inner.width(), small_metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            f"{amount} · {card.probability}%",
        )
        painter.setPen(QColor(t.warning if card.stale else t.muted))
        days = f"{card.days_in_stage} d" + (" · stuck" if card.stale else "")
        painter.drawText(
            QRect(inner.x(), y, inner.width(), small_metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            days,
        )
        painter.restore()


class CardList(QListView):
    """One stage's cards; accepts deal drops from the other columns."""

    dropped = Signal(str, str, str)  # deal id, from stage, to stage
    move_requested = Signal(int)  # -1 / +1: the current card to the previous / next stage
    neighbour_requested = Signal(int)  # -1 / +1: keyboard focus to the next column

    def __init__(self, model: CardModel) -> None:
        super().__init__()
        self.setModel(model)
        self.card_model = model
        self.setItemDelegate(CardDelegate(self))
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet("QListView { background: transparent; border: none; }")
        self.setMouseTracking(True)
        self.viewport().setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def current_card(self) -> DealCard | None:
        index = self.currentIndex()
        return index.data(CARD_ROLE) if index.isValid() else None

    def keyPressEvent(self, event: Any) -> None:
        """Left/Right go to the neighbouring column; Ctrl+Shift+Left/Right move the deal."""
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            mods = event.modifiers()
            shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            if mods & shift_ctrl == shift_ctrl:
                self.move_requested.emit(step)
            elif not mods & (
                Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.ShiftModifier
            ):
                self.neighbour_requested.emit(step)
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if read_mime(event.mimeData()) is not None:
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if read_mime(event.mimeData()) is not None:
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        found = read_mime(event.mimeData())
        if found is None:
            event.ignore()
            return
        deal_id, from_stage = found
        event.setDropAction(Qt.DropAction.CopyAction)  # the model is reloaded, not edited
        event.accept()
        if from_stage != self.card_model.stage_id:
            self.dropped.emit(deal_id, from_stage, self.card_model.stage_id)


class StageColumn(QFrame):
    def __init__(self, page: BoardPage, column: BoardColumn, currency: str) -> None:
        super().__init__()
        self.setProperty("role", "column")
        self.setObjectName(f"stage:{column.stage.name}")
        self.stage = column.stage
        self.setFixedWidth(250)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 10, 8, 8)
        layout.setSpacing(4)
        head = QHBoxLayout()
        name = label(column.stage.name, "h3")
        head.addWidget(name)
        head.addStretch(1)
        count = label(str(column.count), "chip" if column.stage.kind == "open" else "warnchip")
        head.addWidget(count)
        layout.addLayout(head)
        totals = f"{money(column.amount_minor, currency, compact=True) or '0'}"
        if column.stage.kind == "open":
            totals += f" · weighted {money(column.weighted_minor, currency, compact=True) or '0'}"
        if column.other_currency_count:
            # on a line of its own (the column is narrow); the board's sum leaves them out
            totals += f"\n+{column.other_currency_count} in other currencies, not summed"
        self.totals = label(totals, "small", wrap=True)
        layout.addWidget(self.totals)
        self.model = CardModel(column.stage.id)
        self.model.set_cards(list(column.cards))
        self.list = CardList(self.model)
        self.list.dropped.connect(page.move_deal)
        self.list.move_requested.connect(lambda step: page.move_current(self, step))
        self.list.neighbour_requested.connect(lambda step: page.focus_neighbour(self, step))
        self.list.selectionModel().currentChanged.connect(lambda *_a: page.set_current(self))
        self.list.customContextMenuRequested.connect(
            lambda pos: page.card_menu(self, self.list.indexAt(pos), pos)
        )
        self.list.doubleClicked.connect(
            lambda index: page.ctx.open_entity("deal", index.data(CARD_ROLE).id)
        )
        self.list.activated.connect(
            lambda index: page.ctx.open_entity("deal", index.data(CARD_ROLE).id)
        )
        layout.addWidget(self.list, 1)


class ReasonDialog(QDialog):
    """Why was it won / lost? (Asked before the move; required for lost.)"""

    def __init__(self, parent: QWidget, title: str, stage_kind: str, deal_title: str) -> None:
        super().__init__(parent)
        self.setObjectName("reasonDialog")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.addWidget(label(f"{deal_title} — {stage_kind}", "h2", wrap=True))
        layout.addWidget(
            label(
                "Why was it lost? (price, competitor, timing…)"
                if stage_kind == "lost"
                else "What won it? (optional)",
                "muted",
            )
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        layout.addWidget(self.reason)
        self.error = label("", "error")
        self.error.hide()
        layout.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button("Cancel", self.reject))
        ok = button("Move", self._accept, kind="primary")
        ok.setDefault(True)
        row.addWidget(ok)
        layout.addLayout(row)
        self.kind = stage_kind
        self.resize(460, 200)

    def _accept(self) -> None:
        if self.kind == "lost" and not self.reason.text().strip():
            self.error.setText("Say why the deal was lost — it feeds your win/loss insight.")
            self.error.show()
            return
        self.accept()


class BoardPage(Page):
    moved = Signal(object)  # the StageMove after a successful drop

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.board: Board | None = None
        self._loaded = False
        self.columns: dict[str, StageColumn] = {}
        self._current_column: StageColumn | None = None
        self._reselect: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 14, 24, 16)
        layout.setSpacing(10)
        top = QHBoxLayout()
        self.pipeline = QComboBox()
        self.pipeline.setMinimumWidth(200)
        self.pipeline.currentIndexChanged.connect(lambda _i: self.load())
        top.addWidget(self.pipeline)
        self.summary = label("", "muted")
        top.addWidget(self.summary, 1)
        top.addWidget(button("Stages…", self._manage, kind="flat", icon_name="settings"))
        top.addWidget(button("New deal", self._new_deal, kind="primary", icon_name="plus"))
        layout.addLayout(top)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll = scroll
        holder = QWidget()
        self.row = QHBoxLayout(holder)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(12)
        scroll.setWidget(holder)
        layout.addWidget(scroll, 1)
        Refresher(ctx, ("deal", "stage", "pipeline", "company"), self.load, self)
        self.load()

    def load(self) -> None:
        services = self.ctx.services
        chosen = self.pipeline.currentData()

        def work() -> tuple[list[Any], Board]:
            pipelines = services.pipelines.all()
            if not pipelines:
                pipelines = [services.pipelines.default_pipeline()]
            pipeline_id = chosen or next((p.id for p in pipelines if p.is_default), pipelines[0].id)
            return pipelines, services.deals.board(pipeline_id)

        self.ctx.read(work, self._show, owner=self, key=f"board-{id(self)}")

    def _show(self, result: tuple[list[Any], Board]) -> None:
        pipelines, board = result
        self.board = board
        self.pipeline.blockSignals(True)
        self.pipeline.clear()
        for pipeline in pipelines:
            self.pipeline.addItem(pipeline.name, pipeline.id)
        self.pipeline.setCurrentIndex(max(0, self.pipeline.findData(board.pipeline_id)))
        self.pipeline.blockSignals(False)
        clear_layout(self.row)
        self.columns = {}
        open_count = open_amount = weighted = 0
        for column in board.columns:
            widget = StageColumn(self, column, board.currency)
            self.columns[column.stage.id] = widget
            self.row.addWidget(widget)
            if column.stage.kind == "open":
                open_count += column.count
                open_amount += column.amount_minor
                weighted += column.weighted_minor
        self.row.addStretch(1)
        self._reselect_card()
        self.summary.setText(
            f"{plural(open_count, 'open deal')} · {money(open_amount, board.currency) or '0'}"
            f" · weighted {money(weighted, board.currency) or '0'}"
        )
        self._loaded = True

    def column_for(self, stage_name: str) -> StageColumn:
        return next(c for c in self.columns.values() if c.stage.name == stage_name)

    # ---------------------------------------------------------------- moves
    def move_deal(self, deal_id: str, from_stage: str, to_stage: str) -> None:
        column = self.columns.get(to_stage)
        if column is None:
            return
        kind = column.stage.kind
        if kind in ("won", "lost"):
            title = next(
                (
                    c.title
                    for col in self.columns.values()
                    for c in col.model.cards
                    if c.id == deal_id
                ),
                "This deal",
            )
            dialog = ReasonDialog(self, f"Mark as {kind}", kind, title)
            dialog.accepted.connect(
                lambda: self._move(deal_id, to_stage, dialog.reason.text().strip())
            )
            dialog.open()
            return
        self._move(deal_id, to_stage, "")

    def _move(self, deal_id: str, to_stage: str, reason: str) -> None:
        deals = self.ctx.services.deals
        stage_name = self.columns[to_stage].stage.name if to_stage in self.columns else "?"
        title = next(
            (c.title for col in self.columns.values() for c in col.model.cards if c.id == deal_id),
            "deal",
        )

        selected = self.selected()
        keep = selected is not None and selected[1].id == deal_id and selected[0].list.hasFocus()

        def done(move: Any) -> None:
            if keep:
                self._reselect = deal_id
            self.ctx.undo.push(f"Moved “{title}” to {stage_name}", lambda: deals.undo_move(move))
            self.moved.emit(move)

        self.ctx.write(lambda: deals.move_stage(deal_id, to_stage, reason), done, label="move deal")

    def _reselect_card(self) -> None:
        """After a reload, the keyboard stays on the deal it was on (now maybe moved)."""
        deal_id, self._reselect = self._reselect, None
        if deal_id is None:
            return
        for column in self.columns.values():
            for row, card in enumerate(column.model.cards):
                if card.id == deal_id:
                    column.list.setCurrentIndex(column.model.index(row, 0))
                    column.list.setFocus()
                    self._current_column = column
                    self._scroll.ensureWidgetVisible(column, 40, 0)
                    return

    def set_current(self, column: StageColumn) -> None:
        self._current_column = column

    def selected(self) -> tuple[StageColumn, DealCard] | None:
        """The column and card the keyboard is on (the last one picked)."""
        column = self._current_column
        if column is None or column not in self.columns.values():
            return None
        card = column.list.current_card()
        return (column, card) if card is not None else None

    def move_selected(self, step: int) -> None:
        found = self.selected()
        if found is not None:
            self.move_current(found[0], step)

    def open_selected(self) -> None:
        found = self.selected()
        if found is not None:
            self.ctx.open_entity("deal", found[1].id)

    def _neighbour(self, column: StageColumn, step: int) -> StageColumn | None:
        order = list(self.columns.values())
        if column not in order:
            return None
        position = order.index(column) + step
        return order[position] if 0 <= position < len(order) else None

    def focus_neighbour(self, column: StageColumn, step: int) -> None:
        """Keyboard focus to the nearest column in that direction that has cards."""
        order = list(self.columns.values())
        if column not in order:
            return
        walk = range(order.index(column) + step, len(order) if step > 0 else -1, step)
        target = next((order[i] for i in walk if order[i].model.cards), None)
        if target is None:
            return
        row = min(max(column.list.currentIndex().row(), 0), len(target.model.cards) - 1)
        target.list.setFocus()
        target.list.setCurrentIndex(target.model.index(row, 0))
        self._scroll.ensureWidgetVisible(target, 40, 0)

    def move_current(self, column: StageColumn, step: int) -> None:
        """Keyboard move (Ctrl+Shift+Left/Right): the selected deal one stage over."""
        card = column.list.current_card()
        target = self._neighbour(column, step)
        if card is None or target is None:
            return
        self.move_deal(card.id, column.stage.id, target.stage.id)

    def card_menu(self, column: StageColumn, index: QModelIndex, pos: Any) -> None:
        if not index.isValid():
            return
        card: DealCard = index.data(CARD_ROLE)
        column.list.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(icon("open"), "Open").triggered.connect(
            lambda: self.ctx.open_entity("deal", card.id)
        )
        menu.addAction(icon("edit"), "Edit…").triggered.connect(lambda: self._edit(card.id))
        move = menu.addMenu(icon("pipeline"), "Move to")
        for other in self.columns.values():
            if other is column:
                continue
            action = move.addAction(other.stage.name)
            action.triggered.connect(
                lambda _=False, to=other.stage.id: self.move_deal(card.id, column.stage.id, to)
            )
        menu.addSeparator()
        menu.addAction(icon("trash"), "Delete").triggered.connect(lambda: self._delete(card.id))
        menu.popup(column.list.viewport().mapToGlobal(pos))

    def _edit(self, deal_id: str) -> None:
        from relbook.ui.editors.deal import edit_deal

        edit_deal(self.ctx, self, deal_id)

    def _delete(self, deal_id: str) -> None:
        from relbook.ui.views.lists import delete_entities

        delete_entities(self.ctx, "deal", [deal_id])

    def _new_deal(self) -> None:
        from relbook.ui.editors.deal import edit_deal

        edit_deal(self.ctx, self, None, {"pipeline_id": self.pipeline.currentData()})

    def _manage(self) -> None:
        from relbook.ui.dialogs.pipelines import PipelineManager

        PipelineManager(self.ctx, self).open()

    def is_loaded(self) -> bool:
        return self._loaded

    def activated(self) -> None:
        if self._loaded:
            self.load()

    def commands(self) -> list[Command]:
        return [
            Command(
                "board.stages", "Manage pipeline stages", self._manage, "", "settings", "Pipeline"
            ),
            Command(
                "board.new", "New deal in this pipeline", self._new_deal, "", "plus", "Pipeline"
            ),
            Command(
                "board.next",
                "Move the selected deal to the next stage",
                lambda: self.move_selected(1),
                "Ctrl+Shift+Right",
                "chevron-right",
                "Pipeline",
            ),
            Command(
                "board.previous",
                "Move the selected deal to the previous stage",
                lambda: self.move_selected(-1),
                "Ctrl+Shift+Left",
                "pipeline",
                "Pipeline",
            ),
        ]
