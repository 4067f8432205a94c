"""The Insights page renders every chart offscreen, and each chart's table holds the
same numbers the services computed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from relbook.services.context import Services
from relbook.services.feedback import FeedbackDraft
from tests.insight.scenario import Scenario

pytest.importorskip("PySide6.QtCharts")


@pytest.fixture
def ui_ctx(qapp: object, services: Services) -> Iterator[object]:
    from relbook.ui.context import UiContext

    ctx = UiContext(services)
    yield ctx
    ctx.close()


def _fill(services: Services) -> None:
    scene = Scenario(services)
    acme = scene.company("Acme", current="90000", potential="100000")
    globex = scene.company("Globex", current="5000", potential="400000")
    ann = scene.person("Ann Acme", acme)
    bob = scene.person("Bob Globex", globex)
    for days in range(3, 300, 15):
        scene.touch(ann, days, kind="meeting", direction="none", minutes=60)
    scene.touch(bob, 20)
    scene.deal("Acme renewal", acme, stage="Proposal", amount="20000", expected_close="2026-04-30")
    lost = scene.deal("Globex pilot", globex, stage="Lead", amount="8000", competitors=["Initech"])
    scene.move(lost, "Lost", days_ago=3, reason="Price")
    services.feedback.create(
        FeedbackDraft(
            topic="product",
            subject="Reporting",
            sentiment="negative",
            quote="slow",
            company_id=acme,
            occurred_at=scene.ago(4),
        )
    )


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's notice
def test_insights_page_shows_every_chart_and_its_table(
    qtbot: object, ui_ctx: object, services: Services, tmp_path: Path
) -> None:
    from relbook.ui.insights.page import ChartPanel, InsightsPage
    from relbook.ui.pages import page_spec

    _fill(services)
    assert page_spec("insights").available()
    page = page_spec("insights").build(ui_ctx)  # type: ignore[arg-type]
    assert isinstance(page, InsightsPage)
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.resize(1200, 800)
    page.show()
    qtbot.waitUntil(page.is_loaded, timeout=10_000)  # type: ignore[attr-defined]

    shots = Path(os.environ.get("RELBOOK_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    assert page.tabs.tabText(0) == "Relationships"  # whom to contact: tested on its own
    titles = []
    for index in range(1, page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        panel = page.tabs.widget(index)
        assert isinstance(panel, ChartPanel)
        titles.append(page.tabs.tabText(index))
        assert panel.view.chart().series(), f"{titles[-1]} has no chart"
        image = page.grab()
        assert not image.isNull()
        assert image.save(str(shots / f"insights-{index}.png"))
        panel.show_page(1)
        assert panel.stack.currentWidget() is panel.table
        assert panel.model.rowCount() > 0, f"{titles[-1]} has an empty table"
        panel.show_page(0)
    assert titles == [
        "Pipeline",
        "Forecast",
        "Win / loss",
        "Value × effort",
        "Feedback themes",
        "Competitors",
        "Account activity",
    ]

    def rows(panel: ChartPanel) -> dict[str, list[str]]:
        return {row[0]: row for row in panel.model.table.rows}

    analytics = services.insight.pipeline()
    proposal = rows(page.pipeline_panel)["Proposal"]
    assert proposal[2] == "1" and proposal[3] == "20,000 EUR"
    assert page.pipeline_panel.model.table.as_tsv().startswith("Stage\tKind\tDeals")
    forecast = rows(page.forecast_panel)
    assert forecast["2026-04"][1] == "1"
    assert "win rate 0%" in page.pipeline_panel.summary.text()
    assert analytics.lost_count == 1
    segments = {r[0]: r[1] for r in page.segment_panel.model.table.rows}
    expected = {p.name: p.cluster.value for p in services.insight.segments().points}
    assert segments == expected
    assert rows(page.feedback_panel)["product"][1] == "Reporting"
    assert rows(page.competitor_panel)["Initech"][7] == "1"  # lost to
    heat = rows(page.heat_panel)
    assert heat["Acme"][-1] == str(services.insight.heatmap().rows[0].total)
    assert (shots / "insights-4.png").stat().st_size > 10_000


def test_table_columns_sort_by_their_values_not_their_text(qapp: object) -> None:
    from relbook.ui.insights.tables import Column, Table, TableModel
    from relbook.ui.qt import Qt

    table = Table([Column("Name"), Column("Amount", True)])
    table.add(["a", "9 EUR"], keys=["a", 9])
    table.add(["b", "10 EUR"], keys=["b", 10])
    table.add(["c", ""], keys=["c", None])
    model = TableModel()
    model.set_table(table)
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert [r[0] for r in model.table.rows] == ["a", "b", "c"]
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [r[0] for r in model.table.rows] == ["b", "a", "c"]  # blanks stay last


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_the_scatter_quadrants_are_the_cluster_rules(
    qtbot: object, ui_ctx: object, services: Services
) -> None:
    """Upside (headroom) up, effort right, both against their medians: invest sits top-left,
    develop top-right, the rest below; large dots are the high current values."""
    from PySide6.QtCharts import QScatterSeries

    from relbook.ui.insights.charts import log1p
    from relbook.ui.insights.page import InsightsPage

    scene = Scenario(services)
    accounts = {
        "Upside Idle": ("10000", "400000", 0),  # invest: headroom, no effort
        "Upside Busy": ("20000", "500000", 8),  # develop
        "Cash Cow": ("300000", "310000", 6),  # maintain: value, little headroom
        "Time Sink": ("1000", "2000", 9),  # rethink
        "Quiet Small": ("1000", "3000", 1),  # nurture
        "Mid Way": ("50000", "90000", 3),
    }
    for name, (current, potential, meetings) in accounts.items():
        company = scene.company(name, current=current, potential=potential)
        person = scene.person(f"Contact {name}", company)
        for i in range(meetings):
            scene.touch(person, 10 + 20 * i, kind="meeting", direction="none", minutes=60)
    segments = services.insight.segments()
    clusters = {p.name: p.cluster.value for p in segments.points}
    assert clusters["Upside Idle"] == "invest" and clusters["Upside Busy"] == "develop"
    assert clusters["Cash Cow"] == "maintain" and clusters["Time Sink"] == "rethink"

    page = InsightsPage(ui_ctx)  # type: ignore[arg-type]
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.resize(1200, 800)
    page.show()
    qtbot.waitUntil(page.is_loaded, timeout=10_000)  # type: ignore[attr-defined]
    chart = page.segment_panel.view.chart()
    split_x = log1p(segments.thresholds.effort_hours)
    split_y = log1p(segments.thresholds.headroom_minor / 100 / 1000)
    seen = 0
    for series in chart.series():
        if not isinstance(series, QScatterSeries):
            continue
        cluster = series.name().split(" (")[0].lower()
        big = series.markerSize() > 12
        for point in series.points():
            seen += 1
            up, right = point.y() >= split_y, point.x() >= split_x
            if cluster == "invest":
                assert up and not right
            elif cluster == "develop":
                assert up and right
            else:
                assert not up or point.y() == split_y == 0
            if cluster == "maintain":
                assert big
            if cluster in ("rethink", "nurture"):
                assert not big
    assert seen == len(segments.points)


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_an_empty_book_says_what_would_fill_each_chart_and_list(
    qtbot: object, ui_ctx: object
) -> None:
    from relbook.ui.insights.page import ChartPanel, InsightsPage

    page = InsightsPage(ui_ctx)  # type: ignore[arg-type]
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.resize(1200, 800)
    page.show()
    qtbot.waitUntil(page.is_loaded, timeout=10_000)  # type: ignore[attr-defined]
    panels = [page.tabs.widget(i) for i in range(1, page.tabs.count())]
    assert all(isinstance(p, ChartPanel) and p.is_empty() for p in panels)
    assert "No open deals" in page.pipeline_panel.empty.body.text()  # type: ignore[union-attr]
    assert "Mark as feedback" in page.feedback_panel.empty.body.text()  # type: ignore[union-attr]
    lists = page.relationships
    for index in range(5):
        lists.show_list(index)
        assert lists.stack.currentWidget() is lists.empty
        assert not lists.why_button.isEnabled()


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_a_cluster_saves_as_a_target_list_and_exports_from_the_page(
    qtbot: object, ui_ctx: object, services: Services, tmp_path: Path
) -> None:
    from relbook.ui.insights.page import InsightsPage

    _fill(services)
    cluster = next(p.cluster for p in services.insight.segments().points if p.name == "Globex")
    page = InsightsPage(ui_ctx)  # type: ignore[arg-type]
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.show()
    qtbot.waitUntil(page.is_loaded, timeout=10_000)  # type: ignore[attr-defined]
    page.cluster_box.setCurrentIndex(page.cluster_box.findData(cluster.value))

    with qtbot.waitSignal(ui_ctx.status_message, timeout=10_000) as told:  # type: ignore[attr-defined]
        page.save_cluster_as("Spring campaign")
    assert told.args[0] == (
        "Saved 'Spring campaign': 1 company and 1 person, as views in Companies and People."
    )
    assert "Spring campaign" in [v.name for v in services.views.all("person")]
    assert "Spring campaign" in [v.name for v in services.views.all("company")]
    with qtbot.waitSignal(ui_ctx.status_message, timeout=10_000) as told:  # type: ignore[attr-defined]
        page.save_cluster_as("Spring campaign")
    assert told.args[0].startswith("Not saved:") and "exists" in told.args[0]

    target = tmp_path / "campaign.vcf"
    with qtbot.waitSignal(ui_ctx.status_message, timeout=10_000):  # type: ignore[attr-defined]
        page.export_cluster(str(target), "vcard", "person")
    text = target.read_text(encoding="utf-8")
    assert "BEGIN:VCARD" in text and "Bob Globex" in text and "Ann Acme" not in text
    with qtbot.waitSignal(ui_ctx.status_message, timeout=10_000) as told:  # type: ignore[attr-defined]
        page.export_cluster(str(tmp_path / "missing" / "x.csv"), "csv", "person")
    assert told.args[0].startswith("Could not write") and "Choose another folder" in told.args[0]
