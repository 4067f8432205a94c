"""QtCharts builders for the Insights page, in the app's theme colours.

QtCharts lives in PySide6-Addons and is imported here only (the Insights page loads it
the first time it is shown; nothing on the start-up path does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QHorizontalStackedBarSeries,
    QLineSeries,
    QScatterSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins
from PySide6.QtWidgets import QGraphicsSimpleTextItem, QToolTip

from relbook.ui.qt import QColor, QCursor, QFont, QPainter, QPen, QPointF, Qt
from relbook.ui.style import theme

# Series colours: the accent first, then distinct, colour-blind-friendly hues.
PALETTE = ("#4f5bd5", "#12b5a6", "#f79009", "#e04f8c", "#7a5af8", "#669f2a", "#98a2b3")


def colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])


def new_chart(title: str = "") -> QChart:
    t = theme()
    chart = QChart()
    chart.setTitle(title)
    chart.setBackgroundBrush(QColor(t.surface))
    chart.setBackgroundRoundness(6)
    chart.setPlotAreaBackgroundVisible(False)
    chart.setTitleBrush(QColor(t.text))
    font = QFont()
    font.setPointSize(11)
    font.setBold(True)
    chart.setTitleFont(font)
    chart.legend().setLabelColor(QColor(t.text))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(8, 8, 8, 8))
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    return chart


def chart_view(chart: QChart) -> QChartView:
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(320)
    return view


def _style_axis(axis: QValueAxis | QBarCategoryAxis | QCategoryAxis, title: str = "") -> None:
    t = theme()
    axis.setLabelsColor(QColor(t.muted))
    axis.setTitleBrush(QColor(t.muted))
    axis.setGridLineColor(QColor(t.border))
    axis.setLinePenColor(QColor(t.border))
    if title:
        axis.setTitleText(title)


def value_axis(
    top: float, title: str = "", label_format: str = "%.0f", *, integer: bool = False
) -> QValueAxis:
    """A 0-based axis; ``integer`` axes (counts) tick on whole numbers only."""
    axis = QValueAxis()
    if integer:
        step = _nice_step(max(1.0, top) / 5)
        axis.setTickType(QValueAxis.TickType.TicksDynamic)
        axis.setTickAnchor(0)
        axis.setTickInterval(step)
        axis.setRange(0, math.ceil(max(1.0, top) / step) * step)
        axis.setLabelFormat("%.0f")
    else:
        axis.setRange(0, max(1.0, top) * 1.08)
        axis.setLabelFormat(label_format)
        axis.applyNiceNumbers()
    _style_axis(axis, title)
    return axis


def _nice_step(raw: float) -> int:
    """1, 2, 5, 10, 20, 50 … at least ``raw``."""
    magnitude = 10 ** max(0, math.floor(math.log10(max(raw, 1.0))))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


def bar_chart(
    title: str,
    categories: Sequence[str],
    sets: Sequence[tuple[str, Sequence[float]]],
    *,
    value_title: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    integer: bool = False,
    colours: Sequence[QColor] = (),
) -> QChart:
    """Grouped (or stacked) bars: one QBarSet per (name, values), in ``colours`` or the
    palette's."""
    chart = new_chart(title)
    if horizontal:
        series = QHorizontalStackedBarSeries() if stacked else QHorizontalBarSeries()
    else:
        series = QStackedBarSeries() if stacked else QBarSeries()
    top = 0.0
    totals = [0.0] * len(categories)
    for index, (name, values) in enumerate(sets):
        bar_set = QBarSet(name)
        bar_set.append([float(v) for v in values])
        tint = colours[index] if index < len(colours) else colour(index)
        bar_set.setColor(tint)
        bar_set.setBorderColor(tint)
        series.append(bar_set)
        for i, v in enumerate(values):
            totals[i] += float(v)
        top = max(top, *[float(v) for v in values]) if values else top
    if stacked:
        top = max(totals) if totals else 0.0
    if len(categories) <= 3:  # a lone bar should not fill the whole plot
        series.setBarWidth(0.35)
    chart.addSeries(series)
    categories_axis = QBarCategoryAxis()
    categories_axis.append(list(categories))
    _style_axis(categories_axis)
    values_axis = value_axis(top, value_title, integer=integer)
    if horizontal:
        chart.addAxis(categories_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignBottom)
    else:
        chart.addAxis(categories_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(categories_axis)
    series.attachAxis(values_axis)
    chart.legend().setVisible(len(sets) > 1)
    return chart


# Ticks of a log10(1 + x) axis: spreads a book's few large accounts and many small ones.
LOG_TICKS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)


