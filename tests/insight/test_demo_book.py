"""Insight on the demo book: its fixed scenarios have known answers, and every list holds
its documented rules across the whole book."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from relbook.domain.clock import FixedClock
from relbook.domain.insight import ColdState
from relbook.services.context import Services
from relbook.services.demo import DEFAULT_SEED, DemoCounts, build_demo_book
from relbook.services.demo.generate import DemoGenerator
from relbook.storage.book import open_book
from tests.conftest import NOW


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.relbook"
    build_demo_book(path, clock=FixedClock(NOW))
    return path


@pytest.fixture(scope="module")
def scenario_ids() -> dict[str, str]:
    """The demo's fixed scenarios, from its own (deterministic) plan."""
    generator = DemoGenerator(DEFAULT_SEED, NOW, DemoCounts.for_scale(1.0))
    generator.plan()
    return {p.scenario: p.id for p in generator.people if p.scenario}


@pytest.fixture
def demo(demo_path: Path, tmp_path: Path) -> Iterator[Services]:
    copy = tmp_path / "demo.relbook"
    shutil.copyfile(demo_path, copy)
    clock = FixedClock(NOW)
    services = Services(open_book(copy, clock), clock)
    yield services
    services.close()


def test_the_demo_scenarios_go_cold_or_not_as_told(
    demo: Services, scenario_ids: dict[str, str]
) -> None:
    cold = {e.id: e for e in demo.insight.going_cold(limit=None)}
    fortnightly = demo.insight.relationship(scenario_ids["going-cold"])
    assert fortnightly.rhythm_days == 14
    assert fortnightly.silence_days == pytest.approx(45, abs=1)
    assert scenario_ids["going-cold"] in cold
    assert scenario_ids["cold-weekly"] in cold  # weekly, silent 24 days
    quarterly = demo.insight.relationship(scenario_ids["quietly-fine"])
    assert quarterly.cold is not None and quarterly.cold.state is ColdState.WARM
    assert scenario_ids["quietly-fine"] not in cold
    assert demo.insight.relationship(scenario_ids["new-contact"]).rhythm_days is None
    champion = demo.insight.relationship(scenario_ids["champion"])
    assert champion.strength.score > fortnightly.strength.score


def test_the_demo_going_cold_contact_leads_next_contacts_with_reasons(
    demo: Services, scenario_ids: dict[str, str]
) -> None:
    contacts = demo.insight.next_contacts(limit=None)
    entry = next(n for n in contacts if n.id == scenario_ids["going-cold"])
    assert {"going_cold", "due"} <= {r.kind for r in entry.reasons}
    assert entry.value.total_minor > 0  # the key account has value at stake
    assert contacts.index(entry) < 10
    stuck = [r for n in contacts for r in n.reasons if r.kind == "stuck_deal"]
    assert any("Negotiation for 40 days" in r.text for r in stuck)


def test_my_day_on_the_demo_has_briefings_follow_ups_and_a_review_queue(demo: Services) -> None:
    day = demo.myday.load(UTC)
    assert day.meetings_today and day.meetings_tomorrow
    for meeting in (*day.meetings_today, *day.meetings_tomorrow):
        assert meeting.known_attendees, meeting.subject
        assert all(a.last_interactions for a in meeting.known_attendees)
    assert day.overdue or day.due_today
    assert day.going_cold and day.next_contacts
    assert day.review_count > 0


def test_every_list_keeps_its_documented_rules_across_the_demo_book(demo: Services) -> None:
    insight = demo.insight
    factor = insight.going_cold_factor
    cold = insight.going_cold(limit=None)
    assert cold == sorted(cold, key=lambda e: (-e.score, -e.check.silence_days, e.name))
    for entry in cold:
        assert entry.check.silence_days > factor * entry.check.rhythm_days
    for due in insight.due(limit=None):
        assert due.check.is_due
    db = demo.book.reader()
    for (person_id,) in db.execute("SELECT id FROM person WHERE deleted_at IS NULL LIMIT 80"):
        card = insight.relationship(person_id)
        parts = sum(c.points for c in card.strength.components)
        assert card.strength.score == pytest.approx(parts, abs=0.05)
        stored = db.execute("SELECT strength FROM person WHERE id = ?", (person_id,)).fetchone()
        assert stored[0] == pytest.approx(card.strength.score, abs=0.05)
    for (company_id,) in db.execute("SELECT id FROM company WHERE deleted_at IS NULL LIMIT 20"):
        card = insight.relationship(company_id)
        assert (
            card.breadth
            == db.execute(
                "SELECT engaged_people FROM company WHERE id = ?", (company_id,)
            ).fetchone()[0]
        )


def test_pipeline_segments_feedback_and_heat_map_add_up_on_the_demo(demo: Services) -> None:
    insight = demo.insight
    db = demo.book.reader()
    for ref in insight.pipelines():
        result = insight.pipeline(ref.id)
        open_total = db.execute(
            """SELECT coalesce(sum(amount_minor), 0) FROM deal
               WHERE pipeline_id = ? AND status = 'open' AND deleted_at IS NULL""",
            (ref.id,),
        ).fetchone()[0]
        assert result.open_amount_minor == open_total
        for c in result.conversion:
            assert c.entered >= c.converted + c.lost + c.still_open
        forecast_amount = sum(f.amount_minor for f in result.forecast)
        assert forecast_amount == open_total
    segments = insight.segments()
    assert all(count > 0 for count in segments.counts().values())
    themes = insight.feedback_themes()
    assert themes.themes and sum(t.total for t in themes.themes) == sum(
        m.total for m in themes.by_topic_month
    )
    assert any(r.lost_to for r in insight.competitors())
    heat = insight.heatmap(months=12, limit=5)
    for row in heat.rows:
        assert sum(row.counts) == row.total
