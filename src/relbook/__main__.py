"""Entry point: ``relbook`` opens the app; ``relbook COMMAND`` runs a command-line task.

Imports stay inside functions: the GUI's start-up path must not pay for the CLI's
libraries, nor the CLI for Qt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from relbook import __version__
from relbook.cli import (
    COMMAND_MODULES,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_PIPE_CLOSED,
    EXIT_USER,
)
from relbook.domain.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relbook",
        description="Relbook — the relationship book that fills itself from mail and calendar.\n"
        "Without a command, opens the app.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"relbook {__version__}")
    parser.add_argument(
        "--book", metavar="PATH", help="the book file to use (default: the last one opened)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"relbook.cli.{name}")
        sub = module.register(commands)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if _only_global_options(args_list):
        return _run_gui(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        return _run_gui(args_list)
    from relbook.app import default_paths, setup_logging

    log_path = setup_logging(default_paths(), verbose=args.verbose)
    try:
        return int(args.run(args))
    except UserError as error:
        print(f"relbook: {error.message}", file=sys.stderr)
        if error.remedy:
            print(error.remedy, file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("relbook: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``relbook search x | head``): stop quietly. Python would
        # complain again when flushing stdout at exit, so point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except Exception:
        logging.getLogger("relbook").exception("command %s failed", args.command)
        where = f" Details are in {log_path}." if log_path else ""
        print(f"relbook: something went wrong (a bug).{where}", file=sys.stderr)
        return EXIT_BUG


def _only_global_options(args: list[str]) -> bool:
    """True when the arguments are only --book PATH / -v (then the GUI opens)."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--book" and index + 1 < len(args):
            index += 2
            continue
        if arg.startswith("--book=") or arg in ("-v", "--verbose"):
            index += 1
            continue
        return False
    return True


def _run_gui(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="relbook")
    parser.add_argument("--book")
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args(args)
    try:
        from relbook.ui.main import run_app
    except ImportError as error:  # pragma: no cover - only without the GUI extras
        print(f"relbook: the desktop app cannot start: {error}", file=sys.stderr)
        return EXIT_USER
    return int(run_app(book=options.book, verbose=options.verbose))


if __name__ == "__main__":
    sys.exit(main())
