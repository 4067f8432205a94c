"""Helpers shared by sub-commands: opening the book named on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relbook.app import AppPaths, default_paths, open_services, resolve_book
from relbook.domain.errors import BookError
from relbook.services.context import Services


def book_path(args: argparse.Namespace, paths: AppPaths | None = None) -> Path:
    return resolve_book(paths or default_paths(), getattr(args, "book", None))


def services_for(args: argparse.Namespace, *, create: bool = False) -> Services:
    return open_services(book_path(args), create=create)


def daily_backup(services: Services) -> None:
    """The automatic daily backup, as the app takes it, before a command writes much
    (an import, a long sync). A failed backup is reported; the command goes on."""
    try:
        taken = services.maintenance.backup_if_due()
    except BookError as error:
        warn(f"relbook: the daily backup was not taken: {error}")
        return
    if taken is not None:
        warn(f"Daily backup written: {taken.path}")


def say(text: str) -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_book_option(parser: argparse.ArgumentParser) -> None:
    """``--book`` after the command too; SUPPRESS keeps a --book given before it."""
    parser.add_argument(
        "--book",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the book file (default: the last one opened)",
    )
