"""Insights: whom to contact and why (next contacts, keep in touch, going cold, keep
warm), then pipeline, forecast, win/loss, value × effort segments, feedback themes,
competitors and the account heat map — each chart also as a table of its numbers.

All numbers come from ``services.insight`` in one background read; the formulas are in
the README ("Insight: what Relbook tells you") and under each chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relbook.domain.insight_segments import CLUSTER_ADVICE, Cluster
from relbook.domain.money import from_minor
from relbook.ui.context import Refresher
from relbook.ui.fmt import money, plural, when
from relbook.ui.insights.charts import (
    ScatterPoint,
    bar_chart,
    chart_view,
    colour,
    heat_chart,
    new_chart,
    scatter_chart,
)
from relbook.ui.insights.lists import RelationshipsPanel
from relbook.ui.insights.tables import (
    ID_ROLE,
    Column,
    Table,
    TableModel,
    copy_table,
    table_view,
)
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QButtonGroup,
    QColor,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QModelIndex,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import EmptyState, button, label

if TYPE_CHECKING:
    from PySide6.QtCharts import QChart

    from relbook.services.context import Services
    from relbook.services.insight.feedback import CompetitorRow, FeedbackThemes
    from relbook.services.insight.pipeline import PipelineAnalytics, PipelineRef
    from relbook.services.insight.segments import HeatMap, Segments
    from relbook.ui.context import UiContext

PERIODS = ((6, "Last 6 months"), (12, "Last 12 months"), (24, "Last 24 months"))
CLUSTER_COLOURS = {
    Cluster.INVEST: 0,
    Cluster.DEVELOP: 1,
    Cluster.MAINTAIN: 5,
    Cluster.RETHINK: 3,
    Cluster.NURTURE: 6,
}


@dataclass(frozen=True)
class InsightsData:
    pipelines: list[PipelineRef]
    pipeline: PipelineAnalytics
    segments: Segments
    themes: FeedbackThemes
    competitors: list[CompetitorRow]
    heatmap: HeatMap
    currency: str


def compute(services: Services, pipeline_id: str | None, months: int) -> InsightsData:
    """Everything the page shows (runs on a worker thread)."""
    insight = services.insight
    analytics = insight.pipeline(pipeline_id, months=months)
    return InsightsData(
        pipelines=insight.pipelines(),
        pipeline=analytics,
        segments=insight.segments(months=months),
        themes=insight.feedback_themes(months=months),
        competitors=insight.competitors(months=max(months, 12)),
        heatmap=insight.heatmap(months=months, limit=20),
        currency=insight.currency,
    )


def _k(minor: int, currency: str) -> float:
    """Money in thousands of major units, for chart axes."""
    return float(from_minor(minor, currency)) / 1000


def _thousands(value: float) -> str:
    """An axis label for a value in thousands: 0, 500k, 1M, 2.5M."""
    if value >= 1000:
        return f"{value / 1000:g}M"
    return f"{value:g}k" if value else "0"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


class ChartPanel(QWidget):
    """A chart and the table of its numbers, switchable, with the formula underneath."""

    def __init__(self, explanation: str, extra: list[QWidget] | None = None) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 10, 4, 4)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        self.summary = label("", "h3", wrap=True)
        if extra:  # the summary gets a line of its own above the panel's own controls
            layout.addWidget(self.summary)
            for widget in extra:
                bar.addWidget(widget)
            bar.addStretch(1)
        else:
            bar.addWidget(self.summary, 1)
        self.chart_button = QPushButton("Chart")
        self.table_button = QPushButton("Table")
        group = QButtonGroup(self)
        for index, toggle in enumerate((self.chart_button, self.table_button)):
            toggle.setCheckable(True)
            toggle.setProperty("kind", "chip")
            group.addButton(toggle, index)
            bar.addWidget(toggle)
        self.chart_button.setChecked(True)
        group.idClicked.connect(self.show_page)
        bar.addWidget(
            button(
                "Copy",
                lambda: copy_table(self.model.table),
                icon_name="export",
                tip="Copy the table (tab-separated) to paste in a spreadsheet",
            )
        )
        layout.addLayout(bar)
        self.stack = QStackedWidget()
        self.view = chart_view(new_chart())
        self.chart_page = QStackedWidget()  # the chart, or what to do when it has no data
        self.chart_page.addWidget(self.view)
        self.empty: EmptyState | None = None
        self.model = TableModel()
        self.table = table_view(self.model)
        self.stack.addWidget(self.chart_page)
        self.stack.addWidget(self.table)
        layout.addWidget(self.stack, 1)
        note = label(explanation, "small", wrap=True)
        layout.addWidget(note)

    def show_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        (self.table_button if index else self.chart_button).setChecked(True)

    def set_content(self, chart: QChart, table: Table, summary: str = "", empty: str = "") -> None:
        """Show a chart and its table; ``empty`` (what would fill the chart) replaces a
        chart that has nothing to draw."""
        old = self.view.chart()
        self.view.setChart(chart)
        if old is not None and old is not chart:
            old.deleteLater()
        self.model.set_table(table)
        self.table.resizeColumnsToContents()
        self.summary.setText(summary)
        if self.empty is not None:
            self.chart_page.removeWidget(self.empty)
            self.empty.deleteLater()
            self.empty = None
        if empty:
            self.empty = EmptyState("insights", "Nothing to chart yet", empty)
            self.chart_page.addWidget(self.empty)
            self.chart_page.setCurrentWidget(self.empty)
        else:
            self.chart_page.setCurrentWidget(self.view)

    def is_empty(self) -> bool:
        return self.empty is not None


class InsightsPage(Page):
    spec_id = "insights"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.data: InsightsData | None = None
        self._loaded = False
        self._pipeline_id: str | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 20, 28, 20)
        outer.setSpacing(10)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(label("Insights", "h1"))
        titles.addWidget(
            label(
                "Computed from your mail, meetings and deals — nothing typed. "
                "Switch any chart to the table of its numbers.",
                "muted",
                wrap=True,
            )
        )
        head.addLayout(titles, 1)
        self.pipeline_box = QComboBox()
        self.pipeline_box.setMinimumWidth(160)
        self.pipeline_box.activated.connect(self._pipeline_chosen)
        self.period_box = QComboBox()
        for months, text in PERIODS:
            self.period_box.addItem(text, months)
        self.period_box.setCurrentIndex(1)
        self.period_box.activated.connect(lambda _i: self.load_charts())
        head.addWidget(self.pipeline_box)
        head.addWidget(self.period_box)
        head.addWidget(button("Refresh", self.load, icon_name="sync"))
        outer.addLayout(head)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        outer.addWidget(self.tabs, 1)
        self.relationships = RelationshipsPanel(ctx)
        self.tabs.addTab(self.relationships, "Relationships")
        self.pipeline_panel = ChartPanel(
            "Amount: open deals now in each stage. Weighted: amount × the deal's probability "
            "(its own, else the stage's). Age: days since the deal entered its stage; stuck "
            "past the stage's limit. Conversion: of the deals that entered a stage, the share "
            "that later reached a later stage or won."
        )
        self.forecast_panel = ChartPanel(
            "Open deals by the month of their expected close; weighted = amount × "
            "probability. Deals whose expected close has passed are 'overdue'."
        )
        self.winloss_box = QComboBox()
        self.winloss_box.addItem("By reason", "reason")
        self.winloss_box.addItem("By competitor", "competitor")
        self.winloss_box.activated.connect(lambda _i: self._redraw_winloss())
        self.winloss_panel = ChartPanel(
            "Deals closed in the period, by the reason given when they were won or lost, "
            "and by the competitors listed on them (the table holds both; competitors also "
            "count the open deals they are in).",
            [self.winloss_box],
        )
        self.cluster_box = QComboBox()
        for cluster in Cluster:
            self.cluster_box.addItem(cluster.value.capitalize(), cluster.value)
        self.segment_panel = ChartPanel(
            "Effort: hours spent in the period — meeting and call minutes plus 5 minutes per "
            "e-mail. Headroom: potential − current value. Both axes are on a log scale; the "
            "dashed lines are the medians; large dots have a current value "
            "at or above the median. Clusters: invest (upside, little effort yet), develop "
            "(upside, worked on), maintain (valuable, little upside), rethink (effort without "
            "value or upside), nurture (the rest). Save or export the chosen cluster.",
            [
                self.cluster_box,
                button("Save as target list…", self._save_segment, icon_name="tag"),
                button("Export…", self._export_segment, icon_name="export"),
            ],
        )
        self.segment_panel.table.doubleClicked.connect(self._open_row)
        self.feedback_panel = ChartPanel(
            "Feedback marked in notes and messages, by topic and month; the table groups it "
            "by topic and subject across customers (customers = distinct companies)."
        )
        self.competitor_panel = ChartPanel(
            "Mentions: competitor feedback naming them. Lost to / open: deals that list them. "
            "Reasons: what the lost deals said."
        )
        self.heat_panel = ChartPanel(
            "Touches (e-mails, meetings, calls …) per account and month, for the busiest "
            "accounts of the period."
        )
        self.heat_panel.table.doubleClicked.connect(self._open_row)
        for panel, title in (
            (self.pipeline_panel, "Pipeline"),
            (self.forecast_panel, "Forecast"),
            (self.winloss_panel, "Win / loss"),
            (self.segment_panel, "Value × effort"),
            (self.feedback_panel, "Feedback themes"),
            (self.competitor_panel, "Competitors"),
            (self.heat_panel, "Account activity"),
        ):
            self.tabs.addTab(panel, title)
        Refresher(
            ctx,
            ("deal", "interaction", "feedback", "company", "stage", "pipeline"),
            self.load_charts,
            self,
        )  # the Relationships tab refreshes itself (people, settings…)
        self.load()

    # ------------------------------------------------------------------ data
    @property
    def months(self) -> int:
        return int(self.period_box.currentData() or 12)

    def load(self) -> None:
        self.relationships.load()
        self.load_charts()

    def load_charts(self) -> None:
        services, pipeline_id, months = self.ctx.services, self._pipeline_id, self.months
        self.ctx.read(
            lambda: compute(services, pipeline_id, months),
            self._show,
            owner=self,
            key=f"insights-{id(self)}",
        )

    def activated(self) -> None:
        if self._loaded:
            self.load()

    def is_loaded(self) -> bool:
        return self._loaded and self.relationships.is_loaded()

    def commands(self) -> list[Command]:
        return [
            Command(
                "insights.table",
                "Insights: show the current chart as a table",
                lambda: self._show_current(1),
                group="Insights",
            ),
            Command(
                "insights.chart",
                "Insights: show the current chart",
                lambda: self._show_current(0),
                group="Insights",
            ),
            Command(
                "insights.relationships",
                "Insights: whom to contact next",
                lambda: self.tabs.setCurrentWidget(self.relationships),
                group="Insights",
            ),
            Command("insights.refresh", "Insights: refresh", self.load, group="Insights"),
        ]

    def _show_current(self, index: int) -> None:
        widget = self.tabs.currentWidget()
        if isinstance(widget, ChartPanel):
            widget.show_page(index)

    def _pipeline_chosen(self, index: int) -> None:
        self._pipeline_id = self.pipeline_box.itemData(index)
        self.load_charts()

    def _show(self, data: InsightsData) -> None:
        self.data = data
        self.pipeline_box.blockSignals(True)
        self.pipeline_box.clear()
        for ref in data.pipelines:
            self.pipeline_box.addItem(ref.name, ref.id)
        self.pipeline_box.setCurrentIndex(
            max(0, self.pipeline_box.findData(data.pipeline.pipeline.id))
        )
        self.pipeline_box.blockSignals(False)
        self.pipeline_box.setVisible(len(data.pipelines) > 1)
        self._show_pipeline(data)
        self._show_forecast(data)
        self._show_winloss(data)
        self._show_segments(data)
        self._show_feedback(data)
        self._show_competitors(data)
        self._show_heat(data)
        self._loaded = True

    # ---------------------------------------------------------------- tabs
    def _show_pipeline(self, data: InsightsData) -> None:
        p, cur = data.pipeline, data.currency
        open_stages = [s for s in p.stages if s.kind == "open"]
        chart = bar_chart(
            f"{p.pipeline.name}: open amount per stage",
            [s.name for s in open_stages],
            [
                ("Amount", [_k(s.amount_minor, cur) for s in open_stages]),
                ("Weighted", [_k(s.weighted_minor, cur) for s in open_stages]),
            ],
            value_title=f"thousand {cur}",
        )
        conversion = {c.stage_id: c for c in p.conversion}
        table = Table(
            [
                Column("Stage"),
                Column("Kind"),
                Column("Deals", True),
                Column("Amount", True),
                Column("Weighted", True),
                Column("Avg days", True, "Average days in the stage (open deals)"),
                Column("Median days", True),
                Column("Max days", True),
                Column("Stuck", True, "Open deals past the stage's limit"),
                Column("Entered", True, "Deals that ever entered the stage"),
                Column("Converted", True),
                Column("Conversion", True),
            ]
        )
        for s in p.stages:
            c = conversion.get(s.stage_id)
            table.add(
                [
                    s.name,
                    s.kind,
                    s.deal_count,
                    money(s.amount_minor, cur),
                    money(s.weighted_minor, cur) if s.kind == "open" else "",
                    _days(s.avg_days),
                    _days(s.median_days),
                    _days(s.max_days),
                    s.stuck_count if s.kind == "open" else "",
                    c.entered if c else "",
                    c.converted if c else "",
                    _pct(c.rate) if c else "",
                ],
                keys=[
                    s.position,
                    s.kind,
                    s.deal_count,
                    s.amount_minor,
                    s.weighted_minor,
                    s.avg_days,
                    s.median_days,
                    s.max_days,
                    s.stuck_count,
                    c.entered if c else None,
                    c.converted if c else None,
                    c.rate if c else None,
                ],
            )
        stuck = sum(s.stuck_count for s in open_stages)
        summary = (
            f"Open {money(p.open_amount_minor, cur, compact=True)} in "
            f"{sum(s.deal_count for s in open_stages)} deals · weighted "
            f"{money(p.weighted_minor, cur, compact=True)} · {stuck} stuck · win rate "
            f"{_pct(p.win_rate) or '—'} ({p.won_count} won, {p.lost_count} lost)"
        )
        self.pipeline_panel.set_content(
            chart,
            table,
            summary,
            ""
            if any(s.deal_count for s in open_stages)
            else "No open deals in this pipeline. Deals you add show here by stage, with "
            "their weighted amount and how long they have sat there.",
        )

    def _show_forecast(self, data: InsightsData) -> None:
        p, cur = data.pipeline, data.currency
        months = list(p.forecast)
        chart = bar_chart(
            "Forecast by expected close",
            [f.month for f in months],
            [  # the pipeline chart's order and colours
                ("Amount", [_k(f.amount_minor, cur) for f in months]),
                ("Weighted", [_k(f.weighted_minor, cur) for f in months]),
            ],
            value_title=f"thousand {cur}",
        )
        table = Table(
            [
                Column("Month"),
                Column("Deals", True),
                Column("Amount", True),
                Column("Weighted", True),
            ]
        )
        for f in months:
            table.add(
                [f.month, f.deal_count, money(f.amount_minor, cur), money(f.weighted_minor, cur)],
                keys=[f.month, f.deal_count, f.amount_minor, f.weighted_minor],
            )
        ahead = sum(f.weighted_minor for f in months if f.month[:1].isdigit())
        self.forecast_panel.set_content(
            chart,
            table,
            f"Weighted forecast ahead: {money(ahead, cur, compact=True)}",
            ""
            if any(f.deal_count for f in months)
            else "No open deals to forecast. Give deals an expected close date and they "
            "show here by month, weighted by their probability.",
        )

    def _winloss_chart(self, data: InsightsData) -> tuple[QChart, str]:
        """The chart for the chosen grouping, and what to say when it has nothing."""
        p = data.pipeline
        by = self.winloss_box.currentData() or "reason"
        rows = [
            r
            for r in (p.by_reason if by == "reason" else p.by_competitor)
            if r.won_count + r.lost_count
        ][:12]
        empty = ""
        if not rows:
            empty = (
                "No deals won or lost in the period. When you close a deal, say why: the "
                "reasons add up here."
                if by == "reason"
                else "No deal closed in the period lists a competitor. Name competitors on "
                "your deals to see whom you win and lose against."
            )
        chart = bar_chart(
            f"Closed deals by {by}",
            [r.key[:40] for r in reversed(rows)],
            [
                ("Won", [r.won_count for r in reversed(rows)]),
                ("Lost", [r.lost_count for r in reversed(rows)]),
            ],
            value_title="deals",
            stacked=True,
            horizontal=True,
            integer=True,
            colours=[colour(5), colour(3)],  # won green, lost red
        )
        return chart, empty

    def _redraw_winloss(self) -> None:
        if self.data is not None:
            panel = self.winloss_panel
            chart, empty = self._winloss_chart(self.data)
            panel.set_content(chart, panel.model.table, panel.summary.text(), empty)

    def _show_winloss(self, data: InsightsData) -> None:
        p, cur = data.pipeline, data.currency
        chart, empty = self._winloss_chart(data)
        table = Table(
            [
                Column("By"),
                Column("Reason / competitor"),
                Column("Won", True),
                Column("Lost", True),
                Column("Won amount", True),
                Column("Lost amount", True),
                Column("Open deals", True),
            ]
        )
        for by, rows in (("reason", p.by_reason), ("competitor", p.by_competitor)):
            for r in rows:
                table.add(
                    [
                        by,
                        r.key,
                        r.won_count,
                        r.lost_count,
                        money(r.won_minor, cur),
                        money(r.lost_minor, cur),
                        r.open_count if by == "competitor" else "",
                    ],
                    keys=[
                        by,
                        r.key,
                        r.won_count,
                        r.lost_count,
                        r.won_minor,
                        r.lost_minor,
                        r.open_count,
                    ],
                )
        summary = (
            f"{p.won_count} won ({money(p.won_minor, cur, compact=True)}) · {p.lost_count} lost "
            f"({money(p.lost_minor, cur, compact=True)}) since {when(p.since)}"
        )
        self.winloss_panel.set_content(chart, table, summary, empty)

    def _show_segments(self, data: InsightsData) -> None:
        seg, cur = data.segments, data.currency
        value_line = seg.thresholds.current_minor
        groups = []
        for cluster in Cluster:
            points = [
                ScatterPoint(
                    p.effort_hours,
                    _k(p.headroom_minor, cur),
                    p.current_minor > 0 and p.current_minor >= value_line,
                    p.name,
                )
                for p in seg.of(cluster)
            ]
            groups.append((cluster.value.capitalize(), points, colour(CLUSTER_COLOURS[cluster])))
        chart = scatter_chart(
            "Upside × effort (large dots: current value at or above the median)",
            groups,
            x_title="effort in the period (hours)",
            y_title=f"headroom: potential − current value ({cur})",
            x_unit=lambda hours: f"{hours:g}",
            y_unit=_thousands,
            x_split=seg.thresholds.effort_hours,
            y_split=_k(round(seg.thresholds.headroom_minor), cur),
            quadrant_labels=(
                "INVEST",
                "DEVELOP",
                "NURTURE · large: MAINTAIN",
                "RETHINK · large: MAINTAIN",
            ),
        )
        table = Table(
            [
                Column("Company"),
                Column("Cluster"),
                Column("Current", True),
                Column("Potential", True),
                Column("Headroom", True),
                Column("Effort h", True),
                Column("Meetings", True),
                Column("Calls", True),
                Column("E-mails", True),
                Column("Minutes", True, "Meeting and call minutes"),
                Column("Strength", True),
            ]
        )
        for p in sorted(seg.points, key=lambda p: (p.cluster.value, -p.current_minor)):
            row = table.add(
                [
                    p.name,
                    p.cluster.value,
                    money(p.current_minor, p.currency),
                    money(p.potential_minor, p.currency),
                    money(p.headroom_minor, p.currency),
                    f"{p.effort_hours:.1f}",
                    p.meetings,
                    p.calls,
                    p.emails,
                    p.minutes,
                    "" if p.strength is None else f"{p.strength:.0f}",
                ],
                keys=[
                    p.name,
                    p.cluster.value,
                    p.current_minor,
                    p.potential_minor,
                    p.headroom_minor,
                    p.effort_hours,
                    p.meetings,
                    p.calls,
                    p.emails,
                    p.minutes,
                    p.strength,
                ],
                entity=("company", p.company_id),
            )
            tint = QColor(colour(CLUSTER_COLOURS[p.cluster]))
            tint.setAlpha(40)
            table.colours[(row, 1)] = tint
        counts = seg.counts()
        summary = " · ".join(f"{c.value.capitalize()} {counts[c]}" for c in Cluster)
        self.segment_panel.set_content(
            chart,
            table,
            summary,
            ""
            if seg.points
            else "No company has a current or potential value or any touches in the period "
            "yet. Give accounts their values to see where effort and value diverge.",
        )
        self.segment_panel.setToolTip(
            "\n".join(f"{c.value.capitalize()}: {CLUSTER_ADVICE[c]}" for c in Cluster)
        )

    def _show_feedback(self, data: InsightsData) -> None:
        themes = data.themes
        topics = sorted({m.topic for m in themes.by_topic_month})
        labels = [f"{m // 100}-{m % 100:02d}" for m in themes.months]
        position = {m: i for i, m in enumerate(themes.months)}
        sets = []
        for topic in topics:
            values = [0] * len(themes.months)
            for m in themes.by_topic_month:
                if m.topic == topic and m.month in position:
                    values[position[m.month]] += m.total
            sets.append((topic, values))
        chart = bar_chart(
            "Feedback by topic and month",
            labels,
            sets or [("feedback", [0] * len(labels))],
            value_title="mentions",
            stacked=True,
            integer=True,
        )
        chart.legend().setVisible(True)
        table = Table(
            [
                Column("Topic"),
                Column("Subject"),
                Column("Mentions", True),
                Column("Positive", True),
                Column("Neutral", True),
                Column("Negative", True),
                Column("Net", True),
                Column("Customers", True),
                Column("Last"),
                Column("Latest quote"),
            ]
        )
        for t in themes.themes:
            table.add(
                [
                    t.topic,
                    t.subject,
                    t.total,
                    t.positive,
                    t.neutral,
                    t.negative,
                    t.net,
                    t.customers,
                    when(t.last_at),
                    t.sample,
                ],
                keys=[
                    t.topic,
                    t.subject,
                    t.total,
                    t.positive,
                    t.neutral,
                    t.negative,
                    t.net,
                    t.customers,
                    t.last_at.timestamp(),
                    t.sample,
                ],
            )
        total = sum(t.total for t in themes.themes)
        negative = sum(t.negative for t in themes.themes)
        top = themes.themes[0] if themes.themes else None
        summary = f"{total} pieces of feedback, {negative} negative"
        if top:
            summary += f" · most mentioned: {top.topic} {top.subject}".rstrip()
        self.feedback_panel.set_content(
            chart,
            table,
            summary,
            ""
            if themes.themes
            else "No feedback in the period. Select what a customer said in a message or a "
            "note and choose Mark as feedback; themes build up here month by month.",
        )

    def _show_competitors(self, data: InsightsData) -> None:
        rows, cur = data.competitors[:10], data.currency
        chart = bar_chart(
            "Competitors",
            [r.name for r in reversed(rows)],
            [
                ("Mentions", [r.mentions for r in reversed(rows)]),
                ("Lost to them", [r.lost_to for r in reversed(rows)]),
                ("Open deals against", [r.open_deals for r in reversed(rows)]),
            ],
            value_title="count",
            horizontal=True,
            integer=True,
        )
        table = Table(
            [
                Column("Competitor"),
                Column("Mentions", True),
                Column("Against them", True, "Negative things said about them"),
                Column("For them", True),
                Column("Open deals", True),
                Column("Open amount", True),
                Column("Won against", True),
                Column("Lost to", True),
                Column("Lost amount", True),
                Column("Lost because"),
                Column("Last seen"),
            ]
        )
        for r in data.competitors:
            reasons = ", ".join(f"{text} ({n})" for text, n in r.lost_reasons[:3])
            table.add(
                [
                    r.name,
                    r.mentions,
                    r.negative_mentions,
                    r.positive_mentions,
                    r.open_deals,
                    money(r.open_minor, cur),
                    r.won_against,
                    r.lost_to,
                    money(r.lost_minor, cur),
                    reasons,
                    when(r.last_seen_at),
                ],
                keys=[
                    r.name,
                    r.mentions,
                    r.negative_mentions,
                    r.positive_mentions,
                    r.open_deals,
                    r.open_minor,
                    r.won_against,
                    r.lost_to,
                    r.lost_minor,
                    reasons,
                    r.last_seen_at.timestamp() if r.last_seen_at else None,
                ],
            )
        lost = sum(r.lost_to for r in data.competitors)
        self.competitor_panel.set_content(
            chart,
            table,
            f"{len(data.competitors)} competitors · {lost} deals lost to them",
            ""
            if data.competitors
            else "No competitors yet. Name them on your deals, or mark what customers say "
            "about them as competitor feedback.",
        )

    def _show_heat(self, data: InsightsData) -> None:
        heat = data.heatmap
        labels = [heat.label(m)[2:] for m in heat.months]
        chart = heat_chart(
            "Touches per account and month",
            [r.name[:28] for r in heat.rows],
            labels,
            [list(r.counts) for r in heat.rows],
        )
        table = Table(
            [Column("Account")]
            + [Column(heat.label(m), True) for m in heat.months]
            + [Column("Total", True)]
        )
        highest = max(1, heat.max_count)
        accent = QColor(colour(0))
        for r in heat.rows:
            row = table.add(
                [r.name, *r.counts, r.total],
                keys=[r.name, *r.counts, r.total],
                entity=("company", r.company_id),
            )
            for c, value in enumerate(r.counts):
                if value:
                    tint = QColor(accent)
                    tint.setAlpha(round(30 + 170 * value / highest))
                    table.colours[(row, c + 1)] = tint
        busiest = heat.rows[0].name if heat.rows else "—"
        self.heat_panel.set_content(
            chart,
            table,
            f"{len(heat.rows)} busiest accounts · most active: {busiest}",
            ""
            if heat.rows
            else "No touches with any company in the period. Mail, meetings and calls "
            "with their people show here per month.",
        )

    # -------------------------------------------------------------- actions
    def _open_row(self, index: QModelIndex) -> None:
        entity: Any = index.data(ID_ROLE)
        if entity:
            self.ctx.open_entity(*entity)

    def _cluster_ids(self) -> tuple[Cluster, list[str]]:
        cluster = Cluster(self.cluster_box.currentData())
        if self.data is None:
            return cluster, []
        return cluster, [p.company_id for p in self.data.segments.of(cluster)]

    def _save_segment(self) -> None:
        cluster, ids = self._cluster_ids()
        if not ids:
            self.ctx.status(f"No companies in '{cluster.value}' to save.")
            return
        name, ok = QInputDialog.getText(
            self,
            "Save as target list",
            f"Name of the target list ({len(ids)} companies):",
            text=f"{cluster.value.capitalize()} {self.months} months",
        )
        if ok and name.strip():
            self.save_cluster_as(name)

    def save_cluster_as(self, name: str) -> None:
        """Save the chosen cluster's companies (and their people) as a target list: a tag
        and a saved view in Companies and in People."""
        cluster, ids = self._cluster_ids()
        if not ids:
            self.ctx.status(f"No companies in '{cluster.value}' to save.")
            return
        insight = self.ctx.services.insight
        self.ctx.write(
            lambda: insight.save_segment(name, ids),
            lambda saved: self.ctx.status(
                f"Saved '{saved.tag}': {plural(saved.company_count, 'company', 'companies')} "
                f"and {plural(saved.person_count, 'person', 'people')}, as views in Companies "
                "and People."
            ),
            self._segment_failed,
            owner=self,
        )

    def _segment_failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError, ValidationError

        if isinstance(error, ValidationError):
            self.ctx.status("Not saved: " + "; ".join(e.message for e in error.errors))
            return True
        if isinstance(error, UserError):
            self.ctx.status(f"{error.message} {error.remedy}".strip())
            return True
        return False

    def _export_segment(self) -> None:
        cluster, ids = self._cluster_ids()
        if not ids:
            self.ctx.status(f"No companies in '{cluster.value}' to export.")
            return
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export the segment's people",
            f"{cluster.value}.csv",
            "People as CSV (*.csv);;People as vCard (*.vcf);;Companies as CSV (*.csv)",
        )
        if not path:
            return
        fmt = "vcard" if "vCard" in chosen else "csv"
        kind = "company" if chosen.startswith("Companies") else "person"
        self.export_cluster(path, fmt, kind)

    def export_cluster(self, path: str, fmt: str, kind: str) -> None:
        """Write the chosen cluster's people (CSV or vCard) or companies (CSV) to ``path``
        for a campaign, off the UI thread."""
        cluster, ids = self._cluster_ids()
        if not ids:
            self.ctx.status(f"No companies in '{cluster.value}' to export.")
            return
        insight = self.ctx.services.insight

        def work() -> str:
            from relbook.domain.errors import UserError

            text = insight.export_segment(ids, fmt, kind)
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as error:
                raise UserError(
                    f"Could not write {path}: {error.strerror or error}.",
                    "Choose another folder or file name.",
                ) from error
            return path

        self.ctx.read(
            work,
            lambda written: self.ctx.status(f"Exported to {written}"),
            self._segment_failed,
            owner=self,
        )
