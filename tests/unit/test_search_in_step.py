"""The search index follows every change the rep makes: edits, renames, deletes, undo —
and where the book lives by default."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from relbook.app import default_paths, resolve_book
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import Labeled, PersonDraft


def _ids(services: Services, text: str, kind: str) -> list[str]:
    return [hit.id for hit in services.search.query(text, kinds=(kind,)).hits]


def test_the_index_follows_edits_renames_deletes_and_restores(services: Services) -> None:
    acme = services.companies.create(CompanyDraft(name="Acme", domains=["acme.example"]))
    zoe = services.people.create(PersonDraft(given_name="Zoë", family_name="Hart", company_id=acme))
    deal = services.deals.create(DealDraft(title="Rollout", company_id=acme))
    note = services.notes.create(NoteDraft(body="Budget freeze until May", person_id=zoe))
    call = services.interactions.log(
        LogDraft(kind="call", subject="Pilot review", person_ids=[zoe])
    )

    # A person's document carries their company; a deal's too.
    assert _ids(services, "acme", "person") == [zoe]
    company = services.companies.draft(acme)
    company.name = "Globex"
    services.companies.update(company)
    assert _ids(services, "globex", "person") == [zoe]
    assert _ids(services, "globex", "company") == [acme]
    assert _ids(services, "acme", "company") == [acme]  # still found by its domain
    assert _ids(services, "acme", "person") == []

    person = services.people.draft(zoe)
    person.emails = [Labeled("zoe@globex.example")]
    person.phones = [Labeled("+49 30 1234567")]
    services.people.update(person)
    assert _ids(services, "zoe@globex", "person") == [zoe]
    assert _ids(services, "4930", "person") == [zoe]

    draft = services.notes.get(note)
    assert draft.body.startswith("Budget")
    for kind, ident, word, delete, restore in (
        ("person", zoe, "hart", services.people.delete, services.people.restore),
        ("deal", deal, "rollout", services.deals.delete, services.deals.restore),
        ("note", note, "freeze", services.notes.delete, services.notes.restore),
        (
            "interaction",
            call,
            "pilot",
            services.interactions.delete,
            services.interactions.restore,
        ),
        ("company", acme, "globex", services.companies.delete, services.companies.restore),
    ):
        assert _ids(services, word, kind) == [ident], kind
        delete([ident])
        assert _ids(services, word, kind) == [], kind  # a tombstone is never found
        restore([ident])
        assert _ids(services, word, kind) == [ident], kind


def test_results_are_ranked_names_first(services: Services) -> None:
    services.people.create(PersonDraft(given_name="Anna", family_name="Berg", title="Hartwig"))
    hart = services.people.create(PersonDraft(given_name="Hart", family_name="Lind"))
    assert _ids(services, "hart", "person")[0] == hart


def test_the_book_lives_in_the_platform_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RELBOOK_HOME", raising=False)
    monkeypatch.delenv("RELBOOK_BOOK", raising=False)
    paths = default_paths()
    assert paths.data_dir == Path(platformdirs.user_data_dir("Relbook", appauthor=False))
    assert paths.default_book == paths.data_dir / "book.relbook"
    chosen = tmp_path / "mine.relbook"
    assert resolve_book(paths, str(chosen)) == chosen  # --book PATH wins


def test_one_chinese_character_finds_the_family_name(services: Services) -> None:
    wang = services.people.create(
        PersonDraft(given_name="伟", family_name="王", display_name="王伟")
    )
    services.people.create(PersonDraft(given_name="Ann", family_name="Lee"))
    assert _ids(services, "王", "person") == [wang]
    assert _ids(services, "王伟", "person") == [wang]
    assert services.search.query("a b").groups == ()  # one Latin letter is no prefix
