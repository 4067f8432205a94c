"""``relbook screenshot``: render every main view of the app to PNG files (offscreen)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from relbook.cli import EXIT_OK
from relbook.cli.common import add_book_option, say


def register(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "screenshot",
        help="render every main view of the app to PNG files",
        description="Open the app offscreen and save a PNG of every main view (My Day, "
        "lists, Customer 360°, pipeline board, search, palette, editors). Uses a fresh demo "
        "book unless --book is given; the book is only read.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the PNG files")
    parser.add_argument(
        "--theme",
        choices=("light", "dark"),
        default="light",
        help="colour scheme (default: light; My Day is also shot in the other)",
    )
    add_book_option(parser)
    return parser  # type: ignore[no-any-return]  # argparse's sub-parsers are untyped


def run(args: argparse.Namespace) -> int:
    from relbook.ui.screenshot import render_all

    book = getattr(args, "book", None)
    written = render_all(
        Path(book).expanduser().absolute() if book else None,
        Path(args.out).expanduser().absolute(),
        theme=args.theme,
        progress=lambda path: say(f"wrote {path}"),
    )
    say(f"{len(written)} screenshots in {args.out}")
    return EXIT_OK
