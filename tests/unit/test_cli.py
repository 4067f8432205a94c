"""The command line as a user meets it: every command explains itself, exit codes mean
what the README says, and every error names the thing and the way out."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from relbook.__main__ import build_parser, main
from relbook.cli import (
    COMMAND_MODULES,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_PIPE_CLOSED,
    EXIT_USAGE,
    EXIT_USER,
)
from relbook.services.context import Services
from relbook.services.notes import NoteDraft
from relbook.services.people import Labeled, PersonDraft
from relbook.storage import backup


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def book(services: Services, book_path: Path) -> Path:
    """A small book: Zoë at Acme with a note, and Bo."""
    zoe = services.people.create(
        PersonDraft(
            given_name="Zoë",
            family_name="Hartmann",
            company_name="Acme",
            emails=[Labeled("zoe@acme.example")],
        )
    )
    services.people.create(PersonDraft(given_name="Bo", family_name="Lind"))
    services.notes.create(
        NoteDraft(body="Renewal talk:\nwants the\n\nCHF price list", person_id=zoe)
    )
    services.close()
    return book_path


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)  # type: ignore[arg-type]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _subcommands()
    assert {"demo", "import", "export", "search", "backup", "restore", "doctor"} <= set(commands)
    assert len(commands) >= len(COMMAND_MODULES)
    for command in commands:
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0, command
        out = capsys.readouterr().out
        assert out.startswith(f"usage: relbook {command}"), command
        # every command works on a chosen book (commands with actions: on each action)
        assert "--book PATH" in out or "ACTION" in out, command


def test_wrong_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export"])  # --format is required
    assert exited.value.code == EXIT_USAGE
    assert "--format" in capsys.readouterr().err


def test_search_prints_groups_one_line_per_hit(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "search", "chf", "--book", str(book))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0] == "Notes:"
    assert lines[2].strip() == "Renewal talk: wants the [CHF] price list"  # on one line
    code, out, _ = run(capsys, "search", "zo", "hart", "--book", str(book), "--ids")
    assert code == EXIT_OK
    assert "Zoë Hartmann — Acme" in out
    code, out, _ = run(capsys, "search", "nobody-here", "--book", str(book))
    assert (code, out.strip()) == (EXIT_PARTIAL, "Nothing found.")


def test_a_missing_book_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.relbook"
    for argv in (
        ["search", "x"],
        ["doctor"],
        ["export", "--format", "csv"],
        ["backup"],
    ):
        code, _, err = run(capsys, *argv, "--book", str(missing))
        assert code == EXIT_USER, argv
        assert f"no book at {missing}" in err.lower(), argv
    code, _, err = run(capsys, "restore", "--book", str(missing))
    assert code == EXIT_USER
    assert "no backups" in err
    assert not missing.exists()


def test_backup_list_and_restore(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "backup", "--book", str(book))
    assert code == EXIT_OK
    assert out.startswith("Backup written: ")
    code, out, _ = run(capsys, "backup", "--list", "--book", str(book))
    assert code == EXIT_OK and "manual" in out

    # Change the book, then put the backup back: the changed book is kept aside.
    connection = sqlite3.connect(book)
    connection.execute("UPDATE person SET deleted_at = 1")
    connection.commit()
    connection.close()
    code, out, _ = run(capsys, "restore", "--book", str(book))
    assert code == EXIT_OK
    assert "The book as it was is kept at" in out
    kept = Path(out.split("kept at ")[1].strip().rstrip("."))
    assert kept.exists()
    code, out, _ = run(capsys, "search", "zoe", "--book", str(book))
    assert code == EXIT_OK and "Zoë Hartmann" in out


def test_a_corrupt_book_offers_its_latest_backup_and_stays_untouched(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = backup.take_backup(book, "manual")
    data = bytearray(book.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    for side in ("-wal", "-shm"):
        Path(f"{book}{side}").unlink(missing_ok=True)
    book.write_bytes(bytes(data))
    for argv in (["search", "zoe"], ["doctor"], ["backup"], ["export", "--format", "vcf"]):
        code, _, err = run(capsys, *argv, "--book", str(book))
        assert code == EXIT_USER, argv
        assert str(taken.path) in err, argv
        assert "relbook restore" in err, argv
        assert "bug" not in err, argv
    assert book.read_bytes() == bytes(data)
    assert [b.path for b in backup.list_backups(book)] == [taken.path]  # no copy of garbage

    code, _, _ = run(capsys, "restore", str(taken.path), "--book", str(book))
    assert code == EXIT_OK
    code, out, _ = run(capsys, "doctor", "--book", str(book))
    assert code == EXIT_OK and "Healthy" in out


def test_a_book_from_a_newer_relbook_is_refused(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sqlite3.connect(book)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    code, _, err = run(capsys, "search", "zoe", "--book", str(book))
    assert code == EXIT_USER
    assert "newer Relbook (schema 9999)" in err and "Update Relbook" in err


def test_doctor_finds_a_stale_search_index_and_repairs_it(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sqlite3.connect(book)
    connection.execute("DELETE FROM fts_person")
    connection.commit()
    connection.close()
    code, out, _ = run(capsys, "doctor", "--book", str(book))
    assert code == EXIT_USER
    assert "PROBLEM: search index for person: 0 entries for 2 rows" in out
    code, out, _ = run(capsys, "doctor", "--repair", "--book", str(book))
    assert code == EXIT_OK
    assert "Search indexes rebuilt." in out and "Healthy" in out
    code, out, _ = run(capsys, "search", "lind", "--book", str(book))
    assert code == EXIT_OK and "Bo Lind" in out


def test_import_reports_each_bad_row_with_its_line_and_exits_4(
    book: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "import", "-q", str(corpus / "csv"), "--book", str(book))
    assert code == EXIT_PARTIAL
    assert "linkedin-connections.csv:9: the row has no name" in err
    assert "README.md: is not a mail, calendar or contacts file [skipped]" in err
    assert "7 people added" in out
    assert "mail and meetings" not in out  # a contacts-only import has no mail to count
    assert "Daily backup written" in err  # an import starts with the day's backup
    # Importing the same files again adds no one.
    code, out, err = run(capsys, "import", "-q", str(corpus / "csv"), "--book", str(book))
    assert "0 people added" in out or "people added" not in out
    assert "Daily backup written" not in err
    code, out, _ = run(capsys, "search", "müller", "--book", str(book))
    assert out.count("Jürgen Müller") == 1


def test_import_dry_run_shows_the_preview_and_writes_nothing(
    book: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = book.read_bytes()
    code, out, _ = run(capsys, "import", "--dry-run", str(corpus / "csv"), "--book", str(book))
    assert code == EXIT_OK
    assert "google-contacts-legacy.csv:2: Zoë Hartmann-Quinn → new person" in out
    assert "same person as /" in out and "google-contacts-legacy.csv:2" in out
    assert "nothing was imported" in out
    assert book.read_bytes() == before

    fresh = tmp_path / "not-yet.relbook"
    code, out, _ = run(capsys, "import", "--dry-run", str(corpus / "csv"), "--book", str(fresh))
    assert code == EXIT_OK and "7 new" in out
    assert not fresh.exists()


def test_import_of_a_missing_path_imports_nothing(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "one.vcf"
    good.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Ann Example\nEND:VCARD\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(good), str(tmp_path / "typo.vcf"), "--book", str(book))
    assert code == EXIT_USER
    assert "typo.vcf does not exist" in err and "Nothing was imported" in err
    code, _, _ = run(capsys, "search", "ann", "--book", str(book))
    assert code == EXIT_PARTIAL


def test_a_bad_filter_points_at_the_value(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "export", "--format", "csv", "--filter", "tag:vip touches>>3", "--book", str(book)
    )
    assert code == EXIT_USER
    lines = err.splitlines()
    assert "position 17: '>3' is not a number" in lines[0]
    assert lines[1:3] == ["tag:vip touches>>3", " " * 16 + "^"]


def test_a_closed_output_pipe_ends_quietly(book: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "relbook", "export", "--format", "vcf", "--book", str(book)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the first line (`| head -0`)
    _, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_PIPE_CLOSED, err
    assert b"Traceback" not in err and b"bug" not in err


def test_demo_refuses_to_replace_a_book(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = book.with_name("copy.relbook")
    shutil.copyfile(book, copy)
    code, _, err = run(capsys, "demo", "--out", str(copy), "--scale", "0.05")
    assert code == EXIT_USER
    assert "--force" in err
    assert copy.read_bytes() == book.read_bytes()


def test_restoring_a_file_that_is_not_there_says_so(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "restore", str(tmp_path / "typo.relbook"), "--book", str(book))
    assert code == EXIT_USER
    assert f"There is no backup file at {tmp_path / 'typo.relbook'}" in err
    assert "relbook backup --list" in err


def test_export_ids_must_name_an_id(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "export", "--format", "csv", "--ids", ",,", "--book", str(book))
    assert code == EXIT_USAGE
    assert out == "" and "names no id" in err