def log1p(value: float) -> float:
    return math.log10(1 + max(0.0, value))


def log_axis(top: float, title: str, unit: Callable[[float], str]) -> QCategoryAxis:
    """An axis in log10(1 + value) positions, labelled in the values themselves."""
    axis = QCategoryAxis()
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    axis.setStartValue(-0.04)
    ticks = [t for t in LOG_TICKS if t < top] or [0]
    ticks.append(next((t for t in LOG_TICKS if t >= top), LOG_TICKS[-1]))
    for tick in ticks:
        axis.append(unit(tick), log1p(tick))
    axis.setRange(-0.04, log1p(ticks[-1]) * 1.02)
    _style_axis(axis, title)
    return axis


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    big: bool  # drawn larger (e.g. a high current value)
    name: str


def scatter_chart(
    title: str,
    groups: Sequence[tuple[str, Sequence[ScatterPoint], QColor]],
    *,
    x_title: str,
    y_title: str,
    x_unit: Callable[[float], str],
    y_unit: Callable[[float], str],
    x_split: float,
    y_split: float,
    quadrant_labels: tuple[str, str, str, str] = ("", "", "", ""),
) -> QChart:
    """Points per named group on log10(1 + value) axes, big and small markers, dashed
    quadrant lines at (x_split, y_split) and a label in each quadrant (top-left,
    top-right, bottom-left, bottom-right)."""
    t = theme()
    chart = new_chart(title)
    xs = [p.x for _, points, _ in groups for p in points] + [x_split, 1.0]
    ys = [p.y for _, points, _ in groups for p in points] + [y_split, 1.0]
    x_axis = log_axis(max(xs), x_title, x_unit)
    y_axis = log_axis(max(ys), y_title, y_unit)
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    for name, points, tint in groups:
        for big in (False, True):
            series = QScatterSeries()
            series.setName(f"{name} ({len(points)})")
            series.setMarkerSize(16 if big else 10)
            series.setColor(tint)
            series.setBorderColor(QColor(t.surface))
            names: dict[tuple[float, float], list[str]] = {}
            for p in points:
                if p.big == big:
                    at = (log1p(p.x), log1p(p.y))
                    series.append(*at)
                    names.setdefault((round(at[0], 6), round(at[1], 6)), []).append(p.name)
            series.hovered.connect(
                lambda point, state, names=names: _point_tip(point, state, names)
            )
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
            if big:  # one legend entry per group
                chart.legend().markers(series)[0].setVisible(False)
    pen = QPen(QColor(t.muted))
    pen.setStyle(Qt.PenStyle.DashLine)
    pen.setWidthF(1.2)
    sx, sy = log1p(x_split), log1p(y_split)
    for line in (
        [(sx, y_axis.min()), (sx, y_axis.max())],
        [(x_axis.min(), sy), (x_axis.max(), sy)],
    ):
        series = QLineSeries()
        series.setPen(pen)
        series.append([QPointF(x, y) for x, y in line])
        chart.addSeries(series)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
        chart.legend().markers(series)[0].setVisible(False)
    if any(quadrant_labels):
        _quadrant_labels(chart, (sx, sy), quadrant_labels)
    return chart


def _point_tip(point: QPointF, state: bool, names: dict[tuple[float, float], list[str]]) -> None:
    """The names behind a hovered dot."""
    found = names.get((round(point.x(), 6), round(point.y(), 6)), [])
    if state and found:
        QToolTip.showText(QCursor.pos(), "\n".join(found))
    else:
        QToolTip.hideText()


