"""Meeting briefings and My Day on hand-made scenarios."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, timedelta

import pytest

from relbook.services.context import Services
from relbook.services.feedback import FeedbackDraft
from relbook.services.notes import NoteDraft
from relbook.services.tasks import TaskDraft
from relbook.storage.models import ReviewItem
from tests.conftest import REPO
from tests.insight.scenario import Scenario


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def _meeting_with_everything(services: Services, scene: Scenario) -> dict[str, str]:
    services.settings.set_many(
        {"my_addresses": ["rep@mycorp.example"], "internal_domains": ["mycorp.example"]}
    )
    acme = scene.company("Acme", current="50000", domains=["acme.example"])
    initech = scene.company("Initech", domains=["initech.example"])
    ann = scene.person("Ann Buyer", acme, email="ann@acme.example")
    bob = scene.person("Bob Engineer", acme, email="bob@acme.example")
    scene.rhythm(ann, every=14, count=4, last_days_ago=6)
    scene.touch(
        ann,
        3,
        direction="outbound",
        subject="Pricing",
        body="Hi Ann,\nI'll send the revised pricing by Thursday.\nBest\n> Can you send it?",
    )
    deal = scene.deal(
        "Acme rollout", acme, stage="Proposal", amount="80000", people=[ann], entered_days_ago=30
    )
    scene.deal("Acme old", acme, stage="Lead")  # open too
    services.tasks.create(
        TaskDraft(title="Send security questionnaire", person_id=ann, due_at=scene.ago(2))
    )
    services.notes.create(
        NoteDraft(
            body="Budget owner is the CFO. Do they need SSO on day one?\n[ ] book IT demo",
            company_id=acme,
            occurred_at=scene.ago(12),
        )
    )
    services.feedback.create(
        FeedbackDraft(
            topic="price",
            sentiment="negative",
            quote="Too expensive per seat",
            person_id=ann,
            company_id=acme,
            occurred_at=scene.ago(20),
        )
    )
    with services.book.session() as session:
        session.add(
            ReviewItem(
                address="carol@acme.example",
                name="Carol New",
                domain="acme.example",
                first_seen_at=scene.ago(2),
                last_seen_at=scene.ago(1),
                message_count=2,
            )
        )
    meeting = scene.meeting(
        scene.now + timedelta(days=1, hours=1),
        subject="Acme rollout review",
        people=[ann, bob],
        unknown=[
            ("carol@acme.example", "Carol New"),
            ("dan@eu.initech.example", "Dan Partner"),
            ("eve@gmail.com", "Eve Freemail"),
            ("pat@mycorp.example", "Pat Colleague"),
            ("rep@mycorp.example", "Me"),
        ],
        company_ids=[acme],
    )
    return {
        "acme": acme,
        "initech": initech,
        "ann": ann,
        "bob": bob,
        "deal": deal,
        "meeting": meeting,
    }


def test_meeting_briefing_tells_what_to_know_before_the_meeting(
    services: Services, scene: Scenario
) -> None:
    ids = _meeting_with_everything(services, scene)
    brief = services.insight.briefing(ids["meeting"])

    assert brief.subject == "Acme rollout review" and brief.status == "planned"
    assert [(a.name, a.status) for a in brief.attendees] == [
        ("Ann Buyer", "contact"),
        ("Bob Engineer", "contact"),
        ("Carol New", "unknown"),
        ("Dan Partner", "unknown"),
        ("Eve Freemail", "unknown"),
        ("Pat Colleague", "colleague"),
    ]  # the rep is not an attendee of their own briefing
    # Unknown attendees' companies come from their domain (sub-domains too; free mail: none).
    assert {a.name: a.company.name if a.company else None for a in brief.unknown_attendees} == {
        "Carol New": "Acme",
        "Dan Partner": "Initech",
        "Eve Freemail": None,
    }
    ann = brief.known_attendees[0]
    assert ann.company is not None and ann.company.name == "Acme"
    assert ann.last_interactions[0].subject == "Pricing"
    assert ann.strength is not None and ann.strength > 0
    assert brief.unknown_attendees[0].review_pending
    assert [c.name for c in brief.companies] == ["Acme", "Initech"]
    rollout = next(d for d in brief.deals if d.title == "Acme rollout")
    assert (rollout.stage_name, rollout.days_in_stage, rollout.is_stuck) == ("Proposal", 30, True)
    assert [d.title for d in brief.deals] == ["Acme rollout", "Acme old"]
    assert [(t.title, t.overdue) for t in brief.tasks] == [("Send security questionnaire", True)]
    assert brief.notes[0].snippet.startswith("Budget owner is the CFO.")
    assert [(f.topic, f.quote) for f in brief.feedback] == [("price", "Too expensive per seat")]
    assert {(p.kind, p.text, p.source_type) for p in brief.open_points} == {
        ("question", "Do they need SSO on day one?", "note"),
        ("todo", "book IT demo", "note"),
        ("promise", "I'll send the revised pricing by Thursday.", "interaction"),
    }
    assert brief.last_interactions[0].subject == "Pricing"


def test_my_day_gathers_meetings_follow_ups_cold_contacts_and_review_queue(
    services: Services, scene: Scenario
) -> None:
    ids = _meeting_with_everything(services, scene)
    today_meeting = scene.meeting(
        scene.now + timedelta(hours=3), subject="Stand-up with Bob", people=[ids["bob"]]
    )
    scene.meeting(
        scene.now + timedelta(hours=4), subject="Cancelled", people=[ids["bob"]], status="cancelled"
    )
    services.tasks.create(TaskDraft(title="Call Bob back", due_at=scene.now + timedelta(hours=5)))
    snoozed = services.tasks.create(TaskDraft(title="Later", due_at=scene.ago(1)))
    services.tasks.snooze(snoozed, scene.now + timedelta(days=2))
    cold = scene.person("Cy Cold")
    scene.rhythm(cold, every=10, count=5, last_days_ago=40)

    day = services.myday.load(UTC)
    assert day.today == scene.now.date()
    assert [m.interaction_id for m in day.meetings_today] == [today_meeting]
    assert [m.subject for m in day.meetings_tomorrow] == ["Acme rollout review"]
    assert [f.title for f in day.overdue] == ["Send security questionnaire"]
    assert day.overdue[0].person is not None and day.overdue[0].person.name == "Ann Buyer"
    assert [f.title for f in day.due_today] == ["Call Bob back"]
    assert [c.name for c in day.going_cold] == ["Cy Cold"]
    assert "Cy Cold" in [n.name for n in day.next_contacts]
    assert day.review_count == 1


def test_my_day_can_brief_the_first_meetings_only(services: Services, scene: Scenario) -> None:
    """The first screen's load: a few briefings, every meeting counted."""
    ann = scene.person("Ann Buyer", email="ann@acme.example")
    first = scene.meeting(scene.now + timedelta(hours=1), subject="One", people=[ann])
    scene.meeting(scene.now + timedelta(hours=2), subject="Two", people=[ann])
    scene.meeting(scene.now + timedelta(days=1), subject="Tomorrow", people=[ann])

    day = services.myday.load(UTC, briefings=1)
    assert [m.interaction_id for m in day.meetings_today] == [first]
    assert day.meetings_tomorrow == ()
    assert (day.meetings_today_count, day.meetings_tomorrow_count) == (2, 1)
    assert not day.complete
    full = services.myday.load(UTC)
    assert full.complete and [m.subject for m in full.meetings_tomorrow] == ["Tomorrow"]
    assert full.meetings_today[0] == day.meetings_today[0]  # the page keeps its card


