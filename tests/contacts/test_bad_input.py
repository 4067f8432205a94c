"""Malformed and oddly encoded contact files: a clear per-card/per-row/per-file error naming
where, and everything else imported."""

from __future__ import annotations

from pathlib import Path

from relbook.services.contacts.csv_reader import read_csv
from relbook.services.contacts.vcard_reader import read_vcards
from relbook.services.context import Services


def test_malformed_vcards_cost_only_themselves() -> None:
    text = (
        "garbage before the first card\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Good One\r\nEMAIL:good@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:no name, no address\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Bad Photo\r\nPHOTO;ENCODING=BASE64;JPEG:@@@notbase64\r\n"
        "this line has no colon\r\nBDAY:1971-02-29\r\nEMAIL:not-an-address\r\n"
        "TEL:+44 20 7946 0958\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Never Closed\r\nEMAIL:open@example.com\r\n"
    )
    parsed = read_vcards(text.encode(), "bad.vcf")
    assert [r.display_name for r in parsed.records] == ["Good One", "Bad Photo", "Never Closed"]
    assert [(i.line, i.ref, i.skipped) for i in parsed.issues] == [
        (1, "", False),  # text outside a card
        (7, "card 2", True),  # nothing to import
    ]
    bad = parsed.records[1]
    assert bad.phones[0].value == "+44 20 7946 0958"
    assert {(i.line, i.message) for i in bad.issues} == {
        (14, "the photo could not be decoded"),
        (15, "not a vCard property: 'this line has no colon'"),
        (16, "birthday '1971-02-29' is not a real date (1971 is not a leap year)"),
        (17, "'not-an-address' is not an e-mail address"),
    }
    assert "not closed" in parsed.records[2].issues[0].message


def test_latin1_vcard_and_declared_charsets() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Müller;Jürgen\r\nFN:Jürgen Müller\r\n"
        "ORG;CHARSET=ISO-8859-1:Müller & Söhne GmbH\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Gr=FC=DFe=0D=0Aaus Berlin\r\n"
        "END:VCARD\r\n"
    ).encode("latin-1")
    record = read_vcards(text, "old.vcf").records[0]
    assert record.display_name == "Jürgen Müller"
    assert record.company == "Müller & Söhne GmbH"
    assert record.note == "Grüße\naus Berlin"


def test_utf16_vcard_with_bom() -> None:
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:王伟\r\nN:王;伟;;;\r\nEND:VCARD\r\n"
    record = read_vcards(text.encode("utf-16"), "w.vcf").records[0]
    assert (record.display_name, record.given_name, record.family_name) == ("王伟", "伟", "王")


def test_cjk_name_without_fn_is_family_first() -> None:
    record = read_vcards(
        b"BEGIN:VCARD\nVERSION:3.0\nN:\xe7\x8e\x8b;\xe4\xbc\x9f;;;\nEND:VCARD\n", "x"
    ).records[0]
    assert record.display_name == "王伟"


def test_csv_in_windows_1252_with_a_ragged_row_and_a_broken_quote() -> None:
    text = (
        "First Name;Last Name;E-mail Address;Company;Birthday\r\n"
        "Jürgen;Müller;juergen@example.org;Müller & Söhne;0/0/00\r\n"
        "Ann;Lee;ann@example.org;Acme;31/02/1990;extra;cells\r\n"
        ";;;;\r\n"
        'Bo;"Unclosed;bo@example.org;Acme;\r\n'
        "Cy;Lee;cy@example.org;Acme;\r\n"
    ).encode("cp1252")
    table = read_csv(text, "old.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.records[0].display_name == "Jürgen Müller"
    assert table.records[0].birthday is None
    ann = table.records[1]
    assert {i.message for i in ann.issues} == {
        "the row has 7 cells but the header has 5; the extra cells were ignored",
        "birthday '31/02/1990' is not a real date",
    }
    assert all(i.line == 3 for i in ann.issues)
    assert table.empty_rows == 1
    # The unclosed quote swallows the rest of the file into one cell: that row is reported.
    assert [r.display_name for r in table.records] == ["Jürgen Müller", "Ann Lee"]
    assert [(i.line, i.skipped) for i in table.issues] == [(5, True)]
    assert "quotation mark is not closed" in table.issues[0].message


def test_a_csv_without_contact_columns_says_what_it_expected() -> None:
    table = read_csv(b"id,amount,currency\n1,20,EUR\n", "orders.csv")
    assert not table.records
    assert "no contact columns found" in table.issues[0].message
    assert table.issues[0].skipped


def test_tab_separated_and_utf16_csv() -> None:
    text = "Name\tE-mail Address\tMobile Phone\nSam Lee\tsam@example.com\t+1 202 555 0110\n"
    table = read_csv(text.encode("utf-16"), "tabs.csv")
    assert table.delimiter == "\t"
    record = table.records[0]
    assert (record.given_name, record.family_name) == ("Sam", "Lee")
    assert [(p.value, p.label) for p in record.phones] == [("+1 202 555 0110", "mobile")]


def test_unreadable_files_are_reported_and_the_others_imported(
    services: Services, tmp_path: Path
) -> None:
    good = tmp_path / "good.vcf"
    good.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nEMAIL:ann@example.org\nEND:VCARD\n")
    picture = tmp_path / "picture.vcf"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.csv"
    preview = services.contacts.preview([good, picture, empty, missing, tmp_path])
    assert [e.record.display_name for e in preview.entries] == ["Ann Lee"]
    messages = [str(issue) for issue in preview.errors]
    assert any("picture.vcf is not a text file" in m for m in messages)
    assert any("empty.vcf" in m and "no vCard" in m for m in messages)
    assert any("missing.csv does not exist" in m for m in messages)
    assert any("is a folder" in m for m in messages)
    result = services.contacts.commit(preview)
    assert len(result.created) == 1
    assert result.skipped == 4
