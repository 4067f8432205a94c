"""Backups with SQLite's online backup API: consistent while the book is in use.

Backups of ``book.relbook`` live in ``book.relbook.backups/`` beside it, named
``<stem>-YYYYMMDD-HHMMSS[-reason].relbook``. Automatic daily backups keep the newest N;
backups taken before a migration or a restore are never rotated away automatically.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from relbook.domain.errors import BookError, BookLockedError
from relbook.storage.migrate import SCHEMA_REVISIONS, current_revision

DAILY = "daily"
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime
    reason: str
    size: int


def backup_dir_for(book_path: Path) -> Path:
    return book_path.with_name(book_path.name + ".backups")


def list_backups(book_path: Path) -> list[BackupFile]:
    """Newest first."""
    folder = backup_dir_for(book_path)
    if not folder.is_dir():
        return []
    found: list[BackupFile] = []
    for path in folder.iterdir():
        if path.suffix != book_path.suffix or not path.is_file():
            continue
        parts = path.stem.split("-")
        if len(parts) < 3:
            continue
        # stem-YYYYMMDD-HHMMSS[-reason…]; the book stem itself may contain dashes
        for index in range(len(parts) - 1):
            try:
                taken = datetime.strptime(f"{parts[index]}-{parts[index + 1]}", _STAMP)
            except ValueError:
                continue
            reason = "-".join(parts[index + 2 :]) or DAILY
            found.append(BackupFile(path, taken.replace(tzinfo=UTC), reason, path.stat().st_size))
            break
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def latest_backup(book_path: Path) -> BackupFile | None:
    backups = list_backups(book_path)
    return backups[0] if backups else None


def take_backup(book_path: Path, reason: str = DAILY, now: datetime | None = None) -> BackupFile:
    """Copy the book through the online backup API and verify the copy."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    folder = backup_dir_for(book_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BookError(
            f"Cannot create the backup folder {folder}: {error.strerror}.",
            "Check that the book's folder is writable and the disk is not full.",
        ) from error
    suffix = "" if reason == DAILY else f"-{reason}"
    target = folder / f"{book_path.stem}-{moment.strftime(_STAMP)}{suffix}{book_path.suffix}"
    counter = 1
    while target.exists():
        counter += 1
        target = target.with_name(f"{target.stem}-{counter}{book_path.suffix}")
    partial = target.with_name(target.name + ".partial")
    try:
        copy_database(book_path, partial)
        partial.replace(target)
    except sqlite3.OperationalError as error:
        partial.unlink(missing_ok=True)
        if "locked" in str(error) or "busy" in str(error):
            raise BookLockedError(
                f"The book {book_path} is busy; the backup could not finish.",
                "Try again in a moment.",
            ) from error
        raise BookError(
            f"Backup of {book_path} to {target} failed: {error}.",
            "Check free disk space in the backup folder.",
        ) from error
    except sqlite3.DatabaseError as error:
        # The book itself cannot be read: a copy of it would be no backup at all.
        partial.unlink(missing_ok=True)
        latest = latest_backup(book_path)
        remedy = (
            f"Nothing was written. The latest good backup is {latest.path}: restore it with "
            f'\'relbook restore "{latest.path}" --book "{book_path}"\'.'
            if latest
            else "Nothing was written, and no earlier backup of it exists."
        )
        raise BookError(
            f"{book_path} cannot be backed up: it is not a readable book ({error}).", remedy
        ) from error
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BookError(
            f"Backup of {book_path} to {target} failed: {error.strerror or error}.",
            "Check free disk space in the backup folder.",
        ) from error
    return BackupFile(target, moment.replace(microsecond=0), reason, target.stat().st_size)


def copy_database(source: Path, target: Path) -> None:
    """Online copy from ``source`` to ``target`` (target is replaced)."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst, pages=4096)
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = dst.execute("PRAGMA quick_check").fetchall()
            if problems != [("ok",)]:
                raise sqlite3.DatabaseError(f"copy failed its check: {problems[:3]}")
        finally:
            dst.close()
    finally:
        src.close()


def rotate(book_path: Path, keep: int) -> list[Path]:
    """Remove daily backups beyond the newest ``keep``; returns what was removed."""
    daily = [b for b in list_backups(book_path) if b.reason == DAILY]
    removed = []
    for old in daily[max(keep, 1) :]:
        old.path.unlink(missing_ok=True)
        removed.append(old.path)
    return removed


def backup_if_due(
    book_path: Path, now: datetime, keep: int, every: timedelta = timedelta(days=1)
) -> BackupFile | None:
    daily = [b for b in list_backups(book_path) if b.reason == DAILY]
    if daily and now - daily[0].taken_at < every:
        return None
    taken = take_backup(book_path, DAILY, now)
    rotate(book_path, keep)
    return taken


def check_backup(path: Path) -> None:
    """Raise BookError unless ``path`` is an intact SQLite book."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
            revision = current_revision(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BookError(
            f"{path} is not a readable Relbook backup ({error}).", "Choose another backup."
        ) from error
    if result != [("ok",)] or revision is None:
        raise BookError(f"{path} fails its integrity check.", "Choose another backup.")
    if revision not in SCHEMA_REVISIONS:
        raise BookError(
            f"{path} was written by a newer Relbook (schema {revision}); restoring it would "
            "leave a book this version cannot open. Nothing was changed.",
            "Update Relbook, or choose another backup.",
        )


def restore(backup: Path, book_path: Path, now: datetime) -> Path | None:
    """Put ``backup`` in place of the book. The current book is kept aside, never overwritten.

    Returns where the previous book was moved (None if there was none).
    """
    if not backup.is_file():
        raise BookError(
            f"There is no backup file at {backup}.",
            "'relbook backup --list' shows the backups of the book.",
        )
    check_backup(backup)
    kept: Path | None = None
    if book_path.exists():
        kept = book_path.with_name(
            f"{book_path.stem}-before-restore-{now.strftime(_STAMP)}{book_path.suffix}"
        )
        book_path.replace(kept)
        for side in ("-wal", "-shm"):
            side_file = Path(str(book_path) + side)
            if side_file.exists():
                side_file.replace(Path(str(kept) + side))
    staging = book_path.with_name(book_path.name + ".restoring")
    shutil.copyfile(backup, staging)
    staging.replace(book_path)
    return kept
