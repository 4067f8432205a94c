"""A deleted company, person or deal is gone from every read path that reaches it
through another record (a person's company, a deal's company, a task's person…): the
other record stays, the deleted one's name and link go. Undo (restore) brings them back.

Each test builds a small book through the services, deletes something, checks what the
rep would see in each affected view, restores it and checks that it is back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest
from tests.insight.scenario import Scenario

from relbook.services.context import Services
from relbook.services.feedback import FeedbackDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import PersonDraft
from relbook.services.tasks import TaskDraft


@dataclass(frozen=True)
class Book:
    vandelay: str  # the company that gets deleted; its domain does not spell its name
    labs: str  # Vandelay Labs, part of Vandelay
    ann: str  # at Vandelay, on the open deal, going cold
    bob: str  # at Vandelay, on the lost deal only
    rollout: str  # open deal at Vandelay, stuck in Proposal
    pilot: str  # lost deal at Vandelay
    task: str  # overdue, for Ann at Vandelay about the rollout
    call: str  # a call with Ann long ago, logged against the rollout
    meeting: str  # tomorrow, with Bob, linked to Vandelay


@pytest.fixture
def book(services: Services) -> Book:
    scene = Scenario(services)
    services.settings.set_many(
        {"my_addresses": ["rep@mycorp.example"], "internal_domains": ["mycorp.example"]}
    )
    vandelay = scene.company("Vandelay", current="50000", domains=["vi.example"])
    labs = scene.company("Vandelay Labs")
    labs_draft = services.companies.draft(labs)
    labs_draft.parent_id = vandelay
    services.companies.update(labs_draft)
    ann = scene.person("Ann Buyer", vandelay, email="ann@vi.example")
    bob = scene.person("Bob Engineer", vandelay, email="bob@vi.example")
    scene.rhythm(ann, every=10, count=5, last_days_ago=40)  # going cold
    rollout = scene.deal(
        "Rollout", vandelay, stage="Proposal", amount="80000", people=[ann], entered_days_ago=60
    )
    pilot = scene.deal("Pilot", vandelay, people=[bob], entered_days_ago=40)
    scene.move(pilot, "Lost", days_ago=10, reason="no budget")
    task = services.tasks.create(
        TaskDraft(
            title="Send questionnaire",
            person_id=ann,
            company_id=vandelay,
            deal_id=rollout,
            due_at=scene.ago(2),
        )
    )
    services.notes.create(
        NoteDraft(body="Budget owner is the CFO", company_id=vandelay, occurred_at=scene.ago(3))
    )
    services.notes.create(
        NoteDraft(body="Security review pending", deal_id=rollout, occurred_at=scene.ago(3))
    )
    services.feedback.create(
        FeedbackDraft(
            topic="price",
            sentiment="negative",
            quote="Too expensive per seat",
            person_id=ann,
            company_id=vandelay,
            occurred_at=scene.ago(5),
        )
    )
    call = services.interactions.log(
        LogDraft(
            kind="call",
            person_ids=[ann],
            deal_id=rollout,
            subject="Pricing call",
            occurred_at=scene.ago(85),  # before the rhythm that is now going cold
        )
    )
    meeting = scene.meeting(
        scene.now + timedelta(days=1, hours=1),
        subject="Rollout review",
        people=[bob],
        company_ids=[vandelay],
    )
    return Book(vandelay, labs, ann, bob, rollout, pilot, task, call, meeting)


def _column(services: Services, kind: str, key: str, filter_text: str = "") -> dict[str, object]:
    """One list column, by row id (what the lists window shows)."""
    columns = [c for c in services.lists.columns(kind) if c.key == key]
    return {
        row.id: row.values[0]
        for row in services.lists.window(kind, filter_text, columns=columns, limit=1000)
    }


def _found(services: Services, text: str, kind: str) -> list[str]:
    results = services.search.query(text)
    return sorted(h.title for h in results.hits if h.kind == kind)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------ a deleted company


def test_a_deleted_company_leaves_its_people_deals_and_subsidiaries_without_its_name(
    services: Services, book: Book
) -> None:
    ann = services.people.detail(book.ann)
    assert (ann.company_id, ann.company_name) == (book.vandelay, "Vandelay")

    services.companies.delete([book.vandelay])

    # Person detail (the Customer 360° header): no company, no link to open.
    ann = services.people.detail(book.ann)
    assert (ann.company_id, ann.company_name) == (None, "")
    # Deal detail and the pipeline board's card.
    rollout = services.deals.detail(book.rollout)
    assert (rollout.company_id, rollout.company_name) == (None, "")
    cards = {c.id: c for col in services.deals.board().columns for c in col.cards}
    assert cards[book.rollout].company_name == ""
    # The subsidiary's "part of".
    labs = services.companies.detail(book.labs)
    assert (labs.parent_id, labs.parent_name) == (None, "")
    # Lists: the company column is empty, and filtering on the name finds nobody.
    assert _column(services, "person", "company") == {book.ann: None, book.bob: None}
    assert set(_column(services, "deal", "company").values()) == {None}
    assert services.lists.count("person", "company:vandelay") == 0
    assert services.lists.count("person", "has:company") == 0
    assert services.lists.count("deal", "company:vandelay") == 0

    services.companies.restore([book.vandelay])

    ann = services.people.detail(book.ann)
    assert (ann.company_id, ann.company_name) == (book.vandelay, "Vandelay")
    assert services.deals.detail(book.rollout).company_name == "Vandelay"
    cards = {c.id: c for col in services.deals.board().columns for c in col.cards}
    assert cards[book.rollout].company_name == "Vandelay"
    assert services.companies.detail(book.labs).parent_name == "Vandelay"
    assert _column(services, "person", "company") == {book.ann: "Vandelay", book.bob: "Vandelay"}
    assert services.lists.count("person", "company:vandelay") == 2
    assert services.lists.count("person", "has:company") == 2
    assert services.lists.count("deal", "company:vandelay") == 2


def test_search_stops_finding_people_and_deals_by_a_deleted_company_name(
    services: Services, book: Book
) -> None:
    assert _found(services, "vandelay", "person") == ["Ann Buyer", "Bob Engineer"]
    assert _found(services, "vandelay", "deal") == ["Pilot", "Rollout"]
    ann_hit = services.search.query("ann buyer").first("person")
    assert ann_hit is not None and "Vandelay" in ann_hit.subtitle
    note_hit = services.search.query("budget owner").first("note")
    assert note_hit is not None and note_hit.subtitle == "Vandelay"

    services.companies.delete([book.vandelay])

    assert _found(services, "vandelay", "company") == ["Vandelay Labs"]  # its own name
    assert _found(services, "vandelay", "person") == []
    assert _found(services, "vandelay", "deal") == []
    ann_hit = services.search.query("ann buyer").first("person")
    assert ann_hit is not None and "Vandelay" not in ann_hit.subtitle
    rollout_hit = services.search.query("rollout").first("deal")
    assert rollout_hit is not None and "Vandelay" not in rollout_hit.subtitle
    note_hit = services.search.query("budget owner").first("note")
    assert note_hit is not None and note_hit.subtitle == ""  # the note stays, the name goes
    assert services.lists.count("person", "vandelay") == 0  # the list's text search too
    assert services.maintenance.check().problems == []  # the index is in step

    services.companies.restore([book.vandelay])

    assert _found(services, "vandelay", "person") == ["Ann Buyer", "Bob Engineer"]
    assert _found(services, "vandelay", "deal") == ["Pilot", "Rollout"]
    assert _found(services, "vandelay", "company") == ["Vandelay", "Vandelay Labs"]
    assert services.lists.count("person", "vandelay") == 2


def test_editing_after_the_company_was_deleted_keeps_the_link_for_undo(
    services: Services, book: Book
) -> None:
    services.companies.delete([book.vandelay])

    person = services.people.draft(book.ann)
    assert (person.company_id, person.company_name) == (book.vandelay, "")  # kept, no name
    person.title = "CFO"
    services.people.update(person)
    deal = services.deals.draft(book.rollout)
    assert deal.company_id == book.vandelay
    deal.title = "Rollout 2"
    services.deals.update(deal)
    labs = services.companies.draft(book.labs)
    assert labs.parent_id == book.vandelay
    labs.industry = "Research"
    services.companies.update(labs)

    services.companies.restore([book.vandelay])

    assert services.people.detail(book.ann).company_name == "Vandelay"
    assert services.deals.detail(book.rollout).company_name == "Vandelay"
    assert services.companies.detail(book.labs).parent_name == "Vandelay"


def test_insight_lists_keep_the_person_but_drop_a_deleted_company(
    services: Services, book: Book
) -> None:
    def company_of(entries: list, entity_id: str) -> str | None:  # type: ignore[type-arg]
        entry = next(e for e in entries if e.id == entity_id)
        return entry.company.name if entry.company else None

    insight = services.insight
    assert company_of(insight.going_cold(), book.ann) == "Vandelay"
    assert company_of(insight.next_contacts(), book.ann) == "Vandelay"
    assert insight.relationship(book.ann).company is not None
    assert [s.company.name for s in insight.stuck_deals() if s.company] == ["Vandelay"]
    [warm] = insight.keep_warm_proposals()
    assert warm.company is not None and warm.company.name == "Vandelay"
    valued = next(e for e in insight.going_cold() if e.id == book.ann).value
    assert valued.account_minor == 5_000_000  # Vandelay's value is at stake with Ann

    services.companies.delete([book.vandelay])

    assert company_of(insight.going_cold(), book.ann) is None  # Ann stays, going cold
    assert company_of(insight.next_contacts(), book.ann) is None
    assert insight.relationship(book.ann).company is None
    assert [s.company for s in insight.stuck_deals()] == [None]
    [warm] = insight.keep_warm_proposals()
    assert warm.person.name == "Bob Engineer" and warm.company is None
    valued = next(e for e in insight.going_cold() if e.id == book.ann).value
    assert valued.account_minor == 0
    assert valued.open_deals_minor == 8_000_000  # her own deal is still at stake

    services.companies.restore([book.vandelay])

    assert company_of(insight.going_cold(), book.ann) == "Vandelay"
    assert insight.keep_warm_proposals()[0].company is not None


def test_my_day_and_the_briefing_drop_a_deleted_company(services: Services, book: Book) -> None:
    day = services.myday.load(UTC)
    [follow_up] = day.overdue
    assert follow_up.company is not None and follow_up.company.name == "Vandelay"
    [brief] = day.meetings_tomorrow
    [bob] = brief.known_attendees
    assert bob.company is not None and bob.company.name == "Vandelay"
    assert [c.name for c in brief.companies] == ["Vandelay"]
    assert [(d.title, d.company.name if d.company else None) for d in brief.deals] == [
        ("Rollout", "Vandelay")
    ]
    assert {n.about for n in brief.notes} == {"Vandelay", "Rollout"}

    services.companies.delete([book.vandelay])

    day = services.myday.load(UTC)
    [follow_up] = day.overdue
    assert follow_up.company is None  # the task stays, about Ann and the rollout
    assert follow_up.person is not None and follow_up.deal is not None
    [brief] = day.meetings_tomorrow
    [bob] = brief.known_attendees
    assert bob.company is None
    # The deleted company brings nothing in: not itself, its deal, or its notes.
    assert (brief.companies, brief.deals, brief.notes) == ((), (), ())
    assert [c.company for c in day.going_cold if c.id == book.ann] == [None]
    assert [c.company for c in day.next_contacts if c.id == book.ann] == [None]

    services.companies.restore([book.vandelay])

    [brief] = services.myday.load(UTC).meetings_tomorrow
    assert [c.name for c in brief.companies] == ["Vandelay"]
    assert [d.title for d in brief.deals] == ["Rollout"]


def test_exports_leave_out_a_deleted_company(services: Services, book: Book) -> None:
    contacts = services.contacts
    assert "ORG:Vandelay" in contacts.export_vcards([book.ann])
    assert "ORG:Vandelay" in contacts.export_vcards([book.ann], version="2.1")
    [person] = _csv(contacts.export_csv("person", [book.ann]))
    [deal] = _csv(contacts.export_csv("deal", [book.rollout]))
    [labs] = _csv(contacts.export_csv("company", [book.labs]))
    assert (person["Organization 1 - Name"], deal["Company"]) == ("Vandelay", "Vandelay")
    assert labs["Parent company"] == "Vandelay"

    services.companies.delete([book.vandelay])

    assert "ORG" not in contacts.export_vcards([book.ann])
    assert "ORG" not in contacts.export_vcards([book.ann], version="2.1")
    assert "Vandelay" not in contacts.export_csv("person", [book.ann])
    assert "Vandelay" not in contacts.export_csv("deal", [book.rollout])
    [labs] = _csv(contacts.export_csv("company", [book.labs]))
    assert labs["Name"] == "Vandelay Labs" and labs["Parent company"] == ""

    services.companies.restore([book.vandelay])

    assert "ORG:Vandelay" in contacts.export_vcards([book.ann])
    assert "Vandelay" in contacts.export_csv("deal", [book.rollout])


def test_tasks_notes_and_feedback_stay_without_the_deleted_names(
    services: Services, book: Book
) -> None:
    services.companies.delete([book.vandelay])
    services.deals.delete([book.rollout])

    task = services.tasks.get(book.task)
    assert (task.person_name, task.company_name, task.deal_title) == ("Ann Buyer", "", "")
    assert (task.company_id, task.deal_id) == (book.vandelay, book.rollout)  # kept for undo
    assert _column(services, "task", "company") == {book.task: None}
    assert _column(services, "task", "deal") == {book.task: None}
    assert services.lists.count("task", "deal:rollout") == 0
    [feedback] = services.feedback.for_entity(book.ann)
    assert (feedback.person_name, feedback.company_name) == ("Ann Buyer", "")
    note_hit = services.search.query("security review").first("note")
    assert note_hit is not None and note_hit.subtitle == ""

    services.deals.restore([book.rollout])
    services.companies.restore([book.vandelay])

    task = services.tasks.get(book.task)
    assert (task.company_name, task.deal_title) == ("Vandelay", "Rollout")
    assert services.feedback.for_entity(book.ann)[0].company_name == "Vandelay"
    assert services.lists.count("task", "deal:rollout") == 1


# ------------------------------------------------------------ a deleted person


def test_a_deleted_person_goes_from_tasks_deals_and_my_day(services: Services, book: Book) -> None:
    assert [p[1] for p in services.deals.detail(book.rollout).people] == ["Ann Buyer"]
    assert services.lists.count("deal", "person:ann") == 1

    services.people.delete([book.ann])

    task = services.tasks.get(book.task)
    assert (task.person_id, task.person_name) == (book.ann, "")
    assert _column(services, "task", "person") == {book.task: None}
    assert services.lists.count("task", "person:ann") == 0
    assert services.deals.detail(book.rollout).people == ()
    assert services.lists.count("deal", "person:ann") == 0
    [follow_up] = services.myday.load(UTC).overdue
    assert follow_up.person is None and follow_up.company is not None
    [feedback] = services.feedback.for_entity(book.vandelay)
    assert (feedback.person_name, feedback.company_name) == ("", "Vandelay")
    [brief] = services.myday.load(UTC).meetings_tomorrow
    assert [a.name for a in brief.known_attendees] == ["Bob Engineer"]
    # The call stays on the rollout's timeline; its links show no deleted person.
    assert book.call in [e.id for e in services.timeline.for_entity(book.rollout)]
    assert "person" not in {link.entity_type for link in services.messages.links(book.call)}

    services.people.restore([book.ann])

    assert services.tasks.get(book.task).person_name == "Ann Buyer"
    assert [p[1] for p in services.deals.detail(book.rollout).people] == ["Ann Buyer"]
    [follow_up] = services.myday.load(UTC).overdue
    assert follow_up.person is not None and follow_up.person.name == "Ann Buyer"
    assert "person" in {link.entity_type for link in services.messages.links(book.call)}


# ------------------------------------------------------------ a deleted deal


def test_an_interaction_linked_to_a_deleted_deal_no_longer_shows_the_link(
    services: Services, book: Book
) -> None:
    def linked(kind: str) -> list[str]:
        return [
            link.name for link in services.messages.links(book.call) if link.entity_type == kind
        ]

    assert linked("deal") == ["Rollout"]
    assert "deal" in {link.entity_type for link in services.interactions.detail(book.call).links}

    services.deals.delete([book.rollout])

    # The call stays on Ann's timeline; "why is it here" no longer names the deleted deal.
    assert book.call in [e.id for e in services.timeline.for_entity(book.ann)]
    assert linked("deal") == []
    assert linked("person") == ["Ann Buyer"]
    detail = services.interactions.detail(book.call)
    assert "deal" not in {link.entity_type for link in detail.links}
    assert all(link.name for link in detail.links)
    # Correcting the call keeps its (hidden) deal link, so undo finds it there again.
    draft = services.interactions.draft(book.call)
    assert draft.deal_id == book.rollout
    draft.subject = "Pricing call (notes fixed)"
    services.interactions.update(book.call, draft)
    [follow_up] = services.myday.load(UTC).overdue
    assert follow_up.deal is None

    services.deals.restore([book.rollout])

    assert linked("deal") == ["Rollout"]
    assert book.call in [e.id for e in services.timeline.for_entity(book.rollout)]
    [follow_up] = services.myday.load(UTC).overdue
    assert follow_up.deal is not None and follow_up.deal.name == "Rollout"


# ---------------------------------------------------- where a deleted one still shows


def test_merge_preview_and_rules_name_a_deleted_company_as_deleted(
    services: Services, book: Book
) -> None:
    """A merge keeps the link it picks, and a rule rests while its company is deleted:
    both show the deleted company by name, marked deleted, so the rep knows."""
    twin = services.people.create(
        PersonDraft(given_name="Ann", family_name="Buyer", company_name="Globex")
    )
    services.relink.add_rule("domain", "vi.example", "always", "company", book.vandelay)

    services.companies.delete([book.vandelay])

    preview = services.merge.preview("person", book.ann, twin)
    company = next(f for f in preview.fields if f.field == "company")
    assert (company.survivor_value, company.other_value) == ("Vandelay (deleted)", "Globex")
    [rule] = services.relink.rules()
    assert rule.entity_name.startswith("Vandelay (deleted")

    services.companies.restore([book.vandelay])

    preview = services.merge.preview("person", book.ann, twin)
    company = next(f for f in preview.fields if f.field == "company")
    assert company.survivor_value == "Vandelay"
    assert services.relink.rules()[0].entity_name == "Vandelay"


def test_duplicate_reasons_do_not_name_a_deleted_company(services: Services, book: Book) -> None:
    twin = services.people.create(
        PersonDraft(given_name="Ann", family_name="Buyer", company_id=book.vandelay)
    )

    def reasons() -> tuple[str, ...]:
        [pair] = [
            p for p in services.dedupe.candidates("person") if {p.a_id, p.b_id} == {book.ann, twin}
        ]
        return pair.reasons

    assert reasons() == ("same name at Vandelay",)

    services.companies.delete([book.vandelay])

    assert reasons() == ("same name, one without a company",)

    services.companies.restore([book.vandelay])

    assert reasons() == ("same name at Vandelay",)


def test_sharing_neither_lists_nor_previews_a_deleted_company(
    services: Services, book: Book
) -> None:
    from relbook.domain.errors import NotFoundError

    services.sharing.share("company", book.vandelay, "metadata")
    services.sharing.share("person", book.ann, "metadata")
    labels = {i.label for i in services.sharing.shared()}
    assert labels == {"Vandelay", "Ann Buyer"}

    services.companies.delete([book.vandelay])

    assert [i.label for i in services.sharing.shared()] == ["Ann Buyer"]
    with pytest.raises(NotFoundError):
        services.sharing.preview("company", book.vandelay)
    ann = services.sharing.preview("person", book.ann)
    assert ann.rows[0].fields["company_id"] is None  # the team sees no link to it

    services.companies.restore([book.vandelay])

    assert {i.label for i in services.sharing.shared()} == {"Vandelay", "Ann Buyer"}
    assert services.sharing.preview("company", book.vandelay).label == "Vandelay"
