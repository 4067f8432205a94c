"""Files are recognised by content; mail files are read one message at a time."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import NOW

from relbook.capture.detect import FileKind, detect_file, walk
from relbook.capture.sources.files import read_items, read_mbox

EML = (
    b"From: Ann <ann@acme.example>\nTo: rep@seller.example\nSubject: hello\n"
    b"Date: Tue, 10 Mar 2026 10:00:00 +0000\nMessage-ID: <a1@acme.example>\n\nHi.\n"
)
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_kinds_are_judged_by_content_not_by_name(tmp_path: Path) -> None:
    cases = {
        "message.txt": (EML, FileKind.EML),
        "noextension": (EML, FileKind.EML),
        "archive.dat": (b"From ann@acme.example Tue Mar 10 10:00:00 2026\n" + EML, FileKind.MBOX),
        # A NUL early in an mbox (8-bit junk in a message) does not make it "binary".
        "junk.mbox": (b"From a Tue Mar 10 10:00:00 2026\n" + EML + b"\0\xff\n", FileKind.MBOX),
        "calendar.txt": (b"\xef\xbb\xbf" + ICS, FileKind.ICS),
        "event.ics": (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", FileKind.ICS),
        "people.txt": (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n", FileKind.VCF),
        "contacts": (b"Name,E-mail,Phone\nAnn,ann@x.example,1\nBo,bo@x.example,2\n", FileKind.CSV),
        "linkedin.csv": (b'Notes:\n"some notice"\n\nFirst Name,Last Name\nA,B\n', FileKind.CSV),
        "mail.msg": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, FileKind.OUTLOOK_MSG),
        "offer.pdf": (b"%PDF-1.7\n...", FileKind.UNKNOWN),
        "notes.txt": (b"just some notes\nnothing else\n", FileKind.UNKNOWN),
        "empty.eml": (b"", FileKind.UNKNOWN),
    }
    for name, (data, kind) in cases.items():
        found = detect_file(write(tmp_path / name, data))
        assert found.kind is kind, name
        if kind in (FileKind.UNKNOWN, FileKind.OUTLOOK_MSG):
            assert found.reason, name
    assert "Outlook" in detect_file(tmp_path / "mail.msg").reason


def test_folders_are_walked_and_a_maildir_is_one_entry(tmp_path: Path) -> None:
    maildir = tmp_path / "Mail" / "Archive"
    write(maildir / "cur" / "1700000000.M1P1.host:2,S", EML)
    write(maildir / "new" / "1700000001.M2P2.host", EML.replace(b"a1@", b"a2@"))
    (maildir / "tmp").mkdir()
    write(maildir / "dovecot-uidlist", b"3 V1 N3\n")
    write(maildir / "dovecot.index.log", b"\x01\x02\x00")
    write(tmp_path / "Mail" / ".DS_Store", b"\0\0\0\1Bud1")
    write(tmp_path / "cal" / "team.ics", ICS)
    found = list(walk([tmp_path]))
    assert [(f.kind, f.path.relative_to(tmp_path).as_posix()) for f in found] == [
        (FileKind.MAILDIR, "Mail/Archive"),
        (FileKind.ICS, "cal/team.ics"),
    ]
    reads = list(read_items(found[0], now=NOW))
    assert [r.item.natural_key for r in reads if r.item] == [
        "msgid:a1@acme.example",
        "msgid:a2@acme.example",
    ]


def test_mbox_is_streamed_with_from_lines_unescaped_and_problems_located(
    tmp_path: Path,
) -> None:
    mbox = write(
        tmp_path / "inbox.mbox",
        b"From ann@acme.example Tue Mar 10 10:00:00 2026\n" + EML + b"\n>From the start.\n\n"
        b"From nobody Tue Mar 10 11:00:00 2026\nthis is not a message\n\n"
        b"From bo@acme.example Tue Mar 10 12:00:00 2026\n"
        b"From: bo@acme.example\nSubject: no date\n\nBody\n",
    )
    reads = list(read_mbox(mbox))
    assert len(reads) == 3
    first, broken, dated = reads
    assert first.item is not None and first.item.text.strip().endswith("From the start.")
    assert broken.item is None and broken.problem is not None
    assert broken.problem.where == f"{mbox}, message 2 (line 12)"
    assert "header lines" in broken.problem.message
    assert dated.item is not None  # no Date: header, so the From_ line dates it
    assert dated.item.occurred_at.hour == 12


def test_an_outlook_msg_file_is_reported_not_read(tmp_path: Path) -> None:
    found = detect_file(write(tmp_path / "x.msg", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 9))
    (read,) = list(read_items(found, now=NOW))
    assert read.item is None and read.problem is not None
    assert "not RFC 822" in read.problem.message
