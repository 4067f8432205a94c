"""``relbook accounts add|list|remove|test``: mailboxes and calendars the book fills from."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from relbook.cli import EXIT_OK, EXIT_USAGE, EXIT_USER
from relbook.cli.common import add_book_option, say, services_for, warn
from relbook.domain.errors import ValidationError
from relbook.services.accounts import KIND_LABELS, KINDS, AccountDraft, ConnectionTest

_FLAG_OF = {
    "name": "--name",
    "host": "--host",
    "port": "--port",
    "security": "--security",
    "username": "--username",
    "email": "--email",
    "url": "--url",
    "auth": "--auth",
    "privacy": "--privacy",
    "interval_minutes": "--every",
    "password": "--password-stdin",
    "trusted_cert": "--trust-cert",
    "kind": "KIND",
}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "accounts",
        help="add, list, test or remove mailbox and calendar accounts",
        description="Accounts the book fills itself from: IMAP and Exchange (EWS) mailboxes, "
        "CalDAV calendars and .ics subscriptions. Passwords go to the system keyring; "
        "without one they are asked each session.",
    )
    add_book_option(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    add = actions.add_parser("add", help="add an account (and test its connection)")
    add.add_argument("kind", choices=KINDS, help="imap, ews, caldav or ics")
    add.add_argument("--name", required=True, help="a name for the account, e.g. 'Work mail'")
    add.add_argument("--host", default="", help="IMAP server, e.g. imap.example.com")
    add.add_argument("--port", type=int, default=None, help="IMAP port (default 993/143)")
    add.add_argument(
        "--security", choices=("tls", "starttls", "plain"), default="tls",
        help="IMAP connection security (plain: only for a server on this computer)",
    )  # fmt: skip
    add.add_argument(
        "--allow-plaintext", action="store_true",
        help="allow an unencrypted IMAP connection to a server on this computer",
    )  # fmt: skip
    add.add_argument("--username", default="", help="login name")
    add.add_argument("--email", default="", help="Exchange: the mailbox's e-mail address")
    add.add_argument(
        "--url", default="",
        help="EWS address (empty: autodiscover), CalDAV server, or .ics subscription URL",
    )  # fmt: skip
    add.add_argument("--auth", choices=("auto", "ntlm", "basic"), default="auto")
    add.add_argument(
        "--folder", action="append", default=[],
        help="another folder (IMAP/EWS) or calendar (CalDAV) to sync; repeatable",
    )  # fmt: skip
    add.add_argument("--no-sent", action="store_true", help="do not sync the Sent folder")
    add.add_argument("--no-calendar", action="store_true", help="Exchange: skip the calendar")
    add.add_argument(
        "--privacy", choices=("headers", "excerpt", "full"), default="",
        help="what is kept of each message (default: the book's setting)",
    )  # fmt: skip
    add.add_argument("--every", type=int, default=15, metavar="MINUTES", help="sync interval")
    add.add_argument(
        "--trust-cert", type=Path, default=None, metavar="PEM",
        help="trust this server certificate (a self-signed one your administrator confirmed)",
    )  # fmt: skip
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--no-test", action="store_true", help="do not test the connection")
    add_book_option(add)

    listing = actions.add_parser("list", help="accounts with their sync status")
    add_book_option(listing)

    remove = actions.add_parser(
        "remove", help="remove an account (its mail and meetings stay in the book)"
    )
    remove.add_argument("account", help="account name or id")
    add_book_option(remove)

    test = actions.add_parser("test", help="log in and list the folders or calendars")
    test.add_argument("account", help="account name or id")
    test.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_book_option(test)
    return parser


def read_password(from_stdin: bool, prompt: str) -> str | None:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n") or None
    if sys.stdin.isatty():
        return getpass.getpass(prompt) or None
    return None


def show_test(result: ConnectionTest) -> None:
    (say if result.ok else warn)(result.message)
    if result.remedy:
        warn(result.remedy)
    if result.outcome == "certificate" and result.certificate_pem:
        warn("To trust it, save the certificate below to a file and pass --trust-cert FILE:")
        warn(result.certificate_pem.strip())


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action is None:
        warn("relbook accounts: choose an action: add, list, remove or test.")
        return EXIT_USAGE
    services = services_for(args)
    try:
        return int(_ACTIONS[action](services, args))
    finally:
        services.close()


def _add(services: Any, args: argparse.Namespace) -> int:
    draft = AccountDraft(
        kind=args.kind,
        name=args.name,
        host=args.host,
        port=args.port,
        security=args.security,
        allow_plaintext=args.allow_plaintext,
        username=args.username,
        email=args.email,
        url=args.url,
        auth=args.auth,
        folders=list(args.folder),
        include_sent=not args.no_sent,
        include_calendar=not args.no_calendar,
        privacy=args.privacy,
        interval_minutes=args.every,
    )
    if args.trust_cert is not None:
        try:
            draft.trusted_cert = args.trust_cert.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            warn(f"relbook: cannot read the certificate {args.trust_cert}: {error}.")
            return EXIT_USER
    if args.kind != "ics":
        draft.password = read_password(args.password_stdin, f"Password for {args.name}: ")
    try:
        account_id = services.accounts.create(draft)
    except ValidationError as error:
        for problem in error.errors:
            warn(f"relbook: {_FLAG_OF.get(problem.field, problem.field)}: {problem.message}")
        return EXIT_USER
    say(
        f"Added {KIND_LABELS[args.kind]} '{args.name}'. Passwords: {services.accounts.secrets_where()}."
    )
    if args.no_test:
        return EXIT_OK
    result = services.accounts.test_connection(services.accounts.draft(account_id))
    show_test(result)
    if not result.ok:
        warn(
            f"The account '{args.name}' is saved. Correct it in the app's account editor, or "
            f"'relbook accounts remove \"{args.name}\"' and add it again."
        )
    return EXIT_OK if result.ok else EXIT_USER


def _list(services: Any, _args: argparse.Namespace) -> int:
    accounts = services.accounts.list()
    say(f"Passwords: {services.accounts.secrets_where()}.")
    if not accounts:
        say("No accounts yet. Add one with 'relbook accounts add imap --name … --host …'.")
        return EXIT_OK
    for status in accounts:
        last = f"{status.last_success_at:%Y-%m-%d %H:%M}" if status.last_success_at else "never"
        say(
            f"{status.name}  ({status.kind_label}, every {status.interval_minutes} min, "
            f"keeps {status.privacy})"
        )
        say(
            f"    {status.state_text} · last success {last} · "
            f"{status.items_stored} stored of {status.items_seen} seen"
        )
        if status.last_error and status.state != "error":
            say(f"    last error: {status.last_error}")
        if status.pending_question:
            say(f"    waiting for your answer: {status.pending_question}")
            say("    answer with 'relbook sync --account NAME --yes' (go on) or pause it.")
    return EXIT_OK


def _remove(services: Any, args: argparse.Namespace) -> int:
    account_id = services.accounts.find(args.account)
    name = services.accounts.status(account_id).name
    services.accounts.remove(account_id)
    say(f"Removed '{name}'. Its mail and meetings stay in the book.")
    return EXIT_OK


def _test(services: Any, args: argparse.Namespace) -> int:
    account_id = services.accounts.find(args.account)
    draft = services.accounts.draft(account_id)
    if args.password_stdin or services.accounts.needs_password(account_id):
        draft.password = read_password(args.password_stdin, f"Password for {draft.name}: ")
    result = services.accounts.test_connection(draft)
    show_test(result)
    return EXIT_OK if result.ok else EXIT_USER


_ACTIONS = {"add": _add, "list": _list, "remove": _remove, "test": _test}
