"""Reading mail and calendar files: .eml, mbox, Maildir folders and .ics files.

Each reader yields ``ReadItem``s — an item, or a problem that names the file and where in
it (``inbox.mbox, message 17 (line 1204)``) — so one bad message never stops the rest.
mbox files are streamed a message at a time (a 5 GB mbox costs one message of memory);
a single message larger than ``MAX_MESSAGE_BYTES`` is reported and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from relbook.capture.detect import Detected, FileKind
from relbook.capture.ics import IcsError, Window, calendar_items
from relbook.capture.items import ItemProblem, ReadItem
from relbook.capture.mail import MailParseError, parse_message

MAX_MESSAGE_BYTES = 200 * 1024 * 1024
MAX_ICS_BYTES = 50 * 1024 * 1024
_MBOX_DATE = re.compile(rb"^From \S+\s+(.*)$")


def read_items(
    found: Detected, *, now: datetime, default_tz: tzinfo = UTC, window: Window | None = None
) -> Iterator[ReadItem]:
    """Everything importable in a detected file or Maildir folder."""
    if found.kind is FileKind.EML:
        yield _read_eml(found.path, str(found.path))
    elif found.kind is FileKind.MBOX:
        yield from read_mbox(found.path)
    elif found.kind is FileKind.MAILDIR:
        yield from read_maildir(found.path)
    elif found.kind is FileKind.ICS:
        yield from read_ics(found.path, now=now, default_tz=default_tz, window=window)
    else:
        reason = found.reason or f"holds {found.kind.value} data, which is not mail or calendar"
        yield ReadItem(str(found.path), problem=ItemProblem(str(found.path), reason))


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _read_eml(path: Path, where: str, fallback: datetime | None = None) -> ReadItem:
    try:
        size = path.stat().st_size
        if size > MAX_MESSAGE_BYTES:
            return ReadItem(
                where,
                problem=ItemProblem(
                    where, f"is larger than {MAX_MESSAGE_BYTES // 2**20} MB; skipped"
                ),
            )
        data = path.read_bytes()
    except OSError as error:
        return ReadItem(where, problem=ItemProblem(where, f"cannot be read: {error.strerror}"))
    try:
        item = parse_message(data, fallback_time=fallback or _mtime(path))
    except MailParseError as error:
        return ReadItem(where, problem=ItemProblem(where, str(error)))
    return ReadItem(where, item=item)


def read_maildir(folder: Path) -> Iterator[ReadItem]:
    """Messages in ``cur/`` and ``new/`` (``tmp/`` holds deliveries in progress)."""
    for sub in ("cur", "new"):
        try:
            names = sorted(entry.name for entry in (folder / sub).iterdir())
        except OSError as error:
            where = str(folder / sub)
            yield ReadItem(where, problem=ItemProblem(where, f"cannot be listed: {error.strerror}"))
            continue
        for name in names:
            if name.startswith("."):
                continue
            path = folder / sub / name
            if not path.is_file():
                continue
            yield _read_eml(path, str(path), _maildir_time(name))


def _maildir_time(name: str) -> datetime | None:
    """Maildir file names start with the delivery time (seconds since the epoch)."""
    head = name.split(".", 1)[0]
    if head.isdigit() and 9 <= len(head) <= 11:
        return datetime.fromtimestamp(int(head), UTC)
    return None


def read_mbox(path: Path) -> Iterator[ReadItem]:
    """Stream an mbox (mboxo/mboxrd; ``>From`` lines unescaped), one message at a time."""
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        yield ReadItem(name, problem=ItemProblem(name, f"cannot be read: {error.strerror}"))
        return
    with handle:
        number = 0
        start_line = 0
        lines: list[bytes] = []
        size = 0
        too_big = False
        from_line = b""
        previous_blank = True
        for line_no, read in enumerate(handle, start=1):
            line = read
            if line.startswith(b"From ") and previous_blank:
                if number:
                    yield _mbox_message(name, number, start_line, lines, from_line, too_big)
                number += 1
                start_line = line_no
                lines, size, too_big, from_line = [], 0, False, line
                previous_blank = False
                continue
            previous_blank = not line.strip()
            if number == 0:
                if line.strip():  # text before the first "From " line: not an mbox start
                    number = 1
                    start_line = line_no
                else:
                    continue
            if too_big:
                continue
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                too_big, lines = True, []
                continue
            lines.append(line)
        if number:
            yield _mbox_message(name, number, start_line, lines, from_line, too_big)


def _mbox_message(
    name: str, number: int, line: int, lines: list[bytes], from_line: bytes, too_big: bool
) -> ReadItem:
    where = f"{name}, message {number} (line {line})"
    if too_big:
        return ReadItem(
            where,
            problem=ItemProblem(where, f"is larger than {MAX_MESSAGE_BYTES // 2**20} MB; skipped"),
        )
    if lines and not lines[-1].strip():
        lines = lines[:-1]  # the blank line that separates messages
    try:
        item = parse_message(b"".join(lines), fallback_time=_from_line_time(from_line))
    except MailParseError as error:
        return ReadItem(where, problem=ItemProblem(where, str(error)))
    return ReadItem(where, item=item)


def _from_line_time(line: bytes) -> datetime | None:
    """The date on an mbox ``From sender Tue Mar 10 09:00:00 2026`` line (asctime, UTC)."""
    match = _MBOX_DATE.match(line.strip())
    if not match:
        return None
    text = match.group(1).decode("ascii", "replace").strip()
    for fmt in ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %z %Y"):
        try:
            moment = datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def read_ics(
    path: Path, *, now: datetime, default_tz: tzinfo = UTC, window: Window | None = None
) -> Iterator[ReadItem]:
    name = str(path)
    try:
        if path.stat().st_size > MAX_ICS_BYTES:
            yield ReadItem(
                name,
                problem=ItemProblem(name, f"is larger than {MAX_ICS_BYTES // 2**20} MB; skipped"),
            )
            return
        data = path.read_bytes()
    except OSError as error:
        yield ReadItem(name, problem=ItemProblem(name, f"cannot be read: {error.strerror}"))
        return
    try:
        yield from calendar_items(data, now=now, where=name, window=window, default_tz=default_tz)
    except IcsError as error:
        yield ReadItem(name, problem=ItemProblem(name, str(error)))
