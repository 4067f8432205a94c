"""The rep's own fields: every type stores, validates, filters and shows as a column."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relbook.domain.errors import FilterSyntaxError, ValidationError
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.fields import FieldDefDraft, slug
from relbook.services.filtering import HANDLERS
from relbook.services.people import PersonDraft


@pytest.fixture
def book(services: Services) -> dict[str, str]:
    for draft in (
        FieldDefDraft("company", "Contract size", "number"),
        FieldDefDraft("company", "Budget", "money", currency="CHF"),
        FieldDefDraft("company", "Renewal date", "date"),
        FieldDefDraft("company", "Tier", "choice", choices=["Gold", "Silver"]),
        FieldDefDraft("company", "Products", "multi_choice", choices=["Insight", "Sync", "API"]),
        FieldDefDraft("company", "Portal", "url"),
        FieldDefDraft("company", "Champion", "person_ref"),
        FieldDefDraft("company", "Notes for handover", "text"),
    ):
        services.fields.save(draft)
    zoe = services.people.create(PersonDraft(given_name="Zoë", family_name="Hartmann"))
    bo = services.people.create(PersonDraft(given_name="Bo", family_name="Lind"))
    acme = services.companies.create(
        CompanyDraft(
            name="Acme",
            custom={
                "contract-size": "1,250",
                "budget": "80k",
                "renewal-date": "2026-09-30",
                "tier": "gold",
                "products": ["sync", "Insight"],
                "portal": "portal.acme.example",
                "champion": zoe,
                "notes-for-handover": "  ask for Zoë first  ",
            },
        )
    )
    globex = services.companies.create(
        CompanyDraft(
            name="Globex",
            custom={"contract-size": 90, "tier": "Silver", "products": "API", "champion": bo},
        )
    )
    return {"zoe": zoe, "bo": bo, "acme": acme, "globex": globex}


def test_values_are_stored_normalised_by_type(services: Services, book: dict[str, str]) -> None:
    assert services.companies.detail(book["acme"]).custom == {
        "contract-size": 1250.0,
        "budget": 8_000_000,  # minor units of the field's currency
        "renewal-date": "2026-09-30",
        "tier": "Gold",  # as the choice is spelled
        "products": ["Insight", "Sync"],  # sorted, spelled as the choices
        "portal": "https://portal.acme.example",
        "champion": book["zoe"],
        "notes-for-handover": "ask for Zoë first",
    }


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("contract-size>1000", ["acme"]),
        ("contract-size<=90", ["globex"]),
        ("budget>=50k", ["acme"]),
        ("renewal-date<2026-12-31", ["acme"]),
        ("tier:gold", ["acme"]),
        ("-tier:gold", ["globex"]),
        ("products:sync", ["acme"]),
        ("products:api,sync", ["acme", "globex"]),
        ("portal:acme", ["acme"]),
        ("champion:zoë", ["acme"]),  # the referenced person's name, not an id
        ("champion:lind", ["globex"]),
        ('notes-for-handover:"ask for"', ["acme"]),
    ],
)
def test_every_type_filters(
    services: Services, book: dict[str, str], filter_text: str, expected: list[str]
) -> None:
    found = set(services.lists.ids("company", filter_text))
    assert found == {book[name] for name in expected}


def test_columns_show_values_and_the_champion_by_name(
    services: Services, book: dict[str, str]
) -> None:
    keys = [c.key for c in services.lists.columns("company")]
    row = next(r for r in services.lists.window("company", "name:acme", None, 0, 5))
    values = dict(zip(keys, row.values, strict=True))
    assert values["custom.champion"] == "Zoë Hartmann"
    assert values["custom.budget"] == (8_000_000, "CHF")
    rows = services.lists.window("company", "", [("custom.champion", True)], 0, 5)
    assert [r.id for r in rows] == [book["globex"], book["acme"]]  # Bo before Zoë


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"contract-size": "lots"}, "'lots' is not a number"),
        ({"contract-size": "nan"}, "'nan' is not a number"),
        ({"contract-size": "inf"}, "'inf' is not a number"),
        ({"budget": "a lot"}, "'a lot' is not an amount"),
        ({"renewal-date": "30.09.2026"}, "is not a date"),
        ({"tier": "Bronze"}, "'Bronze' is not one of Gold, Silver"),
        ({"products": ["Sync", "Fax"]}, "'Fax' is not one of Insight, Sync, API"),
        ({"portal": "not a site"}, "is not a web address"),
        ({"champion": "0190aaaa-0000-7000-8000-000000000000"}, "refers to a person not in"),
        ({"shoe-size": 43}, "is not a field of this book"),
    ],
)
def test_bad_values_name_the_field_and_save_nothing(
    services: Services, book: dict[str, str], value: dict[str, Any], message: str
) -> None:
    before = services.companies.detail(book["globex"])
    draft = services.companies.draft(book["globex"])
    draft.custom = {**draft.custom, **value}
    with pytest.raises(ValidationError) as caught:
        services.companies.update(draft)
    key = next(iter(value))
    assert message in (caught.value.for_field(f"custom.{key}") or ""), caught.value.errors
    assert services.companies.detail(book["globex"]) == before


def test_a_required_field_is_asked_for(services: Services) -> None:
    services.fields.save(FieldDefDraft("deal", "Source", "text", required=True))
    with pytest.raises(ValidationError) as caught:
        services.deals.create(DealDraft(title="No source"))
    assert caught.value.for_field("custom.source") == "Source is required"


def test_keys_are_filter_words_that_work(services: Services) -> None:
    assert slug("Budget (€)") == "budget"
    assert slug("Größe") == "grosse"
    assert slug("2nd contact") == "f-2nd-contact"
    assert slug("预算") == "预算"
    first = services.fields.save(FieldDefDraft("person", "预算", "money"))
    second = services.fields.save(FieldDefDraft("person", "负责人", "text"))
    assert first != second  # two fields in another script do not collide on one key
    third = services.fields.save(FieldDefDraft("person", "2nd contact", "text"))
    person = services.people.create(
        PersonDraft(
            given_name="Wang",
            custom={"预算": "20k", "负责人": "李", "f-2nd-contact": "Mei"},
        )
    )
    assert services.lists.ids("person", "预算>10k") == [person]
    assert services.lists.ids("person", "负责人:李") == [person]
    assert services.lists.ids("person", "f-2nd-contact:mei") == [person]
    assert services.fields.by_key("person")["f-2nd-contact"].id == third

    # JSON written with escaped keys (an older writer, a teammate's book) still matches.
    stored = services.people.detail(person).custom
    with services.book.raw_write() as connection:
        connection.execute(
            "UPDATE person SET custom = ? WHERE id = ?", (json.dumps(stored), person)
        )
    assert (
        "\\u9884"
        in services.book.reader()
        .execute("SELECT custom FROM person WHERE id = ?", (person,))
        .fetchone()[0]
    )
    assert services.lists.ids("person", "预算>10k 负责人:李") == [person]


@pytest.mark.parametrize("kind", ["person", "company", "deal"])
def test_a_custom_field_cannot_take_a_built_in_filter_word(services: Services, kind: str) -> None:
    for word in HANDLERS[kind]:
        with pytest.raises(ValidationError) as caught:
            services.fields.save(FieldDefDraft(kind, word, "text"))
        assert "built-in filter word" in (caught.value.for_field("label") or ""), word


def test_a_money_field_needs_a_real_currency_code(services: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        services.fields.save(FieldDefDraft("deal", "Budget", "money", currency="Euro"))
    assert "three-letter" in (caught.value.for_field("currency") or "")


def test_a_retired_field_keeps_its_values_and_brings_them_back(
    services: Services, book: dict[str, str]
) -> None:
    tier = services.fields.by_key("company")["tier"]
    services.fields.delete(tier.id)
    assert "tier" not in services.fields.by_key("company")
    with pytest.raises(FilterSyntaxError):
        services.lists.ids("company", "tier:gold")
    services.fields.save(FieldDefDraft("company", "Tier", "choice", choices=["Gold", "Silver"]))
    assert services.lists.ids("company", "tier:gold") == [book["acme"]]


def test_text_like_values_are_searchable_while_their_field_exists(
    services: Services, book: dict[str, str]
) -> None:
    def found(text: str) -> list[str]:
        return [h.id for h in services.search.query(text, kinds=("company",)).hits]

    assert found("handover") == []  # the label is not a value
    assert found("ask zo") == [book["acme"]]  # text
    assert found("gold") == [book["acme"]]  # choice
    assert found("api") == [book["globex"]]  # multi-choice
    assert found("portal") == [book["acme"]]  # web address
    assert found(book["zoe"][:8]) == []  # a person reference is not text
    notes = services.fields.by_key("company")["notes-for-handover"]
    services.fields.delete(notes.id)
    assert found("ask zo") == []
    services.fields.save(FieldDefDraft("company", "Notes for handover", "text"))
    assert found("ask zo") == [book["acme"]]
    draft = services.companies.draft(book["globex"])
    draft.custom = {**draft.custom, "notes-for-handover": "Prefers Slack"}
    services.companies.update(draft)
    assert found("slack") == [book["globex"]]
