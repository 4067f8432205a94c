"""Duplicate detection finds the planted duplicates, explains why, and scales by blocking."""

from __future__ import annotations

import itertools
import random
import sqlite3

import pytest

from relbook.domain.clock import to_millis
from relbook.domain.errors import UserError
from relbook.domain.ids import new_id
from relbook.domain.names import comparison_key
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.dedupe import company_key
from relbook.services.people import Labeled, PersonDraft
from relbook.storage import search_index
from relbook.storage.models import Person, PersonEmail
from tests.conftest import NOW


def _insert(raw: sqlite3.Connection, table: str, rows: list[dict[str, object]]) -> None:
    """Bulk rows with the model's defaults for the columns not given (the bulk-path way)."""
    defaults: dict[str, object] = {}
    for _, name, declared, notnull, default, _pk in raw.execute(f"PRAGMA table_info({table})"):
        if notnull and default is None:
            kind = declared.upper()
            defaults[name] = (
                "{}" if kind == "JSON" else 0 if kind in ("INTEGER", "BOOLEAN", "FLOAT") else ""
            )
    columns = list({**defaults, **rows[0]})
    raw.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[{**defaults, **row}[c] for c in columns] for row in rows],
    )


def _pairs(services: Services, kind: str) -> dict[frozenset[str], tuple[str, ...]]:
    return {frozenset((p.a_id, p.b_id)): p.reasons for p in services.dedupe.candidates(kind)}


def test_people_duplicates_and_their_reasons(services: Services) -> None:
    zoe = services.people.create(
        PersonDraft(
            given_name="Zoë",
            family_name="Hartmann-Quinn",
            company_name="Acme",
            emails=[Labeled("zoe@acme.example")],
        )
    )
    zoe2 = services.people.create(
        PersonDraft(given_name="Zoe", family_name="Hartmann Quinn", company_name="Acme")
    )
    jon = services.people.create(
        PersonDraft(given_name="Jon", family_name="Smith", company_name="Globex")
    )
    john = services.people.create(
        PersonDraft(given_name="John", family_name="Smith", company_name="Globex")
    )
    other_john = services.people.create(
        PersonDraft(given_name="John", family_name="Smith", company_name="Initech")
    )
    ann = services.people.create(
        PersonDraft(given_name="Ann", family_name="Lee", emails=[Labeled("ann@lee.example")])
    )
    ann2 = services.people.create(
        PersonDraft(given_name="Ann", family_name="Lee", company_name="Umbrella")
    )
    dan = services.people.create(
        PersonDraft(given_name="Dan", family_name="Lee", company_name="Acme")
    )
    # The same address on two people (an import or capture can leave this behind).
    with services.book.session() as session:
        person = session.get_one(Person, dan)
        person.emails.append(PersonEmail(address="zoe@acme.example"))

    pairs = _pairs(services, "person")
    assert pairs[frozenset((zoe, zoe2))] == ("similar names at Acme (97%)",)
    assert pairs[frozenset((jon, john))][0].startswith("similar names at Globex (")
    assert pairs[frozenset((ann, ann2))] == ("same name, one without a company",)
    assert pairs[frozenset((zoe, dan))] == ("same e-mail address zoe@acme.example",)
    assert frozenset((john, other_john)) not in pairs  # same name, different companies
    assert frozenset((dan, zoe2)) not in pairs
    best = services.dedupe.candidates("person")[0]
    assert best.score == 100.0

    services.dedupe.dismiss("person", zoe2, zoe)
    assert frozenset((zoe, zoe2)) not in _pairs(services, "person")
    services.dedupe.undismiss("person", zoe, zoe2)
    assert frozenset((zoe, zoe2)) in _pairs(services, "person")
    assert {p.b_id for p in services.dedupe.of("person", jon)} | {
        p.a_id for p in services.dedupe.of("person", jon)
    } == {jon, john}


