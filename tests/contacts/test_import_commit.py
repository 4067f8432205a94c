"""Preview-then-commit: what the rep is shown is what gets written, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from relbook.domain.errors import ConflictError
from relbook.services.context import Services
from relbook.services.people import Labeled, PersonDraft

CARDS = """BEGIN:VCARD
VERSION:3.0
FN:Zoë Hartmann-Quinn
N:Hartmann-Quinn;Zoë;;;
EMAIL;TYPE=WORK:zoe.quinn@example.com
EMAIL;TYPE=HOME:zoe@example.org
TEL;TYPE=CELL:+1 202-555-0143
ORG:Acme\\, Inc.;Sales
TITLE:VP\\, Sales
CATEGORIES:Clients,Key accounts
NOTE:Met at the fair.
BDAY:--05-17
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Sam Lee
N:Lee;Sam;;;
EMAIL:sam.lee@example.com
ORG:Example Org
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Jon Smith
N:Smith;Jon;;;
ORG:Globex
TITLE:Buyer
END:VCARD
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_preview_writes_nothing_and_says_what_will_happen(
    services: Services, tmp_path: Path
) -> None:
    existing = services.people.create(
        PersonDraft(
            given_name="Zoe", family_name="Quinn", emails=[Labeled("zoe.quinn@example.com")]
        )
    )
    smith = services.people.create(
        PersonDraft(given_name="John", family_name="Smith", company_name="Globex")
    )
    preview = services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    assert services.people.count() == 2
    statuses = [(e.record.display_name, e.status, e.match_id) for e in preview.entries]
    assert statuses == [
        ("Zoë Hartmann-Quinn", "match", existing),
        ("Sam Lee", "new", None),
        ("Jon Smith", "match", smith),
    ]
    assert preview.entries[0].reason == "same e-mail address zoe.quinn@example.com"
    assert preview.entries[2].reason.startswith("similar name at Globex")
    assert preview.entries[1].draft.emails[0].value == "sam.lee@example.com"
    assert "3 contacts read from 1 file(s), 1 new, 2 already in the book" in preview.summary()


def test_merging_into_an_existing_person_adds_and_keeps(services: Services, tmp_path: Path) -> None:
    existing = services.people.create(
        PersonDraft(
            given_name="Zoe",
            family_name="Quinn",
            title="Head of Sales",
            about="Prefers mornings.",
            emails=[Labeled("zoe.quinn@example.com", "work")],
            phones=[Labeled("+1 202 555 0100", "work")],
            tags=["vip"],
        )
    )
    result = services.contacts.commit(
        services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    )
    assert result.merged == [existing]
    zoe = services.people.detail(existing)
    assert zoe.display_name == "Zoe Quinn"  # kept
    assert zoe.title == "Head of Sales"  # kept, not overwritten
    assert [e.value for e in zoe.emails] == ["zoe.quinn@example.com", "zoe@example.org"]
    assert [p.value for p in zoe.phones] == ["+12025550100", "+12025550143"]
    assert set(zoe.tags) == {"vip", "Clients", "Key accounts"}
    assert zoe.birthday == "--05-17"  # was empty: filled
    assert zoe.about.startswith("Prefers mornings.") and "Met at the fair." in zoe.about
    assert zoe.company_name == "Acme, Inc."  # had none: set from ORG
    affiliation = services.affiliations.of_person(existing)[0]
    assert (affiliation.company_name, affiliation.department) == ("Acme, Inc.", "Sales")


def test_choices_override_the_preview(services: Services, tmp_path: Path) -> None:
    services.people.create(
        PersonDraft(given_name="John", family_name="Smith", company_name="Globex")
    )
    preview = services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    result = services.contacts.commit(preview, choices={1: "skip", 2: "new"})
    assert [o.action for o in result.outcomes] == ["created", "skipped", "created"]
    assert services.people.find_by_address("sam.lee@example.com") is None
    assert services.people.count() == 3


def test_a_preview_whose_merge_target_is_gone_is_refused(
    services: Services, tmp_path: Path
) -> None:
    doomed = services.people.create(PersonDraft(given_name="Jon", family_name="Smith"))
    preview = services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    services.people.delete([doomed])
    before = _dump(services)
    with pytest.raises(ConflictError) as caught:
        services.contacts.commit(preview, choices={2: doomed})
    assert "no longer in the book" in str(caught.value)
    assert _dump(services) == before


