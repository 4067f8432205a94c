"""``relbook demo``: build the demo book (``--scale 200``: the benchmark book)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from relbook.cli import EXIT_OK
from relbook.cli.common import add_book_option, say


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="build a realistic demo book to explore (or the benchmark book)",
        description="Builds a new book full of fictional but realistic people, companies, "
        "deals and two years of e-mails, meetings and calls — with relationships going "
        "cold, meetings today and this week, open tasks and feedback. The same seed and "
        "the same day give the same book. --scale multiplies it: --scale 200 is the "
        "benchmark book (50,000 people, 5,000 companies, 20,000 deals, 30,000 tasks, "
        "1,000,000 interactions). An existing file is only replaced with --force.",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="the book file to create (default: demo.relbook in Relbook's data folder; "
        "--book PATH works too)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="N",
        help="size: 1 = the demo book (default), 200 = the benchmark book, 0.1 = a tiny one",
    )
    parser.add_argument(
        "--seed", type=int, default=None, metavar="S", help="another seed, another book"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    add_book_option(parser)
    return parser


def _target(args: argparse.Namespace) -> Path:
    chosen = args.out or getattr(args, "book", None)
    if chosen:
        return Path(chosen).expanduser().absolute()
    from relbook.app import default_paths

    return default_paths().data_dir / "demo.relbook"


class _StderrProgress:
    """A one-line progress display on a terminal; a line per phase (and per 10%) otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.phase = ""
        self.tenth = -1

    def __call__(self, fraction: float, phase: str) -> None:
        elapsed = time.monotonic() - self.started
        line = f"{fraction * 100:5.1f}%  {phase}  ({elapsed:.0f} s)"
        if self.tty:
            sys.stderr.write(f"\r{line:<72}")
            sys.stderr.flush()
            return
        tenth = int(fraction * 10)
        if phase != self.phase or tenth != self.tenth:
            self.phase, self.tenth = phase, tenth
            print(line, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from relbook.services.demo import DEFAULT_SEED, build_demo_book

    path = _target(args)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    progress = _StderrProgress()
    try:
        summary = build_demo_book(
            path, seed=seed, scale=args.scale, force=args.force, progress=progress
        )
    finally:
        progress.done()
    say(f"Demo book written to {summary.path}")
    say(f"  {summary.describe()}")
    say(
        f"  seed {summary.seed}, scale {summary.scale:g}: {summary.seconds:.1f} s, "
        f"{summary.size_bytes / 1e6:.1f} MB"
    )
    say(f'Open it with: relbook --book "{summary.path}"')
    return EXIT_OK
