"""The pure formulas on hand-made inputs whose answers are worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from relbook.domain.insight import (
    Cadence,
    CadenceSource,
    ColdState,
    cold_check,
    due_check,
    effective_cadence,
    is_dormant_for_learned,
    stuck_check,
    value_weight,
)
from relbook.domain.insight_segments import Cluster, Thresholds, classify, effort_hours, thresholds
from relbook.domain.insight_text import PointKind, open_points
from relbook.domain.scoring import TouchInputs, Trend, day_number, strength, touch_weights, trend

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def inputs_for(days_ago: list[int], *, inbound: int = 0, outbound: int = 0) -> TouchInputs:
    """TouchInputs as storage.touch computes them for touches on these days."""
    days = [day_number(NOW - timedelta(days=d)) for d in days_ago]
    w30, w180 = touch_weights(days)
    last = NOW - timedelta(days=min(days_ago))
    first = NOW - timedelta(days=max(days_ago))
    return TouchInputs(
        last_touch_at=last,
        last_two_way_at=last if inbound else None,
        first_touch_at=first,
        touch_count=len(days_ago),
        inbound_count=inbound,
        outbound_count=outbound,
        touch_days=len(set(days)),
        weight_30=w30,
        weight_180=w180,
    )


# ------------------------------------------------------------------- going cold


def test_a_fortnightly_relationship_silent_for_45_days_is_going_cold() -> None:
    check = cold_check(NOW - timedelta(days=45), 14.0, NOW, factor=2.0)
    assert check is not None
    assert check.state is ColdState.GOING_COLD
    assert check.threshold_days == 28
    assert check.reason == "usually in touch every 14 days; silent for 45"


def test_a_quarterly_relationship_silent_for_45_days_is_not() -> None:
    check = cold_check(NOW - timedelta(days=45), 90.0, NOW, factor=2.0)
    assert check is not None
    assert check.state is ColdState.WARM


def test_a_long_silence_is_dormant_not_going_cold_and_no_rhythm_means_no_verdict() -> None:
    check = cold_check(NOW - timedelta(days=400), 14.0, NOW, factor=2.0)
    assert check is not None and check.state is ColdState.DORMANT
    assert cold_check(NOW - timedelta(days=45), None, NOW) is None


def test_the_factor_setting_moves_the_threshold() -> None:
    check = cold_check(NOW - timedelta(days=45), 14.0, NOW, factor=4.0)
    assert check is not None and check.state is ColdState.WARM  # 45 < 56


# -------------------------------------------------------------------- cadence


def test_cadence_is_the_reps_or_learned_from_the_rhythm_within_bounds() -> None:
    assert effective_cadence(30, 3.0) == Cadence(30, CadenceSource.SET)
    assert effective_cadence(None, 13.6) == Cadence(14, CadenceSource.LEARNED)
    assert effective_cadence(None, 2.0) == Cadence(7, CadenceSource.LEARNED)
    assert effective_cadence(None, 900.0) == Cadence(365, CadenceSource.LEARNED)
    assert effective_cadence(None, None) is None


def test_due_is_measured_from_the_last_touch() -> None:
    check = due_check(NOW - timedelta(days=40), Cadence(30, CadenceSource.SET), NOW)
    assert check.is_due and check.overdue_days == pytest.approx(10)
    assert check.urgency == pytest.approx(1 + 10 / 30)
    not_yet = due_check(NOW - timedelta(days=10), Cadence(30, CadenceSource.SET), NOW)
    assert not not_yet.is_due
    never = due_check(None, Cadence(30, CadenceSource.SET), NOW, created_at=NOW - timedelta(31))
    assert never.is_due and "never contacted" in never.reason


def test_a_learned_cadence_stops_nagging_once_dormant_but_a_set_one_does_not() -> None:
    learned = due_check(NOW - timedelta(days=500), Cadence(14, CadenceSource.LEARNED), NOW)
    chosen = due_check(NOW - timedelta(days=500), Cadence(14, CadenceSource.SET), NOW)
    assert is_dormant_for_learned(learned, 2.0)
    assert not is_dormant_for_learned(chosen, 2.0)


def test_value_weight_is_logarithmic_in_thousands() -> None:
    assert value_weight(None) == 1.0
    assert value_weight(1_000_000, "EUR") == pytest.approx(1 + math.log10(11))  # 10,000.00
    assert value_weight(10_000_000, "EUR") == pytest.approx(1 + math.log10(101))
    assert value_weight(10_000, "JPY") == pytest.approx(1 + math.log10(11))  # no minor unit


def test_a_deal_is_stuck_after_its_stages_limit() -> None:
    stuck = stuck_check(NOW - timedelta(days=42), 21, NOW)
    assert stuck is not None and stuck.is_stuck and stuck.urgency == pytest.approx(2.0)
    assert stuck_check(NOW - timedelta(days=10), 21, NOW).is_stuck is False  # type: ignore[union-attr]
    assert stuck_check(NOW - timedelta(days=90), None, NOW) is None


# ------------------------------------------------------------------- strength


def test_never_touched_scores_zero_with_every_component_explained() -> None:
    result = strength(TouchInputs(), NOW)
    assert result.score == 0
    assert [c.key for c in result.components] == [
        "recency",
        "frequency",
        "reciprocity",
        "two_way",
    ]
    assert "never touched" in result.explain()


def test_a_close_weekly_two_way_relationship_is_strong_and_points_add_up() -> None:
    inputs = inputs_for(list(range(0, 364, 7)), inbound=26, outbound=26)
    result = strength(inputs, NOW)
    by_key = {c.key: c for c in result.components}
    assert by_key["recency"].points == pytest.approx(35)  # touched today
    assert by_key["two_way"].points == pytest.approx(15)
    assert by_key["reciprocity"].points == pytest.approx(20)  # half from them
    # 52 weekly touch days over a year: ≈ 4.3 a month.
    assert by_key["frequency"].value == pytest.approx(4.3, abs=0.15)
    assert result.score == pytest.approx(sum(c.points for c in result.components), abs=0.05)
    assert result.score >= 95


def test_one_sided_outreach_scores_no_reciprocity() -> None:
    inputs = inputs_for([1, 8, 15], inbound=0, outbound=3)
    by_key = {c.key: c for c in strength(inputs, NOW).components}
    assert by_key["reciprocity"].points == 0
    assert "0% of touches from them" in by_key["reciprocity"].detail


def test_silence_halves_recency_every_30_days() -> None:
    fresh = strength(inputs_for([0]), NOW).components[0].points
    month = strength(inputs_for([30]), NOW).components[0].points
    assert month == pytest.approx(fresh / 2)


def test_company_strength_has_breadth() -> None:
    inputs = TouchInputs(
        last_touch_at=NOW, touch_count=1, touch_days=1, weight_30=1, weight_180=1, engaged_people=2
    )
    result = strength(inputs, NOW, "company")
    breadth = next(c for c in result.components if c.key == "breadth")
    assert breadth.points == pytest.approx(10) and breadth.max_points == 15


# ---------------------------------------------------------------------- trend


def test_trend_steady_cooling_warming_new() -> None:
    steady = inputs_for(list(range(3, 400, 14)))
    assert trend(steady, NOW) is Trend.STEADY
    silent = inputs_for(list(range(45, 200, 14)))
    assert trend(silent, NOW) is Trend.COOLING
    # Monthly for a year, then four touches in the last two weeks.
    burst = inputs_for([1, 4, 8, 12, *range(30, 365, 30)])
    assert trend(burst, NOW) is Trend.WARMING
    assert trend(inputs_for([3, 10]), NOW) is Trend.NEW
    assert trend(TouchInputs(), NOW) is Trend.NONE


def test_a_young_fortnightly_relationship_is_steady_not_mistaken_for_slow() -> None:
    young = inputs_for([0, 14, 28, 42])
    assert trend(young, NOW) is Trend.STEADY


def test_touch_weights_decay_from_the_last_touch_day() -> None:
    w30, w180 = touch_weights([100, 70])
    assert w30 == pytest.approx(1 + math.exp(-1))
    assert w180 == pytest.approx(1 + math.exp(-30 / 180))


# ------------------------------------------------------------------- segments


def test_effort_counts_minutes_and_five_minutes_per_email() -> None:
    assert effort_hours(90, 6) == pytest.approx(2.0)


def test_clusters_follow_the_documented_rules() -> None:
    limits = Thresholds(current_minor=100, headroom_minor=100, effort_hours=10)
    assert classify(50, 200, 2, limits) is Cluster.INVEST
    assert classify(50, 200, 20, limits) is Cluster.DEVELOP
    assert classify(500, 0, 20, limits) is Cluster.MAINTAIN
    assert classify(10, 0, 20, limits) is Cluster.RETHINK
    assert classify(10, 0, 1, limits) is Cluster.NURTURE


def test_thresholds_are_medians_of_non_zero_values() -> None:
    found = thresholds([(100, 0, 1.0), (300, 50, 0.0), (0, 150, 5.0)])
    assert found == Thresholds(current_minor=200, headroom_minor=100, effort_hours=3.0)


# ---------------------------------------------------------------- open points


def test_promises_todos_and_questions_are_found_and_quotes_ignored() -> None:
    text = """Met Ann at the fair. She asked about the API limits.
