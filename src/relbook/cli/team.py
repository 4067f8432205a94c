"""``relbook team …``: provision a team server, connect a book, share, sync, resolve.

Admin (a superuser DSN; reps never use it):
  init --dsn ADMIN_DSN --team NAME     schema, owner role, rep group, RLS, the team
  add-rep --dsn ADMIN_DSN --team NAME ROLE   a rep's login role (password shown once)
  upgrade --dsn ADMIN_DSN              apply newer server migrations

Rep (the book on this laptop):
  connect --dsn REP_DSN                check the server and role; password into the keyring
  status | sync [--yes] | disconnect
  share TYPE REF [--level L] | unshare TYPE REF | shared | preview TYPE REF [--level L]
  conflicts | resolve ID mine|theirs
  view accounts | view people COMPANY | view pipeline | view feedback
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from relbook.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from relbook.cli.common import add_book_option, say, services_for, warn
from relbook.domain.errors import NotFoundError
from relbook.services.context import Services

LEVEL_CHOICES = ("nothing", "metadata", "subject", "full")
TYPE_CHOICES = ("company", "person", "deal")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "team",
        help="share with your team through a PostgreSQL team server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="team_action", metavar="ACTION")

    init = actions.add_parser("init", help="create the team schema, roles and a team (admin)")
    init.add_argument("--dsn", required=True, help="a superuser DSN (password via PGPASSWORD)")
    init.add_argument("--team", required=True, help="the team's name")
    init.add_argument("--owner-role", default="relbook_owner", help="NOLOGIN owner of the tables")
    init.add_argument("--rep-group", default="relbook_reps", help="group role of all reps")

    rep = actions.add_parser("add-rep", help="create a rep's login role in a team (admin)")
    rep.add_argument("--dsn", required=True, help="a superuser DSN")
    rep.add_argument("--team", required=True)
    rep.add_argument("role", help="the rep's login role name (lower-case)")
    rep.add_argument("--display-name", default="", help="how teammates see the rep")
    rep.add_argument("--password-stdin", action="store_true", help="read the password on stdin")

    upgrade = actions.add_parser("upgrade", help="apply newer server migrations (admin)")
    upgrade.add_argument("--dsn", required=True)

    connect = actions.add_parser("connect", help="connect this book to the team server")
    connect.add_argument("--dsn", required=True, help="postgresql://ROLE@HOST/DB?sslmode=…")
    connect.add_argument("--read-dsn", default="", help="a read replica for pulls (optional)")
    connect.add_argument("--password-stdin", action="store_true", help="read the password on stdin")
    add_book_option(connect)

    for name, text in (
        ("status", "last sync, pending changes, errors"),
        ("disconnect", "forget the team server (the book keeps its data)"),
        ("shared", "list what you share"),
        ("conflicts", "values that lost to a teammate's, to resolve"),
    ):
        add_book_option(actions.add_parser(name, help=text))

    sync = actions.add_parser("sync", help="send your changes and receive the team's now")
    sync.add_argument("--yes", action="store_true", help="confirm a large delete the guard stopped")
    sync.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password on stdin (for a machine without a keyring)",
    )
    add_book_option(sync)

    for name, text in (
        ("share", "share a company, person or deal"),
        ("preview", "what the team sees"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("type", choices=TYPE_CHOICES)
        sub.add_argument("ref", help="id, or name (company/person) or title (deal)")
        sub.add_argument(
            "--level",
            choices=LEVEL_CHOICES,
            default=None,
            help="how much of its interactions travels (default metadata)",
        )
        add_book_option(sub)
    unshare = actions.add_parser("unshare", help="stop sharing and withdraw it from the team")
    unshare.add_argument("type", choices=TYPE_CHOICES)
    unshare.add_argument("ref")
    add_book_option(unshare)

    resolve = actions.add_parser("resolve", help="resolve a conflict")
    resolve.add_argument("conflict_id")
    resolve.add_argument("keep", choices=("mine", "theirs"))
    add_book_option(resolve)

    view = actions.add_parser("view", help="the team's shared picture")
    view.add_argument("what", choices=("accounts", "people", "pipeline", "feedback"))
    view.add_argument("company", nargs="?", help="for 'people': the company")
    add_book_option(view)
    return parser


def _password(from_stdin: bool, prompt: str) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n") or None
    if sys.stdin.isatty():
        return getpass.getpass(prompt) or None
    return None  # libpq may still find one (PGPASSWORD, ~/.pgpass) or use a certificate


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "team_action", None)
    if action is None:
        warn("relbook team: say what to do, e.g. 'relbook team status' (see --help).")
        return EXIT_USAGE
    if action in ("init", "add-rep", "upgrade"):
        return _admin(args)
    services = services_for(args)
    try:
        return int(_ACTIONS[action](services, args))
    finally:
        services.close()


def _admin(args: argparse.Namespace) -> int:
    from relbook.team import provision

    if args.team_action == "init":
        report = provision.init_server(
            args.dsn, args.team, owner=args.owner_role, rep_group=args.rep_group
        )
        applied = ", ".join(str(v) for v in report.applied) or "none (already current)"
        say(f"Team schema at version {report.schema_version} (applied now: {applied}).")
        say(f"Tables owned by {report.owner} (NOLOGIN); reps join {report.rep_group}.")
        state = "created" if report.team_created else "already there"
        say(f"Team {args.team!r}: {state}.")
        return EXIT_OK
    if args.team_action == "upgrade":
        versions = provision.upgrade_server(args.dsn)
        say(f"Applied: {', '.join(map(str, versions))}." if versions else "Already current.")
        return EXIT_OK
    password = _password(args.password_stdin, "New rep's password (empty: generate one): ")
    result = provision.add_rep(
        args.dsn, args.team, args.role, password=password, display_name=args.display_name
    )
    say(f"{result.role} is now a rep of team {result.team!r}.")
    if result.password:
        say(f"Password (shown once; give it to the rep): {result.password}")
    elif password is None:
        say("The role existed already; its password is unchanged.")
    return EXIT_OK


def _connect(services: Services, args: argparse.Namespace) -> int:
    password = _password(args.password_stdin, "Password of your team server role: ")
    services.team.connect(args.dsn, password, read_dsn=args.read_dsn)
    say("Connected. The password is kept in: " + services.team.status().password_where)
    return _status(services, args)


def _status(services: Services, _args: argparse.Namespace) -> int:
    status = services.team.status()
    if not status.connected:
        say(f"Not connected to a team server. You share {status.shared_roots} item(s).")
        return EXIT_OK
    say(f"Team {status.team_name!r} on {status.server} as {status.role}")
    say(f"  connection: {status.tls}")
    say(f"  password: {status.password_where}")
    last = f"{status.last_sync_at:%Y-%m-%d %H:%M} UTC" if status.last_sync_at else "never"
    say(f"  last sync: {last} (sent {status.last_pushed}, received {status.last_pulled})")
    say(
        f"  pending changes: {status.pending_changes}; you share {status.shared_roots} item(s); "
        f"the team holds {status.team_rows} row(s) you see"
    )
    if status.open_conflicts:
        say(f"  conflicts to resolve: {status.open_conflicts} (relbook team conflicts)")
    if status.pending_question:
        say(f"  waiting for you: {status.pending_question}")
    if status.last_error:
        when = f"{status.last_error_at:%Y-%m-%d %H:%M} UTC" if status.last_error_at else ""
        say(f"  last error ({when}): {status.last_error}")
    return EXIT_OK


def _sync(services: Services, args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin or services.team.password_needed():
        # No keyring (or nothing in it): ask now, for this sync only. Without an answer
        # libpq may still find one (PGPASSWORD, ~/.pgpass) or log in with a certificate.
        password = _password(args.password_stdin, "Password of your team server role: ")
    report = services.team.sync(confirm=args.yes, password=password)
    say(f"Sent {report.pushed} change(s), received {report.pulled}.")
    if report.refused or report.conflicts:
        say(
            f"{report.conflicts} conflict(s): a teammate changed the same field first; your "
            "values are kept — see 'relbook team conflicts'."
        )
        return EXIT_PARTIAL
    return EXIT_OK


def _disconnect(services: Services, _args: argparse.Namespace) -> int:
    services.team.disconnect()
    say(
        "Disconnected; the book keeps everything it holds. Your shares are unchanged; "
        "connecting again to the same team resumes where this book stopped."
    )
    return EXIT_OK


def resolve_ref(services: Services, entity_type: str, ref: str) -> str:
    db = services.book.reader()
    table = {"company": "company", "person": "person", "deal": "deal"}[entity_type]
    name = {"company": "name", "person": "display_name", "deal": "title"}[entity_type]
    row = db.execute(
        f"SELECT id FROM {table} WHERE id = ? AND deleted_at IS NULL", (ref,)
    ).fetchone()
    if row:
        return str(row[0])
    rows = db.execute(
        f"SELECT id FROM {table} WHERE deleted_at IS NULL AND lower({name}) = lower(?)", (ref,)
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if len(rows) > 1:
        from relbook.domain.errors import UserError

        raise UserError(
            f"{len(rows)} {entity_type} rows are called {ref!r}.",
            "Pass the id instead (relbook search --ids shows ids).",
        )
    raise NotFoundError(entity_type, ref)


def _share(services: Services, args: argparse.Namespace) -> int:
    entity_id = resolve_ref(services, args.type, args.ref)
    level = args.level or "metadata"
    services.sharing.share(args.type, entity_id, level)
    say(f"Shared {args.type} {args.ref!r} (interactions: {level}); it goes out at the next sync.")
    return EXIT_OK


def _unshare(services: Services, args: argparse.Namespace) -> int:
    entity_id = resolve_ref(services, args.type, args.ref)
    if services.sharing.unshare(args.type, entity_id):
        say(f"Unshared {args.type} {args.ref!r}: the next sync withdraws it from the team.")
    else:
        say(f"{args.type} {args.ref!r} was not shared.")
    return EXIT_OK


def _shared(services: Services, _args: argparse.Namespace) -> int:
    items = services.sharing.shared()
    if not items:
        say("You share nothing: everything in this book is private.")
    for item in items:
        where = "on the team server" if item.on_server else "goes out at the next sync"
        say(f"  {item.entity_type:<8} {item.label:<40} interactions: {item.level:<8} ({where})")
    return EXIT_OK


def _preview(services: Services, args: argparse.Namespace) -> int:
    entity_id = resolve_ref(services, args.type, args.ref)
    preview = services.sharing.preview(args.type, entity_id, args.level)
    if not preview.rows:
        say(f"Your team sees nothing of {preview.label}.")
    for row in preview.rows:
        origin = "from you" if row.source == "you" else "from a teammate"
        say(f"{row.entity_type} {row.label} ({origin}):")
        for key, value in row.fields.items():
            say(f"    {key}: {value!r}")
    for line in preview.withheld:
        say(f"Not shared: {line}")
    return EXIT_OK


def _conflicts(services: Services, _args: argparse.Namespace) -> int:
    conflicts = services.team.conflicts()
    if not conflicts:
        say("No conflicts.")
    for c in conflicts:
        if c.kind == "field":
            say(
                f"[{c.id}] {c.entity_type} {c.label!r}, {c.field}: yours {c.mine!r}, "
                f"{c.their_rep}'s {c.theirs!r} (kept)"
            )
        else:
            say(
                f"[{c.id}] {c.entity_type} {c.label!r} was {c.kind} by {c.their_rep} while you "
                "had changes; 'mine' restores it"
            )
    return EXIT_OK


def _resolve(services: Services, args: argparse.Namespace) -> int:
    services.team.resolve(args.conflict_id, args.keep)
    say(
        "Resolved."
        + (" Your value goes to the team at the next sync." if args.keep == "mine" else "")
    )
    return EXIT_OK


def _money(amounts: dict[str, int]) -> str:
    return ", ".join(f"{v / 100:,.2f} {c}" for c, v in sorted(amounts.items())) or "-"


def _view(services: Services, args: argparse.Namespace) -> int:
    team = services.team
    if args.what == "accounts":
        for a in team.shared_accounts():
            say(
                f"{a.name}: {a.people} people, {a.open_deals} open deals ({_money(a.open_amount)}), "
                f"{a.interactions} interactions; shared by {', '.join(a.shared_by) or '-'}"
            )
    elif args.what == "people":
        if not args.company:
            warn("relbook team view people: name the company.")
            return EXIT_USAGE
        company_id = resolve_ref(services, "company", args.company)
        for person in team.who_knows_whom(company_id):
            reps = "; ".join(f"{c.rep_name} ({c.interactions})" for c in person.reps) or "nobody"
            say(f"{person.name} {('— ' + person.title) if person.title else ''}: {reps}")
    elif args.what == "pipeline":
        for cell in team.pipeline_by_rep():
            say(
                f"{cell.rep_name:<20} {cell.pipeline}/{cell.stage:<14} {cell.deals:>3} deal(s) "
                f"{_money(cell.amounts)}"
            )
    else:
        for theme in team.feedback_themes():
            moods = ", ".join(f"{k} {v}" for k, v in sorted(theme.sentiments.items()))
            say(
                f"{theme.topic}: {theme.subject or '-'} — {theme.mentions} mention(s) ({moods}); "
                f"reps: {', '.join(theme.reps)}"
            )
    return EXIT_OK


_ACTIONS: dict[str, Any] = {
    "connect": _connect,
    "status": _status,
    "sync": _sync,
    "disconnect": _disconnect,
    "share": _share,
    "unshare": _unshare,
    "shared": _shared,
    "preview": _preview,
    "conflicts": _conflicts,
    "resolve": _resolve,
    "view": _view,
}
