"""The book on disk: creation, pragmas, refusals, corruption, backups and restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import NOW

from relbook.domain.clock import FixedClock
from relbook.domain.errors import BookCorruptError, BookError, BookTooNewError
from relbook.services.context import Services
from relbook.services.people import Labeled, PersonDraft
from relbook.storage import backup, migrate
from relbook.storage.book import open_book


def test_a_new_book_uses_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    book = open_book(tmp_path / "new" / "book.relbook", FixedClock(NOW), create=True)
    reader = book.reader()
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert reader.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert reader.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert migrate.current_revision(reader) == migrate.SCHEMA_HEAD
    with pytest.raises(sqlite3.OperationalError):  # readers are read-only
        reader.execute("DELETE FROM person")
    book.close()


def test_opening_a_missing_book_without_create_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(BookError) as caught:
        open_book(tmp_path / "nope.relbook")
    assert "There is no book at" in caught.value.message
    assert "relbook demo" in caught.value.remedy


def test_a_book_from_a_newer_relbook_is_refused_unchanged(book_path: Path) -> None:
    connection = sqlite3.connect(book_path)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    before = book_path.read_bytes()
    with pytest.raises(BookTooNewError) as caught:
        open_book(book_path)
    assert "newer Relbook (schema 9999)" in caught.value.message
    assert "Update Relbook" in caught.value.remedy
    assert book_path.read_bytes() == before


def test_a_corrupt_book_is_never_touched_and_the_error_offers_the_latest_backup(
    book_path: Path,
) -> None:
    taken = backup.take_backup(book_path, "manual", NOW)
    garbage = b"this is not a database at all" * 100
    book_path.write_bytes(garbage)
    with pytest.raises(BookCorruptError) as caught:
        open_book(book_path)
    assert caught.value.latest_backup == str(taken.path)
    assert "relbook restore" in caught.value.remedy
    assert book_path.read_bytes() == garbage


def test_a_damaged_sqlite_file_is_reported_as_corrupt(book_path: Path) -> None:
    data = bytearray(book_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page after the header
    book_path.write_bytes(bytes(data))
    for side in ("-wal", "-shm"):
        Path(str(book_path) + side).unlink(missing_ok=True)
    with pytest.raises(BookCorruptError) as caught:
        open_book(book_path)
    assert "cannot be read as a Relbook book" in caught.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_is_a_clear_error(tmp_path: Path, template_book: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copyfile(template_book, folder / "book.relbook")
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(BookError) as caught:
            open_book(folder / "book.relbook")
        assert "read-only" in caught.value.message
    finally:
        folder.chmod(stat.S_IRWXU)


def test_a_read_only_folder_is_detected_even_as_root(
    tmp_path: Path, template_book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copyfile(template_book, folder / "book.relbook")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode)
    )
    with pytest.raises(BookError) as caught:
        open_book(folder / "book.relbook")
    assert f"The book's folder {folder} is read-only" in caught.value.message


def test_backups_rotate_and_restore_keeps_the_current_book_aside(services: Services) -> None:
    path = services.book.path
    person = services.people.create(
        PersonDraft(given_name="Before", emails=[Labeled("b@x.example")])
    )
    for day in range(5):
        backup.backup_if_due(path, NOW + timedelta(days=day), keep=3)
    assert backup.backup_if_due(path, NOW + timedelta(days=4, hours=1), keep=3) is None
    daily = [b for b in backup.list_backups(path) if b.reason == backup.DAILY]
    assert len(daily) == 3
    services.people.delete([person])
    services.close()
    kept = backup.restore(daily[0].path, path, NOW + timedelta(days=6))
    assert kept is not None and kept.exists()
    reopened = Services(open_book(path, FixedClock(NOW)), FixedClock(NOW))
    assert reopened.people.detail(person).display_name == "Before"
    reopened.close()


def test_restoring_a_damaged_backup_is_refused_and_changes_nothing(
    book_path: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.relbook"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 2000)
    before = book_path.read_bytes()
    with pytest.raises(BookError):
        backup.restore(bad, book_path, NOW)
    assert book_path.read_bytes() == before


def test_a_newer_book_keeps_even_its_journal_mode(book_path: Path) -> None:
    connection = sqlite3.connect(book_path)
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    before = book_path.read_bytes()
    with pytest.raises(BookTooNewError):
        open_book(book_path)
    assert book_path.read_bytes() == before
    assert not Path(f"{book_path}-wal").exists()


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "accounts.sqlite"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE ledger(amount INTEGER)")
    connection.commit()
    connection.close()
    before = other.read_bytes()
    with pytest.raises(BookError) as caught:
        open_book(other)
    assert "not a Relbook book" in caught.value.message
    assert other.read_bytes() == before  # still in its own journal mode, not WAL


def test_backing_up_an_unreadable_book_writes_no_backup(book_path: Path) -> None:
    good = backup.take_backup(book_path, "manual", NOW)
    data = bytearray(book_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    for side in ("-wal", "-shm"):
        Path(f"{book_path}{side}").unlink(missing_ok=True)
    book_path.write_bytes(bytes(data))
    with pytest.raises(BookError) as caught:
        backup.take_backup(book_path, "manual", NOW + timedelta(hours=1))
    assert "cannot be backed up" in caught.value.message
    assert str(good.path) in caught.value.remedy
    assert [b.path for b in backup.list_backups(book_path)] == [good.path]
    assert not list(backup.backup_dir_for(book_path).glob("*.partial"))


def test_the_daily_backup_follows_the_settings(services: Services) -> None:
    path = services.book.path
    services.settings.set("backup_keep", 2)
    taken = services.maintenance.backup_if_due()
    assert taken is not None and taken.reason == backup.DAILY
    assert services.maintenance.backup_if_due() is None  # once a day
    services.settings.set("backup_enabled", False)
    assert services.maintenance.backup_if_due() is None
    assert len(backup.list_backups(path)) == 1


def test_restoring_a_backup_from_a_newer_relbook_is_refused(
    book_path: Path, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.relbook"
    shutil.copyfile(book_path, newer)
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    before = book_path.read_bytes()
    with pytest.raises(BookError) as caught:
        backup.restore(newer, book_path, NOW)
    assert "newer Relbook (schema 9999)" in caught.value.message
    assert book_path.read_bytes() == before