I'll send the pricing sheet by Friday. Do they need SSO on day one?
[ ] book a demo for their IT team
[x] intro to Bob
Next steps: align on the pilot scope

> Will you also include support? (quoted, ignore)
On Tue, 3 Mar 2026 Ann Example wrote:
> Can we talk next week?
"""
    points = open_points(text)
    assert [(p.kind, p.text) for p in points] == [
        (PointKind.PROMISE, "I'll send the pricing sheet by Friday."),
        (PointKind.QUESTION, "Do they need SSO on day one?"),
        (PointKind.TODO, "book a demo for their IT team"),
        (PointKind.TODO, "align on the pilot scope"),
    ]


def test_email_promises_skip_questions_and_signatures() -> None:
    body = "Hi Ann,\nwe will get back to you with the contract. Any news?\n-- \nI will be out"
    points = open_points(body, questions=False)
    assert [p.text for p in points] == ["we will get back to you with the contract."]


def test_saying_where_one_will_be_is_not_a_promise() -> None:
    body = (
        "I will be travelling to Antalya on Thursday with limited access to e-mail, but I "
        "can take calls in the evening. I will be in Manchester that week. We'll be out of "
        "office on Friday. I'll be in touch about the contract. I'll be back on Monday and "
        "I will send the figures then."
    )
    points = open_points(body, questions=False)
    assert [p.text for p in points] == [
        "I'll be in touch about the contract.",
        "I'll be back on Monday and I will send the figures then.",
    ]
