"""``relbook sync``: sync accounts now, or keep syncing them every N minutes (``--loop``)."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from relbook.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USER
from relbook.cli.accounts import read_password
from relbook.cli.common import add_book_option, daily_backup, say, services_for, warn


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sync",
        help="fetch new mail and meetings from the accounts",
        description="Sync every enabled account (or one), as the app does in the background. "
        "A sync that stops half-way (network, Ctrl-C, a crash) loses nothing: the next one "
        "continues where it stopped. Exit code 4 when some items were reported and skipped, "
        "3 when an account failed.",
    )
    parser.add_argument("--account", metavar="NAME", help="only this account (name or id)")
    parser.add_argument(
        "--loop", action="store_true", help="keep running: sync each account when it is due"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="go on when a safety check asks (e.g. 'the mailbox looks empty')",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password of an account that needs one from stdin (one line each)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_book_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    services = services_for(args)
    from relbook.capture.sources.base import CancelToken

    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: cancel.cancel())
    try:
        if args.account:
            ids = [services.accounts.find(args.account)]
        else:
            ids = [s.id for s in services.accounts.list() if s.enabled]
            if not ids:
                say("No accounts to sync. Add one with 'relbook accounts add'.")
                return EXIT_OK
        if not _ask_passwords(services, ids, args.password_stdin):
            return EXIT_USER
        if args.loop:
            return _loop(services, ids, cancel, args)
        return _once(services, ids, cancel, args)
    except KeyboardInterrupt:
        cancel.cancel()
        warn("relbook: interrupted; what was synced is kept.")
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        services.close()


def _ask_passwords(services: Any, ids: list[str], from_stdin: bool) -> bool:
    for account_id in ids:
        if not services.accounts.needs_password(account_id):
            continue
        name = services.accounts.status(account_id).name
        password = read_password(from_stdin, f"Password for {name}: ")
        if not password:
            warn(
                f"relbook: '{name}' needs its password ({services.accounts.secrets_where()}). "
                "Run interactively or pass --password-stdin."
            )
            return False
        services.accounts.set_password(account_id, password)
    return True


def _progress(quiet: bool) -> Any:
    if quiet:
        return None

    def show(progress: Any) -> None:
        total = f"/{progress.total}" if progress.total is not None else ""
        say(f"{progress.account_name} · {progress.scope}: {progress.done}{total}")

    return show


def _report(outcome: Any, name: str) -> int:
    if outcome.status == "done":
        say(f"{name}: {outcome.message}")
        for problem in outcome.problems[:20]:
            warn(f"  {problem}")
        if len(outcome.problems) > 20:
            warn(f"  … and {len(outcome.problems) - 20} more")
        return EXIT_PARTIAL if outcome.problems else EXIT_OK
    if outcome.status == "question":
        warn(f"{name}: stopped to ask — {outcome.message}")
        warn("Run 'relbook sync --account NAME --yes' to go on.")
        return EXIT_USER
    if outcome.status == "cancelled":
        warn(f"{name}: {outcome.message}")
        return EXIT_INTERRUPTED
    if outcome.status in ("offline",):
        warn(f"{name}: offline — will retry.")
        return EXIT_USER
    warn(f"{name}: {outcome.message}")
    return EXIT_OK if outcome.status in ("busy", "disabled") else EXIT_USER


def _once(services: Any, ids: list[str], cancel: Any, args: argparse.Namespace) -> int:
    worst = EXIT_OK
    for account_id in ids:
        if cancel.cancelled:
            return EXIT_INTERRUPTED
        name = services.accounts.status(account_id).name
        outcome = services.sync.run(
            account_id, cancel=cancel, progress=_progress(args.quiet), confirm_guards=args.yes
        )
        code = _report(outcome, name)
        worst = max(worst, code) if code != EXIT_INTERRUPTED else EXIT_INTERRUPTED
        if code == EXIT_INTERRUPTED:
            break
    return worst


def _loop(services: Any, ids: list[str], cancel: Any, args: argparse.Namespace) -> int:
    say("Syncing accounts as they fall due; Ctrl-C stops.")
    while not cancel.cancelled:
        daily_backup(services)  # the loop may run for weeks, like the app
        services.insight.maintain()  # passed meetings count, strength decays: as the app does
        for account_id in services.sync.due_accounts():
            if account_id not in ids or cancel.cancelled:
                continue
            name = services.accounts.status(account_id).name
            outcome = services.sync.run(account_id, cancel=cancel, progress=_progress(args.quiet))
            _report(outcome, name)
        next_at = services.sync.next_due_at()
        now = services.clock.now()
        wait = 60.0 if next_at is None else max(1.0, (next_at - now).total_seconds())
        if cancel.wait(min(wait, 300.0)):
            break
    sys.stdout.flush()
    return EXIT_OK
