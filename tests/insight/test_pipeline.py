"""Pipeline analytics on a hand-made pipeline whose numbers are known."""

from __future__ import annotations

import pytest

from relbook.services.context import Services
from tests.insight.scenario import Scenario


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def _book(scene: Scenario) -> None:
    acme = scene.company("Acme")
    # Open deals (NOW = 2026-03-10).
    scene.deal(
        "A", acme, stage="Lead", amount="10000", entered_days_ago=40, expected_close="2026-03-31"
    )
    scene.deal(
        "B",
        acme,
        stage="Proposal",
        amount="20000",
        entered_days_ago=10,
        expected_close="2026-04-15",
        probability=80,
    )
    scene.deal(
        "C",
        acme,
        stage="Proposal",
        amount="30000",
        entered_days_ago=30,
        expected_close="2026-02-01",
    )
    scene.deal("D", acme, stage="Negotiation", amount="40000", entered_days_ago=5)
    # Closed deals with their history.
    won = scene.deal("W", acme, stage="Lead", amount="5000", entered_days_ago=100)
    scene.move(won, "Proposal", days_ago=80)
    scene.move(won, "Won", days_ago=60, reason="Best integration")
    lost1 = scene.deal(
        "L1", acme, stage="Lead", amount="7000", entered_days_ago=90, competitors=["Globex"]
    )
    scene.move(lost1, "Proposal", days_ago=70)
    scene.move(lost1, "Lost", days_ago=50, reason="Price")
    lost2 = scene.deal(
        "L2",
        acme,
        stage="Lead",
        amount="3000",
        entered_days_ago=90,
        competitors=["globex ", "Initech"],
    )
    scene.move(lost2, "Lost", days_ago=40, reason=" price ")


def test_amount_weighted_and_age_per_stage(services: Services, scene: Scenario) -> None:
    _book(scene)
    result = services.insight.pipeline()
    stages = {s.name: s for s in result.stages}
    assert (stages["Lead"].deal_count, stages["Lead"].amount_minor) == (1, 1_000_000)
    assert stages["Lead"].weighted_minor == 100_000  # 10 %
    assert stages["Proposal"].amount_minor == 5_000_000
    # B at its own 80 %, C at the stage's 50 %.
    assert stages["Proposal"].weighted_minor == 1_600_000 + 1_500_000
    assert (stages["Proposal"].avg_days, stages["Proposal"].max_days) == (20, 30)
    assert stages["Proposal"].stuck_count == 1  # C: 30 days > 21
    assert stages["Lead"].stuck_count == 1  # A: 40 days > 30
    assert result.open_amount_minor == 10_000_000
    assert (stages["Won"].deal_count, stages["Lost"].deal_count) == (1, 2)


def test_forecast_per_month_with_overdue_and_undated(services: Services, scene: Scenario) -> None:
    _book(scene)
    forecast = {f.month: f for f in services.insight.pipeline().forecast}
    assert forecast["overdue"].amount_minor == 3_000_000  # C, expected in February
    assert forecast["2026-03"].weighted_minor == 100_000  # A
    assert forecast["2026-04"].weighted_minor == 1_600_000  # B
    assert forecast["no date"].deal_count == 1  # D
    assert forecast["2026-05"].deal_count == 0  # months ahead are listed even when empty
    months = [f.month for f in services.insight.pipeline().forecast]
    assert months[0] == "overdue" and months[-1] == "no date"


def test_conversion_and_win_loss_by_reason_and_competitor(
    services: Services, scene: Scenario
) -> None:
    _book(scene)
    result = services.insight.pipeline()
    conversion = {c.name: c for c in result.conversion}
    # Lead entered by A, W, L1, L2: W and L1 moved on to Proposal; L2 lost; A still there.
    lead = conversion["Lead"]
    assert (lead.entered, lead.converted, lead.lost, lead.still_open) == (4, 2, 1, 1)
    assert lead.rate == pytest.approx(0.5)
    # Proposal entered by B, C (created there), W, L1: W won; L1 lost; B, C still there.
    proposal = conversion["Proposal"]
    assert (proposal.entered, proposal.converted, proposal.lost, proposal.still_open) == (
        4,
        1,
        1,
        2,
    )
    assert (result.won_count, result.lost_count) == (1, 2)
    assert result.win_rate == pytest.approx(1 / 3)
    reasons = {r.key: r for r in result.by_reason}
    assert reasons["Price"].lost_count == 2  # "Price" and " price " are one reason
    assert reasons["Price"].lost_minor == 1_000_000
    assert reasons["Best integration"].won_count == 1
    competitors = {r.key: r for r in result.by_competitor}
    assert competitors["Globex"].lost_count == 2
    assert competitors["Initech"].lost_count == 1
