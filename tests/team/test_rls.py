"""The row-level security matrix: every table × role × select/insert/update/delete.

Alice and Bob are reps of team north, Carol of team south. The target of every operation is
a row of Alice's (her team, her rep row, an item she shared, her share mark, her mutation
log). A teammate may read and edit the team's shared items but never another rep's share
marks or private mutation log; another team sees and changes nothing; nobody deletes an item
(deletes are tombstones) or touches teams, reps (except one's own display name) or versions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import errors as pg_errors

from relbook.domain.ids import new_id
from relbook.team import protocol, provision

from .pg import PgServer

pytestmark = pytest.mark.integration

ACTORS = ("alice", "bob", "carol")
TABLES = ("team", "rep", "item", "item_share", "mutation", "schema_version")
OPS = ("select", "insert", "update", "delete")

# Who may do it to Alice's row (everyone else must be refused or see/affect nothing).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("team", "select"): {"alice", "bob"},
    ("team", "insert"): set(),
    ("team", "update"): set(),
    ("team", "delete"): set(),
    ("rep", "select"): {"alice", "bob"},
    ("rep", "insert"): set(),
    ("rep", "update"): {"alice"},
    ("rep", "delete"): set(),
    ("item", "select"): {"alice", "bob"},
    ("item", "insert"): {"alice", "bob"},
    ("item", "update"): {"alice", "bob"},
    ("item", "delete"): set(),
    ("item_share", "select"): {"alice", "bob"},
    ("item_share", "insert"): {"alice"},
    ("item_share", "update"): {"alice"},
    ("item_share", "delete"): {"alice"},
    ("mutation", "select"): {"alice"},
    ("mutation", "insert"): {"alice"},
    ("mutation", "update"): {"alice"},
    ("mutation", "delete"): {"alice"},
    ("schema_version", "select"): {"alice", "bob", "carol"},
    ("schema_version", "insert"): set(),
    ("schema_version", "update"): set(),
    ("schema_version", "delete"): set(),
}


@dataclass
class World:
    server: PgServer
    dbname: str
    roles: dict[str, str]
    north: str
    shared_item: str  # Alice's item, with her share mark
    bare_item: str  # Alice's item without a mark (target of the mark insert)
    mutation: str

    def connect(self, actor: str) -> psycopg.Connection:
        role = self.roles[actor]
        return psycopg.connect(
            self.server.dsn(role, self.dbname, sslmode="disable"),
            password=f"pw-{role}",
            autocommit=True,
        )


_worlds = itertools.count(1)


@pytest.fixture(scope="module")
def world(pg_server: PgServer) -> Iterator[World]:
    number = next(_worlds)
    dbname, prefix = f"relbook_rls_{number}", f"rls{number}"
    with psycopg.connect(pg_server.admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    admin_dsn = pg_server.admin_dsn(dbname)
    report = provision.init_server(
        admin_dsn, "north", owner=f"{prefix}_owner", rep_group=f"{prefix}_reps"
    )
    provision.add_team(admin_dsn, "south")
    roles = {actor: f"{prefix}_{actor}" for actor in ACTORS}
    for actor, role in roles.items():
        provision.add_rep(
            admin_dsn, "south" if actor == "carol" else "north", role, password=f"pw-{role}"
        )
    assert report.team_id is not None
    shared, bare, mutation = new_id(), new_id(), new_id()
    fc = protocol.FieldChange
    world = World(pg_server, dbname, roles, report.team_id, shared, bare, mutation)
    with world.connect("alice") as conn:
        protocol.push(
            conn,
            report.team_id,
            [
                protocol.Mutation(
                    mutation,
                    "company",
                    shared,
                    "upsert",
                    0,
                    {"name": fc(None, "Acme")},
                    "metadata",
                    full=True,
                ),
                protocol.Mutation(
                    new_id(),
                    "company",
                    bare,
                    "upsert",
                    0,
                    {"name": fc(None, "Bare")},
                    None,
                    full=True,
                ),
            ],
        )
    with world.connect("carol") as conn:
        south = conn.execute("SELECT id::text FROM relbook.team").fetchone()[0]
        protocol.push(
            conn,
            south,
            [
                protocol.Mutation(
                    new_id(),
                    "company",
                    new_id(),
                    "upsert",
                    0,
                    {"name": fc(None, "South Co")},
                    "metadata",
                    full=True,
                )
            ],
        )
    yield world
    with psycopg.connect(pg_server.admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        for role in [*roles.values(), f"{prefix}_reps", f"{prefix}_owner"]:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _statement(w: World, table: str, op: str) -> tuple[str, tuple[object, ...]]:
    alice = w.roles["alice"]
    north = w.north
    return {
        ("team", "select"): ("SELECT 1 FROM relbook.team WHERE id = %s", (north,)),
        ("team", "insert"): (
            "INSERT INTO relbook.team (id, name) VALUES (%s, 'rogue')",
            (new_id(),),
        ),
        ("team", "update"): ("UPDATE relbook.team SET name = name WHERE id = %s", (north,)),
        ("team", "delete"): ("DELETE FROM relbook.team WHERE id = %s", (north,)),
        ("rep", "select"): ("SELECT 1 FROM relbook.rep WHERE role_name = %s", (alice,)),
        ("rep", "insert"): (
            "INSERT INTO relbook.rep (role_name, team_id) VALUES ('ghost', %s)",
            (north,),
        ),
        ("rep", "update"): (
            "UPDATE relbook.rep SET display_name = 'X' WHERE role_name = %s",
            (alice,),
        ),
        ("rep", "delete"): ("DELETE FROM relbook.rep WHERE role_name = %s", (alice,)),
        ("item", "select"): ("SELECT 1 FROM relbook.item WHERE id = %s", (w.shared_item,)),
        ("item", "insert"): (
            "INSERT INTO relbook.item (team_id, entity_type, id, version, data) "
            "VALUES (%s, 'company', %s, 1, '{}')",
            (north, new_id()),
        ),
        ("item", "update"): (
            "UPDATE relbook.item SET version = version + 1 WHERE id = %s",
            (w.shared_item,),
        ),
        ("item", "delete"): ("DELETE FROM relbook.item WHERE id = %s", (w.shared_item,)),
        ("item_share", "select"): (
            "SELECT 1 FROM relbook.item_share WHERE id = %s AND rep = %s",
            (w.shared_item, alice),
        ),
        ("item_share", "insert"): (
            "INSERT INTO relbook.item_share (team_id, entity_type, id, rep, generation) "
            "VALUES (%s, 'company', %s, %s, 1)",
            (north, w.bare_item, alice),
        ),
        ("item_share", "update"): (
            "UPDATE relbook.item_share SET level = 'full' WHERE id = %s AND rep = %s",
            (w.shared_item, alice),
        ),
        ("item_share", "delete"): (
            "DELETE FROM relbook.item_share WHERE id = %s AND rep = %s",
            (w.shared_item, alice),
        ),
        ("mutation", "select"): (
            "SELECT 1 FROM relbook.mutation WHERE mutation_id = %s",
            (w.mutation,),
        ),
        ("mutation", "insert"): (
            "INSERT INTO relbook.mutation (team_id, rep, mutation_id, entity_type, entity_id, "
            "status) VALUES (%s, %s, %s, 'company', %s, 'applied')",
            (north, alice, new_id(), w.shared_item),
        ),
        ("mutation", "update"): (
            "UPDATE relbook.mutation SET status = 'x' WHERE mutation_id = %s",
            (w.mutation,),
        ),
        ("mutation", "delete"): (
            "DELETE FROM relbook.mutation WHERE mutation_id = %s",
            (w.mutation,),
        ),
        ("schema_version", "select"): (
            "SELECT 1 FROM relbook.schema_version WHERE version = 1",
            (),
        ),
        ("schema_version", "insert"): (
            "INSERT INTO relbook.schema_version (version, name) VALUES (999, 'x')",
            (),
        ),
        ("schema_version", "update"): (
            "UPDATE relbook.schema_version SET name = name WHERE version = 1",
            (),
        ),
        ("schema_version", "delete"): ("DELETE FROM relbook.schema_version WHERE version = 1", ()),
    }[(table, op)]


def _attempt(w: World, actor: str, table: str, op: str) -> bool:
    """Whether the operation reached Alice's row (always rolled back afterwards)."""
    sql, params = _statement(w, table, op)
    with w.connect(actor) as conn:
        try:
            with conn.transaction(force_rollback=True):
                cursor = conn.execute(sql, params)
                if op == "select":
                    return cursor.fetchone() is not None
                return cursor.rowcount == 1
        except pg_errors.InsufficientPrivilege:
            return False


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("actor", ACTORS)
def test_rls_matrix(world: World, actor: str, table: str, op: str) -> None:
    allowed = actor in ALLOWED[(table, op)]
    assert _attempt(world, actor, table, op) is allowed, (
        f"{actor} {'should' if allowed else 'must not'} {op} Alice's row in relbook.{table}"
    )


