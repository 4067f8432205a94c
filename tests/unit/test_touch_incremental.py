"""Touch statistics brought forward by new mail equal a full recompute (storage.touch).

Ingest updates the people and companies that only gained links of new messages from
their stored columns instead of re-reading all their links. Whatever the mail brings —
older and newer than the last touch, several on one day, a day already touched, new
correspondents, replies, several pages — the columns and the company months must be
what a full recompute over every link says.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from benchmarks.mail import contacts_of, make_messages, rep_of, write_maildir
from tests.conftest import NOW

from relbook.app import open_services
from relbook.domain.clock import FixedClock, to_millis
from relbook.services.demo import build_demo_book
from relbook.storage import touch

COLUMNS = (
    "id, touch_count, first_touch_at, last_touch_at, last_inbound_at, last_outbound_at, "
    "inbound_count, outbound_count, rhythm_days, last_two_way_at, touch_days, "
    "touch_weight_30, touch_weight_180, strength, engaged_people"
)


def _snapshot(connection: sqlite3.Connection) -> tuple[list[tuple[object, ...]], ...]:
    people = connection.execute(
        f"SELECT {COLUMNS.replace(', engaged_people', ', 0')} FROM person ORDER BY id"
    ).fetchall()
    companies = connection.execute(f"SELECT {COLUMNS} FROM company ORDER BY id").fetchall()
    months = connection.execute("SELECT * FROM company_month ORDER BY company_id, month").fetchall()
    return people, companies, months


def _same(got: list[tuple[object, ...]], want: list[tuple[object, ...]]) -> None:
    assert len(got) == len(want)
    for mine, full in zip(got, want, strict=True):
        for a, b in zip(mine, full, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-9, abs=1e-9), (mine, full)
            else:
                assert a == b, (mine, full)


@pytest.mark.slow
def test_ingested_mail_updates_touch_statistics_like_a_full_recompute(tmp_path: Path) -> None:
    book = tmp_path / "demo.relbook"
    build_demo_book(book, clock=FixedClock(NOW), scale=2)
    services = open_services(book, clock=FixedClock(NOW))
    try:
        db = services.book.reader()
        # A year of mail up to now: before, among and after the book's own touches.
        mail = make_messages(rep_of(db), contacts_of(db, 60), 700, seed=7, tag="touch", now=NOW)
        mail += make_messages(
            rep_of(db), contacts_of(db, 20), 80, seed=8, tag="late", now=NOW + timedelta(days=3)
        )  # some dated after now: they must not count yet
        report = services.file_import.run([write_maildir(tmp_path / "Maildir", mail)])
        assert report.ingest.created == len(mail)
    finally:
        services.close()

    connection = sqlite3.connect(book, isolation_level=None)
    try:
        incremental = _snapshot(connection)
        assert sum(1 for row in incremental[1] if row[1]) > 10  # companies were touched
        ids = [r[0] for r in connection.execute("SELECT DISTINCT entity_id FROM interaction_link")]
        connection.execute("BEGIN")
        touch.refresh(connection, ids, to_millis(NOW))
        full = _snapshot(connection)
        connection.execute("ROLLBACK")
    finally:
        connection.close()
    for got, want in zip(incremental, full, strict=True):
        _same(got, want)
