"""One visual style: palette tokens, the style sheet, and the icons drawn for Relbook.

Light or dark follows the system (``QStyleHints.colorScheme``); ``RELBOOK_THEME=dark``
or ``light`` forces one (screenshots). Icons are stroke SVGs in ``resources/icons``
drawn with ``currentColor``; they are tinted with the theme's colours and rendered at the
screen's device-pixel ratio, so they stay crisp on high-DPI screens.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from relbook.ui.qt import (
    QApplication,
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QRectF,
    QSize,
    Qt,
)


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    surface: str
    surface_alt: str
    sidebar: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    accent_soft: str
    hover: str
    danger: str
    success: str
    warning: str
    selection: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Theme(
    name="light",
    window="#f5f6f8",
    surface="#ffffff",
    surface_alt="#f9fafb",
    sidebar="#eceef3",
    text="#1b2130",
    muted="#667085",
    border="#e1e4ea",
    accent="#4f5bd5",
    accent_text="#ffffff",
    accent_soft="#e7e9fb",
    hover="#e3e6ee",
    danger="#c4320a",
    success="#087443",
    warning="#b54708",
    selection="#dfe3fb",
)

DARK = Theme(
    name="dark",
    window="#15171c",
    surface="#1d2027",
    surface_alt="#22262e",
    sidebar="#111318",
    text="#e7e9ef",
    muted="#98a2b3",
    border="#2d323c",
    accent="#7d87ff",
    accent_text="#0f1117",
    accent_soft="#272c4f",
    hover="#262a33",
    danger="#f97066",
    success="#47cd89",
    warning="#fdb022",
    selection="#2f3562",
)

_current: list[Theme] = [LIGHT]


def theme() -> Theme:
    return _current[0]


def system_prefers_dark() -> bool:
    forced = os.environ.get("RELBOOK_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def palette_for(t: Theme) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor(t.window))
    p.setColor(role.WindowText, QColor(t.text))
    p.setColor(role.Base, QColor(t.surface))
    p.setColor(role.AlternateBase, QColor(t.surface_alt))
    p.setColor(role.Text, QColor(t.text))
    p.setColor(role.Button, QColor(t.surface))
    p.setColor(role.ButtonText, QColor(t.text))
    p.setColor(role.Highlight, QColor(t.accent))
    p.setColor(role.HighlightedText, QColor(t.accent_text))
    p.setColor(role.ToolTipBase, QColor(t.surface))
    p.setColor(role.ToolTipText, QColor(t.text))
    p.setColor(role.PlaceholderText, QColor(t.muted))
    p.setColor(role.Link, QColor(t.accent))
    p.setColor(role.Mid, QColor(t.border))
    p.setColor(role.Midlight, QColor(t.border))
    p.setColor(role.Light, QColor(t.surface))
    p.setColor(role.Dark, QColor(t.border))
    for group in (QPalette.ColorGroup.Disabled,):
        p.setColor(group, role.Text, QColor(t.muted))
        p.setColor(group, role.WindowText, QColor(t.muted))
        p.setColor(group, role.ButtonText, QColor(t.muted))
    return p


def style_sheet(t: Theme) -> str:
    style_dir = resources_dir() / "style"
    template = (style_dir / "relbook.qss").read_text(encoding="utf-8")
    # Style sheets take file URLs with forward slashes on every platform.
    template = template.replace("@style_dir", style_dir.as_posix())
    for key, value in sorted(t.__dict__.items(), key=lambda kv: -len(kv[0])):
        template = template.replace("@" + key, str(value))
    return template


def apply_theme(app: QApplication, dark: bool | None = None) -> Theme:
    t = DARK if (system_prefers_dark() if dark is None else dark) else LIGHT
    _current[0] = t
    app.setStyle("Fusion")
    app.setPalette(palette_for(t))
    app.setStyleSheet(style_sheet(t))
    icon.cache_clear()
    return t


def follow_system_theme(app: QApplication, on_change: object = None) -> None:
    """Re-apply the theme when the system switches between light and dark.

    Widgets that hold pixmaps drawn in the old colours (icons, avatars) are rebuilt by
    their top-level window's ``theme_changed()``. Connected once per application.
    """
    if app.property("relbook_follows_theme"):
        return
    app.setProperty("relbook_follows_theme", True)

    def changed(_scheme: object) -> None:
        before = theme()
        after = apply_theme(app)
        if after is before:
            return
        for widget in QApplication.topLevelWidgets():
            rebuild = getattr(widget, "theme_changed", None)
            if callable(rebuild):
                rebuild()
        if callable(on_change):
            on_change()

    QGuiApplication.styleHints().colorSchemeChanged.connect(changed)


@cache
def _svg_text(name: str) -> str:
    path = resources_dir() / "icons" / f"{name}.svg"
    return path.read_text(encoding="utf-8")


@cache
def icon(name: str, color: str = "", size: int = 20) -> QIcon:
    """A theme-tinted icon; ``color`` is a theme token (``accent``) or a #hex colour."""
    from PySide6.QtSvg import QSvgRenderer

    t = theme()
    tint = getattr(t, color, color) if color else t.text
    result = QIcon()
    try:
        text = _svg_text(name)
    except OSError:
        return result
    for mode, mode_tint in ((QIcon.Mode.Normal, tint), (QIcon.Mode.Disabled, t.muted)):
        data = text.replace("currentColor", mode_tint).encode()
        renderer = QSvgRenderer(data)
        for scale in (1, 2):
            pixmap = QPixmap(QSize(size * scale, size * scale))
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, size * scale, size * scale))
            painter.end()
            pixmap.setDevicePixelRatio(scale)
            result.addPixmap(pixmap, mode)
    # Selected rows in the sidebar use the accent colour.
    data = text.replace("currentColor", t.accent).encode()
    renderer = QSvgRenderer(data)
    for scale in (1, 2):
        pixmap = QPixmap(QSize(size * scale, size * scale))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size * scale, size * scale))
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        result.addPixmap(pixmap, QIcon.Mode.Selected)
    return result


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "relbook.svg"))


def initials_pixmap(text: str, size: int = 40, seed: str = "") -> QPixmap:
    """A round avatar with initials, its colour derived from the name (stable)."""
    from relbook.ui.qt import QFont

    words = [w for w in text.replace("@", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper() or "?"
    hues = (228, 262, 200, 170, 28, 340, 290, 145)
    hue = hues[sum(map(ord, seed or text)) % len(hues)]
    dpr = 2
    pixmap = QPixmap(size * dpr, size * dpr)
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    bg = QColor.fromHsl(hue, 150, 92 if theme().dark else 225)
    fg = QColor.fromHsl(hue, 160, 210 if theme().dark else 80)
    painter.setBrush(bg)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size, size)
    font = QFont(QApplication.font())
    font.setPixelSize(int(size * 0.38))
    font.setWeight(QFont.Weight.DemiBold)
    painter.setFont(font)
    painter.setPen(fg)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letters)
    painter.end()
    return pixmap
