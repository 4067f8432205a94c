"""Relationship metrics, going cold, keep in touch and next contacts on a real book."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relbook.domain.errors import ValidationError
from relbook.domain.scoring import Trend
from relbook.services.context import Services
from tests.insight.scenario import Scenario


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def test_issue_scenario_14_day_rhythm_silent_45_days_goes_cold_90_day_does_not(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Fortnightly", acme)
    bob = scene.person("Bob Quarterly", acme)
    scene.rhythm(ann, every=14, count=6, last_days_ago=45)
    scene.rhythm(bob, every=90, count=4, last_days_ago=45)

    cold = services.insight.going_cold()
    assert [e.name for e in cold] == ["Ann Fortnightly"]
    assert cold[0].check.rhythm_days == 14
    assert cold[0].reason == "usually in touch every 14 days; silent for 45"
    assert services.insight.relationship(bob).cold.state == "warm"  # type: ignore[union-attr]


def test_the_same_scenario_holds_for_companies(services: Services, scene: Scenario) -> None:
    acme = scene.company("Acme Fortnightly")
    initech = scene.company("Initech Quarterly")
    scene.rhythm(scene.person("Ann Acme", acme), every=14, count=6, last_days_ago=45)
    scene.rhythm(scene.person("Bob Initech", initech), every=90, count=4, last_days_ago=45)

    cold = services.insight.going_cold(entity_type="company")
    assert [(e.entity_type, e.name) for e in cold] == [("company", "Acme Fortnightly")]
    assert (cold[0].check.rhythm_days, round(cold[0].check.silence_days)) == (14, 45)
    card = services.insight.relationship(initech)
    assert card.rhythm_days == 90 and card.cold is not None and card.cold.state == "warm"
    assert card.drift_days == pytest.approx(45 - 90)


def test_relationship_card_shows_every_metric_and_its_inputs(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Example", acme)
    scene.touch(ann, 30, direction="inbound")
    scene.touch(ann, 20, kind="call", direction="outbound", minutes=20)
    scene.touch(ann, 10, direction="outbound")
    scene.touch(ann, 10.1, direction="outbound")  # same day: one touch day
    scene.touch(ann, 2, direction="outbound")

    card = services.insight.relationship(ann)
    assert card.touch_count == 5 and card.touch_days == 4
    assert (card.inbound_count, card.outbound_count) == (1, 4)
    # The last outbound e-mail went unanswered: the last two-way touch is the call.
    assert card.last_two_way_at == scene.ago(20)
    assert card.last_touch_at == scene.ago(2)
    assert card.rhythm_days == 10  # touch days 2, 10, 20, 30 ago: gaps 8, 10, 10
    assert card.silence_days == pytest.approx(2)
    assert card.drift_days == pytest.approx(2 - 10)  # earlier than usual
    assert card.reciprocity == pytest.approx(0.2)
    assert card.reciprocity_label == "we reach out more"
    assert card.company is not None and card.company.name == "Acme"
    components = {c.key: c for c in card.strength.components}
    assert set(components) == {"recency", "frequency", "reciprocity", "two_way"}
    assert card.strength.score == pytest.approx(
        sum(c.points for c in card.strength.components), abs=0.05
    )
    assert services.insight.explain(ann) == card.strength
    stored = services.people.detail(ann).strength
    assert stored == pytest.approx(card.strength.score, abs=0.1)


def test_company_breadth_counts_people_we_really_talk_to(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Talks", acme)
    bob = scene.person("Bob Talks", acme)
    cy = scene.person("Cy Silent", acme)
    dee = scene.person("Dee Long Ago", acme)
    scene.touch(ann, 5, direction="inbound")
    scene.touch(bob, 40, kind="meeting", direction="none", minutes=45)
    scene.touch(cy, 3, direction="outbound")  # never answered: not two-way
    scene.touch(dee, 300, direction="inbound")  # outside the 180-day window

    card = services.insight.relationship(acme)
    assert [p.name for p in card.engaged] == ["Ann Talks", "Bob Talks"]
    breadth = next(c for c in card.strength.components if c.key == "breadth")
    assert breadth.value == 2 and breadth.points == pytest.approx(10)


def test_trend_warms_when_touches_come_faster_than_before(
    services: Services, scene: Scenario
) -> None:
    ann = scene.person("Ann Warming")
    for days in (*range(40, 400, 30), 12, 8, 4, 1):
        scene.touch(ann, days, direction="inbound")
    bob = scene.person("Bob Cooling")
    scene.rhythm(bob, every=7, count=20, last_days_ago=60)
    assert services.insight.relationship(ann).trend is Trend.WARMING
    assert services.insight.relationship(bob).trend is Trend.COOLING


def test_going_cold_is_weighted_by_value_at_stake(services: Services, scene: Scenario) -> None:
    small = scene.company("Small Ltd")
    big = scene.company("Big Corp", current="200000", potential="500000")
    sam = scene.person("Sam Small", small)
    bea = scene.person("Bea Big", big)
    scene.rhythm(sam, every=10, count=5, last_days_ago=50)  # 2.5× threshold
    scene.rhythm(bea, every=10, count=5, last_days_ago=30)  # 1.5× threshold
    scene.deal("Big rollout", big, stage="Proposal", amount="100000", people=[bea])

    cold = services.insight.going_cold()
    assert [e.name for e in cold] == ["Bea Big", "Sam Small"]
    assert cold[0].value.open_deals_minor == 10_000_000
    assert cold[0].value.account_minor == 50_000_000
    assert "at stake: open deals 100,000 EUR + account value 500,000 EUR" in cold[0].reason
    companies = services.insight.going_cold(entity_type="company")
    assert [e.name for e in companies] == ["Big Corp", "Small Ltd"]


def test_snooze_and_cadence_shape_the_keep_in_touch_list(
    services: Services, scene: Scenario
) -> None:
    ann = scene.person("Ann Monthly", cadence=30)
    bob = scene.person("Bob Learned")
    cy = scene.person("Cy Fresh", cadence=30)
    scene.touch(ann, 40)
    scene.rhythm(bob, every=14, count=4, last_days_ago=20)
    scene.touch(cy, 5)

    due = services.insight.due()
    assert [(d.name, d.check.cadence.source) for d in due] == [
        ("Ann Monthly", "set"),
        ("Bob Learned", "learned"),
    ]
    assert due[0].reason == "keep in touch every 30 days (you set); last touch 40 days ago"
    soon = services.insight.due(horizon_days=30)
    assert "Cy Fresh" in [d.name for d in soon]

    services.insight.snooze([ann], scene.now + timedelta(days=7))
    assert [d.name for d in services.insight.due()] == ["Bob Learned"]
    assert "Ann Monthly" not in [n.name for n in services.insight.next_contacts()]
    services.insight.snooze([ann], None)
    assert "Ann Monthly" in [d.name for d in services.insight.due()]

    services.insight.set_cadence([bob], 60)
    assert services.people.detail(bob).cadence_days == 60
    assert "Bob Learned" not in [d.name for d in services.insight.due()]
    with pytest.raises(ValidationError) as caught:
        services.insight.set_cadence([bob], 0)
    assert caught.value.for_field("cadence_days")
    with pytest.raises(ValidationError):
        services.insight.snooze([bob], scene.ago(1))


def test_next_contacts_mix_due_cold_and_stuck_deals_with_reasons(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme", potential="50000")
    globex = scene.company("Globex")
    ann = scene.person("Ann Cold", acme)
    scene.rhythm(ann, every=14, count=6, last_days_ago=45)
    bob = scene.person("Bob Buyer", globex)
    scene.touch(bob, 3, direction="inbound")
    scene.deal("Globex pilot", globex, stage="Proposal", people=[bob], entered_days_ago=40)
    scene.deal("Orphan deal", None, stage="Negotiation", entered_days_ago=30)
    cy = scene.person("Cy Meeting Soon", acme)
    scene.rhythm(cy, every=7, count=5, last_days_ago=30)
    scene.meeting(scene.now + timedelta(days=3), subject="Catch-up", people=[cy])

    entries = {n.name: n for n in services.insight.next_contacts()}
    assert set(entries) == {"Ann Cold", "Bob Buyer", "Orphan deal"}
    ann_kinds = [r.kind for r in entries["Ann Cold"].reasons]
    assert sorted(ann_kinds) == ["due", "going_cold"]
    bob_entry = entries["Bob Buyer"]
    assert bob_entry.deal is not None and bob_entry.deal.name == "Globex pilot"
    assert (
        bob_entry.reasons[0].text == "deal 'Globex pilot' in Proposal for 40 days (stuck after 21)"
    )
    assert entries["Orphan deal"].entity_type == "deal"
    ranked = services.insight.next_contacts()
    assert ranked == sorted(ranked, key=lambda n: -n.score)


def test_a_lost_deal_proposes_keep_warm_which_the_rep_accepts_or_dismisses(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Champion", acme)
    bob = scene.person("Bob Buyer", acme)
    deal = scene.deal("Acme platform", acme, stage="Proposal", people=[ann, bob])
    scene.move(deal, "Lost", days_ago=5, reason="budget frozen")

    proposals = services.insight.keep_warm_proposals()
    assert [p.person.name for p in proposals] == ["Ann Champion", "Bob Buyer"]
    assert proposals[0].cadence_days == 90
    assert proposals[0].reason == (
        "'Acme platform' was lost (budget frozen): keep Ann Champion warm every 90 days?"
    )
    services.insight.accept_keep_warm(proposals[:1])
    assert services.people.detail(ann).cadence_days == 90
    services.insight.dismiss_keep_warm(services.insight.keep_warm_proposals())
    assert services.insight.keep_warm_proposals() == []
    assert services.people.detail(bob).cadence_days is None


def test_the_daily_rescore_lets_stored_strength_decay(services: Services, scene: Scenario) -> None:
    ann = scene.person("Ann Example")
    scene.touch(ann, 1, direction="inbound")
    before = services.people.detail(ann).strength
    assert services.insight.rescore_if_due() == 0  # scored today already
    scene.clock.at = scene.now + timedelta(days=60)
    assert services.insight.rescore_if_due() >= 1
    after = services.people.detail(ann).strength
    assert before is not None and after is not None and after < before
    assert after == pytest.approx(services.insight.explain(ann).score, abs=0.1)


def test_maintenance_counts_meetings_once_they_have_happened_and_rescores_daily(
    services: Services, scene: Scenario
) -> None:
    ann = scene.person("Ann Planned")
    scene.touch(ann, 10, direction="inbound")
    bob = scene.person("Bob Elsewhere")
    scene.touch(bob, 3, direction="inbound")
    starts = scene.now + timedelta(days=1)
    scene.meeting(starts, subject="Workshop", people=[ann])
    assert services.insight.maintain().meetings_entities == 0  # nothing has happened yet
    assert services.insight.relationship(ann).last_touch_at == scene.ago(10)

    scene.clock.at = scene.now + timedelta(days=2)
    assert services.insight.relationship(ann).last_touch_at == scene.ago(10)  # stale until…
    done = services.insight.maintain()
    assert done.meetings_entities == 1 and done.rescored >= 1
    card = services.insight.relationship(ann)
    assert card.last_touch_at == starts and card.touch_count == 2
    assert card.last_two_way_at == starts  # a meeting is two-way
    assert services.people.detail(ann).strength == pytest.approx(card.strength.score, abs=0.1)
    bob_now = services.insight.relationship(bob).strength.score
    assert services.people.detail(bob).strength == pytest.approx(bob_now, abs=0.1)  # decayed
    again = services.insight.maintain()
    assert (again.meetings_entities, again.rescored) == (0, 0)  # same day: nothing to do