def test_my_day_carries_the_first_follow_ups_and_counts_them_all(
    services: Services, scene: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relbook.services import myday

    monkeypatch.setattr(myday, "FOLLOW_UPS", 3)
    for days in range(5, 0, -1):
        services.tasks.create(TaskDraft(title=f"Late {days}", due_at=scene.ago(days)))
    services.tasks.create(TaskDraft(title="Today", due_at=scene.now + timedelta(hours=1)))
    services.tasks.create(TaskDraft(title="Tomorrow", due_at=scene.now + timedelta(days=1)))

    day = services.myday.load(UTC)
    # The oldest first, as many as My Day carries; the counts are of all of them.
    assert [f.title for f in day.overdue] == ["Late 5", "Late 4", "Late 3"]
    assert day.due_today == ()
    assert (day.overdue_count, day.due_today_count) == (5, 1)
    overdue, due_today = services.myday.follow_ups(UTC)
    assert len(overdue) == 5 and [f.title for f in due_today] == ["Today"]


def test_my_day_reads_without_sqlalchemy(book_path: object, services: Services) -> None:
    """The start-up path: opening the book and loading My Day import no SQLAlchemy."""
    scene = Scenario(services)
    ann = scene.person("Ann Example")
    scene.rhythm(ann, every=7, count=4, last_days_ago=30)
    services.close()
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC
        from relbook.domain.clock import FixedClock
        from relbook.services.context import Services
        from relbook.storage.book import open_book
        from tests.conftest import NOW
        clock = FixedClock(NOW)
        ctx = Services(open_book(__import__("pathlib").Path({str(book_path)!r}), clock), clock)
        day = ctx.myday.load(UTC)
        assert [c.name for c in day.going_cold] == ["Ann Example"], day.going_cold
        print("sqlalchemy" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
