from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relbook.domain.errors import FilterSyntaxError, ValidationError
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.fields import FieldDefDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import Labeled, PersonDraft
from relbook.services.views import ViewDraft


@pytest.fixture
def acme(services: Services) -> dict[str, str]:
    company = services.companies.create(CompanyDraft(name="Acme Corp", domains=["acme.com"]))
    zoe = services.people.create(
        PersonDraft(
            given_name="Zoë",
            family_name="Hartmann",
            company_id=company,
            emails=[Labeled("zoe.hartmann@acme.com")],
            tags=["key account"],
        )
    )
    bo = services.people.create(
        PersonDraft(given_name="Bo", family_name="Zhang", company_id=company)
    )
    other = services.people.create(PersonDraft(given_name="Mark", family_name="Brown"))
    deal = services.deals.create(
        DealDraft(title="Acme renewal", company_id=company, amount="25000")
    )
    return {"company": company, "zoe": zoe, "bo": bo, "mark": other, "deal": deal}


def test_search_finds_a_person_by_a_prefix_of_their_name(
    services: Services, acme: dict[str, str]
) -> None:
    for typed in ("zo", "Zoe", "hart", "zoë h", "acme.com", "zoe.hartmann@ac"):
        first = services.search.query(typed).first("person")
        assert first is not None and first.id == acme["zoe"], typed


def test_search_groups_results_by_kind(services: Services, acme: dict[str, str]) -> None:
    services.interactions.log(
        LogDraft(
            kind="call",
            subject="Acme pricing call",
            body="They asked about volume pricing",
            person_ids=[acme["zoe"]],
        )
    )
    services.notes.create(NoteDraft(body="Acme wants pricing in CHF", company_id=acme["company"]))
    results = services.search.query("acme")
    kinds = [g.kind for g in results.groups]
    assert kinds == ["person", "company", "deal", "interaction", "note"]
    assert services.search.query("pricing").first("interaction") is not None
    assert services.search.query("x").groups == ()


def test_search_never_breaks_on_fts_syntax(services: Services, acme: dict[str, str]) -> None:
    for hostile in (
        '"',
        "AND",
        "OR NOT",
        "*",
        "NEAR(",
        "a:b",
        "(((",
        "-zoe",
        "'; DROP TABLE person",
    ):
        services.search.query(hostile)  # must not raise


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.text(
            alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=2, max_size=12
        ),
        min_size=1,
        max_size=4,
    ),
    data=st.data(),
)
def test_every_stored_note_is_findable_by_a_word_of_it(
    services: Services, acme: dict[str, str], words: list[str], data: st.DataObject
) -> None:
    body = " ".join(words)
    note_id = services.notes.create(NoteDraft(body=body, person_id=acme["zoe"]))
    word = data.draw(st.sampled_from(words))
    hits = services.search.query(word, limit_per_kind=1000, kinds=("note",)).hits
    assert note_id in [h.id for h in hits]


def test_filter_language_on_people(services: Services, acme: dict[str, str]) -> None:
    assert services.lists.count("person") == 3
    assert set(services.lists.ids("person", "company:acme")) == {acme["zoe"], acme["bo"]}
    assert services.lists.ids("person", "tag:key-account") == [acme["zoe"]]
    assert set(services.lists.ids("person", "-tag:key-account")) == {acme["bo"], acme["mark"]}
    assert services.lists.ids("person", "has:email") == [acme["zoe"]]
    assert services.lists.ids("person", "zhang") == [acme["bo"]]
    assert set(services.lists.ids("person", "last-touch>30d")) == {
        acme["zoe"],
        acme["bo"],
        acme["mark"],
    }


def test_filter_language_on_deals(services: Services, acme: dict[str, str], clock: object) -> None:
    services.deals.create(DealDraft(title="Small", amount="500"))
    assert services.lists.ids("deal", "amount>10k") == [acme["deal"]]
    assert services.lists.ids("deal", "amount>10000 company:acme stage:lead") == [acme["deal"]]
    assert services.lists.count("deal", "is:open") == 2
    assert services.lists.count("deal", "status:won") == 0


def test_a_bad_filter_names_the_place_and_the_problem(services: Services) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        services.lists.count("deal", "amount>lots")
    assert "'lots' is not a number" in caught.value.message
    with pytest.raises(FilterSyntaxError) as caught:
        services.lists.count("person", "tag:vip colour:red")
    assert caught.value.position == 8
    assert "'colour' is not a field" in caught.value.message


