"""Every contact export in the shared corpus imports with the right names, addresses and
phones — or a per-card/per-row error naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from relbook.services.contacts import ContactRecord
from relbook.services.contacts.csv_reader import read_csv
from relbook.services.contacts.vcard_reader import read_vcards
from relbook.services.context import Services

pytestmark = pytest.mark.corpus

CSV_FILES = (
    "google-contacts-legacy.csv",
    "google-contacts-new-utf8-bom.csv",
    "outlook.csv",
    "outlook-semicolon.csv",
    "linkedin-connections.csv",
)


def _by_name(records: list[ContactRecord]) -> dict[str, ContactRecord]:
    return {r.display_name: r for r in records}


def _phones(records: list[ContactRecord]) -> None:
    """Phones as the book stores them (E.164 when they parse)."""
    from relbook.services.contacts.service import _normalise_phones

    for record in records:
        _normalise_phones(record, "")


# ----------------------------------------------------------------------- CSV


@pytest.mark.parametrize("name", CSV_FILES)
def test_every_csv_export_yields_the_same_people(corpus: Path, name: str) -> None:
    table = read_csv((corpus / "csv" / name).read_bytes(), name)
    people = _by_name(table.records)
    assert {
        "Zoë Hartmann-Quinn",
        "王伟",
        "Jürgen Müller",
        'Dana "DJ" O\'Neil',
        "Sam Lee",
        "Formula Test",
    } <= set(people)

    zoe = people["Zoë Hartmann-Quinn"]
    assert (zoe.given_name, zoe.family_name) == ("Zoë", "Hartmann-Quinn")
    assert zoe.company == "Acme, Inc."
    assert zoe.title == "VP, Sales"
    assert zoe.emails[0].value == "zoe.quinn@example.com"

    wang = people["王伟"]
    assert (wang.given_name, wang.family_name) == ("伟", "王")
    assert wang.company == "示例科技有限公司"
    assert wang.title == "采购经理"

    jurgen = people["Jürgen Müller"]
    assert (jurgen.given_name, jurgen.family_name) == ("Jürgen", "Müller")
    assert jurgen.company == "Müller & Söhne GmbH"
    assert jurgen.title == "Geschäftsführer"

    dana = people['Dana "DJ" O\'Neil']
    assert (dana.given_name, dana.family_name) == ("Dana", "O'Neil")
    assert [e.value for e in dana.emails] == ["dana.oneil@example.com"]

    sam = people["Sam Lee"]
    assert sam.company == "Example Org"
    if name != "linkedin-connections.csv":
        assert [e.value for e in sam.emails] == ["sam.lee@example.com"]  # trimmed, lower-case
        assert sam.department == "R&D"
    else:
        assert sam.title == "Head of R&D, EMEA"

    formula = people["Formula Test"]
    # Formula-looking cells are data on the way in (export neutralises them).
    assert formula.company.startswith("=") or formula.title.startswith("=")


def test_emails_and_phones_per_layout(corpus: Path) -> None:
    legacy = _by_name(
        read_csv((corpus / "csv/google-contacts-legacy.csv").read_bytes(), "g").records
    )
    _phones(list(legacy.values()))
    zoe = legacy["Zoë Hartmann-Quinn"]
    # ' ::: ' joins two addresses in one cell; '* Work' marks the primary group.
    assert [(e.value, e.label) for e in zoe.emails] == [
        ("zoe.quinn@example.com", "work"),
        ("zq@example.com", "work"),
        ("zoe@example.org", "home"),
    ]
    assert [(p.value, p.label) for p in zoe.phones] == [("+12025550143", "mobile")]
    assert zoe.tags == ["Clients"]  # '* My Contacts' is Google's own group
    assert [(p.value, p.label) for p in legacy["Sam Lee"].phones] == [
        ("+12025550110", "work"),
        ("+12025550111", "work fax"),
    ]
    jurgen = legacy["Jürgen Müller"]
    assert jurgen.addresses[0].street == "Beispielstraße 1"
    assert jurgen.addresses[0].locality == "Berlin"
    assert jurgen.tags == ["Prospects", "Trade fair 2024"]
    dana = legacy['Dana "DJ" O\'Neil']
    assert dana.note.startswith('Met at the "Q3 kickoff"; prefers calls after 3pm.\nSecond line')

    outlook = _by_name(read_csv((corpus / "csv/outlook.csv").read_bytes(), "o").records)
    assert [e.value for e in outlook["Zoë Hartmann-Quinn"].emails] == [
        "zoe.quinn@example.com",
        "zoe@example.org",
        "zq@example.com",
    ]
    assert outlook["Zoë Hartmann-Quinn"].tags == ["Clients", "Key accounts"]
    assert outlook["Jürgen Müller"].birthday == "1971-02-28"  # 2/28/1971
    assert outlook["Zoë Hartmann-Quinn"].birthday is None  # 0/0/00 means empty
    assert outlook['Dana "DJ" O\'Neil'].note == (
        "Line one of the note.\nLine two, with a comma; and a semicolon."
    )


@pytest.mark.parametrize("name", ["google-contacts-new-utf8-bom.csv", "outlook.csv"])
def test_phones_of_the_current_google_and_outlook_layouts(corpus: Path, name: str) -> None:
    people = _by_name(read_csv((corpus / "csv" / name).read_bytes(), name).records)
    _phones(list(people.values()))

    def phones(who: str) -> list[tuple[str, str]]:
        return [(p.value, p.label) for p in people[who].phones]

    assert phones("Zoë Hartmann-Quinn") == [("+12025550143", "mobile")]
    assert phones("王伟") == [("+14155550100", "work")]
    assert phones('Dana "DJ" O\'Neil') == [("(202) 555-0199", "mobile")]  # no region: as typed
    assert phones("Sam Lee") == [("+12025550110", "work"), ("+12025550111", "work fax")]
    if name == "outlook.csv":
        assert phones("Jürgen Müller") == [("+442079460958", "work")]


def test_semicolon_outlook_equals_comma_outlook(corpus: Path) -> None:
    comma = read_csv((corpus / "csv/outlook.csv").read_bytes(), "a")
    semicolon = read_csv((corpus / "csv/outlook-semicolon.csv").read_bytes(), "b")
    assert (comma.delimiter, semicolon.delimiter) == (",", ";")

    def shape(records: list[ContactRecord]) -> list[tuple[object, ...]]:
        return [
            (
                r.display_name,
                [e.value for e in r.emails],
                [p.value for p in r.phones],
                r.company,
                r.title,
                r.birthday,
                r.note,
                r.tags,
            )
            for r in records
        ]

    assert shape(comma.records) == shape(semicolon.records)


def test_bom_preamble_and_bad_dates_are_handled_per_row(corpus: Path) -> None:
    google = read_csv((corpus / "csv/google-contacts-new-utf8-bom.csv").read_bytes(), "new.csv")
    assert google.encoding == "utf-8-sig"
    assert google.layout == "Google Contacts"
    jurgen = _by_name(google.records)["Jürgen Müller"]
    assert jurgen.birthday is None
    assert [str(i) for i in jurgen.issues] == [
        "new.csv:4 (row 3): birthday '1971-02-29' is not a real date (1971 is not a leap year)"
        " — the rest was imported"
    ]
    assert _by_name(google.records)["Sam Lee"].birthday == "--05-17"
    assert google.empty_rows == 1  # the blank line

    linkedin = read_csv((corpus / "csv/linkedin-connections.csv").read_bytes(), "li.csv")
    assert linkedin.layout == "LinkedIn connections"
    assert [(i.line, i.skipped) for i in linkedin.issues] == [(9, True)]
    assert "no name, e-mail address or phone" in linkedin.issues[0].message
    assert (
        "LinkedIn connection since 2024-02-29" in _by_name(linkedin.records)["Jürgen Müller"].extras
    )


def test_importing_all_csv_files_gives_each_person_once(services: Services, corpus: Path) -> None:
    preview = services.contacts.preview(sorted((corpus / "csv").glob("*.csv")))
    assert preview.new_count == 7
    assert preview.match_count == 0
    result = services.contacts.commit(preview)
    assert len(result.created) == 7
    assert services.people.count() == 7
    people = {
        services.people.detail(i).display_name: services.people.detail(i) for i in result.created
    }
    zoe = people["Zoë Hartmann-Quinn"]
    assert {e.value for e in zoe.emails} == {
        "zoe.quinn@example.com",
        "zq@example.com",
        "zoe@example.org",
    }
    assert zoe.company_name == "Acme, Inc."
    assert set(zoe.tags) == {"Clients", "Key accounts"}
    assert people["王伟"].company_name == "示例科技有限公司"
    assert people["Jürgen Müller"].birthday == "1971-02-28"
    assert people["Sam Lee"].phones[0].value == "+12025550110"
    email_only = people["No Name"]  # named from no.name@example.org
    assert [e.value for e in email_only.emails] == ["no.name@example.org"]
    # The blank LinkedIn row is reported with its line, not imported.
    assert any(i.source.endswith("linkedin-connections.csv") and i.line == 9 for i in result.issues)


# ----------------------------------------------------------------------- vCard


def _vcards(corpus: Path) -> list[Path]:
    return sorted((corpus / "vcf").rglob("*.vcf"))


def test_every_vcard_file_reads_without_a_lost_card(corpus: Path) -> None:
    files = _vcards(corpus)
    assert len(files) >= 18
    for path in files:
        parsed = read_vcards(path.read_bytes(), path.name)
        assert parsed.cards >= 1, path.name
        # A card is either imported or reported (with its line), never silently dropped.
        skipped = [i for i in parsed.issues if i.skipped]
        assert len(parsed.records) + len(skipped) == parsed.cards, path.name
        for issue in skipped:
            assert issue.line >= 1 and issue.source == path.name


def _card(corpus: Path, name: str, index: int = 0) -> ContactRecord:
    path = next(p for p in _vcards(corpus) if p.name == name)
    return read_vcards(path.read_bytes(), name).records[index]


@pytest.mark.parametrize(
    ("name", "given", "family", "emails", "phones"),
    [
        (
            "John_Doe_GMAIL.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.com"],
            ["905-555-1234", "905-666-1234"],
        ),
        (
            "John_Doe_EVOLUTION.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.com"],
            ["905-666-1234", "905-555-1234"],
        ),
        (
            "John_Doe_IPHONE.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.com"],
            [
                "905-555-1234",
                "905-666-1234",
                "905-777-1234",
                "905-222-1234",
                "905-888-1234",
                "905-999-1234",
                "905-111-1234",
            ],
        ),
        (
            "John_Doe_LOTUS_NOTES.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.com", "billy_bob@gmail.com"],
            ["+1 (212) 204-34456", "00-1-212-555-7777"],
        ),
        (
            "John_Doe_MAC_ADDRESS_BOOK.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.com"],
            [
                "905-777-1234",
                "905-666-1234",
                "905-555-1234",
                "905-222-1234",
                "905-888-1234",
                "905-999-1234",
                "905-111-1234",
            ],
        ),
        (
            "John_Doe_MS_OUTLOOK.vcf",
            "John",
            "Doe",
            ["john.doe@ibm.cm"],
            ["(905) 555-1234", "(905) 666-1234"],
        ),
        ("John_Doe_BLACK_BERRY.vcf", "john", "Doe", [], ["+96123456789"]),
        (
            "outlook-2007.vcf",
            "Michael",
            "Angstadt",
            ["mike.angstadt@gmail.com"],
            ["(111) 555-1111", "(111) 555-2222", "(111) 555-4444", "(111) 555-3333"],
        ),
        (
            "rfc6350-example.vcf",
            "Simon",
            "Perreault",
            ["simon.perreault@viagenie.ca"],
            ["+1-418-656-9254 ext. 102", "+1-418-262-6501"],
        ),
        (
            "issue114.vcf",
            "Dummy",
            "Dummy",
            ["dummy.dummy@dummy.com"],
            ["+49 1234 56789", "+49 9876 54321"],
        ),
        (
            "thunderbird-MoreFunctionsForAddressBook-extension.vcf",
            "John",
            "Doe",
            [
                "doe.john@hotmail.com",
                "additional-email@company.com",
                "additional-email1@company.com",
                "additional-email2@company.com",
                "additional-email3@company.com",
            ],
            ["555-555-1111", "555-555-2222", "555-555-5555", "555-555-3333", "555-555-4444"],
        ),
    ],
)
def test_vcard_names_emails_phones(
    corpus: Path, name: str, given: str, family: str, emails: list[str], phones: list[str]
) -> None:
    card = _card(corpus, name)
    assert (card.given_name, card.family_name) == (given, family)
    assert [e.value for e in card.emails] == emails
    assert [p.value for p in card.phones] == phones


@pytest.mark.parametrize(
    ("name", "index", "given", "family", "emails", "phones"),
    [
        ("gmail-single.vcf", 0, "Greg", "Dartmouth", ["gdartmouth@hotmail.com"],
         ["555 555 1111", "555 555 2222"]),
        ("gmail-single2.vcf", 0, "VCard", "Test",
         ["email@example.com", "homeemail@example.com", "workemail@example.com",
          "otheremail@example.com", "customcategory@example.com"],
         ["5555551111", "5555551112", "5555551113", "5555551114", "5555551115", "5555551116",
          "5555551119", "5555551121", "5555551117", "5555551118", "5555551120"]),
        ("gmail-list.vcf", 0, "Arnold", "Smith", ["asmithk@gmail.com"], []),
        ("gmail-list.vcf", 1, "Chris", "Beatle", ["chrisy55d@yahoo.com"], []),
        ("gmail-list.vcf", 2, "Doug", "White", ["dwhite@gmail.com"], []),
        ("fullcontact.vcf", 0, "FirstName", "LastName",
         ["home@example.com", "work@example.com", "school@example.com", "other@example.com",
          "custom@example.com"],
         ["555-555-1111", "555-555-1112", "555-555-1113", "555-555-1114", "555-555-1115",
          "555-555-1118", "555-555-1119", "555-555-1116", "555-555-1117"]),
        ("rfc2426-example.vcf", 0, "Frank", "Dawson",
         ["frank_dawson@lotus.com", "fdawson@earthlink.net"],
         ["+1-919-676-9515", "+1-919-676-9564"]),
        ("rfc2426-example.vcf", 1, "Tim", "Howes", ["howes@netscape.com"],
         ["+1-415-937-3419", "+1-415-528-4164"]),
        ("outlook-2003.vcf", 0, "John", "Doe", ["jdoe@hotmail.com"], []),  # phones: placeholders
        ("John_Doe_ANDROID.vcf", 1, "Jane", "Doe", ["jane.doe@company.com"], []),
        ("John_Doe_ANDROID.vcf", 3, "", "Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ", [],
         ["123456", "234567", "3456789", "45678901"]),
        ("John_Doe_ANDROID.vcf", 4, "Ñ Ñ Ñ", "Ñ Ñ", ["bob@company.com"], ["123456"]),
    ],
)  # fmt: skip
def test_the_other_vcards_names_emails_phones(
    corpus: Path,
    name: str,
    index: int,
    given: str,
    family: str,
    emails: list[str],
    phones: list[str],
) -> None:
    card = _card(corpus, name, index)
    assert (card.given_name, card.family_name) == (given, family)
    assert [e.value for e in card.emails] == emails
    assert [p.value for p in card.phones] == phones


def test_every_corpus_vcard_is_checked_by_name(corpus: Path) -> None:
    """A file added to the corpus gets its own expectations here, not a silent pass."""
    checked = {
        "John_Doe_GMAIL.vcf", "John_Doe_EVOLUTION.vcf", "John_Doe_IPHONE.vcf",
        "John_Doe_LOTUS_NOTES.vcf", "John_Doe_MAC_ADDRESS_BOOK.vcf", "John_Doe_MS_OUTLOOK.vcf",
        "John_Doe_BLACK_BERRY.vcf", "John_Doe_ANDROID.vcf", "outlook-2007.vcf",
        "outlook-2003.vcf", "rfc6350-example.vcf", "rfc2426-example.vcf", "issue114.vcf",
        "thunderbird-MoreFunctionsForAddressBook-extension.vcf", "gmail-single.vcf",
        "gmail-single2.vcf", "gmail-list.vcf", "fullcontact.vcf",
    }  # fmt: skip
    assert {p.name for p in _vcards(corpus)} == checked


def test_vcard_quirks_of_old_exporters(corpus: Path) -> None:
    gmail = _card(corpus, "John_Doe_GMAIL.vcf")
    assert gmail.display_name == "Mr. John Richter, James Doe Sr."  # unescaped comma in FN
    assert gmail.company == "IBM" and gmail.title == "Money Counter"
    assert gmail.birthday == "1980-03-22"
    assert gmail.note.endswith("Favotire Color: Blue")

    outlook = _card(corpus, "outlook-2003.vcf")  # 2.1, quoted-printable NOTE over two lines
    assert outlook.note == "This is the note field!!\nSecond line\n\nThird line is empty"
    assert outlook.company == "Company, The" and outlook.department == "TheDepartment"
    assert outlook.birthday == "1980-03-21"  # 19800321
    # 'BusinessPhone' placeholders are reported with their line, the card still imports.
    assert [(i.line, i.message) for i in outlook.issues][:1] == [
        (10, "'BusinessPhone' is not a phone number")
    ]

    android_path = next(p for p in _vcards(corpus) if p.name == "John_Doe_ANDROID.vcf")
    android = read_vcards(android_path.read_bytes(), android_path.name)
    assert len(android.records) == 6
    assert android.records[0].display_name == "John Doe"  # e-mail only: named from it
    assert android.records[2].display_name == "Ñ Ñ Ñ Ñ Ñ"  # UTF-8 quoted-printable
    assert any("photo could not be decoded" in i.message for i in android.records[4].issues)

    lotus = _card(corpus, "John_Doe_LOTUS_NOTES.vcf")  # PROFILE line, photo, item groups
    assert lotus.photo is not None and lotus.photo.startswith(b"\xff\xd8")
    iphone = _card(corpus, "John_Doe_IPHONE.vcf")  # CR CR LF line ends
    assert iphone.photo is not None and iphone.photo.startswith(b"\xff\xd8")
    assert [(a.label, a.locality) for a in iphone.addresses] == [
        ("home", "New York"),
        ("work", "New York"),
    ]
    assert _card(corpus, "rfc6350-example.vcf").birthday == "--02-03"  # 4.0 --MMDD
    thunderbird = _card(corpus, "thunderbird-MoreFunctionsForAddressBook-extension.vcf")
    assert thunderbird.tags == ["category1", "category2", "category3"]
    rfc2426 = read_vcards(
        next(p for p in _vcards(corpus) if p.name == "rfc2426-example.vcf").read_bytes(), "x"
    )
    assert [(r.given_name, r.family_name) for r in rfc2426.records] == [
        ("Frank", "Dawson"),
        ("Tim", "Howes"),
    ]  # no N: split from FN


def test_importing_every_vcard_file(services: Services, corpus: Path) -> None:
    preview = services.contacts.preview(_vcards(corpus))
    assert not preview.errors
    result = services.contacts.commit(preview)
    # The six "John Doe <john.doe@ibm.com>" exports are one person, merged.
    john = services.people.find_by_address("john.doe@ibm.com")
    assert john is not None
    detail = services.people.detail(john)
    assert {"john.doe@ibm.com", "billy_bob@gmail.com"} <= {e.value for e in detail.emails}
    assert detail.company_name == "IBM"
    assert services.people.count() == len(result.created)
    simon = services.people.detail(services.people.find_by_address("simon.perreault@viagenie.ca"))
    assert [p.value for p in simon.phones] == ["+14186569254 ext. 102", "+14182626501"]
    assert simon.birthday == "--02-03"
