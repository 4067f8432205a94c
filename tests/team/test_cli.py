"""``relbook team …`` from the command line, as an admin and a rep would type it, against
the real PostgreSQL of the team tests (no keyring on this machine: passwords per session)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from relbook.cli import EXIT_OK, EXIT_USER
from relbook.domain.clock import SystemClock
from relbook.services.context import Services
from relbook.storage.book import open_book
from tests.conftest import relbook

from .conftest import TeamDb
from .helpers import account, server_items

pytestmark = pytest.mark.integration


def test_admin_sets_up_the_server_and_a_rep_shares_and_syncs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    team_db: TeamDb,
    book_path: Path,
    no_keyring: None,
) -> None:
    admin = team_db.admin_dsn  # a superuser's DSN, password included (never stored)
    roles = ("--owner-role", team_db.owner, "--rep-group", team_db.reps)
    code, out, _err = relbook(
        capsys, monkeypatch, "team", "init", "--dsn", admin, "--team", "north", *roles
    )
    assert code == EXIT_OK, out
    assert f"owned by {team_db.owner} (NOLOGIN)" in out and "Team 'north': created" in out
    code, out, _err = relbook(
        capsys, monkeypatch, "team", "init", "--dsn", admin, "--team", "north", *roles
    )
    assert code == EXIT_OK and "already current" in out and "already there" in out

    role = f"{team_db.prefix}_alice"
    code, out, _err = relbook(
        capsys, monkeypatch, "team", "add-rep", "--dsn", admin, "--team", "north", role,
        "--display-name", "Alice", "--password-stdin", stdin="alice-secret\n",
    )  # fmt: skip
    assert code == EXIT_OK and f"{role} is now a rep of team 'north'" in out
    assert "alice-secret" not in out
    code, out, _err = relbook(
        capsys, monkeypatch, "team", "add-rep", "--dsn", admin, "--team", "north",
        f"{team_db.prefix}_bob",
    )  # fmt: skip
    generated = out.split("Password (shown once; give it to the rep): ")[1].strip()
    assert code == EXIT_OK and len(generated) >= 20

    services = Services(open_book(book_path, SystemClock()), SystemClock())
    ids = account(services)
    services.close()
    book = ("--book", str(book_path))

    # The superuser is refused, and told why.
    superuser = team_db.server.dsn("postgres", team_db.dbname, sslmode="disable")
    code, _out, err = relbook(
        capsys, monkeypatch, "team", "connect", "--dsn", superuser, "--password-stdin", *book,
        stdin="postgres-test-password\n",
    )  # fmt: skip
    assert code == EXIT_USER
    assert "refuses to sync as this role: postgres is a superuser" in err and "add-rep" in err

    dsn = team_db.rep_dsn(role)
    code, out, err = relbook(
        capsys, monkeypatch, "team", "connect", "--dsn", dsn, "--password-stdin", *book,
        stdin="alice-secret\n",
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "no keyring: passwords are asked each session" in out
    assert "Team 'north'" in out and "last sync: never" in out

    code, out, _err = relbook(
        capsys, monkeypatch, "team", "share", "company", "Acme", "--level", "subject", *book
    )
    assert code == EXIT_OK and "goes out at the next sync" in out
    code, out, _err = relbook(capsys, monkeypatch, "team", "preview", "company", "Acme", *book)
    assert code == EXIT_OK
    assert "company Acme (from you):" in out and "'Pricing call'" in out
    assert "They want 10% off" not in out and "budget is secret" not in out
    assert "Not shared: 1 private note stays on your laptop." in out
    code, out, _err = relbook(capsys, monkeypatch, "team", "shared", *book)
    assert "Acme" in out and "goes out at the next sync" in out

    # Another process: the session password is gone, so it is asked for (here: stdin).
    code, _out, err = relbook(capsys, monkeypatch, "team", "sync", *book)
    assert code == EXIT_USER and "refused the login" in err
    assert server_items(team_db.admin_dsn) == {}
    code, out, err = relbook(
        capsys, monkeypatch, "team", "sync", "--password-stdin", *book, stdin="alice-secret\n"
    )
    assert code == EXIT_OK, err
    assert out.startswith("Sent ") and "received" in out
    items = server_items(team_db.admin_dsn)
    assert items[("company", ids["company"])]["data"]["name"] == "Acme"
    assert ("note", ids["secret"]) not in items
    assert "body" not in items[("interaction", ids["call"])]["data"]

    code, out, _err = relbook(capsys, monkeypatch, "team", "status", *book)
    assert "last sync: " in out and "last sync: never" not in out
    assert "pending changes: 0" in out and "last error" not in out
    code, out, _err = relbook(capsys, monkeypatch, "team", "view", "accounts", *book)
    assert out.startswith("Acme: 1 people, 1 open deals (1,000.00 EUR)")
    code, out, _err = relbook(capsys, monkeypatch, "team", "view", "people", "Acme", *book)
    assert "Ann Acme — Buyer: Alice (1)" in out
    code, out, _err = relbook(capsys, monkeypatch, "team", "conflicts", *book)
    assert out.strip() == "No conflicts."

    code, out, _err = relbook(capsys, monkeypatch, "team", "unshare", "company", "Acme", *book)
    assert code == EXIT_OK and "withdraws it" in out
    sync = ("team", "sync", "--password-stdin", *book)
    code, _out, err = relbook(capsys, monkeypatch, *sync, stdin="alice-secret\n")
    assert code == EXIT_USER  # the mass-delete guard: all 14 rows would leave the team
    assert "withdraw 14 of the 14 rows" in err and "relbook team sync --yes" in err
    assert all(i["state"] == "live" for i in server_items(admin).values())  # nothing sent
    code, out, _err = relbook(capsys, monkeypatch, "team", "status", *book)
    assert "waiting for you: This sync would delete or withdraw 14" in out
    code, _out, err = relbook(capsys, monkeypatch, *sync, "--yes", stdin="alice-secret\n")
    assert code == EXIT_OK, err
    assert all(i["state"] == "withdrawn" and i["data"] == {} for i in server_items(admin).values())

    with psycopg.connect(admin, autocommit=True) as conn:
        owner = conn.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (team_db.owner,)
        ).fetchone()
    assert owner == (False,)


def test_admin_commands_name_what_is_wrong(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, team_db: TeamDb
) -> None:
    admin = team_db.admin_dsn
    code, _out, err = relbook(
        capsys, monkeypatch, "team", "add-rep", "--dsn", admin, "--team", "north", "x_rep"
    )
    assert code == EXIT_USER and "no Relbook team schema" in err and "relbook team init" in err
    team_db.init("north")
    code, _out, err = relbook(
        capsys, monkeypatch, "team", "add-rep", "--dsn", admin, "--team", "south", "x_rep"
    )
    assert code == EXIT_USER and "There is no team 'south'" in err
    code, _out, err = relbook(
        capsys, monkeypatch, "team", "add-rep", "--dsn", admin, "--team", "north", "Bad Name"
    )
    assert code == EXIT_USER and "not a usable role name" in err
    rep = team_db.add_rep("carol")
    rep_dsn = team_db.rep_dsn(rep, password=team_db.password(rep))
    code, _out, err = relbook(capsys, monkeypatch, "team", "init", "--dsn", rep_dsn, "--team", "x")
    assert code == EXIT_USER and f"{rep} is not one" in err
