"""Provisioning, role checks, TLS and where the password lives — against real PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from relbook.credentials import SessionSecretStore
from relbook.domain.clock import FixedClock
from relbook.services.context import Services
from relbook.storage.book import open_book
from relbook.team import provision, schema
from relbook.team.errors import (
    NotARep,
    TeamAuthFailed,
    TeamError,
    TeamSchemaMismatch,
    TeamTlsError,
    UnsafeRole,
)
from tests.conftest import NOW

from .conftest import Client, TeamDb
from .pg import _write_tls

pytestmark = pytest.mark.integration

MakeClient = Callable[..., Client]


def test_init_creates_a_versioned_schema_owned_by_a_nologin_role(team_db: TeamDb) -> None:
    report = team_db.init("north")
    assert report.applied == tuple(range(1, schema.head() + 1)) and report.team_created
    again = team_db.init("north")
    assert again.applied == () and not again.team_created
    assert provision.upgrade_server(team_db.admin_dsn) == []

    with team_db.admin() as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM relbook.schema_version")]
        assert versions == [m.version for m in schema.migrations()]
        login, superuser, bypass = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
            (team_db.owner,),
        ).fetchone()
        assert (login, superuser, bypass) == (False, False, False)
        tables = conn.execute(
            """SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity,
                      c.relforcerowsecurity
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'relbook' AND c.relkind = 'r' ORDER BY 1"""
        ).fetchall()
    assert {t[0] for t in tables} == {
        "item",
        "item_share",
        "mutation",
        "rep",
        "schema_version",
        "team",
    }
    assert all(owner == team_db.owner and rls and force for _n, owner, rls, force in tables)


def test_add_rep_creates_a_plain_login_role(team_db: TeamDb) -> None:
    team_db.init("north")
    result = provision.add_rep(team_db.admin_dsn, "north", f"{team_db.prefix}_dana")
    assert result.password and len(result.password) >= 20
    with team_db.admin() as conn:
        row = conn.execute(
            """SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
                      pg_has_role(rolname, %s, 'MEMBER'), pg_has_role(rolname, %s, 'MEMBER')
               FROM pg_roles WHERE rolname = %s""",
            (team_db.reps, team_db.owner, f"{team_db.prefix}_dana"),
        ).fetchone()
    assert row == (True, False, False, False, False, True, False)
    dsn = team_db.rep_dsn(f"{team_db.prefix}_dana")
    with psycopg.connect(dsn, password=result.password) as conn:
        assert conn.execute("SELECT name FROM relbook.team").fetchall() == [("north",)]

    with pytest.raises(TeamError, match="already a rep"):
        provision.add_rep(team_db.admin_dsn, "north", f"{team_db.prefix}_dana")
    with pytest.raises(TeamError, match="no team 'south'"):
        provision.add_rep(team_db.admin_dsn, "south", f"{team_db.prefix}_erin")
    with pytest.raises(TeamError, match="not a usable role name"):
        provision.add_rep(team_db.admin_dsn, "north", "Robert'); DROP TABLE x; --")
    with team_db.admin() as conn:
        conn.execute(f'CREATE ROLE "{team_db.prefix}_boss" LOGIN BYPASSRLS')
    with pytest.raises(TeamError, match="BYPASSRLS"):
        provision.add_rep(team_db.admin_dsn, "north", f"{team_db.prefix}_boss")
    with team_db.admin() as conn:
        conn.execute(f'CREATE ROLE "{team_db.prefix}_hr" LOGIN CREATEROLE')
        conn.execute(f'CREATE ROLE "{team_db.prefix}_helper" LOGIN IN ROLE "{team_db.prefix}_hr"')
    for role in ("hr", "helper"):
        with pytest.raises(TeamError, match="cannot be a rep"):
            provision.add_rep(team_db.admin_dsn, "north", f"{team_db.prefix}_{role}")
    with team_db.admin() as conn:
        reps = [r[0] for r in conn.execute("SELECT role_name::text FROM relbook.rep")]
    assert reps == [f"{team_db.prefix}_dana"]  # the refused roles did not become reps


def test_provisioning_needs_a_superuser(team_db: TeamDb) -> None:
    team_db.init("north")
    role = team_db.add_rep("alice")
    with pytest.raises(TeamError, match="needs a superuser"):
        provision.init_server(team_db.rep_dsn(role, password=team_db.password(role)), "south")


def test_the_client_refuses_roles_that_bypass_rls(
    team_db: TeamDb, make_client: MakeClient, tmp_path: Path, template_book: Path
) -> None:
    team_db.init("north")
    alice = make_client("alice")
    services = alice.services
    with pytest.raises(UnsafeRole, match="superuser") as refused:
        services.team.connect(
            team_db.server.dsn("postgres", team_db.dbname, sslmode="disable"),
            "postgres-test-password",
        )
    assert "add-rep" in refused.value.remedy

    with team_db.admin() as conn:
        conn.execute(
            f'CREATE ROLE "{team_db.prefix}_ops" LOGIN PASSWORD \'ops\' IN ROLE "{team_db.owner}"'
        )
        conn.execute(f"CREATE ROLE \"{team_db.prefix}_audit\" LOGIN PASSWORD 'audit' BYPASSRLS")
        conn.execute(f"CREATE ROLE \"{team_db.prefix}_guest\" LOGIN PASSWORD 'guest'")
        # CREATEROLE could grant itself the owner role (PostgreSQL 15); a member of a
        # BYPASSRLS role can SET ROLE to it.
        conn.execute(f"CREATE ROLE \"{team_db.prefix}_hr\" LOGIN PASSWORD 'hr' CREATEROLE")
        conn.execute(f'CREATE ROLE "{team_db.prefix}_auditors" NOLOGIN BYPASSRLS')
        conn.execute(
            f"CREATE ROLE \"{team_db.prefix}_intern\" LOGIN PASSWORD 'intern' "
            f'IN ROLE "{team_db.prefix}_auditors", "{team_db.reps}"'
        )
        conn.execute(
            "INSERT INTO relbook.rep (role_name, team_id) SELECT %s, id FROM relbook.team",
            (f"{team_db.prefix}_intern",),
        )
    with pytest.raises(UnsafeRole, match="CREATEROLE"):
        services.team.connect(team_db.rep_dsn(f"{team_db.prefix}_hr"), "hr")
    with pytest.raises(UnsafeRole, match=f"can act as {team_db.prefix}_auditors") as refused:
        services.team.connect(team_db.rep_dsn(f"{team_db.prefix}_intern"), "intern")
    assert "BYPASSRLS" in refused.value.message
    with pytest.raises(UnsafeRole, match="owner"):
        services.team.connect(team_db.rep_dsn(f"{team_db.prefix}_ops"), "ops")
    with pytest.raises(UnsafeRole, match="BYPASSRLS"):
        services.team.connect(team_db.rep_dsn(f"{team_db.prefix}_audit"), "audit")
    with pytest.raises(NotARep, match="not a rep"):
        services.team.connect(team_db.rep_dsn(f"{team_db.prefix}_guest"), "guest")
    with pytest.raises(TeamAuthFailed, match="refused the login"):
        services.team.connect(alice.dsn, "wrong password")
    assert services.team.status().connected  # the earlier, good connection is unchanged

    # A server whose tables lost FORCE ROW LEVEL SECURITY is refused too.
    with team_db.admin() as conn:
        conn.execute("ALTER TABLE relbook.item NO FORCE ROW LEVEL SECURITY")
    with pytest.raises(UnsafeRole, match=r"relbook\.item"):
        alice.sync()


def test_a_server_with_an_older_schema_is_named(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init("north")
    alice = make_client("alice")
    with team_db.admin() as conn:
        conn.execute("UPDATE relbook.schema_version SET version = version + 100")
    with pytest.raises(TeamSchemaMismatch, match="newer than this Relbook"):
        alice.sync()


def test_the_password_lives_in_the_keyring_never_in_the_book(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init("north")
    alice = make_client("alice", connect=False)
    store = alice.services.team.secrets
    assert isinstance(store, SessionSecretStore)
    with pytest.raises(TeamError, match="contains a password"):
        alice.services.team.connect(alice.dsn + f" password={alice.password}")
    alice.connect()
    assert store.get("team-server") == alice.password
    alice.services.close()
    assert alice.password.encode() not in alice.services.book.path.read_bytes()
    dsn = (
        open_book(alice.services.book.path, FixedClock(NOW))
        .reader()
        .execute("SELECT dsn FROM team_link")
        .fetchone()[0]
    )
    assert "password" not in dsn


def _client_for(path: Path, template: Path) -> Services:
    shutil.copyfile(template, path)
    clock = FixedClock(NOW)
    services = Services(open_book(path, clock), clock)
    services.team.secrets = SessionSecretStore()
    return services


def test_verify_full_checks_the_certificate_and_the_name(
    team_db: TeamDb, tmp_path: Path, template_book: Path
) -> None:
    team_db.init("north")
    role = team_db.add_rep("alice")
    password = team_db.password(role)
    ca = str(team_db.server.ca)
    services = _client_for(tmp_path / "a.relbook", template_book)
    try:
        good = team_db.server.dsn(role, team_db.dbname, sslmode="verify-full", sslrootcert=ca)
        good = good.replace("host=127.0.0.1", "host=localhost")
        wrong_name = team_db.server.dsn(role, team_db.dbname, sslmode="verify-full", sslrootcert=ca)
        other_ca, _cert, _key = _write_tls(tmp_path / "other")
        wrong_ca = good.replace(ca, str(other_ca))

        with pytest.raises(TeamTlsError, match=r"127\.0\.0\.1"):
            services.team.connect(wrong_name, password)
        with pytest.raises(TeamTlsError, match="verify-full"):
            services.team.connect(wrong_ca, password)
        status = services.team.connect(good, password)
        assert status.tls.startswith("TLS, server certificate and name verified")
        services.team.sync()
        assert services.team.status().last_error == ""
    finally:
        services.close()


def test_a_newer_server_migration_is_applied_by_upgrade_and_checked_by_the_client(
    team_db: TeamDb, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server SQL is versioned: a client that needs version 2 names the older server
    and the way out; 'upgrade' applies it as the owner; a new table without forced
    row-level security would make every client refuse the server."""
    import sys
    import types

    team_db.init("north")
    alice = make_client("alice")
    alice.sync()

    module = types.ModuleType("relbook.team.schema.v0002_test_tags")
    module.VERSION = 2  # type: ignore[attr-defined]
    module.SQL = (  # type: ignore[attr-defined]
        "CREATE TABLE relbook.tag_test (team_id uuid NOT NULL, name text NOT NULL);\n"
        "ALTER TABLE relbook.tag_test ENABLE ROW LEVEL SECURITY;\n"
        "GRANT SELECT ON relbook.tag_test TO __REPS__;\n"
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(schema, "MODULES", (*schema.MODULES, "v0002_test_tags"))
    assert schema.head() == 2

    with pytest.raises(
        TeamSchemaMismatch, match="schema is version 1; this Relbook needs 2"
    ) as old:
        alice.sync()
    assert "relbook team upgrade" in old.value.remedy
    assert provision.upgrade_server(team_db.admin_dsn) == [2]
    assert provision.upgrade_server(team_db.admin_dsn) == []
    with team_db.admin() as conn:
        owner = conn.execute(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'tag_test'"
        ).fetchone()
        names = [r[0] for r in conn.execute("SELECT name FROM relbook.schema_version ORDER BY 1")]
    assert owner == (team_db.owner,) and names == ["v0001_initial", "v0002_test_tags"]
    # The migration forgot FORCE ROW LEVEL SECURITY: the owner could read past it.
    with pytest.raises(UnsafeRole, match=r"not enabled and forced on relbook\.tag_test"):
        alice.sync()
    with team_db.admin() as conn:
        conn.execute("ALTER TABLE relbook.tag_test FORCE ROW LEVEL SECURITY")
    alice.sync()
    assert alice.services.team.status().last_error == ""
