"""``relbook search QUERY``: the app's search from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from relbook.cli import EXIT_OK, EXIT_PARTIAL
from relbook.cli.common import add_book_option, say, services_for
from relbook.services.search import KINDS

_LABEL = {
    "person": "People",
    "company": "Companies",
    "deal": "Deals",
    "interaction": "Interactions",
    "note": "Notes",
}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "search",
        help="search people, companies, deals, mail, meetings and notes",
        description="Prefix search as in the app: 'zo hart' finds Zoë Hartmann. Results are "
        "grouped by kind, newest interactions first. Exit code 4 when nothing matched.",
    )
    parser.add_argument("query", nargs="+", help="words to find (prefixes are enough)")
    parser.add_argument("--kind", choices=KINDS, action="append", help="only these kinds")
    parser.add_argument("--limit", type=int, default=10, help="results per kind (default 10)")
    parser.add_argument("--ids", action="store_true", help="print ids too")
    add_book_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    services = services_for(args)
    try:
        results = services.search.query(
            " ".join(args.query),
            limit_per_kind=max(1, args.limit),
            kinds=tuple(args.kind) if args.kind else KINDS,
        )
    finally:
        services.close()
    if not results.groups:
        say("Nothing found.")
        return EXIT_PARTIAL
    for group in results.groups:
        say(f"{_LABEL[group.kind]}:")
        for hit in group.hits:
            ident = f"  [{hit.id}]" if args.ids else ""
            detail = f" — {hit.subtitle}" if hit.subtitle else ""
            say(f"  {hit.title}{detail}{ident}")
            if hit.snippet and group.kind in ("interaction", "note"):
                say(f"      {' '.join(hit.snippet.split())}")  # one line per hit
        if group.more:
            say(f"  … more (use --limit or --kind {group.kind})")
    return EXIT_OK