def test_custom_fields_filter_sort_and_show_as_columns(
    services: Services, acme: dict[str, str]
) -> None:
    services.fields.save(FieldDefDraft("person", "Budget", "money"))
    services.fields.save(
        FieldDefDraft("person", "Segment", "choice", choices=["SMB", "Enterprise"])
    )
    for key, budget, segment in (("zoe", "50k", "Enterprise"), ("bo", "5,000", "smb")):
        draft = services.people.draft(acme[key])
        draft.custom = {"budget": budget, "segment": segment}
        services.people.update(draft)
    assert services.people.detail(acme["bo"]).custom == {"budget": 500_000, "segment": "SMB"}
    assert services.lists.ids("person", "budget>10k") == [acme["zoe"]]
    assert services.lists.ids("person", "segment:smb") == [acme["bo"]]
    columns = services.lists.columns("person")
    keys = [c.key for c in columns]
    assert "custom.budget" in keys
    rows = services.lists.window("person", "", [("custom.budget", False)], 0, 10)
    assert [r.id for r in rows][:2] == [acme["zoe"], acme["bo"]]
    budget = rows[0].values[keys.index("custom.budget")]
    assert budget == (5_000_000, "EUR")
    with pytest.raises(ValidationError) as caught:
        draft = services.people.draft(acme["mark"])
        draft.custom = {"segment": "Huge"}
        services.people.update(draft)
    assert "not one of SMB, Enterprise" in (caught.value.for_field("custom.segment") or "")


def test_windows_are_stable_and_complete(services: Services) -> None:
    for index in range(57):
        services.people.create(PersonDraft(given_name=f"P{index:03d}", family_name="Same"))
    seen = []
    for offset in range(0, 60, 10):
        seen += [r.id for r in services.lists.window("person", "", [("name", True)], offset, 10)]
    assert len(seen) == 57 == len(set(seen))
    names = [r.values[0] for r in services.lists.window("person", "", [("name", False)], 0, 3)]
    assert names == ["P056 Same", "P055 Same", "P054 Same"]


def test_deep_windows_counted_from_the_end_match_the_list_from_the_start(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deep windows are read from the end of the list (a small sort instead of every row
    # before them); what a scrolled list shows must not change with it.
    import relbook.services.lists as lists_module

    monkeypatch.setattr(lists_module, "DEEP_OFFSET", 5)
    for index in range(23):
        title = "" if index % 3 == 0 else f"T{index % 4}"  # empty titles, and ties
        services.people.create(
            PersonDraft(given_name=f"P{index:02d}", family_name="Deep", title=title)
        )
    for sort in ([("title", True)], [("title", False)], [("name", False)], None):
        whole = services.lists.window("person", "deep", sort, 0, 100)
        paged = []
        for offset in range(0, 26, 4):
            paged += services.lists.window("person", "deep", sort, offset, 4)
        assert [(r.id, r.values) for r in paged] == [(r.id, r.values) for r in whole]
        assert len(whole) == 23
    assert services.lists.window("person", "deep", None, 23, 4) == []


def test_saved_views_keep_order_and_refuse_bad_filters(services: Services) -> None:
    first = services.views.create(ViewDraft("deal", "Big open", "is:open amount>10k"))
    second = services.views.create(ViewDraft("deal", "Lost", "is:lost"))
    services.views.reorder("deal", [second, first])
    assert [v.name for v in services.views.all("deal")] == ["Lost", "Big open"]
    services.views.rename(first, "Big & open")
    with pytest.raises(ValidationError) as caught:
        services.views.create(ViewDraft("deal", "Broken", "amount>>"))
    assert caught.value.for_field("filter_text")
    with pytest.raises(ValidationError):
        services.views.create(ViewDraft("deal", "lost", ""))


def test_a_new_saved_view_goes_last_even_after_deletes(services: Services) -> None:
    ids = [services.views.create(ViewDraft("deal", name, "")) for name in ("A", "B", "C")]
    services.views.delete(ids[0])
    services.views.create(ViewDraft("deal", "Best", ""))  # sorts between B and C by name
    assert [v.name for v in services.views.all("deal")][-3:] == ["B", "C", "Best"]


def test_timeline_shows_logged_calls_with_their_reason_newest_first(
    services: Services, acme: dict[str, str], clock: object
) -> None:
    now = services.clock.now()
    services.interactions.log(
        LogDraft(
            kind="call",
            subject="Intro",
            occurred_at=now - timedelta(days=20),
            person_ids=[acme["zoe"]],
        )
    )
    services.interactions.log(
        LogDraft(
            kind="meeting",
            subject="Demo",
            occurred_at=now - timedelta(days=2),
            person_ids=[acme["zoe"]],
            duration_minutes=60,
        )
    )
    services.notes.create(
        NoteDraft(
            body="Prefers mornings", person_id=acme["zoe"], occurred_at=now - timedelta(days=5)
        )
    )
    entries = services.timeline.for_entity(acme["zoe"])
    assert [e.title for e in entries] == ["Demo", "Prefers mornings", "Intro"]
    assert entries[0].reason == "logged by you"
    company_entries = services.timeline.for_entity(acme["company"], kinds=("call",))
    assert [e.title for e in company_entries] == ["Intro"]
    assert company_entries[0].reason == "Zoë Hartmann works there"
    assert [e.title for e in services.timeline.for_entity(acme["zoe"], text="dem")] == ["Demo"]
    zoe = services.people.detail(acme["zoe"])
    assert zoe.touch_count == 2
    assert zoe.last_touch_at == now - timedelta(days=2)
    assert zoe.last_outbound_at == now - timedelta(days=20)
