"""Export: vCard that reads back as the same people, CSV a spreadsheet cannot be tricked by,
and the ``relbook export`` command."""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from relbook.cli import EXIT_USER, exporting
from relbook.domain.clock import FixedClock
from relbook.domain.errors import UserError
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.people import AddressEntry, Labeled, PersonDraft
from relbook.storage.book import open_book
from tests.conftest import NOW


def main(argv: list[str]) -> int:
    """``relbook export`` as __main__ runs it (its parser; user errors → exit code 3)."""
    parser = argparse.ArgumentParser(prog="relbook")
    commands = parser.add_subparsers(dest="command")
    exporting.register(commands).set_defaults(run=exporting.run)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UserError as error:
        print(f"relbook: {error.message}", file=sys.stderr)
        return EXIT_USER


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@pytest.fixture
def other_book(tmp_path: Path, template_book: Path) -> Iterator[Services]:
    path = tmp_path / "other.relbook"
    shutil.copyfile(template_book, path)
    clock = FixedClock(NOW)
    ctx = Services(open_book(path, clock), clock)
    yield ctx
    ctx.close()


def _people(services: Services) -> list[str]:
    ids = [
        services.people.create(
            PersonDraft(
                given_name="Zoë",
                family_name="Hartmann-Quinn",
                title="VP, Sales",
                birthday="--05-17",
                about='Met at the "Q3 kickoff"; prefers calls,\nafter 3pm.',
                emails=[
                    Labeled("zoe.quinn@example.com", "work"),
                    Labeled("zoe@example.org", "home"),
                ],
                phones=[
                    Labeled("+1 202 555 0143", "mobile"),
                    Labeled("+1 202 555 0111", "work fax"),
                ],
                addresses=[
                    AddressEntry("work", "Main St 1\nFloor 2", "Springfield", "IL", "62701", "USA")
                ],
                company_name="Acme, Inc.",
                tags=["Key accounts", "vip"],
            )
        ),
        services.people.create(
            PersonDraft(
                given_name="伟",
                family_name="王",
                display_name="王伟",
                birthday="1971-02-28",
                company_name="示例科技有限公司",
                title="采购经理",
            )
        ),
        services.people.create(
            PersonDraft(
                given_name="Jürgen",
                family_name="Müller",
                emails=[Labeled("juergen.mueller@example.org")],
            )
        ),
    ]
    services.people.set_photo(ids[0], JPEG)
    return ids


def _shape(services: Services, person_id: str) -> tuple[object, ...]:
    d = services.people.detail(person_id)
    return (
        d.display_name,
        d.given_name,
        d.family_name,
        d.title,
        d.birthday,
        d.company_name,
        [(e.value, e.label) for e in d.emails],
        [(p.value, p.label) for p in d.phones],
        list(d.addresses),
        sorted(d.tags),
        d.about,
        services.people.photo(person_id),
    )


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_vcard_round_trip_gives_the_same_people(
    services: Services, other_book: Services, tmp_path: Path, version: str
) -> None:
    ids = _people(services)
    text = services.contacts.export_vcards(version=version)
    assert text.count("BEGIN:VCARD") == 3
    assert f"VERSION:{version}" in text
    path = tmp_path / "export.vcf"
    path.write_text(text, encoding="utf-8")
    result = other_book.contacts.commit(other_book.contacts.preview([path]))
    assert len(result.created) == 3 and not result.issues
    exported = sorted(_shape(services, i) for i in ids)
    imported = sorted(_shape(other_book, i) for i in result.created)
    assert imported == exported


def test_vcard_21_for_old_address_books_reads_back_the_same_people(
    services: Services, other_book: Services, tmp_path: Path
) -> None:
    ids = _people(services)
    text = services.contacts.export_vcards(version="2.1")
    assert text.count("VERSION:2.1") == 3
    assert "TEL;CELL;VOICE:+12025550143" in text
    assert "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B=E4=BC=9F" in text
    assert all(len(line) <= 76 for line in text.split("\r\n") if not line.startswith(" "))
    path = tmp_path / "old.vcf"
    path.write_bytes(text.encode("utf-8"))
    result = other_book.contacts.commit(other_book.contacts.preview([path]))
    assert len(result.created) == 3 and not result.issues
    exported = sorted(_shape(services, i) for i in ids)
    imported = sorted(_shape(other_book, i) for i in result.created)
    # 2.1 has no birthday without a year: Zoë's --05-17 is the one thing it cannot carry.
    zoe = next(i for i, shape in enumerate(exported) if shape[0] == "Zoë Hartmann-Quinn")
    exported[zoe] = (*exported[zoe][:4], None, *exported[zoe][5:])
    assert imported == exported


