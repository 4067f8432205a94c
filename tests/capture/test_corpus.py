"""The shared real-world corpus (../shared/corpus): every calendar file and every message
imports or is reported with its reason — no crash, no hang (issue 4, points 5 and 6).

The corpus holds other projects' test files: fuzzer cases, broken MIME, an Outlook .msg,
endless and impossible recurrence rules, spam. pytest-timeout (300 s) is the hang guard;
speed itself is measured in benchmarks/, never here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from relbook.__main__ import main
from relbook.cli import EXIT_PARTIAL
from relbook.services.context import Services
from relbook.services.file_import import FileImportReport

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _every_file_accounted_for(report: FileImportReport, files: list[Path]) -> None:
    outcomes = {Path(o.path): o for o in report.files}
    assert set(outcomes) == set(files), "every file is looked at, none twice"
    silent = [str(p) for p, o in outcomes.items() if o.items == 0 and o.problems == 0]
    assert silent == [], "a file that gave nothing must say why"
    for problem in report.problems:
        # Each reason names its file (and the event or message in it) and says something.
        assert any(problem.where.startswith(str(p)) for p in files), problem.where
        assert problem.message.strip() and "Traceback" not in problem.message


def test_every_calendar_file_imports_or_is_reported(corpus: Path, services: Services) -> None:
    folder = corpus / "ics"
    files = _files(folder)
    assert len(files) >= 300
    report = services.file_import.run([folder], privacy="full")
    _every_file_accounted_for(report, files)
    stored = services.book.reader().execute(
        "SELECT count(*) FROM interaction WHERE kind = 'meeting' AND deleted_at IS NULL"
    )
    assert stored.fetchone()[0] == report.ingest.created > 5_000
    reasons = {Path(p.where.split(",")[0]).name: p.message for p in report.problems}
    # A few the rep could meet, with what they are told:
    assert "no meetings" in reasons["example.ics"]  # a bare to-do / alarm / journal
    assert reasons["broken_dtstart.ics"].startswith("cannot be read")
    assert "no start time" in reasons["issue_1081_with_summary.ics"]
    # A long daily series keeps the occurrences nearest to today, and says so.
    assert "nearest to today were imported" in reasons["issue_48_dst.ics"]

    # Importing the same folder again stores nothing new (natural keys).
    again = services.file_import.run([folder], privacy="full")
    assert again.ingest.created == 0


def test_every_message_imports_or_is_reported_from_the_command_line(
    corpus: Path, book_path: Path, capsys: pytest.CaptureFixture[str], services: Services
) -> None:
    folder = corpus / "eml"
    files = _files(folder)
    assert len(files) >= 3_000
    code = main(["import", "-q", str(folder), "--book", str(book_path)])
    out, err = capsys.readouterr()
    # Two files are not mail; the rest is stored, and the exit code says "partly".
    assert code == EXIT_PARTIAL, err
    problems = [line for line in err.splitlines() if line.endswith("[skipped]")]
    assert len(problems) == 2, err
    assert any(
        "mail_outlook_1: is an Outlook .msg file" in line and "save it from Outlook as .eml" in line
        for line in problems
    )
    assert any("msg_19.txt: is not a mail, calendar or contacts file" in line for line in problems)
    assert "2 item(s) reported and skipped" in out
    reader = services.book.reader()
    stored = reader.execute("SELECT count(*) FROM interaction WHERE kind = 'email'").fetchone()[0]
    # Every other file is one message; the few that share a Message-ID are stored once.
    assert len(files) - 2 - 10 <= stored <= len(files) - 2
    assert reader.execute(
        "SELECT count(*) FROM interaction WHERE natural_key IS NULL OR natural_key = ''"
    ).fetchone() == (0,)
    # The deliberately malformed ones (broken MIME, bad headers) are among those stored.
    assert not any("mail_malformed" in line for line in problems)


def test_a_maildir_of_corpus_messages_is_found_by_content_and_imported_once(
    corpus: Path, tmp_path: Path, services: Services
) -> None:
    # Maildir files have no extension and no recognisable name: only their content says
    # they are mail. The SpamAssassin files even start with an mbox "From " line.
    drop = tmp_path / "dropped"
    maildir = drop / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    sources = _files(corpus / "eml" / "spamassassin" / "easy-ham-1")[:300]
    for number, source in enumerate(sources):
        sub = "cur" if number % 2 else "new"
        flags = ":2,S" if sub == "cur" else ""
        shutil.copyfile(source, maildir / sub / f"{1_700_000_000 + number}.M{number}P1.host{flags}")
    (maildir / "dovecot-uidlist").write_text("3 V1 N301\n")

    found = services.file_import.scan([drop])
    assert [(d.kind.value, d.path) for d in found] == [("maildir", maildir)]
    first = services.file_import.run([drop], privacy="headers")
    assert first.problems == []
    assert first.ingest.created == len(sources)
    assert first.files[0].items == len(sources)
    again = services.file_import.run([drop], privacy="headers")
    assert (again.ingest.created, again.ingest.updated) == (0, 0)
