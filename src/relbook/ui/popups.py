"""The global search (Ctrl+K) and the command palette (Ctrl+Shift+P).

Both are overlays inside the main window (no separate top-level window, so focus and
keyboard stay predictable): an input on top, a list of results below, arrows to move,
Enter to open, Esc to close. Search runs in the background as you type; a newer query
makes older results stale (the task runner drops them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relbook.ui.fmt import KIND_ICONS, KIND_TITLES, when
from relbook.ui.qt import (
    QEvent,
    QFrame,
    QKeyEvent,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QModelIndex,
    QObject,
    QPainter,
    QRect,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import icon, theme

if TYPE_CHECKING:
    from relbook.services.search import SearchHit, SearchResults
    from relbook.ui.context import UiContext
    from relbook.ui.pages import Command

SUBTITLE = Qt.ItemDataRole.UserRole + 1
PAYLOAD = Qt.ItemDataRole.UserRole + 2
HEADER = Qt.ItemDataRole.UserRole + 3
RIGHT = Qt.ItemDataRole.UserRole + 4
BADGE = Qt.ItemDataRole.UserRole + 5  # a small chip after the title (why it is linked)


class TwoLineDelegate(QStyledItemDelegate):
    """Icon, a title, a muted subtitle, and a muted hint on the right (dates, shortcuts)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        if index.data(HEADER):
            return QSize(option.rect.width(), 28)
        return QSize(option.rect.width(), 46 if index.data(SUBTITLE) else 34)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        t = theme()
        from relbook.ui.qt import QColor, QFont

        painter.save()
        rect = option.rect
        if index.data(HEADER):
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            font.setWeight(QFont.Weight.Bold)
            painter.setFont(font)
            painter.setPen(QColor(t.muted))
            painter.drawText(
                rect.adjusted(14, 6, -10, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                str(index.data(Qt.ItemDataRole.DisplayRole)).upper(),
            )
            painter.restore()
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(QColor(t.selection))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(rect.adjusted(6, 1, -6, -1), 7, 7)
        decoration = index.data(Qt.ItemDataRole.DecorationRole)
        x = rect.x() + 16
        if decoration is not None:
            decoration.paint(painter, QRect(x, rect.center().y() - 9, 18, 18))
            x += 30
        right_text = index.data(RIGHT) or ""
        right_width = 0
        if right_text:
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 0.88)
            painter.setFont(font)
            right_width = painter.fontMetrics().horizontalAdvance(right_text) + 12
            painter.setPen(QColor(t.muted))
            painter.drawText(
                QRect(rect.right() - right_width - 10, rect.y(), right_width, rect.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                right_text,
            )
        text_rect = QRect(x, rect.y(), rect.right() - x - right_width - 14, rect.height())
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        subtitle = str(index.data(SUBTITLE) or "").strip()
        two_lines = bool(index.data(SUBTITLE))  # a blank subtitle keeps the row's height
        font = QFont(option.font)
        font.setWeight(QFont.Weight.DemiBold if two_lines else QFont.Weight.Normal)
        painter.setFont(font)
        painter.setPen(QColor(t.text))
        metrics = painter.fontMetrics()
        if subtitle:
            top = text_rect.adjusted(0, 5, 0, -rect.height() // 2)
            alignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        else:  # one line, centred in the row
            top = text_rect
            alignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        badge = str(index.data(BADGE) or "")
        small_font = QFont(option.font)
        small_font.setPointSizeF(small_font.pointSizeF() * 0.82)
        badge_width = 0
        if badge:
            from relbook.ui.qt import QFontMetrics

            badge_width = min(
                QFontMetrics(small_font).horizontalAdvance(badge) + 14, text_rect.width() // 2
            )
        title_text = metrics.elidedText(
            title, Qt.TextElideMode.ElideRight, text_rect.width() - badge_width - 8
        )
        painter.drawText(top, alignment, title_text)
        if badge:
            bx = top.x() + metrics.horizontalAdvance(title_text) + 8
            baseline_top = (
                top.bottom() - metrics.height() + 2
                if subtitle
                else top.center().y() - metrics.height() // 2 + 1
            )
            chip = QRect(bx, baseline_top, badge_width, metrics.height() - 2)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.accent_soft))
            painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            painter.setFont(small_font)
            painter.setPen(QColor(t.accent))
            painter.drawText(
                chip,
                Qt.AlignmentFlag.AlignCenter,
                painter.fontMetrics().elidedText(
                    badge, Qt.TextElideMode.ElideRight, badge_width - 10
                ),
            )
        if subtitle:
            small = QFont(option.font)
            small.setPointSizeF(small.pointSizeF() * 0.9)
            painter.setFont(small)
            painter.setPen(QColor(t.muted))
            bottom = text_rect.adjusted(0, rect.height() // 2 + 1, 0, -4)
            painter.drawText(
                bottom,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                painter.fontMetrics().elidedText(
                    subtitle, Qt.TextElideMode.ElideRight, text_rect.width()
                ),
            )
        painter.restore()


class _Overlay(QFrame):
    """Input + result list floating over the window."""

    activated = Signal(object)
    closed = Signal()

    def __init__(self, parent: QWidget, placeholder: str, width: int = 620) -> None:
        super().__init__(parent)
        self.setObjectName("popup")
        self._width = width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        layout.setSpacing(0)
        self.input = QLineEdit()
        self.input.setObjectName("popupInput")
        self.input.setPlaceholderText(placeholder)
        self.input.setClearButtonEnabled(True)
        layout.addWidget(self.input)
        self.results = QListWidget()
        self.results.setItemDelegate(TwoLineDelegate(self.results))
        self.results.setUniformItemSizes(False)
        self.results.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.itemActivated.connect(self._activate_item)
        self.results.itemClicked.connect(self._activate_item)
        layout.addWidget(self.results)
        self.input.installEventFilter(self)
        self.hide()

    # placement: centred near the top of the window
    def place(self) -> None:
        parent = self.parentWidget()
        width = min(self._width, parent.width() - 40)
        height = min(480, max(220, parent.height() - 140))
        self.setGeometry((parent.width() - width) // 2, 64, width, height)

    def open(self, text: str = "") -> None:
        self.place()
        self.show()
        self.raise_()
        self.input.setFocus()
        if text:
            self.input.setText(text)
        self.input.selectAll()

    def close_popup(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            key = QKeyEvent(event).key() if not isinstance(event, QKeyEvent) else event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.results.currentItem()
                if item is not None:
                    self._activate_item(item)
                return True
            if key == Qt.Key.Key_Escape:
                self.close_popup()
                return True
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        count = self.results.count()
        if not count:
            return
        row = self.results.currentRow()
        for _ in range(count):
            row = (row + step) % count
            item = self.results.item(row)
            if item is not None and not item.data(HEADER):
                self.results.setCurrentRow(row)
                return

    def select_first(self) -> None:
        for row in range(self.results.count()):
            if not self.results.item(row).data(HEADER):
                self.results.setCurrentRow(row)
                return

    def _activate_item(self, item: QListWidgetItem) -> None:
        if item.data(HEADER):
            return
        payload = item.data(PAYLOAD)
        self.close_popup()
        self.activated.emit(payload)

    def add_header(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setData(HEADER, True)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.results.addItem(item)

    def add_row(
        self, title: str, subtitle: str, icon_name: str, payload: Any, right: str = ""
    ) -> QListWidgetItem:
        item = QListWidgetItem(title)
        item.setData(SUBTITLE, subtitle)
        item.setData(PAYLOAD, payload)
        item.setData(RIGHT, right)
        if icon_name:
            item.setIcon(icon(icon_name, "accent"))
        self.results.addItem(item)
        return item

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_popup()
            return
        super().keyPressEvent(event)


class SearchPopup(_Overlay):
    """Results across people, companies, deals, interactions and notes as you type."""

    results_shown = Signal(object)  # SearchResults (tests wait on it)

    def __init__(self, parent: QWidget, ctx: UiContext) -> None:
        super().__init__(parent, "Search people, companies, deals, mail and notes…  (Ctrl+K)")
        self.setObjectName("popup")
        self.input.setObjectName("popupInput")
        self.ctx = ctx
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self._query)
        self.input.textChanged.connect(lambda _t: self._timer.start())
        self.last: SearchResults | None = None

    def _query(self) -> None:
        text = self.input.text().strip()
        if not text:
            self.results.clear()
            self.add_header("Type to search the whole book")
            return
        search = self.ctx.services.search
        self.ctx.read(
            lambda: search.query(text, limit_per_kind=6),
            self._show,
            key="global-search",
            owner=self,
        )

    def _show(self, results: SearchResults) -> None:
        if results.text.strip() != self.input.text().strip():
            return
        self.last = results
        self.results.clear()
        if not results.groups:
            self.add_header(f"Nothing matches “{results.text}”")
        for group in results.groups:
            title = KIND_TITLES.get(group.kind, group.kind.title())
            self.add_header(title + (" (more…)" if group.more else ""))
            for hit in group.hits:
                subtitle = hit.subtitle
                if hit.snippet and hit.kind in ("interaction", "note"):
                    snippet = hit.snippet.replace("[", "").replace("]", "")
                    subtitle = f"{subtitle} · {snippet}" if subtitle else snippet
                subtitle = " ".join(subtitle.split())
                icon_name = KIND_ICONS.get(hit.kind, "search")
                if hit.kind == "interaction":
                    icon_name = KIND_ICONS.get(hit.subtitle.split(" ", 1)[0], icon_name)
                self.add_row(
                    hit.title,
                    subtitle,
                    icon_name,
                    hit,
                    when(hit.when) if hit.kind in ("interaction", "note", "deal") else "",
                )
        self.select_first()
        self.results_shown.emit(results)

    def open_hit(self, hit: SearchHit) -> None:
        self.activated.emit(hit)


def _score(query: str, text: str) -> float:
    """Palette matching: all typed words found in order-insensitive prefix/substring."""
    text = text.lower()
    score = 0.0
    for word in query.lower().split():
        position = text.find(word)
        if position < 0:
            # letters in order (fuzzy)
            cursor = 0
            for letter in word:
                cursor = text.find(letter, cursor) + 1
                if cursor == 0:
                    return -1
            score += 0.2
            continue
        score += 2.0 if position == 0 or text[position - 1] == " " else 1.0
    return score


class CommandPalette(_Overlay):
    """Every action of the app, searchable by name."""

    def __init__(self, parent: QWidget, commands: Callable[[], list[Command]]) -> None:
        super().__init__(parent, "Type a command…  (Ctrl+Shift+P)", width=560)
        self._commands = commands
        self.input.textChanged.connect(self._filter)
        self.activated.connect(self._run)

    def open(self, text: str = "") -> None:
        super().open(text)
        self._filter(self.input.text())

    def _filter(self, text: str) -> None:
        self.results.clear()
        ranked = []
        for order, command in enumerate(self._commands()):
            haystack = " ".join((command.title, command.group, *command.keywords))
            score = _score(text, haystack) if text.strip() else 0.0
            if score >= 0:
                ranked.append((-score, order, command))
        ranked.sort(key=lambda r: (r[0], r[1]))
        for _, _, command in ranked:
            self.add_row(command.title, "", command.icon or "command", command, command.shortcut)
        self.select_first()

    def _run(self, command: Command) -> None:
        command.run()