def test_reimporting_an_export_into_the_same_book_adds_no_one(
    services: Services, tmp_path: Path
) -> None:
    ids = _people(services)
    path = tmp_path / "export.vcf"
    path.write_text(services.contacts.export_vcards(), encoding="utf-8")
    before = [_shape(services, i) for i in ids]
    preview = services.contacts.preview([path])
    assert [e.status for e in preview.entries] == ["match"] * 3
    services.contacts.commit(preview)
    assert services.people.count() == 3
    assert [_shape(services, i) for i in ids] == before


def test_csv_export_neutralises_formulas(services: Services) -> None:
    evil = [
        '=HYPERLINK("http://example.com/x","click me")',
        "+SUM(1,2)",
        "-2+3",
        "@SUM(1,2)",
        "\t=1+2",
    ]
    services.people.create(
        PersonDraft(
            given_name=evil[0],
            family_name=evil[1],
            title=evil[2],
            about=evil[3],
            company_name=evil[4],
            emails=[Labeled("formula.test@example.com")],
            phones=[Labeled("+1 202 555 0123")],
        )
    )
    text = services.contacts.export_csv("person")
    rows = list(csv.reader(io.StringIO(text)))
    header, row = rows[0], rows[1]
    cells = dict(zip(header, row, strict=True))
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert cells["Given Name"] == "'" + evil[0]
    assert cells["Organization 1 - Title"] == "'-2+3"
    assert cells["Notes"] == "'@SUM(1,2)"
    assert cells["Phone 1 - Value"] == "'+12025550123"  # the data survives, as text


def test_csv_export_of_companies_and_deals(services: Services) -> None:
    person = services.people.create(
        PersonDraft(given_name="Ann", family_name="Lee", company_name="=cmd|' /C calc'!A0")
    )
    company = services.people.detail(person).company_id
    assert company is not None
    services.deals.create(
        DealDraft(
            title="@Renewal",
            company_id=company,
            amount="12,500",
            people=[(person, "champion")],
            competitors=["-Globex"],
        )
    )
    companies = list(csv.reader(io.StringIO(services.contacts.export_csv("company"))))
    assert companies[1][0] == "'=cmd\\|' /C calc'!A0"
    deals = list(csv.reader(io.StringIO(services.contacts.export_csv("deal"))))
    deal = dict(zip(deals[0], deals[1], strict=True))
    assert deal["Title"] == "'@Renewal"
    assert deal["Amount"] == "12500.00"
    assert deal["People"] == "Ann Lee (champion)"
    assert deal["Competitors"] == "'-Globex"


def test_export_command(
    services: Services, book_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _people(services)
    services.close()
    out = tmp_path / "people.vcf"
    assert main(["export", "--format", "vcf", "--out", str(out), "--book", str(book_path)]) == 0
    assert out.read_text(encoding="utf-8").count("BEGIN:VCARD") == 3
    assert "Exported 3 people" in capsys.readouterr().err

    # An existing file is not replaced without --force.
    assert main(["export", "--format", "vcf", "--out", str(out), "--book", str(book_path)]) == 3
    assert "already exists" in capsys.readouterr().err

    # --ids, to standard output.
    assert main(["export", "--format", "csv", "--ids", ids[2], "--book", str(book_path)]) == 0
    captured = capsys.readouterr()
    assert "Jürgen" in captured.out and "Zoë" not in captured.out

    # --filter uses the lists' filter language.
    csv_out = tmp_path / "vip.csv"
    code = main(
        [
            "export",
            "--format",
            "csv",
            "--filter",
            "tag:vip",
            "--out",
            str(csv_out),
            "--book",
            str(book_path),
        ]
    )
    assert code == 0
    data = csv_out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["Zoë Hartmann-Quinn"]

    # vCard of companies is a usage error; an unknown id a user error.
    assert main(["export", "--format", "vcf", "--kind", "company", "--book", str(book_path)]) == 2
    assert main(["export", "--format", "csv", "--ids", "nope", "--book", str(book_path)]) == 3
    assert "No person with id nope" in capsys.readouterr().err