def test_another_team_sees_no_row_at_all(world: World) -> None:
    with world.connect("carol") as conn:
        for table in ("team", "rep", "item", "item_share", "mutation"):
            teams = {
                r[0]
                for r in conn.execute(
                    f"SELECT {'id' if table == 'team' else 'team_id'}::text FROM relbook.{table}"
                )
            }
            assert world.north not in teams, table


def test_a_teammate_cannot_hide_a_row_by_moving_it(world: World) -> None:
    with world.connect("carol") as conn:
        south = conn.execute("SELECT id::text FROM relbook.team").fetchone()[0]
    with world.connect("bob") as conn, pytest.raises(pg_errors.DatabaseError):
        conn.execute(
            "UPDATE relbook.item SET team_id = %s, version = version + 1 WHERE id = %s",
            (south, world.shared_item),
        )


def test_a_rep_cannot_write_into_another_team_even_as_itself(world: World) -> None:
    """Carol (team south) names herself correctly but aims at team north: refused."""
    carol = world.roles["carol"]
    attempts = [
        (
            "INSERT INTO relbook.item (team_id, entity_type, id, version, data) "
            "VALUES (%s, 'company', %s, 1, '{}')",
            (world.north, new_id()),
        ),
        (
            "INSERT INTO relbook.item_share (team_id, entity_type, id, rep, generation) "
            "VALUES (%s, 'company', %s, %s, 1)",
            (world.north, world.bare_item, carol),
        ),
        (
            "INSERT INTO relbook.mutation (team_id, rep, mutation_id, entity_type, entity_id, "
            "status) VALUES (%s, %s, %s, 'company', %s, 'applied')",
            (world.north, carol, new_id(), world.shared_item),
        ),
    ]
    with world.connect("carol") as conn:
        for sql, params in attempts:
            with (
                pytest.raises(pg_errors.InsufficientPrivilege, match="row-level security"),
                conn.transaction(force_rollback=True),
            ):
                conn.execute(sql, params)


