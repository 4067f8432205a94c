"""``relbook import FILE|FOLDER…``: mail, calendars and contacts from files.

Folders are read recursively and every file is recognised by its content (.eml, mbox,
Maildir, .ics, .vcf, .csv — Maildir files have no extension). Progress goes to stderr,
the summary to stdout. Exit code 0 when everything was imported, 4 when some items were
reported and skipped (each line names the file and the place in it), 3 when a path does
not exist (nothing is imported then).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from relbook.app import open_services
from relbook.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USER
from relbook.cli.common import (
    add_book_option,
    book_path,
    daily_backup,
    say,
    services_for,
    warn,
)

MAX_PROBLEM_LINES = 500


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "import",
        help="import mail (.eml, mbox, Maildir), calendars (.ics) and contacts (.vcf, .csv)",
        description="Import files and folders (recursively). Files are recognised by their "
        "content, not their name. Importing the same mail twice stores it once. Each problem "
        "is reported with the file and the place in it; the rest is imported. Exit code 4 "
        "when some items were reported and skipped.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE|FOLDER", help="what to import")
    parser.add_argument(
        "--privacy",
        choices=("headers", "excerpt", "full"),
        help="how much of each message to keep (default: the book's setting)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing: show what each file was recognised as, and for contacts what "
        "would happen to each (new person, merged into whom, listed twice)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_book_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    paths = [Path(p).expanduser() for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        for path in missing:
            warn(f"relbook: {path} does not exist.")
        warn("Nothing was imported. Check the paths and run the command again.")
        return EXIT_USER
    if args.dry_run:
        return _dry_run(args, paths)
    services = services_for(args, create=True)
    try:
        return _import(services, paths, args)
    finally:
        services.close()


def _dry_run(args: argparse.Namespace, paths: list[Path]) -> int:
    """The preview of the import: the book is read, never written (nor created)."""
    from relbook.capture.detect import CONTACT_KINDS

    target = book_path(args)
    with tempfile.TemporaryDirectory(prefix="relbook-preview-") as scratch:
        # Without a book yet, contacts are previewed against an empty one.
        where = target if target.exists() else Path(scratch) / "empty.relbook"
        services = open_services(where, create=not target.exists())
        try:
            found = services.file_import.scan(paths)
            for detected in found:
                note = f"  ({detected.reason})" if detected.reason else ""
                say(f"{detected.kind.value:<12} {detected.path}{note}")
            contacts = [d.path for d in found if d.kind in CONTACT_KINDS]
            if contacts:
                preview = services.contacts.preview(contacts)
                for line in preview.describe():
                    say(line)
        finally:
            services.close()
    say(f"{len(found)} file(s) or Maildir folder(s) found; nothing was imported.")
    return EXIT_OK


def _import(services: Any, paths: list[Path], args: argparse.Namespace) -> int:
    from relbook.capture.sources.base import Cancelled, CancelToken

    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: cancel.cancel())
    printer = _Progress(enabled=not args.quiet)
    daily_backup(services)
    try:
        report = services.file_import.run(
            paths, privacy=args.privacy, cancel=cancel, progress=printer
        )
    except (KeyboardInterrupt, Cancelled):
        printer.end()
        warn("relbook: interrupted; what was imported so far is kept (import again to go on).")
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    printer.end()
    for number, problem in enumerate(report.problems):
        if number == MAX_PROBLEM_LINES:
            warn(f"… and {len(report.problems) - number} more problems.")
            break
        state = "skipped" if problem.skipped else "imported with a note"
        warn(f"{problem.where}: {problem.message} [{state}]")
    say(report.summary())
    return EXIT_PARTIAL if report.skipped else EXIT_OK


class _Progress:
    """One updating line on a terminal; a line per file otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last_file = ""
        self.shown = False

    def __call__(self, info: Any) -> None:
        if not self.enabled:
            return
        text = (
            f"file {min(info.files_done + 1, info.files_total)}/{info.files_total}: "
            f"{info.items_done} read, {info.stored} stored — {Path(info.path).name}"
        )
        if self.tty:
            sys.stderr.write("\r" + text[:150].ljust(150))
            sys.stderr.flush()
            self.shown = True
        elif info.path and info.path != self.last_file:
            self.last_file = info.path
            warn(f"reading {info.path}")

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.shown = False
