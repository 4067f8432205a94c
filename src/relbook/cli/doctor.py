"""``relbook doctor``: is the book healthy? ``--repair`` rebuilds the search indexes."""

from __future__ import annotations

import argparse
from typing import Any

from relbook.cli import EXIT_OK, EXIT_USER
from relbook.cli.common import add_book_option, say, services_for


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "doctor",
        help="check the book's integrity and search index",
        description="Runs SQLite's integrity check, the foreign-key check and the search "
        "index checks, and reports counts and the latest backup. Exit code 3 if a problem "
        "was found.",
    )
    parser.add_argument("--repair", action="store_true", help="rebuild the search indexes")
    add_book_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    services = services_for(args)
    try:
        if args.repair:
            services.maintenance.rebuild_search()
            say("Search indexes rebuilt.")
        report = services.maintenance.check()
    finally:
        services.close()
    say(f"Book: {report.path} (schema {report.schema}, {report.size_bytes / 1e6:.1f} MB)")
    say("  " + ", ".join(f"{count} {table}" for table, count in report.counts.items()))
    for note in report.notes:
        say(f"  {note}")
    if report.healthy:
        say("Healthy: integrity check ok, search index in step.")
        return EXIT_OK
    for problem in report.problems:
        say(f"  PROBLEM: {problem}")
    say("Run 'relbook doctor --repair' to rebuild the search index; for damage, restore a backup.")
    return EXIT_USER
