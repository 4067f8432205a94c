"""Setting up a team server: roles, schema (versioned migrations), teams and reps.

Run by the team admin with a superuser DSN (e.g. the ``postgres`` role). The tables belong
to a NOLOGIN owner role, so nobody logs in as their owner; every table has row-level
security enabled and forced; reps log in with their own roles, members of the rep group,
which are neither owners, superusers nor BYPASSRLS.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from psycopg import errors as pg_errors
from psycopg import sql

from relbook.domain.ids import new_id
from relbook.team import schema
from relbook.team.connect import SCHEMA, connect
from relbook.team.errors import TeamError, TeamSchemaMismatch

DEFAULT_OWNER = "relbook_owner"
DEFAULT_REP_GROUP = "relbook_reps"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Serialises concurrent inits/upgrades of one database (transaction-scoped: pgbouncer-safe).
_LOCK_KEY = 0x52454C424F4F4B  # "RELBOOK"


@dataclass(frozen=True)
class InitReport:
    owner: str
    rep_group: str
    applied: tuple[int, ...]
    schema_version: int
    team_id: str | None
    team_created: bool


@dataclass(frozen=True)
class RepReport:
    role: str
    team: str
    password: str | None  # generated here (shown once), None when the role existed


def check_role_name(name: str, what: str = "role") -> str:
    if not _ROLE_NAME.match(name):
        raise TeamError(
            f"{name!r} is not a usable {what} name.",
            "Use lower-case letters, digits and _ (at most 63, not starting with a digit).",
        )
    return name


def _admin(dsn: str) -> Any:
    connection = connect(dsn, admin=True)
    row = connection.execute(
        "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    if not row or not row[0]:
        user = connection.info.user
        connection.close()
        raise TeamError(
            f"Provisioning needs a superuser connection; {user} is not one.",
            "Run it with the DSN of a superuser such as postgres (reps never use it).",
        )
    return connection


def _role(connection: Any, name: str) -> dict[str, Any] | None:
    row = connection.execute(
        """SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole,
                  coalesce((SELECT array_agg(o.rolname::text ORDER BY o.rolname)
                            FROM pg_catalog.pg_roles o
                            WHERE o.rolname <> %s
                              AND (o.rolsuper OR o.rolbypassrls OR o.rolcreaterole)
                              AND pg_catalog.pg_has_role(%s, o.oid, 'MEMBER')), '{}')
           FROM pg_catalog.pg_roles WHERE rolname = %s""",
        (name, name, name),
    ).fetchone()
    if row is None:
        return None
    return {
        "login": row[0],
        "super": row[1],
        "bypass": row[2],
        "createrole": row[3],
        "powerful": tuple(row[4]),
    }


def _ensure_group_role(connection: Any, name: str, what: str) -> None:
    found = _role(connection, name)
    if found is None:
        connection.execute(
            sql.SQL(
                "CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            ).format(sql.Identifier(name))
        )
        return
    if found["login"] or found["super"] or found["bypass"] or found["createrole"]:
        raise TeamError(
            f"The {what} role {name} exists and can log in, create roles or bypass row-level "
            "security.",
            f"Choose another {what} name, or make it NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE.",
        )
    if found["powerful"]:
        raise TeamError(
            f"The {what} role {name} exists and can act as {', '.join(found['powerful'])}, "
            "which can bypass row-level security.",
            f"Choose another {what} name, or revoke those memberships.",
        )


def _substitute(text: str, owner: str, reps: str) -> str:
    return text.replace("__OWNER__", sql.Identifier(owner).as_string(None)).replace(
        "__REPS__", sql.Identifier(reps).as_string(None)
    )


def applied_versions(connection: Any) -> list[int]:
    exists = connection.execute("SELECT to_regclass('relbook.schema_version')").fetchone()[0]
    if exists is None:
        return []
    return [r[0] for r in connection.execute("SELECT version FROM relbook.schema_version")]


def roles_of(connection: Any) -> tuple[str, str]:
    """The owner and rep group of an installed team schema (read from its catalog)."""
    row = connection.execute(
        """SELECT n.nspowner::regrole::text,
                  (SELECT p.roles[1]::text FROM pg_catalog.pg_policies p
                   WHERE p.schemaname = %s AND p.tablename = 'item' AND p.policyname = 'item_read')
           FROM pg_catalog.pg_namespace n WHERE n.nspname = %s""",
        (SCHEMA, SCHEMA),
    ).fetchone()
    if row is None or row[1] is None:
        raise TeamSchemaMismatch(
            "This database has no Relbook team schema.",
            "Create it with 'relbook team init --dsn ADMIN_DSN --team NAME'.",
        )
    return row[0].strip('"'), row[1].strip('"')


def _migrate(connection: Any, owner: str, reps: str) -> list[int]:
    applied = set(applied_versions(connection))
    newly: list[int] = []
    if applied and max(applied) > schema.head():
        raise TeamSchemaMismatch(
            f"The team schema is version {max(applied)}, newer than this Relbook knows.",
            "Update Relbook before provisioning.",
        )
    for migration in schema.migrations():
        if migration.version in applied:
            continue
        connection.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
        connection.execute(_substitute(migration.sql, owner, reps))
        connection.execute("RESET ROLE")
        connection.execute(
            "INSERT INTO relbook.schema_version (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
        newly.append(migration.version)
    return newly


_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS relbook.schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE relbook.schema_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.schema_version FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS version_read ON relbook.schema_version;
CREATE POLICY version_read ON relbook.schema_version FOR SELECT TO __REPS__ USING (true);
GRANT USAGE ON SCHEMA relbook TO __REPS__;
GRANT SELECT ON relbook.schema_version TO __REPS__;
"""


