from __future__ import annotations

import pytest

from relbook.domain.errors import ConflictError, ValidationError
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.pipelines import StageDraft


def _stage(services: Services, name: str) -> str:
    pipeline = services.pipelines.default_pipeline()
    return next(s.id for s in pipeline.stages if s.name == name)


def test_a_new_book_gets_a_default_pipeline_with_ordered_stages(services: Services) -> None:
    pipeline = services.pipelines.default_pipeline()
    assert [s.name for s in pipeline.stages] == [
        "Lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert services.pipelines.default_pipeline().id == pipeline.id  # created once


def test_probability_defaults_from_the_stage_and_weights_the_amount(services: Services) -> None:
    company = services.companies.create(CompanyDraft(name="Acme"))
    deal_id = services.deals.create(
        DealDraft(
            title="Acme rollout",
            company_id=company,
            amount="12,500",
            stage_id=_stage(services, "Proposal"),
        )
    )
    deal = services.deals.detail(deal_id)
    assert (deal.amount_minor, deal.currency, deal.probability) == (1_250_000, "EUR", 50)
    assert deal.weighted_minor == 625_000
    draft = services.deals.draft(deal_id)
    draft.probability = 80
    services.deals.update(draft)
    assert services.deals.detail(deal_id).weighted_minor == 1_000_000


def test_moving_to_lost_needs_a_reason_and_undo_puts_it_back(services: Services) -> None:
    deal_id = services.deals.create(DealDraft(title="Big one", amount="1000"))
    with pytest.raises(ValidationError) as caught:
        services.deals.move_stage(deal_id, _stage(services, "Lost"))
    assert caught.value.for_field("reason")
    move = services.deals.move_stage(deal_id, _stage(services, "Lost"), "went with Globex")
    lost = services.deals.detail(deal_id)
    assert (lost.status, lost.lost_reason, lost.stage_name) == ("lost", "went with Globex", "Lost")
    timeline = services.timeline.for_entity(deal_id)
    assert any("Lead → Lost" in e.title for e in timeline)
    services.deals.undo_move(move)
    back = services.deals.detail(deal_id)
    assert (back.status, back.stage_name, back.lost_reason) == ("open", "Lead", "")
    assert not any("→ Lost" in e.title for e in services.timeline.for_entity(deal_id))


def test_board_columns_sum_amounts_and_weighted(services: Services) -> None:
    for title, amount, stage in (
        ("A", "100", "Lead"),
        ("B", "300", "Lead"),
        ("C", "1000", "Proposal"),
    ):
        services.deals.create(
            DealDraft(title=title, amount=amount, stage_id=_stage(services, stage))
        )
    board = services.deals.board()
    columns = {c.stage.name: c for c in board.columns}
    assert (
        columns["Lead"].count,
        columns["Lead"].amount_minor,
        columns["Lead"].weighted_minor,
    ) == (2, 40_000, 4_000)
    assert columns["Proposal"].weighted_minor == 50_000
    assert columns["Won"].count == 0


def test_deleting_a_stage_moves_its_deals_never_orphans_them(services: Services) -> None:
    deal_id = services.deals.create(DealDraft(title="X", stage_id=_stage(services, "Qualified")))
    with pytest.raises(ValidationError) as caught:
        services.pipelines.delete_stage(_stage(services, "Qualified"))
    assert caught.value.for_field("move_deals_to")
    moved = services.pipelines.delete_stage(_stage(services, "Qualified"), _stage(services, "Lead"))
    assert moved == 1
    assert services.deals.detail(deal_id).stage_name == "Lead"
    assert "Qualified" not in [s.name for s in services.pipelines.default_pipeline().stages]


def test_second_pipeline_and_deleting_a_pipeline_keeps_deals(services: Services) -> None:
    default = services.pipelines.default_pipeline()
    renewals = services.pipelines.create_pipeline(
        "Renewals", [StageDraft("Due"), StageDraft("Renewed", "won"), StageDraft("Churned", "lost")]
    )
    deal_id = services.deals.create(DealDraft(title="Renewal 2027", pipeline_id=renewals))
    assert services.deals.detail(deal_id).stage_name == "Due"
    services.pipelines.delete_pipeline(renewals, default.id)
    moved = services.deals.detail(deal_id)
    assert (moved.pipeline_name, moved.stage_name) == ("Sales", "Lead")


def test_stale_deal_edit_is_refused(services: Services) -> None:
    deal_id = services.deals.create(DealDraft(title="X"))
    first, second = services.deals.draft(deal_id), services.deals.draft(deal_id)
    first.title = "Y"
    services.deals.update(first)
    second.title = "Z"
    with pytest.raises(ConflictError):
        services.deals.update(second)
