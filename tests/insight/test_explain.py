"""Every score says how it was computed: its inputs and the formula, with numbers a rep
can check by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relbook.domain.insight import (
    Cadence,
    CadenceSource,
    cold_check,
    due_check,
    explain_value_weight,
    stuck_check,
)
from relbook.domain.insight_segments import Thresholds, explain_cluster
from relbook.domain.scoring import TouchInputs, explain_trend, strength
from relbook.services.context import Services
from tests.insight.scenario import Scenario

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def test_each_strength_component_carries_its_formula_with_the_inputs() -> None:
    inputs = TouchInputs(
        last_touch_at=NOW - timedelta(days=30),
        last_two_way_at=NOW - timedelta(days=60),
        first_touch_at=NOW - timedelta(days=200),
        touch_count=10,
        inbound_count=5,
        outbound_count=5,
        touch_days=10,
        weight_30=2.0,
        weight_180=6.0,
    )
    result = strength(inputs, NOW)
    by_key = {c.key: c for c in result.components}
    assert by_key["recency"].formula.startswith("35 × 0.5^(30 days / 30)")
    assert by_key["recency"].points == pytest.approx(17.5)
    assert by_key["two_way"].formula.startswith("15 × 0.5^(60 days / 60)")
    assert by_key["reciprocity"].formula.startswith("20 × min(1, 2 × 0.50)")
    text = result.explain()
    assert "Recency: 17.5 of 35 — 30 days since the last touch" in text
    assert "35 × 0.5^(30 days / 30) — halves every 30 days of silence = 17.5" in text
    assert text.splitlines()[0] == f"Strength {result.score:.0f} of 100 = the sum of:"


def test_trend_explains_its_rates_and_ratio() -> None:
    assert explain_trend(TouchInputs(), NOW) == "Trend: none — never touched."
    young = TouchInputs(last_touch_at=NOW, first_touch_at=NOW, touch_count=1, touch_days=1)
    assert explain_trend(young, NOW).startswith("Trend: new — 1 touch day(s)")


def test_going_cold_due_stuck_and_value_explain_their_arithmetic() -> None:
    cold = cold_check(NOW - timedelta(days=45), 14.0, NOW, factor=2.0)
    assert cold is not None
    assert cold.explain() == (
        "Going cold: silent 45 days against a threshold of 2 × rhythm 14 days = 28 days "
        "(dormant after 365) → going cold; urgency min(3, 45 / 28) = 1.61"
    )
    due = due_check(NOW - timedelta(days=40), Cadence(30, CadenceSource.SET), NOW)
    assert due.explain() == (
        "Keep in touch every 30 days (you set); last touch 40 days ago → due for 10 days; "
        "urgency 1 + min(2, 10 overdue / 30) = 1.33"
    )
    stuck = stuck_check(NOW - timedelta(days=40), 21, NOW)
    assert stuck is not None
    assert stuck.explain() == (
        "Stuck: 40 days in the stage, limit 21; urgency 1 + min(2, 19 over / 21) = 1.90"
    )
    assert explain_value_weight(0) == "value weight 1 (no value at stake)"
    assert explain_value_weight(10_000_000) == "value weight 1 + log10(1 + 100,000 / 1,000) = 3.00"


def test_a_cluster_names_each_measure_against_its_median() -> None:
    t = Thresholds(current_minor=1_000_000, headroom_minor=2_000_000, effort_hours=10.0)
    text = explain_cluster(500_000, 5_000_000, 2.0, t)
    assert text.startswith("Headroom 50,000 EUR (high; median 20,000 EUR)")
    assert "effort 2.0 h (low; median 10.0 h) → invest: Under-served upside" in text


def test_the_relationship_card_explains_every_metric(services: Services, scene: Scenario) -> None:
    acme = scene.company("Acme", current="90000")
    ann = scene.person("Ann Fortnightly", acme, cadence=30)
    scene.rhythm(ann, every=14, count=6, last_days_ago=45)

    text = services.insight.relationship(ann).explain()
    lines = text.splitlines()
    assert lines[0].startswith("Strength ")
    assert "Touches: 6 on 6 distinct days" in text
    assert "Rhythm: usually every 14 days" in text and "31 days later than usual" in text
    assert "Going cold: silent 45 days against a threshold of 2 × rhythm 14 days" in text
    assert "Keep in touch every 30 days (you set); last touch 45 days ago → due for 15" in text
    assert "At stake: account value 90,000 EUR → value weight 1 + log10(1 + 90,000" in text
    assert any(line.startswith("Trend: ") for line in lines)

    company = services.insight.relationship(acme).explain()
    assert "Breadth: " in company


def test_list_entries_explain_their_score(services: Services, scene: Scenario) -> None:
    acme = scene.company("Acme", potential="50000")
    ann = scene.person("Ann Cold", acme)
    scene.rhythm(ann, every=14, count=6, last_days_ago=45)

    cold = services.insight.going_cold()[0]
    assert cold.explain().splitlines()[-1] == (
        f"Score: urgency 1.61 × value weight {cold.value.weight:.2f} = {cold.score:.2f}"
    )
    entry = services.insight.next_contacts()[0]
    assert entry.name == "Ann Cold"
    text = entry.explain()
    assert "Going cold: silent 45 days" in text
    assert "Keep in touch every 14 days (learned from the rhythm)" in text
    assert text.splitlines()[-1].startswith("Score: (")
    assert text.splitlines()[-1].endswith(f"= {entry.score:.2f}")
    due = services.insight.due()[0]
    assert "urgency 1 + min(2, 31 overdue / 14) = 3.00" in due.explain()

    segments = services.insight.segments()
    point = next(p for p in segments.points if p.name == "Acme")
    assert "Effort: (" in segments.explain(point)
