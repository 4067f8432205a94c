"""Every service call is one transaction that either saves a consistent change (with its
outbox row) or refuses with an error naming the field — never a crash, never a dangling
reference, never half a change."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from relbook.domain.errors import ConflictError, NotFoundError, UserError, ValidationError
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.feedback import FeedbackDraft
from relbook.services.fields import FieldDefDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import PersonDraft
from relbook.services.pipelines import StageDraft
from relbook.services.tasks import TaskDraft
from relbook.services.views import ViewDraft

GONE = "0190aaaa-0000-7000-8000-000000000000"  # an id no book holds


@pytest.fixture
def ids(services: Services) -> dict[str, str]:
    company = services.companies.create(CompanyDraft(name="Acme", domains=["acme.example"]))
    person = services.people.create(
        PersonDraft(given_name="Zoë", family_name="Hart", company_id=company)
    )
    deal = services.deals.create(DealDraft(title="Acme rollout", company_id=company))
    return {"company": company, "person": person, "deal": deal}


def _outbox(services: Services) -> dict[tuple[str, str], tuple[str, list[str]]]:
    return {
        (row[0], row[1]): (row[2], json.loads(row[3]))
        for row in services.book.reader().execute(
            "SELECT entity_type, entity_id, op, fields FROM outbox"
        )
    }


def _counts(services: Services) -> dict[str, int]:
    db = services.book.reader()
    return {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("person", "company", "deal", "task", "note", "feedback", "interaction",
                      "affiliation", "outbox", "interaction_link")
    }  # fmt: skip


# ---------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("label", "call", "field"),
    [
        ("person at a company that is not there",
         lambda s, i: s.people.create(PersonDraft(given_name="X", company_id=GONE)), "company_id"),
        ("company under a missing parent",
         lambda s, i: s.companies.create(CompanyDraft(name="Sub", parent_id=GONE)), "parent_id"),
        ("task for a missing person",
         lambda s, i: s.tasks.create(TaskDraft(title="Call", person_id=GONE)), "person_id"),
        ("task for a missing deal",
         lambda s, i: s.tasks.create(TaskDraft(title="Call", deal_id=GONE)), "deal_id"),
        ("task about a missing interaction",
         lambda s, i: s.tasks.create(TaskDraft(title="Reply", interaction_id=GONE,
                                               person_id=i["person"])), "interaction_id"),
        ("note on a missing company",
         lambda s, i: s.notes.create(NoteDraft(body="hi", company_id=GONE)), "company_id"),
        ("feedback from a missing person",
         lambda s, i: s.feedback.create(FeedbackDraft(quote="great", person_id=GONE)),
         "person_id"),
        ("feedback quoting a missing note",
         lambda s, i: s.feedback.create(FeedbackDraft(quote="great", person_id=i["person"],
                                                      note_id=GONE)), "note_id"),
        ("call with a missing person",
         lambda s, i: s.interactions.log(LogDraft(kind="call", person_ids=[i["person"], GONE])),
         "person_ids.1"),
        ("call about a missing deal",
         lambda s, i: s.interactions.log(LogDraft(kind="call", person_ids=[i["person"]],
                                                  deal_id=GONE)), "deal_id"),
        ("job at a missing company",
         lambda s, i: s.affiliations.add(i["person"], GONE, "CFO"), "company_id"),
        ("job of a missing person",
         lambda s, i: s.affiliations.add(GONE, i["company"], "CFO"), "person_id"),
    ],
)  # fmt: skip
def test_a_link_to_a_record_that_is_not_there_names_the_field_and_saves_nothing(
    services: Services,
    ids: dict[str, str],
    label: str,
    call: Callable[[Services, dict[str, str]], Any],
    field: str,
) -> None:
    before = _counts(services)
    with pytest.raises(ValidationError) as caught:
        call(services, ids)
    message = caught.value.for_field(field)
    assert message is not None, (label, caught.value.errors)
    assert "in this book" in message
    assert _counts(services) == before, label


def test_a_deleted_record_cannot_be_linked_either(services: Services, ids: dict[str, str]) -> None:
    services.people.delete([ids["person"]])
    with pytest.raises(ValidationError) as caught:
        services.notes.create(NoteDraft(body="hi", person_id=ids["person"]))
    assert "may have been deleted" in (caught.value.for_field("person_id") or "")


def test_records_linked_to_something_deleted_since_can_still_be_edited(
    services: Services, ids: dict[str, str]
) -> None:
    note = services.notes.create(NoteDraft(body="Budget talk", person_id=ids["person"]))
    task = services.tasks.create(TaskDraft(title="Call", deal_id=ids["deal"]))
    call = services.interactions.log(LogDraft(kind="call", person_ids=[ids["person"]]))
    deal = services.deals.draft(ids["deal"])
    deal.people = [(ids["person"], "champion")]
    services.deals.update(deal)
    services.companies.delete([ids["company"]])
    services.people.delete([ids["person"]])
    services.deals.delete([ids["deal"]])

    person_draft = services.people.draft  # the person is gone: restore, then edit
    services.people.restore([ids["person"]])
    draft = person_draft(ids["person"])
    draft.title = "CFO"
    services.people.update(draft)  # still at the (deleted) company: not an error
    services.people.delete([ids["person"]])

    edited = NoteDraft(body="Budget talk, again", person_id=ids["person"], id=note)
    services.notes.update(edited)
    task_draft = services.tasks.draft(task)
    task_draft.title = "Call back"
    services.tasks.update(task_draft)
    call_draft = services.interactions.draft(call)
    call_draft.subject = "Budget call"
    services.interactions.update(call, call_draft)
    services.deals.restore([ids["deal"]])
    deal_draft = services.deals.draft(ids["deal"])
    deal_draft.title = "Acme rollout 2"
    services.deals.update(deal_draft)
    # A new link to a deleted record is still refused.
    with pytest.raises(ValidationError):
        services.notes.create(NoteDraft(body="x", person_id=ids["person"]))

    services.companies.restore([ids["company"]])
    services.people.restore([ids["person"]])
    person = services.people.detail(ids["person"])
    assert (person.title, person.company_id) == ("CFO", ids["company"])
    assert services.companies.detail(ids["company"]).people_count == 1
    assert services.notes.get(note).body == "Budget talk, again"
    assert services.deals.detail(ids["deal"]).people[0][0] == ids["person"]


@pytest.mark.parametrize(
    ("label", "call"),
    [
        ("photo", lambda s: s.people.set_photo(GONE, b"\xff\xd8")),
        ("cadence", lambda s: s.people.set_cadence(GONE, 30)),
        ("snooze person", lambda s: s.people.snooze(GONE, None)),
        ("snooze task", lambda s: s.tasks.snooze(GONE, None)),
        ("end job", lambda s: s.affiliations.end(GONE)),
        ("edit job", lambda s: s.affiliations.update(GONE, role="CEO")),
        ("delete job", lambda s: s.affiliations.delete(GONE)),
        ("rename tag", lambda s: s.tags.rename(GONE, "vip")),
        ("delete tag", lambda s: s.tags.delete(GONE)),
        ("tag a missing person", lambda s: s.tags.tag("person", [GONE], ["vip"])),
        ("rename pipeline", lambda s: s.pipelines.rename_pipeline(GONE, "New")),
        ("default pipeline", lambda s: s.pipelines.set_default(GONE)),
        ("stage in a missing pipeline", lambda s: s.pipelines.add_stage(GONE, StageDraft("X"))),
        ("edit stage", lambda s: s.pipelines.update_stage(StageDraft("X", id=GONE))),
        ("edit view", lambda s: s.views.update(ViewDraft("person", "V", id=GONE))),
        ("delete view", lambda s: s.views.delete(GONE)),
        ("delete field", lambda s: s.fields.delete(GONE)),
        ("edit field", lambda s: s.fields.save(FieldDefDraft("person", "F", "text", id=GONE))),
        ("edit call", lambda s: s.interactions.update(GONE, LogDraft(person_ids=[]))),
    ],
)
def test_acting_on_a_record_that_is_gone_says_so(
    services: Services, ids: dict[str, str], label: str, call: Callable[[Services], Any]
) -> None:
    with pytest.raises(UserError) as caught:
        call(services)
    assert isinstance(caught.value, NotFoundError | ValidationError), label
    assert caught.value.message, label


def test_the_default_pipeline_survives_an_unknown_id(services: Services) -> None:
    default = services.pipelines.default_pipeline()
    with pytest.raises(NotFoundError):
        services.pipelines.set_default(GONE)
    assert services.pipelines.default_pipeline().id == default.id
    assert services.pipelines.get(default.id).is_default


# -------------------------------------------------------------------- outbox


def test_every_shareable_edit_writes_its_outbox_row_in_the_same_transaction(
    services: Services, ids: dict[str, str]
) -> None:
    task = services.tasks.create(TaskDraft(title="Send offer", person_id=ids["person"]))
    note = services.notes.create(NoteDraft(body="Likes CHF pricing", deal_id=ids["deal"]))
    call = services.interactions.log(LogDraft(kind="call", person_ids=[ids["person"]]))
    feedback = services.feedback.create(
        FeedbackDraft(topic="price", quote="too dear", company_id=ids["company"])
    )
    field = services.fields.save(FieldDefDraft("deal", "Budget", "money"))
    view = services.views.create(ViewDraft("person", "Acme people", "company:acme"))
    outbox = _outbox(services)
    for kind, ident in (
        ("person", ids["person"]),
        ("company", ids["company"]),
        ("deal", ids["deal"]),
        ("task", task),
        ("note", note),
        ("interaction", call),
        ("feedback", feedback),
        ("field_def", field),
        ("saved_view", view),
    ):
        assert outbox[(kind, ident)][0] == "upsert", kind

    services.tasks.complete([task])
    assert "done_at" in _outbox(services)[("task", task)][1]
    services.notes.delete([note])
    assert _outbox(services)[("note", note)][0] == "delete"


def test_tag_changes_are_edits_of_the_tagged_record(
    services: Services, ids: dict[str, str]
) -> None:
    version = services.people.detail(ids["person"]).version
    services.tags.tag("person", [ids["person"]], ["key account"])
    assert services.people.detail(ids["person"]).version == version + 1
    assert "tags" in _outbox(services)[("person", ids["person"])][1]
    services.tags.untag("person", [ids["person"]], "Key-Account")
    assert services.people.detail(ids["person"]).tags == ()
    assert services.people.detail(ids["person"]).version == version + 2


def test_a_failing_write_leaves_neither_row_nor_outbox(
    services: Services, ids: dict[str, str]
) -> None:
    before = _counts(services)
    with pytest.raises(RuntimeError), services.tasks.write(("task",)) as session:
        from relbook.storage.models import Task

        session.add(Task(title="half"))
        session.flush()  # the outbox row is written here …
        raise RuntimeError("power cut")  # … and must go with the task
    assert _counts(services) == before


# ---------------------------------------------------------------------- tags


def test_renaming_a_tag_renames_it_everywhere_and_in_search(
    services: Services, ids: dict[str, str]
) -> None:
    services.tags.tag("person", [ids["person"]], ["prospect"])
    services.tags.tag("company", [ids["company"]], ["prospect"])
    tag = next(t for t in services.tags.all() if t.name == "prospect")
    services.tags.rename(tag.id, "Key account")
    assert services.people.detail(ids["person"]).tags == ("Key account",)
    assert services.lists.ids("company", "tag:key-account") == [ids["company"]]
    assert services.search.query("key account", kinds=("person",)).first("person") is not None
    assert services.search.query("prospect", kinds=("person", "company")).groups == ()


def test_renaming_onto_an_existing_tag_is_refused(services: Services, ids: dict[str, str]) -> None:
    services.tags.tag("person", [ids["person"]], ["vip", "prospect"])
    prospect = next(t for t in services.tags.all() if t.name == "prospect")
    with pytest.raises(ValidationError) as caught:
        services.tags.rename(prospect.id, "VIP")
    assert "already exists" in (caught.value.for_field("name") or "")


def test_deleting_a_tag_takes_it_off_everything_and_it_can_come_back(
    services: Services, ids: dict[str, str]
) -> None:
    services.tags.tag("person", [ids["person"]], ["cold"])
    services.tags.tag("deal", [ids["deal"]], ["cold"])
    tag = next(t for t in services.tags.all() if t.name == "cold")
    assert services.tags.delete(tag.id) == 2
    assert "cold" not in [t.name for t in services.tags.all()]
    assert services.people.detail(ids["person"]).tags == ()
    assert services.deals.detail(ids["deal"]).tags == ()
    assert services.search.query("cold", kinds=("person", "deal")).groups == ()
    services.tags.tag("person", [ids["person"]], ["Cold"])  # the name is free again
    assert services.people.detail(ids["person"]).tags == ("Cold",)


def test_a_tag_without_letters_is_refused(services: Services, ids: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        services.tags.tag("person", [ids["person"]], ["###"])
    assert "not a usable tag" in (caught.value.for_field("tags") or "")


# --------------------------------------------------------------- affiliations


def test_jobs_can_be_corrected_ended_and_deleted(services: Services, ids: dict[str, str]) -> None:
    globex = services.companies.create(CompanyDraft(name="Globex"))
    job = services.affiliations.add(
        ids["person"], globex, "Advisor", "Board", "2024-01-01", primary=False
    )
    with pytest.raises(ValidationError) as caught:
        services.affiliations.update(
            job, role="Advisor", start_date="2024-01-01", end_date="2023-12-31"
        )
    assert caught.value.for_field("end_date") == "ends before it starts"
    services.affiliations.update(
        job, role="Chair", department="Board", start_date="2024-02-01", end_date=None
    )
    row = next(a for a in services.affiliations.of_person(ids["person"]) if a.id == job)
    assert (row.role, row.department, row.start_date) == ("Chair", "Board", "2024-02-01")

    current = next(
        a for a in services.affiliations.of_person(ids["person"]) if a.company_id == ids["company"]
    )
    services.affiliations.delete(current.id)  # entered by mistake
    person = services.people.detail(ids["person"])
    assert person.company_id is None
    assert services.companies.detail(ids["company"]).people_count == 0
    assert [a.id for a in services.affiliations.of_person(ids["person"])] == [job]


def test_a_primary_job_keeps_its_department(services: Services, ids: dict[str, str]) -> None:
    globex = services.companies.create(CompanyDraft(name="Globex"))
    job = services.affiliations.add(ids["person"], globex, "CFO", "Finance", primary=True)
    row = next(a for a in services.affiliations.of_person(ids["person"]) if a.id == job)
    assert (row.role, row.department, row.current) == ("CFO", "Finance", True)
    assert services.people.detail(ids["person"]).company_id == globex
    old = next(
        a for a in services.affiliations.of_person(ids["person"]) if a.company_id == ids["company"]
    )
    assert not old.current  # people change jobs: the old one ended, it was not deleted


# ---------------------------------------------------------------------- tasks


def test_reminders_come_once_in_their_span_and_again_after_a_snooze(
    services: Services, ids: dict[str, str]
) -> None:
    now = services.clock.now()
    due = services.tasks.create(
        TaskDraft(
            title="Prepare QBR",
            person_id=ids["person"],
            due_at=now + timedelta(days=2),
            reminder_at=now + timedelta(hours=1),
        )
    )
    services.tasks.create(TaskDraft(title="No reminder", due_at=now + timedelta(days=1)))
    assert services.tasks.get(due).reminder_at == now + timedelta(hours=1)
    assert services.tasks.reminders(now) == []
    first = services.tasks.reminders(now + timedelta(hours=2), since=now)
    assert [t.id for t in first] == [due]
    assert services.tasks.reminders(now + timedelta(hours=3), since=now + timedelta(hours=2)) == []

    services.tasks.snooze(due, now + timedelta(hours=5))
    again = services.tasks.reminders(now + timedelta(hours=6), since=now + timedelta(hours=3))
    assert [t.id for t in again] == [due]
    services.tasks.complete([due])
    assert services.tasks.reminders(now + timedelta(days=3)) == []


def test_a_reminder_after_the_due_day_is_refused(services: Services) -> None:
    now = services.clock.now()
    with pytest.raises(ValidationError) as caught:
        services.tasks.create(TaskDraft(title="X", due_at=now, reminder_at=now + timedelta(days=3)))
    assert caught.value.for_field("reminder_at") == "is after the task is due"


def test_a_stale_task_edit_is_refused(services: Services) -> None:
    task = services.tasks.create(TaskDraft(title="Call back"))
    first, second = services.tasks.draft(task), services.tasks.draft(task)
    first.title = "Call back Zoë"
    services.tasks.update(first)
    second.title = "Call back Bo"
    with pytest.raises(ConflictError):
        services.tasks.update(second)
    assert services.tasks.get(task).title == "Call back Zoë"


# -------------------------------------------------------------- interactions


def test_a_logged_call_can_be_corrected_and_statistics_follow(
    services: Services, ids: dict[str, str]
) -> None:
    bo = services.people.create(PersonDraft(given_name="Bo", family_name="Lind"))
    now = services.clock.now()
    call = services.interactions.log(
        LogDraft(
            kind="call",
            subject="Pricng",
            occurred_at=now - timedelta(days=1),
            person_ids=[bo],
        )
    )
    assert services.people.detail(bo).touch_count == 1
    draft = services.interactions.draft(call)
    assert draft.person_ids == [bo]
    draft.subject = "Pricing"
    draft.person_ids = [ids["person"]]  # it was Zoë on the phone, not Bo
    draft.occurred_at = now - timedelta(days=3)
    services.interactions.update(call, draft)

    detail = services.interactions.detail(call)
    assert detail.subject == "Pricing"
    assert {(link.entity_type, link.entity_id) for link in detail.links} == {
        ("person", ids["person"]),
        ("company", ids["company"]),
    }
    assert services.people.detail(bo).touch_count == 0
    zoe = services.people.detail(ids["person"])
    assert (zoe.touch_count, zoe.last_touch_at) == (1, now - timedelta(days=3))
    assert services.search.query("pricing", kinds=("interaction",)).first("interaction")
    assert services.search.query("pricng", kinds=("interaction",)).groups == ()


def test_captured_mail_is_relinked_not_edited(services: Services, ids: dict[str, str]) -> None:
    call = services.interactions.log(LogDraft(kind="email", person_ids=[ids["person"]]))
    services.book.reader()  # the source column is what tells them apart
    with services.tasks.write(("interaction",)) as session:
        from relbook.storage.models import Interaction

        row = session.get(Interaction, call)
        assert row is not None
        row.source = "account-1"
    with pytest.raises(ValidationError) as caught:
        services.interactions.update(call, services.interactions.draft(call))
    assert "re-linked" in (caught.value.for_field("source") or "")


# ---------------------------------------------------------- pipelines, views


def test_deals_moved_into_a_closing_stage_are_closed_there(services: Services) -> None:
    pipeline = services.pipelines.default_pipeline()
    stage = {s.name: s.id for s in pipeline.stages}
    deal = services.deals.create(DealDraft(title="Orphan-to-be", stage_id=stage["Qualified"]))
    services.pipelines.delete_stage(stage["Qualified"], stage["Lost"])
    moved = services.deals.detail(deal)
    assert (moved.stage_name, moved.status) == ("Lost", "lost")
    assert moved.closed_at == services.clock.now()


def test_deleting_a_pipeline_into_an_unknown_one_is_refused(services: Services) -> None:
    other = services.pipelines.create_pipeline("Renewals", [StageDraft("Due")])
    deal = services.deals.create(DealDraft(title="Renewal", pipeline_id=other))
    with pytest.raises(ValidationError):
        services.pipelines.delete_pipeline(other, GONE)
    assert services.deals.detail(deal).pipeline_name == "Renewals"


def test_a_saved_view_names_only_columns_and_sorts_the_list_has(services: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        services.views.create(
            ViewDraft("person", "Mine", columns=["name", "shoe-size"], sort=[("tags", True)])
        )
    assert caught.value.for_field("columns.1") == "'shoe-size' is not a column of this list"
    assert caught.value.for_field("sort.0") == "the list cannot be sorted by 'tags'"
    view = services.views.create(
        ViewDraft("person", "Mine", columns=["name", "company"], sort=[("name", True)])
    )
    assert services.views.get(view).columns == ("name", "company")


def test_settings_say_what_kind_of_value_they_need(services: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        services.settings.set("backup_keep", "many")
    assert caught.value.for_field("backup_keep") == "must be a whole number"
    with pytest.raises(ValidationError) as caught:
        services.settings.set("backup_keep", 0)
    assert caught.value.for_field("backup_keep") == "must be between 1 and 365"
    services.settings.set("backup_keep", 30)
    assert services.settings.get("backup_keep") == 30