def test_a_failure_mid_commit_leaves_the_book_unchanged(services: Services, tmp_path: Path) -> None:
    """The second record fails after the first was written (a real SQLite abort, as a full
    disk would give): the whole import rolls back."""
    services.people.create(PersonDraft(given_name="Keep", family_name="Me"))
    preview = services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    with services.book.raw_write() as raw:
        raw.execute(
            """CREATE TRIGGER simulated_failure BEFORE INSERT ON person_email
               WHEN NEW.address = 'sam.lee@example.com'
               BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END"""
        )
    before = _dump(services)
    with pytest.raises(Exception, match="simulated"):
        services.contacts.commit(preview)
    assert _dump(services) == before
    assert services.people.count() == 1
    assert services.people.find_by_address("zoe.quinn@example.com") is None


def test_stale_preview_is_refused(services: Services, tmp_path: Path) -> None:
    preview = services.contacts.preview([_write(tmp_path, "cards.vcf", CARDS)])
    services.people.create(PersonDraft(given_name="Sam", emails=[Labeled("sam.lee@example.com")]))
    with pytest.raises(ConflictError, match="Preview the files again"):
        services.contacts.commit(preview)
    assert services.people.count() == 1


def test_a_person_listed_in_two_files_is_imported_once(services: Services, tmp_path: Path) -> None:
    csv_text = (
        "First Name,Last Name,E-mail Address,Company\nSam,Lee,SAM.LEE@example.com,Example Org\n"
    )
    preview = services.contacts.preview(
        [_write(tmp_path, "cards.vcf", CARDS), _write(tmp_path, "more.csv", csv_text)]
    )
    assert [e.status for e in preview.entries] == ["new", "new", "new", "duplicate"]
    assert preview.entries[3].duplicate_of == 1
    result = services.contacts.commit(preview)
    assert len(result.created) == 3
    assert services.people.count() == 3


def _dump(services: Services) -> dict[str, list[tuple[object, ...]]]:
    db = services.book.reader()
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'fts_%' "
            "AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}").fetchall()), key=repr) for t in tables
    }


def test_similar_names_with_different_addresses_stay_two_people(
    services: Services, tmp_path: Path
) -> None:
    """Maria and Mario Garcia at Acme, each with an address: not one person on import —
    duplicate detection still shows the pair to the rep, with its reason."""
    maria = services.people.create(
        PersonDraft(
            given_name="Maria",
            family_name="Garcia",
            company_name="Acme",
            emails=[Labeled("maria@acme.example")],
        )
    )
    text = "First Name,Last Name,E-mail Address,Company\nMario,Garcia,mario@acme.example,Acme\n"
    preview = services.contacts.preview([_write(tmp_path, "people.csv", text)])
    assert [e.status for e in preview.entries] == ["new"]
    mario = services.contacts.commit(preview).created[0]
    pair = next(
        p for p in services.dedupe.candidates("person") if {p.a_id, p.b_id} == {maria, mario}
    )
    assert pair.reasons[0].startswith("similar names at Acme")


def test_csv_export_imports_back_into_the_same_people(services: Services, tmp_path: Path) -> None:
    services.people.create(
        PersonDraft(
            given_name="Ann",
            family_name="Lee",
            company_name="Acme",
            phones=[Labeled("+1 202 555 0100", "mobile")],
            tags=["vip"],
        )
    )
    path = tmp_path / "people.csv"
    path.write_text(services.contacts.export_csv("person"), encoding="utf-8")
    preview = services.contacts.preview([path])
    assert [(e.status, e.reason) for e in preview.entries] == [
        ("match", "exported from this book (same id)")
    ]
    assert preview.entries[0].record.phones[0].value == "+12025550100"  # "'+1…" unguarded
    services.contacts.commit(preview)
    ann = services.people.detail(preview.entries[0].match_id or "")
    assert [p.value for p in ann.phones] == ["+12025550100"]
    assert services.contacts.handles(path) and not services.contacts.handles(tmp_path / "a.ics")
