"""``relbook export``: people as vCard, or people/companies/deals as spreadsheet-safe CSV."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from relbook.cli import EXIT_OK, EXIT_USAGE, EXIT_USER
from relbook.cli.common import add_book_option, services_for, warn

_NOUN = {"person": "people", "company": "companies", "deal": "deals"}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="export people as vCard, or people/companies/deals as CSV",
        description="Export from the book. vCard (3.0; 4.0, or 2.1 for old phones and "
        "Outlook, with --vcard-version) holds people; CSV holds people, companies or deals, with cells a spreadsheet would run "
        "as formulas (=, +, -, @) neutralised. Choose what to export with --filter (the "
        "filter language of the app's lists, e.g. 'tag:key-account company:acme') or --ids; "
        "without either, everything of that kind is exported.",
    )
    parser.add_argument("--format", choices=("vcf", "csv"), required=True, help="file format")
    parser.add_argument(
        "--kind",
        choices=("person", "company", "deal"),
        default="person",
        help="what to export (default: person; vcf exports people only)",
    )
    parser.add_argument("--filter", metavar="TEXT", default="", help="only records matching")
    parser.add_argument("--ids", metavar="ID,ID…", default="", help="only these records")
    parser.add_argument(
        "--vcard-version", choices=("2.1", "3.0", "4.0"), default="3.0", help="vCard version"
    )
    parser.add_argument(
        "--out", metavar="FILE", help="write to this file (default: standard output)"
    )
    parser.add_argument("--force", action="store_true", help="replace the --out file if it exists")
    add_book_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.format == "vcf" and args.kind != "person":
        warn("relbook export: vCard holds people only; use --format csv for companies or deals.")
        return EXIT_USAGE
    if args.filter and args.ids:
        warn("relbook export: use either --filter or --ids, not both.")
        return EXIT_USAGE
    wanted = [part.strip() for part in args.ids.split(",") if part.strip()] or None
    if args.ids and wanted is None:
        warn("relbook export: --ids names no id; give ids separated by commas.")
        return EXIT_USAGE
    out = Path(args.out).expanduser() if args.out and args.out != "-" else None
    if out is not None and out.exists() and not args.force:
        warn(f"relbook export: {out} already exists; nothing was written.")
        warn("Choose another file, or add --force to replace it.")
        return EXIT_USER
    services = services_for(args)
    try:
        ids = services.contacts.ids_for(args.kind, wanted, args.filter)
        if args.format == "vcf":
            text = services.contacts.export_vcards(ids, args.vcard_version)
        else:
            text = services.contacts.export_csv(args.kind, ids)
    finally:
        services.close()
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_atomically(out, text, bom=args.format == "csv")
    noun = _NOUN[args.kind]
    where = f" to {out}" if out is not None else ""
    warn(f"Exported {len(ids)} {noun}{where}.")
    return EXIT_OK


def _write_atomically(path: Path, text: str, *, bom: bool) -> None:
    """Write next to the target, then rename: a failed export never leaves half a file."""
    folder = path.parent if str(path.parent) else Path()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
