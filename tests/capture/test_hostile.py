"""Hostile input dropped on a book that already holds the rep's mail (issue 4, point 11):
each bad item ends in a report naming it, the good ones next to it are stored, and
nothing already in the book is lost. (Wrong passwords and servers dropping the connection
mid-page are per-account errors: tests/integration/test_sync_service.py and
test_imap_source.py, against a real Dovecot.)"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from tests.capture.helpers import eml, live_keys

from relbook.services.context import Services


def _book_with_history(services: Services, folder: Path) -> set[str]:
    mbox = folder / "history.mbox"
    mbox.write_bytes(
        b"".join(
            b"From ann@acme.example Tue Mar 03 10:00:00 2026\n"
            + eml(f"old-{n}@acme.example", subject=f"Earlier {n}").replace(b"\r\n", b"\n")
            + b"\n"
            for n in range(3)
        )
    )
    report = services.file_import.run([mbox], privacy="full")
    assert report.ingest.created == 3
    return live_keys(services)


def _subjects(services: Services) -> dict[str, str]:
    return dict(
        services.book.reader().execute(
            "SELECT natural_key, subject FROM interaction WHERE deleted_at IS NULL"
        )
    )


def test_hostile_calendars_and_mail_are_reported_per_item_and_nothing_stored_is_lost(
    services: Services, tmp_path: Path
) -> None:
    history = tmp_path / "history"
    history.mkdir()
    before = _book_with_history(services, history)
    kept = _subjects(services)

    drop = tmp_path / "dropped"
    drop.mkdir()
    events = {
        "billion": "FREQ=DAILY;COUNT=1000000000",
        "secondly": "FREQ=SECONDLY",
        "zero": "FREQ=WEEKLY;INTERVAL=0",
    }
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{uid}@x\r\nSUMMARY:{uid}\r\nDTSTART:20250106T090000Z\r\n"
        f"DURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
        for uid, rule in events.items()
    )
    (drop / "hostile.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" + body
        + "BEGIN:VEVENT\r\nUID:fine@x\r\nSUMMARY:Fine\r\nDTSTART:20260312T090000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )  # fmt: skip
    # Broken MIME: a boundary never closed, an unknown charset, base64 that is not.
    (drop / "broken.eml").write_bytes(
        b"From: Ann <ann@acme.example>\r\nTo: rep@seller.example\r\nSubject: cut off\r\n"
        b"Date: Tue, 10 Mar 2026 08:00:00 +0000\r\nMessage-ID: <broken@acme.example>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="never"\r\n\r\n'
        b"--never\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nStill here.\r\n"
        b'--never\r\nContent-Type: application/pdf; name="offer.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
    )
    # 50 MB: a 36 MB attachment and a long text.
    attachment = base64.encodebytes(os.urandom(36 * 1024 * 1024))
    text = ("A long line of a very long message body. " * 20 + "\n").encode() * 20_000
    (drop / "huge.eml").write_bytes(
        b"From: big@acme.example\r\nTo: rep@seller.example\r\nSubject: big\r\n"
        b"Date: Tue, 10 Mar 2026 07:00:00 +0000\r\nMessage-ID: <big@acme.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text
        + b"\r\n--XX\r\nContent-Type: application/zip; name=data.zip\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n--XX--\r\n"
    )  # fmt: skip
    assert (drop / "huge.eml").stat().st_size > 50 * 1024 * 1024
    # An mbox with garbage between two good messages.
    (drop / "mixed.mbox").write_bytes(
        b"From a Tue Mar 10 10:00:00 2026\n"
        + eml("m1@acme.example", subject="Before").replace(b"\r\n", b"\n")
        + b"\nFrom b Tue Mar 10 10:00:00 2026\n\x00\x01garbage\xff\xfe\n\n"
        + b"From c Tue Mar 10 10:00:00 2026\n"
        + eml("m2@acme.example", subject="After").replace(b"\r\n", b"\n")
    )

    report = services.file_import.run([drop], privacy="full")

    # Everything that was already there is still there, unchanged.
    after = _subjects(services)
    assert {k: after[k] for k in before} == kept
    # The good items are stored, hostile series bounded, each problem names its item.
    assert {"msgid:broken@acme.example", "msgid:big@acme.example", "msgid:m1@acme.example",
            "msgid:m2@acme.example", "ical:fine@x"} <= set(after)  # fmt: skip
    series = {key.split("#")[0] for key in after if "#" in key}
    assert series == {"ical:billion@x", "ical:secondly@x", "ical:zero@x"}
    assert sum(1 for key in after if key.startswith("ical:billion@x#")) == 500
    messages = {p.where: p.message for p in report.problems}
    ics = str(drop / "hostile.ics")
    assert "FREQ=SECONDLY" in messages[f"{ics}, event “secondly” (UID secondly@x)"]
    assert "INTERVAL=0" in messages[f"{ics}, event “zero” (UID zero@x)"]
    assert "nearest to today" in messages[f"{ics}, event “billion” (UID billion@x)"]
    assert "header lines" in messages[f"{drop / 'mixed.mbox'}, message 2 (line 12)"]
    assert report.skipped == 1  # only the garbage; the bounded series are notes

    # The 50 MB message: its text capped, its attachment listed by name and size only.
    body_length, attachments = (
        services.book.reader()
        .execute(
            "SELECT length(body), attachments FROM interaction WHERE natural_key = ?",
            ("msgid:big@acme.example",),
        )
        .fetchone()
    )
    assert body_length <= 200_000
    assert '"data.zip"' in attachments and str(36 * 1024 * 1024) in attachments
    broken_body = (
        services.book.reader()
        .execute("SELECT body FROM interaction WHERE natural_key = 'msgid:broken@acme.example'")
        .fetchone()[0]
    )
    assert "Still here." in broken_body
