"""Feedback from a selection, themes, competitors; segments, target lists, heat map."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relbook.domain.errors import NotFoundError, ValidationError
from relbook.domain.insight_segments import Cluster
from relbook.services.context import Services
from relbook.services.feedback import FeedbackDraft
from relbook.services.insight.actions import FeedbackSelection
from relbook.services.notes import NoteDraft
from tests.insight.scenario import Scenario


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


# ----------------------------------------------------------------------- feedback


def test_selected_text_of_a_note_becomes_feedback_linked_to_its_customer(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Buyer", acme)
    note = services.notes.create(
        NoteDraft(
            body="Call went well.\nShe said the reporting module is   clunky compared to Globex.",
            person_id=ann,
            occurred_at=scene.ago(3),
        )
    )
    feedback_id = services.insight.mark_feedback(
        FeedbackSelection(
            "note",
            note,
            "the reporting module is clunky",
            topic="product",
            subject="Reporting",
            sentiment="negative",
        )
    )
    row = services.feedback.get(feedback_id)
    assert (row.person_id, row.company_id, row.note_id) == (ann, acme, note)
    assert (row.topic, row.subject, row.sentiment) == ("product", "Reporting", "negative")
    assert row.quote == "the reporting module is clunky"
    assert row.occurred_at == scene.ago(3)


def test_selected_text_of_a_message_is_feedback_from_its_sender(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Buyer", acme)
    message = scene.touch(
        ann, 1, direction="inbound", subject="Re: offer", body="Globex offered 20% less."
    )
    feedback_id = services.insight.mark_feedback(
        FeedbackSelection(
            "interaction", message, "Globex offered 20% less", topic="competitor", subject="Globex"
        )
    )
    row = services.feedback.get(feedback_id)
    assert (row.person_id, row.company_id, row.interaction_id) == (ann, acme, message)


def test_a_selection_in_the_rendered_html_of_a_message_is_accepted(
    services: Services, scene: Scenario
) -> None:
    from relbook.storage.models import Interaction

    ann = scene.person("Ann Buyer")
    message = scene.touch(ann, 1, direction="inbound", subject="Re: support", body="")
    with services.book.session() as session:
        row = session.get_one(Interaction, message)
        row.body_html = "<p>Honestly, <b>your&nbsp;support</b></p><p>is slow.</p>"
    feedback_id = services.insight.mark_feedback(
        FeedbackSelection("interaction", message, "your support\u2029is slow", topic="service")
    )
    assert services.feedback.get(feedback_id).quote == "your support is slow"
    with pytest.raises(ValidationError) as caught:
        services.insight.mark_feedback(FeedbackSelection("interaction", message, "is fast"))
    assert "is not in the message's text" in (caught.value.for_field("quote") or "")


def test_a_selection_that_is_not_in_the_text_is_refused_with_the_field_named(
    services: Services, scene: Scenario
) -> None:
    ann = scene.person("Ann Buyer")
    note = services.notes.create(NoteDraft(body="All good.", person_id=ann))
    with pytest.raises(ValidationError) as caught:
        services.insight.mark_feedback(
            FeedbackSelection("note", note, "terrible support", sentiment="furious")
        )
    assert "is not in the note's text" in (caught.value.for_field("quote") or "")
    assert caught.value.for_field("sentiment")
    with pytest.raises(NotFoundError):
        services.insight.mark_feedback(FeedbackSelection("note", "no-such-note", "x"))
    assert services.feedback.all() == []


def _feedback(services: Services, scene: Scenario, who: str, days: float, **kw: str) -> None:
    services.feedback.create(
        FeedbackDraft(company_id=who, occurred_at=scene.ago(days), **kw)  # type: ignore[arg-type]
    )


def test_themes_aggregate_across_customers_over_time(services: Services, scene: Scenario) -> None:
    acme, globex = scene.company("Acme"), scene.company("Globex")
    _feedback(
        services,
        scene,
        acme,
        5,
        topic="product",
        subject="Reporting",
        sentiment="negative",
        quote="slow",
    )
    _feedback(
        services,
        scene,
        globex,
        40,
        topic="product",
        subject="reporting ",
        sentiment="negative",
        quote="clunky",
    )
    _feedback(
        services,
        scene,
        globex,
        41,
        topic="product",
        subject="Reporting",
        sentiment="positive",
        quote="nice charts",
    )
    _feedback(services, scene, acme, 8, topic="price", sentiment="negative", quote="pricey")
    _feedback(services, scene, acme, 500, topic="price", sentiment="negative", quote="old")

    themes = services.insight.feedback_themes(months=12)
    top = themes.themes[0]
    assert (top.topic, top.subject, top.total, top.customers) == ("product", "Reporting", 3, 2)
    assert (top.positive, top.negative, top.net) == (1, 2, -1)
    assert top.sample == "slow"  # the latest quote
    assert sum(top.per_month) == 3 and top.per_month[-1] == 1  # March 2026 is the last column
    assert themes.months[-1] == 202603 and len(themes.months) == 12
    price = next(t for t in themes.themes if t.topic == "price")
    assert price.total == 1  # the 500-day-old one is outside the window
    march = [m for m in themes.by_topic_month if m.month == 202603]
    assert {(m.topic, m.negative) for m in march} == {("product", 1), ("price", 1)}


def test_competitor_view_joins_mentions_and_deals_lost_to_them(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    _feedback(
        services,
        scene,
        acme,
        5,
        topic="competitor",
        subject="Globex",
        sentiment="negative",
        quote="Globex support is slow",
    )
    lost = scene.deal("Lost one", acme, stage="Proposal", amount="9000", competitors=["GLOBEX"])
    scene.move(lost, "Lost", days_ago=2, reason="Price")
    scene.deal("Open one", acme, stage="Lead", amount="1000", competitors=["Globex", "Initech"])

    rows = {r.name.casefold(): r for r in services.insight.competitors()}
    globex = rows["globex"]
    assert (globex.mentions, globex.negative_mentions) == (1, 1)
    assert (globex.lost_to, globex.lost_minor, globex.open_deals) == (1, 900_000, 1)
    assert globex.lost_reasons == (("Price", 1),)
    assert globex.quotes == ("Globex support is slow",)
    assert rows["initech"].open_deals == 1


# ----------------------------------------------------------------------- segments


def _accounts(services: Services, scene: Scenario) -> dict[str, str]:
    """Five accounts whose clusters are known. Medians of the non-zero values: current
    10k (of 1k, 5k, 10k, 20k, 90k), headroom 300k (both upsides), effort 10.25 h (of
    0.08, 0.5, 20, 20)."""
    ids = {
        "big_upside_idle": scene.company("Upside Idle", current="10000", potential="310000"),
        "big_upside_busy": scene.company("Upside Busy", current="20000", potential="320000"),
        "cash_cow": scene.company("Cash Cow", current="90000", potential="90000"),
        "time_sink": scene.company("Time Sink", current="5000", potential="5000"),
        "quiet": scene.company("Quiet Ltd", current="1000"),
    }
    people = {key: scene.person(f"Contact {key}", cid) for key, cid in ids.items()}
    for days in range(5, 200, 20):  # ten two-hour meetings each
        scene.touch(people["big_upside_busy"], days, kind="meeting", direction="none", minutes=120)
        scene.touch(people["time_sink"], days, kind="meeting", direction="none", minutes=120)
    scene.touch(people["big_upside_idle"], 30, direction="outbound")
    scene.touch(people["cash_cow"], 30, kind="call", direction="outbound", minutes=30)
    scene.touch(people["quiet"], 400, direction="outbound")  # outside the 12-month window
    return ids


def test_segments_place_accounts_in_named_clusters(services: Services, scene: Scenario) -> None:
    ids = _accounts(services, scene)
    result = services.insight.segments()
    clusters = {p.company_id: p.cluster for p in result.points}
    assert clusters[ids["big_upside_idle"]] is Cluster.INVEST
    assert clusters[ids["big_upside_busy"]] is Cluster.DEVELOP
    assert clusters[ids["cash_cow"]] is Cluster.MAINTAIN
    assert clusters[ids["time_sink"]] is Cluster.RETHINK
    assert clusters[ids["quiet"]] is Cluster.NURTURE
    busy = next(p for p in result.points if p.company_id == ids["big_upside_busy"])
    assert (busy.meetings, busy.minutes, busy.effort_hours) == (10, 1200, 20.0)
    assert result.counts()[Cluster.INVEST] == 1


def test_a_segment_saves_as_a_target_list_and_exports(services: Services, scene: Scenario) -> None:
    ids = _accounts(services, scene)
    saved = services.insight.save_cluster(Cluster.INVEST, "Q2 invest")
    assert (saved.company_count, saved.person_count) == (1, 1)
    assert services.lists.ids("company", 'tag:"Q2 invest"') == [ids["big_upside_idle"]]
    view = services.views.get(saved.person_view_id)
    assert services.lists.count("person", view.filter_text) == 1
    with pytest.raises(ValidationError):
        services.insight.save_cluster(Cluster.INVEST, "q2 INVEST")  # name taken

    company_ids = [ids["big_upside_idle"], ids["cash_cow"]]
    csv_text = services.insight.export_segment(company_ids, "csv")
    assert "Contact big_upside_idle" in csv_text and "Contact cash_cow" in csv_text
    vcards = services.insight.export_segment(company_ids, "vcard")
    assert vcards.count("BEGIN:VCARD") == 2
    companies_csv = services.insight.export_segment(company_ids, "csv", kind="company")
    assert "Upside Idle" in companies_csv


def test_heat_map_counts_touches_per_account_and_month(services: Services, scene: Scenario) -> None:
    acme, globex = scene.company("Acme"), scene.company("Globex")
    ann, bob = scene.person("Ann A", acme), scene.person("Bob G", globex)
    for days in (1, 2, 3, 40):
        scene.touch(ann, days)
    scene.touch(bob, 9)
    scene.meeting(
        scene.now + timedelta(days=2), subject="future", people=[bob], company_ids=[globex]
    )
    heat = services.insight.heatmap(months=3)
    assert [heat.label(m) for m in heat.months] == ["2026-01", "2026-02", "2026-03"]
    assert [(r.name, r.counts, r.total) for r in heat.rows] == [
        ("Acme", (1, 0, 3), 4),  # 40 days before 10 March is 29 January
        ("Globex", (0, 0, 1), 1),  # the planned meeting has not happened yet
    ]
    assert heat.max_count == 3
