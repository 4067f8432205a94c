"""Opening a connection to the team server, and refusing roles that could bypass RLS.

The DSN goes to libpq unchanged (so ``sslmode=verify-full``, ``sslrootcert``, client
certificates, ``~/.pgpass`` and service files all work as libpq documents them); the
password, when the book keeps one, comes from the keyring and is passed separately — a DSN
that carries a password is refused, so none is ever stored in the book.

No session state is used (no SET, no prepared statements, no advisory session locks, no
LISTEN): every connection can come from pgbouncer in transaction mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo

from relbook.team import schema
from relbook.team.errors import (
    NotARep,
    TeamAuthFailed,
    TeamError,
    TeamSchemaMismatch,
    TeamTlsError,
    TeamUnreachable,
    UnsafeRole,
)

SCHEMA = "relbook"
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class Endpoint:
    """Where and who, for messages (never the password)."""

    host: str
    port: str
    dbname: str
    user: str
    sslmode: str

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host or 'localhost'}:{self.port or '5432'}/{self.dbname}"

    @property
    def verifies_server(self) -> bool:
        return self.sslmode == "verify-full"


def parse_dsn(dsn: str, *, allow_password: bool = False) -> Endpoint:
    """Where a DSN points. Only an admin's one-off DSN may carry a password (it is never
    stored); a rep's DSN, which the book keeps, must not."""
    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as error:
        raise TeamError(
            f"The team server address is not a PostgreSQL DSN: {error}.",
            "Use a URL like postgresql://ROLE@HOST:5432/DB?sslmode=verify-full.",
        ) from error
    if parts.get("password") and not allow_password:
        raise TeamError(
            "The team server address contains a password; Relbook keeps passwords only in "
            "the keyring, never in the book.",
            "Remove the password from the address; Relbook asks for it and stores it in the "
            "keyring.",
        )
    return Endpoint(
        host=str(parts.get("host") or parts.get("hostaddr") or ""),
        port=str(parts.get("port") or ""),
        dbname=str(parts.get("dbname") or parts.get("user") or ""),
        user=str(parts.get("user") or ""),
        sslmode=str(parts.get("sslmode") or "prefer"),
    )


def connect(dsn: str, password: str | None = None, *, admin: bool = False) -> Any:
    """An autocommit psycopg connection (work runs in explicit ``transaction()`` blocks),
    or a ``TeamError`` that says what failed and what to do."""
    endpoint = parse_dsn(dsn, allow_password=admin)
    extra: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": "relbook",
    }
    if password:
        extra["password"] = password
    try:
        connection = psycopg.connect(dsn, autocommit=True, **extra)
    except psycopg.OperationalError as error:
        raise explain(error, endpoint) from error
    # pgbouncer in transaction mode: never rely on server-side prepared statements.
    connection.prepare_threshold = None
    return connection


def explain(error: Exception, endpoint: Endpoint) -> TeamError:
    text = str(error).strip()
    lower = text.lower()
    where = endpoint.label
    if "password authentication failed" in lower or "no password supplied" in lower:
        return TeamAuthFailed(
            f"The team server {where} refused the login of {endpoint.user}: {first_line(text)}",
            "Check the role name, then enter the password again with 'relbook team connect'.",
        )
    if "ssl" in lower or "certificate" in lower or "tls" in lower:
        return TeamTlsError(
            f"A secure connection to {where} could not be made (sslmode={endpoint.sslmode}): "
            f"{first_line(text)}",
            "Check that the server offers TLS, that its certificate names this host, and that "
            "sslrootcert points at the CA that signed it (verify-full checks both).",
        )
    if "does not exist" in lower and "role" in lower:
        return TeamAuthFailed(
            f"The team server {where} has no role {endpoint.user}.",
            "Ask the team admin to run 'relbook team add-rep' for you.",
        )
    if "does not exist" in lower and "database" in lower:
        return TeamError(
            f"The team server has no database {endpoint.dbname!r}.",
            "Check the database name in the address.",
        )
    return TeamUnreachable(
        f"The team server {where} cannot be reached: {first_line(text)}",
        "Your edits stay in the book and are sent at the next sync once the server is back.",
    )


