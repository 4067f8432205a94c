"""What a file or folder holds, judged by its content (Maildir files have no extension).

Recognised: a single message (.eml, any name), an mbox, a Maildir folder (``cur/`` and
``new/``), iCalendar (.ics), vCard (.vcf) and CSV contact lists. Everything else is
reported with the reason, e.g. an Outlook ``.msg`` (binary, not RFC 822).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from relbook.capture.mail import OLE2_MAGIC, looks_like_mail

SNIFF_BYTES = 64 * 1024


class FileKind(StrEnum):
    EML = "eml"
    MBOX = "mbox"
    MAILDIR = "maildir"
    ICS = "ics"
    VCF = "vcf"
    CSV = "csv"
    OUTLOOK_MSG = "outlook-msg"
    UNKNOWN = "unknown"


MAIL_KINDS = frozenset({FileKind.EML, FileKind.MBOX, FileKind.MAILDIR})
CONTACT_KINDS = frozenset({FileKind.VCF, FileKind.CSV})


@dataclass(frozen=True)
class Detected:
    path: Path
    kind: FileKind
    reason: str = ""  # why it is UNKNOWN / not importable, for the report


# Files that live next to mail and are neither mail nor worth a report.
_SILENT_NAMES = frozenset(
    {
        ".ds_store", "thumbs.db", "desktop.ini", "dovecot-uidlist", "dovecot-uidvalidity",
        "dovecot-keywords", "dovecot.index", "dovecot.index.log", "dovecot.index.cache",
        "dovecot.list.index", "dovecot.list.index.log", "subscriptions", "maildirfolder",
        "courierimapuiddb", "courierimapkeywords", "courierimapacl", ".mbsyncstate",
        ".uidvalidity",
    }
)  # fmt: skip
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (unpack it first)"),
    (b"\x1f\x8b", "a gzip archive (unpack it first)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
    (b"!BDN", "an Outlook .pst/.ost store (export the mailbox as mbox instead)"),
)


_OTHER_ICAL_STARTS = tuple(
    f"BEGIN:{name}"
    for name in ("VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VALARM", "VAVAILABILITY")
)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_silent(path: Path) -> bool:
    name = path.name.lower()
    return name in _SILENT_NAMES or name.startswith("dovecot.")


def detect_file(path: Path) -> Detected:
    """Judge one file by its first bytes (the extension only breaks a tie for CSV)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        return Detected(path, FileKind.UNKNOWN, f"cannot be read: {error.strerror or error}")
    return Detected(path, *_judge(head, path.suffix.lower()))


def _judge(head: bytes, suffix: str) -> tuple[FileKind, str]:
    if not head.strip():
        return FileKind.UNKNOWN, "is empty"
    if head.startswith(OLE2_MAGIC):
        return FileKind.OUTLOOK_MSG, (
            "is an Outlook .msg file (a binary Microsoft format), not RFC 822 mail; "
            "save it from Outlook as .eml, or export the mailbox as mbox"
        )
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            return FileKind.UNKNOWN, f"is {what}, not a mail, calendar or contacts file"
    raw = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # Mail is judged on the bytes: an mbox may carry a NUL or 8-bit junk in an early message.
    if not raw[:6].upper().startswith(b"BEGIN:"):  # iCalendar and vCard: judged as text
        if raw.startswith(b"From ") and looks_like_mail(raw):
            return FileKind.MBOX, ""
        if looks_like_mail(raw):
            return FileKind.EML, ""
    text = _as_text(head)
    if text is None:
        return FileKind.UNKNOWN, "is a binary file, not a mail, calendar or contacts file"
    start = text.lstrip("\ufeff \t\r\n")
    upper = start[:40].upper()
    if upper.startswith(("BEGIN:VCALENDAR", "BEGIN:VEVENT")):  # a bare VEVENT: khal, vdir
        return FileKind.ICS, ""
    if upper.startswith(_OTHER_ICAL_STARTS):
        # A bare to-do, alarm, time zone…: iCalendar all the same. The calendar reader
        # reports that it holds no meetings (more helpful than "not a calendar").
        return FileKind.ICS, ""
    if upper.startswith("BEGIN:VCARD"):
        return FileKind.VCF, ""
    if suffix in (".csv", ".tsv") or _looks_like_csv(start):
        return FileKind.CSV, ""
    if suffix in (".ics", ".ical", ".ifb"):
        return FileKind.UNKNOWN, "has an .ics name but no BEGIN:VCALENDAR"
    if suffix in (".eml", ".mbox", ".mbx"):
        return FileKind.UNKNOWN, "has a mail file name but does not start with header lines"
    return FileKind.UNKNOWN, "is not a mail, calendar or contacts file"


def _as_text(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    if b"\x00" in head[:4096]:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:  # cut in the middle of a character
            return head[: error.start].decode("utf-8", "replace")
        return head.decode("cp1252", "replace")


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        counts = [line.count(delimiter) for line in lines]
        common = max(set(counts), key=counts.count)
        if common >= 2 and counts.count(common) >= max(2, len(counts) // 2):
            return True
    return False


def walk(paths: Iterable[Path]) -> Iterator[Detected]:
    """Every importable thing under ``paths``, depth first, in name order.

    A Maildir folder is yielded once (its messages are read by the mail reader); the
    bookkeeping files mail programs leave next to mail are skipped without a report.
    """
    for given in paths:
        path = Path(given)
        if not path.exists():
            yield Detected(path, FileKind.UNKNOWN, "does not exist")
        elif path.is_dir():
            yield from _walk_folder(path)
        else:
            yield detect_file(path)


def _walk_folder(folder: Path) -> Iterator[Detected]:
    if is_maildir(folder):
        yield Detected(folder, FileKind.MAILDIR)
        skip = {"cur", "new", "tmp"}
    else:
        skip = set()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        yield Detected(folder, FileKind.UNKNOWN, f"cannot be listed: {error.strerror or error}")
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name in skip:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_folder(path)
        elif entry.is_file():
            if is_silent(path):
                continue
            found = detect_file(path)
            if skip and found.kind is FileKind.UNKNOWN:
                continue  # a file at a Maildir's root that is not mail: the program's own
            yield found
