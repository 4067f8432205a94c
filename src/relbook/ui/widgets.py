"""Small building blocks every screen uses, so they all look alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from relbook.ui.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPoint,
    QPushButton,
    QRect,
    QSize,
    QSizePolicy,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import icon, initials_pixmap

# The main window's sidebar (pages estimate their width from the window's before layout).
SIDEBAR_WIDTH = 212


def label(
    text: str = "", role: str = "", *, wrap: bool = False, selectable: bool = False
) -> QLabel:
    widget = QLabel(text)
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    if selectable:
        widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


def button(
    text: str,
    on_click: Callable[[], object] | None = None,
    *,
    kind: str = "",
    icon_name: str = "",
    tip: str = "",
) -> QPushButton:
    widget = QPushButton(text)
    if kind:
        widget.setProperty("kind", kind)
    if icon_name:
        widget.setIcon(icon(icon_name, "accent_text" if kind == "primary" else ""))
    if tip:
        widget.setToolTip(tip)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if on_click is not None:
        widget.clicked.connect(lambda _=False: on_click())
    return widget


def tool(icon_name: str, tip: str, on_click: Callable[[], object] | None = None) -> QToolButton:
    widget = QToolButton()
    widget.setIcon(icon(icon_name, "muted"))
    widget.setToolTip(tip)
    widget.setAutoRaise(True)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if on_click is not None:
        widget.clicked.connect(lambda _=False: on_click())
    return widget


def icon_label(name: str, size: int = 18, color: str = "muted") -> QLabel:
    widget = QLabel()
    widget.setPixmap(icon(name, color, size).pixmap(QSize(size, size)))
    widget.setFixedSize(size, size)
    return widget


def avatar(name: str, size: int = 40, seed: str = "") -> QLabel:
    widget = QLabel()
    widget.setPixmap(initials_pixmap(name, size, seed))
    widget.setFixedSize(size, size)
    return widget


def chip(text: str, role: str = "chip") -> QLabel:
    widget = label(text, role)
    widget.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return widget


def separator() -> QFrame:
    line = QFrame()
    line.setProperty("role", "separator")
    line.setFrameShape(QFrame.Shape.NoFrame)
    return line


def clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())


class Card(QFrame):
    """A rounded surface with an optional title row."""

    def __init__(
        self, title: str = "", *, icon_name: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(16, 14, 16, 14)
        self.outer.setSpacing(8)
        self.header = QHBoxLayout()
        self.header.setSpacing(8)
        self.title_label: QLabel | None = None
        if title:
            if icon_name:
                self.header.addWidget(icon_label(icon_name, 18, "accent"))
            self.title_label = label(title, "h3")
            self.header.addWidget(self.title_label)
            self.header.addStretch(1)
            self.outer.addLayout(self.header)
        self.body = QVBoxLayout()
        self.body.setSpacing(6)
        self.outer.addLayout(self.body)

    def set_title(self, text: str) -> None:
        if self.title_label is not None:
            self.title_label.setText(text)


class EmptyState(QWidget):
    """An icon, a heading and a short text, centred; the text wraps at a readable width.

    The labels fill the width (no centring alignment in the layout, which would give a
    wrapped label its one-line size hint and clip the second line); their text is centred.
    """

    def __init__(self, icon_name: str, title: str, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 18, 12, 18)
        row.addStretch(1)
        column_holder = QWidget()
        column_holder.setMaximumWidth(440)
        column_holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(column_holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addStretch(1)
        image = icon_label(icon_name, 28, "muted")
        layout.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
        self.heading = label(title, "h3", wrap=True)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.heading)
        self.body: QLabel | None = None
        if text:
            self.body = label(text, "muted", wrap=True)
            self.body.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(self.body)
        layout.addStretch(1)
        row.addWidget(column_holder, 100)
        row.addStretch(1)


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" when it does not fit (never clipped).

    With ``clickable`` it reads as a link (accent colour, pointing hand, underline on
    hover) and emits ``clicked``. The full text is the tooltip when it is cut.
    """

    clicked = Signal()

    def __init__(
        self,
        text: str = "",
        role: str = "",
        *,
        clickable: bool = False,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__()
        if role:
            self.setProperty("role", role)
        if clickable:
            self.setProperty("link", True)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._full = ""
        self._mode = mode
        self._clickable = clickable
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(24)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = " ".join(text.split())
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 2, hint.height())

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width() - 2)
        shown = self.fontMetrics().elidedText(self._full, self._mode, width)
        QLabel.setText(self, shown)
        self.setToolTip(self._full if shown != self._full else "")

    def mouseReleaseEvent(self, event: object) -> None:
        if self._clickable and event.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            self.clicked.emit()
            return
        super().mouseReleaseEvent(event)  # type: ignore[arg-type]

    def enterEvent(self, event: object) -> None:
        if self._clickable:
            font = self.font()
            font.setUnderline(True)
            self.setFont(font)
        super().enterEvent(event)  # type: ignore[arg-type]

    def leaveEvent(self, event: object) -> None:
        if self._clickable:
            font = self.font()
            font.setUnderline(False)
            self.setFont(font)
        super().leaveEvent(event)  # type: ignore[arg-type]


class FlowLayout(QLayout):
    """Lays widgets left to right, wrapping (tags, chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._layout(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._layout(rect, apply=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _layout(self, rect: QRect, *, apply: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() and line > 0:
                x = rect.x()
                y += line + self._spacing
                line = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


def chips(texts: Iterable[str], role: str = "chip") -> QWidget:
    holder = QWidget()
    flow = FlowLayout(holder)
    for text in texts:
        flow.addWidget(chip(text, role))
    return holder


class Toast(QFrame):
    """A short message at the bottom of the window, with an optional action (Undo)."""

    action_clicked = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "toast")
        self.setObjectName("toast")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 10, 8)
        layout.setSpacing(14)
        self.text = QLabel()
        layout.addWidget(self.text)
        self.action = QPushButton()
        self.action.setCursor(Qt.CursorShape.PointingHandCursor)
        self.action.clicked.connect(self._clicked)
        layout.addWidget(self.action)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self._callback: Callable[[], object] | None = None
        self.hide()

    def show_message(
        self,
        text: str,
        action: str = "",
        callback: Callable[[], object] | None = None,
        ms: int = 6000,
    ) -> None:
        self.text.setText(text)
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self._callback = callback
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        self._timer.start(ms)

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self.adjustSize()
        x = (parent.width() - self.width()) // 2
        y = parent.height() - self.height() - 36
        self.move(max(0, x), max(0, y))

    def _clicked(self) -> None:
        self.hide()
        if self._callback is not None:
            self._callback()
