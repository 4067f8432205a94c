"""``relbook backup`` and ``relbook restore``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from relbook.cli import EXIT_OK, EXIT_USER
from relbook.cli.common import add_book_option, book_path, say, warn
from relbook.storage import backup


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "backup",
        help="take a backup of the book now, or list backups",
        description="Take a consistent backup of the book (safe while the app is open). "
        "Backups live in BOOK.backups/ next to the book.",
    )
    parser.add_argument("--list", action="store_true", help="list existing backups")
    add_book_option(parser)
    restore = commands.add_parser(
        "restore",
        help="replace the book with a backup (the current book is kept aside)",
        description="Put a backup in place of the book. The current book is moved aside "
        "(BOOK-before-restore-…), never overwritten. Close the app first.",
    )
    restore.add_argument("backup", nargs="?", help="the backup file (default: the latest)")
    add_book_option(restore)
    restore.set_defaults(run=run_restore)
    return parser


def run(args: argparse.Namespace) -> int:
    path = book_path(args)
    if args.list:
        backups = backup.list_backups(path)
        if not backups:
            say(f"No backups of {path} yet.")
        for item in backups:
            say(
                f"{item.taken_at:%Y-%m-%d %H:%M:%S}  {item.reason:<22} {item.size / 1e6:8.1f} MB  {item.path}"
            )
        return EXIT_OK
    if not path.exists():
        warn(f"relbook: there is no book at {path}.")
        return EXIT_USER
    taken = backup.take_backup(path, "manual", datetime.now(UTC))
    say(f"Backup written: {taken.path} ({taken.size / 1e6:.1f} MB)")
    return EXIT_OK


def run_restore(args: argparse.Namespace) -> int:
    path = book_path(args)
    if args.backup:
        source = Path(args.backup).expanduser().absolute()
    else:
        latest = backup.latest_backup(path)
        if latest is None:
            warn(f"relbook: no backups of {path} were found.")
            return EXIT_USER
        source = latest.path
    kept = backup.restore(source, path, datetime.now(UTC))
    say(f"Restored {path} from {source}.")
    if kept:
        say(f"The book as it was is kept at {kept}.")
    return EXIT_OK
