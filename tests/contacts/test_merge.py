"""Merging people and companies: nothing is lost, the preview says what happens, and undo
puts the book back exactly."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relbook.domain.clock import FixedClock
from relbook.domain.errors import NotFoundError, UserError
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.feedback import FeedbackDraft
from relbook.services.fields import FieldDefDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import Labeled, PersonDraft
from relbook.services.tasks import TaskDraft
from relbook.storage.book import open_book
from relbook.storage.models import Person, PersonEmail
from tests.conftest import NOW

# Columns that move forward on every write (sync needs them to): not part of "the same book".
_VOLATILE = {"version", "updated_at"}
_SKIP_TABLES = ("outbox", "merge_record")


def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    db = services.book.reader()
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'fts_%' "
            "AND name NOT LIKE 'sqlite_%'"
        )
        if r[0] not in _SKIP_TABLES
    ]
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        cursor = db.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        found[table] = sorted(
            (
                tuple(v for n, v in zip(names, row, strict=True) if n not in _VOLATILE)
                for row in cursor.fetchall()
            ),
            key=repr,
        )
    # The search index as the rep meets it: which words each document holds (their order
    # inside a column follows row order, which carries no meaning).
    for fts in ("fts_person", "fts_company", "fts_deal"):
        found[fts] = sorted(
            (
                tuple(sorted(str(v or "").split()) if i else v for i, v in enumerate(row))
                for row in db.execute(f"SELECT rowid, * FROM {fts}")
            ),
            key=repr,
        )
    return found


def _links(services: Services, entity_id: str) -> set[str]:
    return {
        r[0]
        for r in services.book.reader().execute(
            "SELECT interaction_id FROM interaction_link WHERE entity_id = ?", (entity_id,)
        )
    }


def _scenario(services: Services) -> tuple[str, str, dict[str, str]]:
    ids: dict[str, str] = {}
    a = services.people.create(
        PersonDraft(
            given_name="Zoe",
            family_name="Quinn",
            title="VP Sales",
            about="Prefers mornings.",
            emails=[Labeled("zoe@acme.example", "work")],
            phones=[Labeled("+1 202 555 0100", "work")],
            company_name="Acme",
            tags=["vip"],
        )
    )
    b = services.people.create(
        PersonDraft(
            given_name="Zoë",
            family_name="Hartmann-Quinn",
            title="CFO",
            birthday="1980-01-02",
            emails=[Labeled("zq@acme.example", "work"), Labeled("z@home.example", "home")],
            phones=[Labeled("+1 202 555 0143", "mobile")],
            company_name="Acme Holding",
            tags=["clients", "VIP"],
            cadence_days=14,
        )
    )
    ids["call"] = services.interactions.log(
        LogDraft(
            kind="call", occurred_at=NOW - timedelta(days=3), subject="pricing", person_ids=[b]
        )
    )
    ids["meeting"] = services.interactions.log(
        LogDraft(
            kind="meeting",
            occurred_at=NOW - timedelta(days=10),
            subject="kickoff",
            person_ids=[a, b],
        )
    )
    ids["note"] = services.notes.create(NoteDraft(body="Asked about the roadmap", person_id=b))
    ids["task"] = services.tasks.create(TaskDraft(title="Send the offer", person_id=b))
    ids["feedback"] = services.feedback.create(
        FeedbackDraft(topic="competitor", subject="Globex", quote="cheaper", person_id=b)
    )
    ids["deal"] = services.deals.create(
        DealDraft(title="Renewal", people=[(b, "champion"), (a, "buyer")])
    )
    ids["deal2"] = services.deals.create(DealDraft(title="Upsell", people=[(b, "decision maker")]))
    return a, b, ids


def test_merging_people_keeps_everything_and_undo_restores_the_book(services: Services) -> None:
    a, b, ids = _scenario(services)
    before = snapshot(services)
    preview = services.merge.preview("person", a, b)
    assert [f.field for f in preview.conflicts] == ["name", "title", "company"]
    assert preview.moves["e-mail addresses"] == 2
    assert preview.moves["interactions"] == 1  # the meeting is already A's
    assert preview.moves["deals"] == 2
    assert "Also known as: Zoë Hartmann-Quinn; Title: CFO; Current company: Acme Holding" in (
        preview.about_after
    )

    record = services.merge.merge("person", a, b)
    zoe = services.people.detail(a)
    assert zoe.display_name == "Zoe Quinn" and zoe.title == "VP Sales"
    assert zoe.birthday == "1980-01-02" and zoe.cadence_days == 14  # filled from B
    assert [e.value for e in zoe.emails] == [
        "zoe@acme.example",
        "zq@acme.example",
        "z@home.example",
    ]
    assert [p.value for p in zoe.phones] == ["+12025550100", "+12025550143"]
    assert zoe.tags == ("clients", "vip")
    assert zoe.about.startswith("Prefers mornings.")
    assert "Merged with Zoë Hartmann-Quinn on 2026-03-10" in zoe.about
    assert "Title: CFO" in zoe.about
    assert zoe.company_name == "Acme"
    assert _links(services, a) == {ids["call"], ids["meeting"]}
    assert zoe.touch_count == 2 and zoe.last_touch_at == NOW - timedelta(days=3)
    assert services.notes.get(ids["note"]).person_id == a
    assert services.tasks.get(ids["task"]).person_id == a
    assert services.feedback.get(ids["feedback"]).person_id == a
    renewal = services.deals.detail(ids["deal"])
    assert [(p[0], p[2]) for p in renewal.people] == [(a, "buyer, champion")]
    assert [p[0] for p in services.deals.detail(ids["deal2"]).people] == [a]
    jobs = {(j.company_name, j.current, j.is_primary) for j in services.affiliations.of_person(a)}
    assert jobs == {("Acme", True, True), ("Acme Holding", True, False)}
    with pytest.raises(NotFoundError):
        services.people.detail(b)
    assert services.people.find_by_address("z@home.example") == a
    hits = services.search.query("hartmann").groups
    assert not any(h.id == b for g in hits for h in g.hits)
    found = services.search.query("zq@acme").groups
    assert [h.id for g in found for h in g.hits if g.kind == "person"] == [a]
    outbox = dict(
        services.book.reader()
        .execute("SELECT entity_id, op FROM outbox WHERE entity_id IN (?, ?)", (a, b))
        .fetchall()
    )
    assert outbox == {a: "upsert", b: "delete"}

    services.merge.undo(record)
    assert snapshot(services) == before
    assert services.people.detail(b).title == "CFO"
    with pytest.raises(UserError, match="already undone"):
        services.merge.undo(record)


def test_choices_take_the_other_value_and_keep_the_survivors_in_about(
    services: Services,
) -> None:
    a, b, _ = _scenario(services)
    services.merge.merge("person", a, b, choices={"title": "other", "name": "other"})
    zoe = services.people.detail(a)
    assert (zoe.display_name, zoe.given_name, zoe.family_name) == (
        "Zoë Hartmann-Quinn",
        "Zoë",
        "Hartmann-Quinn",
    )
    assert zoe.title == "CFO"
    assert "Also known as: Zoe Quinn" in zoe.about and "Title: VP Sales" in zoe.about
    with pytest.raises(UserError, match="not a merge choice"):
        services.merge.merge("person", a, b, choices={"title": "theirs"})


def test_custom_fields_and_person_references_follow_the_merge(services: Services) -> None:
    services.fields.save(FieldDefDraft("person", "Budget owner", "text"))
    services.fields.save(
        FieldDefDraft("person", "Languages", "multi_choice", choices=["de", "en", "fr"])
    )
    services.fields.save(FieldDefDraft("deal", "Sponsor", "person_ref"))
    a = services.people.create(PersonDraft(given_name="Ann", custom={"languages": ["en"]}))
    b = services.people.create(
        PersonDraft(given_name="Anne", custom={"budget-owner": "yes", "languages": ["de", "en"]})
    )
    deal = services.deals.create(DealDraft(title="Pilot", custom={"sponsor": b}))
    before = snapshot(services)
    record = services.merge.merge("person", a, b)
    assert services.people.detail(a).custom == {"budget-owner": "yes", "languages": ["de", "en"]}
    assert services.deals.detail(deal).custom == {"sponsor": a}
    services.merge.undo(record)
    assert snapshot(services) == before


def test_merging_companies(services: Services) -> None:
    acme = services.companies.create(
        CompanyDraft(name="Acme", domains=["acme.example"], industry="Tools", tags=["key"])
    )
    acme2 = services.companies.create(
        CompanyDraft(
            name="ACME Inc.",
            domains=["acme-corp.example"],
            website="acme-corp.example",
            industry="Manufacturing",
            potential_value="50000",
            tags=["emea"],
        )
    )
    sub = services.companies.create(CompanyDraft(name="Acme Labs", parent_id=acme2))
    ann = services.people.create(PersonDraft(given_name="Ann", company_id=acme2))
    deal = services.deals.create(DealDraft(title="Tools", company_id=acme2))
    meeting = services.interactions.log(
        LogDraft(kind="meeting", occurred_at=NOW - timedelta(days=2), company_id=acme2)
    )
    note = services.notes.create(NoteDraft(body="HQ moved", company_id=acme2))
    before = snapshot(services)

    preview = services.merge.preview("company", acme, acme2)
    assert [f.field for f in preview.conflicts] == ["name", "industry"]
    assert preview.moves["people"] == 1 and preview.moves["subsidiaries"] == 1

    record = services.merge.merge("company", acme, acme2)
    merged = services.companies.detail(acme)
    assert merged.domains == ("acme.example", "acme-corp.example")
    assert merged.website == "https://acme-corp.example"
    assert merged.industry == "Tools" and "Industry: Manufacturing" in merged.about
    assert "Also called: ACME Inc." in merged.about
    assert merged.potential_value_minor == 5_000_000
    assert set(merged.tags) == {"key", "emea"}
    assert merged.people_count == 1 and merged.touch_count == 1
    assert services.people.detail(ann).company_name == "Acme"
    assert services.deals.detail(deal).company_id == acme
    assert services.companies.detail(sub).parent_id == acme
    assert services.notes.get(note).company_id == acme
    assert _links(services, acme) == {meeting}
    assert services.companies.find_by_domain("acme-corp.example") == acme

    services.merge.undo(record)
    assert snapshot(services) == before


def test_undo_waits_for_later_merges(services: Services) -> None:
    a = services.people.create(PersonDraft(given_name="A", emails=[Labeled("a@x.example")]))
    b = services.people.create(PersonDraft(given_name="B", emails=[Labeled("b@x.example")]))
    c = services.people.create(PersonDraft(given_name="C", emails=[Labeled("c@x.example")]))
    before = snapshot(services)
    first = services.merge.merge("person", a, b)
    second = services.merge.merge("person", a, c)
    with pytest.raises(UserError, match="Undo the later merge"):
        services.merge.undo(first)
    services.merge.undo(second)
    services.merge.undo(first)
    assert snapshot(services) == before
    assert [r.id for r in services.merge.records(a)] == [second, first]


def test_bad_merge_requests(services: Services) -> None:
    a = services.people.create(PersonDraft(given_name="A"))
    with pytest.raises(UserError, match="itself"):
        services.merge.merge("person", a, a)
    with pytest.raises(NotFoundError):
        services.merge.preview("person", a, "missing")
    with pytest.raises(UserError, match="Cannot merge 'deal'"):
        services.merge.merge("deal", a, a + "x")


# --------------------------------------------------------------------- property

_ADDRESSES = [f"p{i}@ex{i % 3}.example" for i in range(6)]
_PHONES = ["+1 202 555 0100", "+1 202 555 0101", "+44 20 7946 0958", "+49 30 1234567"]
_TAGS = ["vip", "VIP", "clients", "emea", "key account"]
_TITLES = ["", "CFO", "VP Sales", "Buyer"]

person_data = st.fixed_dictionaries(
    {
        "emails": st.lists(st.sampled_from(_ADDRESSES), max_size=3, unique=True),
        "phones": st.lists(st.sampled_from(_PHONES), max_size=2, unique=True),
        "tags": st.lists(st.sampled_from(_TAGS), max_size=3),
        "title": st.sampled_from(_TITLES),
        "birthday": st.sampled_from([None, "1980-01-02", "--05-17"]),
        "company": st.sampled_from(["", "Acme", "Globex"]),
    }
)
# Things that hang off one, the other, or both: 0 = survivor, 1 = other, 2 = both.
owner = st.sampled_from([0, 1, 2])
scenario = st.fixed_dictionaries(
    {
        "a": person_data,
        "b": person_data,
        "shared_email": st.booleans(),  # the same address on both (an import can do this)
        "interactions": st.lists(
            st.tuples(owner, st.sampled_from(["call", "meeting", "email"])), max_size=4
        ),
        "notes": st.lists(owner, max_size=3),
        "tasks": st.lists(owner, max_size=2),
        "feedback": st.lists(owner, max_size=2),
        "deals": st.lists(st.tuples(owner, st.sampled_from(["", "champion", "buyer"])), max_size=3),
        "choices": st.dictionaries(
            st.sampled_from(["name", "title", "birthday", "company"]),
            st.sampled_from(["survivor", "other"]),
            max_size=2,
        ),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=scenario)
def test_merge_loses_nothing_and_undo_restores(
    data: dict[str, Any], template_book: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("merge") / "book.relbook"
    shutil.copyfile(template_book, path)
    clock = FixedClock(NOW)
    services = Services(open_book(path, clock), clock)
    try:
        _property(services, data)
    finally:
        services.close()


def _property(services: Services, data: dict[str, Any]) -> None:
    people = []
    used: set[str] = set()
    for index, key in enumerate(("a", "b")):
        spec = data[key]
        emails = [e for e in spec["emails"] if e not in used]
        used |= set(emails)
        people.append(
            services.people.create(
                PersonDraft(
                    given_name=f"Person{index}",
                    family_name="Test",
                    title=spec["title"],
                    birthday=spec["birthday"],
                    emails=[Labeled(e) for e in emails],
                    phones=[Labeled(p) for p in spec["phones"]],
                    tags=spec["tags"],
                    company_name=spec["company"],
                )
            )
        )
    a, b = people
    if data["shared_email"]:
        with services.book.session() as session:
            for person_id in (a, b):
                person = session.get_one(Person, person_id)
                person.emails.append(PersonEmail(address="shared@ex.example", position=9))

    def owners(which: int) -> list[str]:
        return [a] if which == 0 else [b] if which == 1 else [a, b]

    for number, (which, kind) in enumerate(data["interactions"]):
        services.interactions.log(
            LogDraft(
                kind=kind,
                occurred_at=NOW - timedelta(days=number + 1),
                subject=f"i{number}",
                person_ids=owners(which),
            )
        )
    for which in data["notes"]:
        for person in owners(which):
            services.notes.create(NoteDraft(body="note", person_id=person))
    for which in data["tasks"]:
        for person in owners(which):
            services.tasks.create(TaskDraft(title="task", person_id=person))
    for which in data["feedback"]:
        for person in owners(which):
            services.feedback.create(FeedbackDraft(quote="quote", person_id=person))
    for number, (which, role) in enumerate(data["deals"]):
        services.deals.create(
            DealDraft(title=f"deal {number}", people=[(p, role) for p in owners(which)])
        )

    db = services.book.reader()

    def attached(person: str) -> dict[str, set[Any]]:
        return {
            "emails": {
                r[0]
                for r in db.execute(
                    "SELECT address FROM person_email WHERE person_id = ?", (person,)
                )
            },
            "phones": {
                r[0]
                for r in db.execute(
                    "SELECT number FROM person_phone WHERE person_id = ?", (person,)
                )
            },
            "tags": {
                r[0]
                for r in db.execute("SELECT tag_id FROM entity_tag WHERE entity_id = ?", (person,))
            },
            "interactions": _links(services, person),
            "notes": {
                r[0] for r in db.execute("SELECT id FROM note WHERE person_id = ?", (person,))
            },
            "tasks": {
                r[0] for r in db.execute("SELECT id FROM task WHERE person_id = ?", (person,))
            },
            "feedback": {
                r[0] for r in db.execute("SELECT id FROM feedback WHERE person_id = ?", (person,))
            },
            "deals": {
                r[0]
                for r in db.execute(
                    "SELECT deal_id FROM deal_person WHERE person_id = ?", (person,)
                )
            },
            "affiliations": {
                r[0]
                for r in db.execute("SELECT id FROM affiliation WHERE person_id = ?", (person,))
            },
        }

    wanted = {k: v | attached(b)[k] for k, v in attached(a).items()}
    other_title = data["b"]["title"]
    before = snapshot(services)

    record = services.merge.merge("person", a, b, choices=data["choices"])

    assert attached(a) == wanted  # nothing lost, nothing invented
    assert all(not v for v in attached(b).values())
    detail = services.people.detail(a)
    kept_title = detail.title
    if other_title and other_title != kept_title:
        assert other_title in detail.about  # the value not kept stays visible
    assert detail.touch_count == len(wanted["interactions"])
    with pytest.raises(NotFoundError):
        services.people.detail(b)

    services.merge.undo(record)
    assert snapshot(services) == before


def test_merging_a_parent_into_its_subsidiary(services: Services) -> None:
    group = services.companies.create(CompanyDraft(name="Holding"))
    parent = services.companies.create(CompanyDraft(name="Acme Group", parent_id=group))
    child = services.companies.create(CompanyDraft(name="Acme", parent_id=parent))
    before = snapshot(services)
    record = services.merge.merge("company", child, parent)
    merged = services.companies.detail(child)
    assert merged.parent_id == group  # the parent's own parent, not the tombstone
    assert "Parent company" not in merged.about
    services.merge.undo(record)
    assert snapshot(services) == before


# ------------------------------------------------------------- company property

_DOMAINS = ["acme.example", "acme-corp.example", "acme.test", "globex.example"]
_INDUSTRIES = ["", "Tools", "Manufacturing"]

company_data = st.fixed_dictionaries(
    {
        "domains": st.lists(st.sampled_from(_DOMAINS), max_size=2, unique=True),
        "tags": st.lists(st.sampled_from(_TAGS), max_size=2),
        "industry": st.sampled_from(_INDUSTRIES),
        "employees": st.sampled_from([None, 40, 5000]),
        "potential": st.sampled_from([None, "50000", "8000"]),
        "tier": st.sampled_from([None, "Gold", "Silver"]),
        "regions": st.lists(st.sampled_from(["EMEA", "APAC", "US"]), max_size=2, unique=True),
    }
)
company_scenario = st.fixed_dictionaries(
    {
        "a": company_data,
        "b": company_data,
        "related": st.sampled_from(["", "b-under-a", "a-under-b"]),
        "people": st.lists(owner, max_size=3),
        "deals": st.lists(owner, max_size=2),
        "notes": st.lists(owner, max_size=2),
        "tasks": st.lists(owner, max_size=2),
        "meetings": st.lists(owner, max_size=3),
        "subsidiaries": st.lists(owner, max_size=2),
        "choices": st.dictionaries(
            st.sampled_from(["name", "industry", "employees", "values", "custom.tier"]),
            st.sampled_from(["survivor", "other"]),
            max_size=2,
        ),
    }
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=company_scenario)
def test_company_merge_loses_nothing_and_undo_restores(
    data: dict[str, Any], template_book: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("merge-company") / "book.relbook"
    shutil.copyfile(template_book, path)
    clock = FixedClock(NOW)
    services = Services(open_book(path, clock), clock)
    try:
        _company_property(services, data)
    finally:
        services.close()


def _company_property(services: Services, data: dict[str, Any]) -> None:
    services.fields.save(FieldDefDraft("company", "Tier", "choice", choices=["Gold", "Silver"]))
    services.fields.save(
        FieldDefDraft("company", "Regions", "multi_choice", choices=["EMEA", "APAC", "US"])
    )
    companies = []
    used: set[str] = set()
    for name, key in (("Acme", "a"), ("ACME Inc.", "b")):
        spec = data[key]
        domains = [d for d in spec["domains"] if d not in used]
        used |= set(domains)
        custom: dict[str, Any] = {}
        if spec["tier"]:
            custom["tier"] = spec["tier"]
        if spec["regions"]:
            custom["regions"] = spec["regions"]
        companies.append(
            services.companies.create(
                CompanyDraft(
                    name=name,
                    domains=domains,
                    industry=spec["industry"],
                    employees=spec["employees"],
                    potential_value=spec["potential"],
                    tags=spec["tags"],
                    custom=custom,
                )
            )
        )
    a, b = companies
    if data["related"]:
        child, parent = (b, a) if data["related"] == "b-under-a" else (a, b)
        draft = services.companies.draft(child)
        draft.parent_id = parent
        services.companies.update(draft)

    def owners(which: int) -> list[str]:
        return [a] if which == 0 else [b] if which == 1 else [a, b]

    for number, which in enumerate(data["people"]):
        for company in owners(which):
            services.people.create(PersonDraft(given_name=f"P{number}", company_id=company))
    for number, which in enumerate(data["deals"]):
        for company in owners(which):
            services.deals.create(DealDraft(title=f"deal {number}", company_id=company))
    for which in data["notes"]:
        for company in owners(which):
            services.notes.create(NoteDraft(body="note", company_id=company))
    for which in data["tasks"]:
        for company in owners(which):
            services.tasks.create(TaskDraft(title="task", company_id=company))
    for number, which in enumerate(data["meetings"]):
        services.interactions.log(
            LogDraft(
                kind="meeting",
                occurred_at=NOW - timedelta(days=number + 1),
                subject=f"m{number}",
                person_ids=[],
                company_id=owners(which)[0],
            )
        )
    for number, which in enumerate(data["subsidiaries"]):
        for company in owners(which):
            services.companies.create(CompanyDraft(name=f"Sub {number}", parent_id=company))

    db = services.book.reader()

    def ids(sql: str, company: str) -> set[Any]:
        return {r[0] for r in db.execute(sql, (company,))}

    def attached(company: str) -> dict[str, set[Any]]:
        return {
            "domains": ids("SELECT domain FROM company_domain WHERE company_id = ?", company),
            "tags": ids("SELECT tag_id FROM entity_tag WHERE entity_id = ?", company),
            "people": ids("SELECT id FROM person WHERE company_id = ?", company),
            "jobs": ids("SELECT id FROM affiliation WHERE company_id = ?", company),
            "deals": ids("SELECT id FROM deal WHERE company_id = ?", company),
            "notes": ids("SELECT id FROM note WHERE company_id = ?", company),
            "tasks": ids("SELECT id FROM task WHERE company_id = ?", company),
            "interactions": _links(services, company),
            "subsidiaries": ids(
                "SELECT id FROM company WHERE parent_id = ? AND deleted_at IS NULL", company
            ),
        }

    wanted = {k: v | attached(b)[k] for k, v in attached(a).items()}
    wanted["subsidiaries"] -= {a, b}  # the pair itself becomes one company
    other_custom = services.companies.detail(b).custom
    before = snapshot(services)

    record = services.merge.merge("company", a, b, choices=data["choices"])

    assert attached(a) == wanted  # nothing lost, nothing invented
    assert all(not v for k, v in attached(b).items() if k != "subsidiaries")
    merged = services.companies.detail(a)
    assert merged.parent_id not in (a, b)  # never its own parent
    for key, value in other_custom.items():  # each of the other's values is kept or noted
        kept = merged.custom.get(key)
        if isinstance(value, list):
            assert set(value) <= set(kept or [])
        elif kept != value:
            assert f"{key.title()}: {value}" in merged.about
    assert merged.people_count == len(wanted["people"])
    assert merged.touch_count == len(wanted["interactions"])
    with pytest.raises(NotFoundError):
        services.companies.detail(b)

    services.merge.undo(record)
    assert snapshot(services) == before