def _quadrant_labels(
    chart: QChart,
    split: tuple[float, float],
    texts: tuple[str, str, str, str],
) -> None:
    """Quadrant names in the corners of each quadrant, kept in place as the plot resizes."""
    t = theme()
    font = QFont()
    font.setPointSize(9)
    font.setBold(True)
    items = []
    for text in texts:
        item = QGraphicsSimpleTextItem(text, chart)
        item.setBrush(QColor(t.muted))
        item.setFont(font)
        item.setZValue(10)
        items.append(item)

    def place() -> None:
        area = chart.plotArea()
        middle = chart.mapToPosition(QPointF(*split))
        left, right = area.left() + 8, area.right() - 8
        top, bottom = area.top() + 6, area.bottom() - 22
        mx = min(max(middle.x(), left), right)
        my = min(max(middle.y(), top), bottom)
        corners = ((left, top), (mx + 8, top), (left, my + 6), (mx + 8, my + 6))
        for index, (item, (x, y)) in enumerate(zip(items, corners, strict=True)):
            # right-hand quadrants: keep the label inside the plot
            inside = min(x, right - item.boundingRect().width()) if index % 2 else x
            item.setPos(inside, y)
            item.setVisible(bool(item.text()) and area.width() > 0)

    chart.plotAreaChanged.connect(lambda _area: place())
    place()


def heat_chart(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int]],
    *,
    levels: int = 5,
) -> QChart:
    """A heat map in QtCharts: each row is a horizontal stack of equal cells, one per
    column, coloured by intensity (one bar set per column and level; a cell is 1 in the
    set of its level and 0 elsewhere). The busiest row is on top."""
    t = theme()
    chart = new_chart(title)
    highest = max((v for row in values for v in row), default=0)
    base, accent = QColor(t.accent_soft), QColor(t.accent)
    tints = [QColor(t.surface_alt)]
    for level in range(levels):
        share = (level + 1) / levels
        tints.append(
            QColor(
                round(base.red() + (accent.red() - base.red()) * share),
                round(base.green() + (accent.green() - base.green()) * share),
                round(base.blue() + (accent.blue() - base.blue()) * share),
            )
        )

    def level_of(value: int) -> int:
        if value <= 0 or highest <= 0:
            return 0
        return 1 + min(levels - 1, int(value / highest * levels - 1e-9))

    def level_name(level: int) -> str:
        if level == 0:
            return "none"
        low = round(highest * (level - 1) / levels) + 1
        high = round(highest * level / levels)
        return f"{low}–{high}" if high > low else f"{high}"

    series = QHorizontalStackedBarSeries()
    series.setBarWidth(1.0)
    ordered = list(range(len(rows)))[::-1]  # categories run bottom to top
    legend_sets: list[QBarSet] = []
    for c in range(len(columns)):
        for level in range(levels + 1):
            bar_set = QBarSet(level_name(level))
            bar_set.append([1.0 if level_of(values[r][c]) == level else 0.0 for r in ordered])
            bar_set.setColor(tints[level])
            bar_set.setBorderColor(QColor(t.surface))
            series.append(bar_set)
            if c == 0 and level:
                legend_sets.append(bar_set)
    chart.addSeries(series)
    accounts = QBarCategoryAxis()
    accounts.append(_unique([rows[r] for r in ordered]))
    _style_axis(accounts)
    accounts.setGridLineVisible(False)
    months = QCategoryAxis()
    months.setRange(0, max(1, len(columns)))
    months.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionCenter)
    for c, name in enumerate(_unique(list(columns))):
        months.append(name, c + 1)
    _style_axis(months)
    months.setGridLineVisible(False)
    chart.addAxis(accounts, Qt.AlignmentFlag.AlignLeft)
    chart.addAxis(months, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(accounts)
    series.attachAxis(months)
    legend = chart.legend()
    for marker in legend.markers(series):
        marker.setVisible(marker.barset() in legend_sets)
    return chart


def _unique(labels: list[str]) -> list[str]:
    """Category axes need distinct labels: repeat names get invisible padding."""
    seen: dict[str, int] = {}
    result = []
    for text in labels:
        count = seen.get(text, 0)
        seen[text] = count + 1
        result.append(text + "\u200b" * count)
    return result