def first_line(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return re.sub(r"\s+", " ", line).strip()


# ------------------------------------------------------------------------ role checks


@dataclass(frozen=True)
class RoleCheck:
    role: str
    superuser: bool
    bypass_rls: bool
    owner_of: tuple[str, ...]  # owners of relbook tables this role is (or can become)
    unprotected: tuple[str, ...]  # relbook tables without ENABLE + FORCE row-level security
    create_role: bool = False  # may grant itself the owner role (PostgreSQL 15 and older)
    # Other roles it can become (SET ROLE) that are superusers, BYPASSRLS or CREATEROLE.
    powerful: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.superuser:
            found.append(f"{self.role} is a superuser (superusers bypass row-level security)")
        if self.bypass_rls:
            found.append(f"{self.role} has BYPASSRLS")
        if self.create_role:
            found.append(
                f"{self.role} has CREATEROLE (it could make itself a member of the tables' owner)"
            )
        if self.powerful:
            found.append(
                f"{self.role} can act as {', '.join(self.powerful)} (a superuser, BYPASSRLS or "
                "CREATEROLE role)"
            )
        if self.owner_of:
            owners = ", ".join(self.owner_of)
            found.append(f"{self.role} owns the team tables or can act as their owner ({owners})")
        if self.unprotected:
            found.append(
                "row-level security is not enabled and forced on "
                + ", ".join(f"relbook.{t}" for t in self.unprotected)
            )
        return found


def check_role(connection: Any) -> RoleCheck:
    row = connection.execute(
        """SELECT r.rolname::text, r.rolsuper, r.rolbypassrls,
                  coalesce((SELECT array_agg(DISTINCT t.tableowner::text)
                            FROM pg_catalog.pg_tables t
                            WHERE t.schemaname = %(schema)s
                              AND pg_catalog.pg_has_role(current_user, t.tableowner, 'MEMBER')),
                           '{}'),
                  coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname)
                            FROM pg_catalog.pg_class c
                            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = %(schema)s AND c.relkind = 'r'
                              AND NOT (c.relrowsecurity AND c.relforcerowsecurity)),
                           '{}'),
                  r.rolcreaterole,
                  coalesce((SELECT array_agg(o.rolname::text ORDER BY o.rolname)
                            FROM pg_catalog.pg_roles o
                            WHERE o.rolname <> current_user
                              AND (o.rolsuper OR o.rolbypassrls OR o.rolcreaterole)
                              AND pg_catalog.pg_has_role(current_user, o.oid, 'MEMBER')),
                           '{}')
           FROM pg_catalog.pg_roles r WHERE r.rolname = current_user""",
        {"schema": SCHEMA},
    ).fetchone()
    return RoleCheck(
        row[0], row[1], row[2], tuple(row[3]), tuple(row[4]), bool(row[5]), tuple(row[6])
    )


@dataclass(frozen=True)
class RepSession:
    role: str
    team_id: str
    team_name: str
    server_version: int
    encrypted: bool


def open_rep_session(connection: Any, endpoint: Endpoint) -> RepSession:
    """Check the server and the role before any sync; raise why it is refused."""
    with connection.transaction():
        return _open_rep_session(connection, endpoint)


def _open_rep_session(connection: Any, endpoint: Endpoint) -> RepSession:
    has_schema, usable = connection.execute(
        """SELECT to_regnamespace('relbook') IS NOT NULL,
                  has_schema_privilege('relbook', 'USAGE')"""
    ).fetchone()
    if not has_schema:
        raise TeamSchemaMismatch(
            f"{endpoint.label} has no Relbook team schema.",
            "The team admin creates it with 'relbook team init --dsn ADMIN_DSN --team NAME'.",
        )
    check = check_role(connection)
    problems = check.problems()
    if problems:
        raise UnsafeRole(
            "Relbook refuses to sync as this role: " + "; ".join(problems) + ".",
            "Connect with a rep's own login role (relbook team add-rep creates one); it must "
            "not be a superuser, have BYPASSRLS or CREATEROLE, or own the team tables.",
        )
    if not usable:
        raise NotARep(
            f"{check.role} is not a rep on {endpoint.label} (no access to the team schema).",
            f"Ask the team admin to run 'relbook team add-rep --team TEAM {check.role}'.",
        )
    version = connection.execute("SELECT max(version) FROM relbook.schema_version").fetchone()[0]
    known = schema.head()
    if version is None or version < known:
        raise TeamSchemaMismatch(
            f"The team server's schema is version {version}; this Relbook needs {known}.",
            "The team admin upgrades it with 'relbook team upgrade --dsn ADMIN_DSN'.",
        )
    if version > known:
        raise TeamSchemaMismatch(
            f"The team server's schema is version {version}, newer than this Relbook knows "
            f"({known}).",
            "Update Relbook.",
        )
    team = connection.execute(
        """SELECT t.id::text, t.name FROM relbook.team t
           WHERE t.id = relbook.team_of(current_user)"""
    ).fetchone()
    encrypted = bool(connection.pgconn.ssl_in_use)
    if team is None:
        raise NotARep(
            f"{check.role} is not a rep of any team on {endpoint.label}.",
            f"Ask the team admin to run 'relbook team add-rep --team TEAM {check.role}'.",
        )
    return RepSession(check.role, team[0], team[1], version, encrypted)