def init_server(
    dsn: str,
    team: str | None,
    *,
    owner: str = DEFAULT_OWNER,
    rep_group: str = DEFAULT_REP_GROUP,
) -> InitReport:
    """Create (or bring up to date) the team schema and its roles; add ``team`` if new."""
    check_role_name(owner, "owner role")
    check_role_name(rep_group, "rep group")
    if owner == rep_group:
        raise TeamError("The owner role and the rep group must differ.", "Pick two names.")
    connection = _admin(dsn)
    try:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            existing = connection.execute(
                "SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = %s",
                (SCHEMA,),
            ).fetchone()
            if existing is not None and applied_versions(connection):
                owner, rep_group = roles_of(connection)
            _ensure_group_role(connection, owner, "owner")
            _ensure_group_role(connection, rep_group, "rep group")
            if existing is None:
                connection.execute(
                    sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                        sql.Identifier(SCHEMA), sql.Identifier(owner)
                    )
                )
            elif existing[0].strip('"') != owner:
                raise TeamError(
                    f"A schema {SCHEMA} already exists here, owned by {existing[0]}.",
                    "Use another database, or drop that schema first.",
                )
            connection.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
            connection.execute(_substitute(_BOOTSTRAP, owner, rep_group))
            connection.execute("RESET ROLE")
            applied = _migrate(connection, owner, rep_group)
            team_id, created = (None, False)
            if team:
                team_id, created = _ensure_team(connection, team)
        return InitReport(owner, rep_group, tuple(applied), schema.head(), team_id, created)
    finally:
        connection.close()


def upgrade_server(dsn: str) -> list[int]:
    connection = _admin(dsn)
    try:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            owner, reps = roles_of(connection)
            return _migrate(connection, owner, reps)
    finally:
        connection.close()


def _ensure_team(connection: Any, name: str) -> tuple[str, bool]:
    name = name.strip()
    if not name:
        raise TeamError("A team needs a name.", "Pass --team NAME.")
    row = connection.execute(
        "SELECT id::text FROM relbook.team WHERE name = %s", (name,)
    ).fetchone()
    if row:
        return row[0], False
    team_id = new_id()
    connection.execute("INSERT INTO relbook.team (id, name) VALUES (%s, %s)", (team_id, name))
    return team_id, True


def add_team(dsn: str, name: str) -> tuple[str, bool]:
    connection = _admin(dsn)
    try:
        with connection.transaction():
            roles_of(connection)
            return _ensure_team(connection, name)
    finally:
        connection.close()


def add_rep(
    dsn: str,
    team: str,
    role: str,
    *,
    password: str | None = None,
    display_name: str = "",
) -> RepReport:
    """Create ``role`` as a login role in the rep group and make it a rep of ``team``.

    A new role gets ``password`` or a generated one (returned, shown once). An existing
    role is accepted only if it is safe (not superuser, not BYPASSRLS, not the owner).
    """
    check_role_name(role)
    connection = _admin(dsn)
    try:
        with connection.transaction():
            owner, reps = roles_of(connection)
            if role in (owner, reps):
                raise TeamError(
                    f"{role} is the schema's owner role or rep group, not a rep.",
                    "Choose the rep's own login name.",
                )
            row = connection.execute(
                "SELECT id::text FROM relbook.team WHERE name = %s", (team,)
            ).fetchone()
            if row is None:
                raise TeamError(
                    f"There is no team {team!r} on this server.",
                    "Create it with 'relbook team init --dsn ADMIN_DSN --team NAME'.",
                )
            team_id = row[0]
            current = connection.execute(
                "SELECT t.name FROM relbook.rep r JOIN relbook.team t ON t.id = r.team_id "
                "WHERE r.role_name = %s",
                (role,),
            ).fetchone()
            if current is not None:
                raise TeamError(
                    f"{role} is already a rep of team {current[0]!r}.",
                    "A rep belongs to one team; nothing was changed.",
                )
            found = _role(connection, role)
            generated: str | None = None
            if found is None:
                generated = password or secrets.token_urlsafe(18)
                connection.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS NOCREATEDB "
                        "NOCREATEROLE INHERIT IN ROLE {}"
                    ).format(sql.Identifier(role), sql.Literal(generated), sql.Identifier(reps))
                )
            else:
                member = connection.execute(
                    "SELECT pg_has_role(%s, %s, 'MEMBER')", (role, owner)
                ).fetchone()[0]
                if (
                    found["super"]
                    or found["bypass"]
                    or found["createrole"]
                    or found["powerful"]
                    or member
                ):
                    raise TeamError(
                        f"The role {role} exists and is a superuser, has BYPASSRLS or "
                        "CREATEROLE, or can act as such a role or as the owner; it cannot be a "
                        "rep.",
                        "Choose another name for the rep's role.",
                    )
                connection.execute(
                    sql.SQL("GRANT {} TO {}").format(sql.Identifier(reps), sql.Identifier(role))
                )
            connection.execute(
                "INSERT INTO relbook.rep (role_name, team_id, display_name) VALUES (%s, %s, %s)",
                (role, team_id, display_name or role),
            )
        return RepReport(role, team, generated if password is None else None)
    except pg_errors.DuplicateObject as error:
        raise TeamError(f"The role {role} could not be created: {error}.", "") from error
    finally:
        connection.close()
