"""QtCharts builders for the Insights page, in the app's theme colours.

QtCharts lives in PySide6-Addons and is imported here only (the Insights page loads it
the first time it is shown; nothing on the start-up path does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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

from relbook.ui.qt import QColor, QFont, QPainter, QPen, QPointF, Qt
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
) -> QChart:
    """Grouped (or stacked) bars: one QBarSet per (name, values)."""
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
        bar_set.setColor(colour(index))
        bar_set.setBorderColor(colour(index))
        series.append(bar_set)
        for i, v in enumerate(values):
            totals[i] += float(v)
        top = max(top, *[float(v) for v in values]) if values else top
    if stacked:
        top = max(totals) if totals else 0.0
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


def scatter_chart(
    title: str,
    groups: Sequence[tuple[str, Sequence[tuple[float, float]], QColor]],
    *,
    x_title: str,
    y_title: str,
    x_split: float,
    y_split: float,
    quadrant_labels: Sequence[str] = (),
) -> QChart:
    """Points per named group, with dashed quadrant lines at (x_split, y_split)."""
    t = theme()
    chart = new_chart(title)
    xs = [x for _, points, _ in groups for x, _ in points] + [x_split]
    ys = [y for _, points, _ in groups for _, y in points] + [y_split]
    x_axis = value_axis(max(xs) if xs else 1.0, x_title, "%.0f")
    y_axis = value_axis(max(ys) if ys else 1.0, y_title, "%.0f")
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    for name, points, tint in groups:
        series = QScatterSeries()
        series.setName(f"{name} ({len(points)})")
        series.setMarkerSize(11)
        series.setColor(tint)
        series.setBorderColor(QColor(t.surface))
        for x, y in points:
            series.append(x, y)
        chart.addSeries(series)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
    pen = QPen(QColor(t.muted))
    pen.setStyle(Qt.PenStyle.DashLine)
    pen.setWidthF(1.2)
    for line in (
        [(x_split, 0.0), (x_split, y_axis.max())],
        [(0.0, y_split), (x_axis.max(), y_split)],
    ):
        series = QLineSeries()
        series.setPen(pen)
        series.append([QPointF(x, y) for x, y in line])
        chart.addSeries(series)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
        chart.legend().markers(series)[0].setVisible(False)
    return chart


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