ESCAPES = {
    "become the owner": "SET ROLE {owner}",
    "switch off row-level security": "ALTER TABLE relbook.item DISABLE ROW LEVEL SECURITY",
    "stop forcing it": "ALTER TABLE relbook.item NO FORCE ROW LEVEL SECURITY",
    "add a permissive policy": "CREATE POLICY mine ON relbook.item FOR SELECT USING (true)",
    "create a table in the team schema": "CREATE TABLE relbook.stash (x int)",
    "empty a table": "TRUNCATE relbook.item",
    "drop a table": "DROP TABLE relbook.mutation",
    # GRANT without the right only warns; the DELETE after it is what must fail.
    "grant itself more": "GRANT DELETE ON relbook.item TO CURRENT_USER; DELETE FROM relbook.item",
    "redefine the team lookup": (
        "CREATE OR REPLACE FUNCTION relbook.team_of(who name) RETURNS uuid "
        "LANGUAGE sql AS 'SELECT NULL::uuid'"
    ),
}


@pytest.mark.parametrize("attempt", sorted(ESCAPES))
def test_a_rep_cannot_escape_row_level_security(world: World, attempt: str) -> None:
    owner = world.roles["alice"].replace("_alice", "_owner")
    sql = ESCAPES[attempt].format(owner=f'"{owner}"')
    with (
        world.connect("bob") as conn,
        pytest.raises(pg_errors.InsufficientPrivilege),
        conn.transaction(force_rollback=True),
    ):
        conn.execute(sql)


def test_the_team_lookup_answers_only_for_the_session_role(world: World) -> None:
    with world.connect("carol") as conn:
        asked = conn.execute(
            "SELECT relbook.team_of(%s), relbook.team_of(current_user)", (world.roles["alice"],)
        ).fetchone()
    assert asked[0] is None and asked[1] is not None and asked[1] != world.north