def test_company_duplicates(services: Services) -> None:
    acme = services.companies.create(CompanyDraft(name="Acme, Inc.", domains=["acme.example"]))
    acme2 = services.companies.create(CompanyDraft(name="ACME GmbH"))
    acme3 = services.companies.create(CompanyDraft(name="Acme Tools", website="www.acme.example"))
    globex = services.companies.create(CompanyDraft(name="Globex", website="globex.example"))
    globex2 = services.companies.create(
        CompanyDraft(name="Globex Corp", website="https://globex.example/")
    )
    umbrella = services.companies.create(CompanyDraft(name="Umbrella"))
    with services.book.raw_write() as raw:  # a domain on two companies (legacy data)
        raw.execute(
            "INSERT INTO company_domain(company_id, domain, position) VALUES (?, ?, 0)",
            (acme3, "acme.example"),
        )
    pairs = _pairs(services, "company")
    assert pairs[frozenset((acme, acme2))] == ("same name",)
    assert pairs[frozenset((acme, acme3))] == ("same e-mail domain acme.example",)
    assert set(pairs[frozenset((globex, globex2))]) == {"same website globex.example", "same name"}
    assert not any(umbrella in pair for pair in pairs)
    assert company_key("Müller & Söhne GmbH") == "muller sohne"
    with pytest.raises(UserError):
        services.dedupe.candidates("deal")


@pytest.mark.slow
def test_dedupe_at_fifty_thousand_people(services: Services) -> None:
    """A heavy rep's book: blocking keeps this to seconds; the planted pairs are found."""
    rng = random.Random(7)
    first = [
        f"{a}{b}"
        for a, b in itertools.product(
            [
                "Al",
                "Be",
                "Ca",
                "Do",
                "El",
                "Fa",
                "Gi",
                "Ho",
                "Is",
                "Ju",
                "Ka",
                "Lo",
                "Mi",
                "No",
                "Ol",
                "Pe",
                "Qu",
                "Ro",
                "Sa",
                "Ti",
            ],
            ["ric", "ndra", "sper", "mingo", "vira", "tima", "dean", "ward", "idora", "lian"],
        )
    ]
    last = [
        f"{a}{b}"
        for a, b in itertools.product(
            [
                "Abe",
                "Bor",
                "Cas",
                "Dun",
                "Eck",
                "Fol",
                "Gar",
                "Hul",
                "Ivo",
                "Jas",
                "Kor",
                "Lun",
                "Mor",
                "Nys",
                "Orr",
                "Pik",
                "Qua",
                "Rus",
                "Sto",
                "Tam",
                "Ulm",
                "Vos",
                "Wex",
                "Yor",
                "Zan",
            ],
            ["mann", "dottir", "ley", "sen", "wick", "ford", "berg", "stein", "by", "ton"],
        )
    ]
    names = rng.sample([f"{given} {family}" for given in first for family in last], 50_000)
    now = to_millis(NOW)
    companies = [new_id() for _ in range(5_000)]
    people = [new_id() for _ in range(50_000)]
    with services.book.raw_write() as raw:
        _insert(
            raw,
            "company",
            [
                {
                    "id": c,
                    "name": f"Company {i}",
                    "name_key": f"company {i}",
                    "created_at": now,
                    "updated_at": now,
                    "currency": "EUR",
                }
                for i, c in enumerate(companies)
            ],
        )
        rows: list[dict[str, object]] = []
        for index, (person, name) in enumerate(zip(people, names, strict=True)):
            given, family = name.split(" ")
            rows.append(
                {
                    "id": person,
                    "given_name": given,
                    "family_name": family,
                    "display_name": name,
                    "name_key": comparison_key(name),
                    "company_id": companies[index % 5_000],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(raw, "person", rows)
        raw.executemany(
            "INSERT INTO person_email(person_id, address, label, position) VALUES (?, ?, '', 0)",
            [(p, f"user{i}@example.com") for i, p in enumerate(people)],
        )
        # Planted: one address on two people; a typo of a name at the same company.
        raw.execute(
            "INSERT INTO person_email(person_id, address, label, position) VALUES (?, ?, '', 1)",
            (people[10], "user20000@example.com"),
        )
        typo = names[123].replace(names[123].split(" ")[1], names[123].split(" ")[1] + "n")
        twin = new_id()
        _insert(
            raw,
            "person",
            [
                {
                    "id": twin,
                    "given_name": typo.split(" ")[0],
                    "family_name": typo.split(" ")[1],
                    "display_name": typo,
                    "name_key": comparison_key(typo),
                    "company_id": companies[123 % 5_000],
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        search_index.rebuild(raw)
    pairs = _pairs(services, "person")
    assert frozenset((people[10], people[20000])) in pairs
    assert frozenset((people[123], twin)) in pairs
    assert len(pairs) < 500  # similar-sounding names at one company are rare, not 50k²
