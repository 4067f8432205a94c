"""Past one server process, with the engine's own tools: pgbouncer in transaction mode (one
server connection shared by every client of a role, each transaction possibly on another
one), and pulls from a streaming replica (``--read-dsn``) that lags or stops replaying, with
switches between the primary and the replica — nothing is lost, nothing goes back, and a
replica that is merely behind is no error."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from relbook.team import protocol
from relbook.team import sync as team_sync
from tests.conftest import require

from .conftest import Client, TeamDb
from .helpers import account, server_items
from .pg import Bouncer, PgServer, Standby

pytestmark = pytest.mark.integration

MakeClient = Callable[..., Client]


@pytest.fixture(scope="module")
def standby(pg_server: PgServer) -> Iterator[Standby]:
    replica = pg_server.start_standby()
    yield replica
    replica.stop()


def name_of(client: Client, company_id: str) -> str:
    return str(client.services.companies.detail(company_id).name)


def rename(client: Client, company_id: str, name: str) -> None:
    draft = client.services.companies.draft(company_id)
    draft.name = name
    client.services.companies.update(draft)


def test_pulls_from_a_replica_that_lags_lose_nothing(
    team_db: TeamDb, make_client: MakeClient, standby: Standby
) -> None:
    team_db.init()
    alice = make_client("alice")
    bob = make_client("bob", connect=False)
    replica = standby.dsn(bob.role, team_db.dbname, sslmode="disable")
    status = bob.services.team.connect(bob.dsn, bob.password, read_dsn=replica)
    assert status.connected

    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    standby.catch_up()
    bob.sync()
    assert name_of(bob, ids["company"]) == "Acme"

    # The replica stops replaying: Bob's pulls come from it, so he does not see the rename
    # yet — and nothing fails (his edits still go to the primary).
    try:
        standby.pause()
        rename(alice, ids["company"], "Acme Two")
        alice.sync()
        bob.sync()
        assert name_of(bob, ids["company"]) == "Acme"
        assert bob.services.team.status().last_error == ""

        # Bob pulls from the primary once (his cursor moves past the rename)…
        bob.services.team.connect(bob.dsn, bob.password, read_dsn="")
        bob.sync()
        assert name_of(bob, ids["company"]) == "Acme Two"
        rename(alice, ids["company"], "Acme Three")
        alice.sync()
        # …then from the replica again, which is further behind than his cursor: the older
        # row versions it still holds do not take him back, and nothing is skipped.
        bob.services.team.connect(bob.dsn, bob.password, read_dsn=replica)
        bob.sync()
        assert name_of(bob, ids["company"]) == "Acme Two"
    finally:
        standby.resume()
    standby.catch_up()
    bob.sync()
    assert name_of(bob, ids["company"]) == "Acme Three"
    assert bob.services.team.conflicts() == [] and alice.services.team.conflicts() == []

    # Bob's own edit goes to the primary and comes back to Alice; his replica pull sees it
    # once it has replayed, and does not report it as a teammate's change.
    rename(bob, ids["company"], "Acme Four")
    bob.sync()
    alice.sync()
    assert name_of(alice, ids["company"]) == "Acme Four"
    standby.catch_up()
    report = bob.services.team.sync()
    assert report.pulled == 0 and name_of(bob, ids["company"]) == "Acme Four"


def test_sync_through_pgbouncer_in_transaction_mode(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    require(shutil.which("pgbouncer") is not None, "pgbouncer is not installed")
    team_db.init()
    roles = {name: team_db.add_rep(name) for name in ("alice", "bob")}
    bouncer = Bouncer.start(
        team_db.server, {role: team_db.password(role) for role in roles.values()}, pool_size=1
    )
    try:
        clients = {}
        for name, role in roles.items():
            client = make_client(name, role, connect=False)
            # Pushes and pulls both through the bouncer: two client connections of one role
            # take turns on its single server connection during every sync.
            via = bouncer.dsn(role, team_db.dbname)
            client.services.team.connect(via, client.password, read_dsn=via)
            clients[name] = client
        alice, bob = clients["alice"], clients["bob"]
        ids = account(alice.services)
        alice.services.sharing.share("company", ids["company"], "subject")
        alice.sync()
        bob.sync()
        assert bob.services.companies.detail(ids["company"]).name == "Acme"

        # Both edit (different fields, and one field both) and sync at the same time.
        for client, changes in (
            (alice, {"website": "https://acme.example", "name": "Acme AG"}),
            (bob, {"industry": "Steel", "name": "Acme GmbH"}),
        ):
            draft = client.services.companies.draft(ids["company"])
            for key, value in changes.items():
                setattr(draft, key, value)
            client.services.companies.update(draft)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for _round in range(3):
                list(pool.map(lambda c: c.sync(), (alice, bob)))
        details = [c.services.companies.detail(ids["company"]) for c in (alice, bob)]
        assert {(d.name, d.website, d.industry) for d in details} == {
            (details[0].name, "https://acme.example", "Steel")
        }
        conflicts = alice.services.team.conflicts() + bob.services.team.conflicts()
        assert [c.field for c in conflicts] == ["name"]  # the loser's value is kept to resolve

        # A lost acknowledgement through the bouncer is still answered from the mutation log.
        draft = alice.services.companies.draft(ids["company"])
        draft.about = "replayed once"
        alice.services.companies.update(draft)
        prepared = team_sync.prepare(alice.services.book)
        team_id = alice.services.book.reader().execute("SELECT team_id FROM team_link").fetchone()
        via = bouncer.dsn(alice.role, team_db.dbname)
        with psycopg.connect(
            via, password=alice.password, autocommit=True, prepare_threshold=None
        ) as conn:
            protocol.push(conn, team_id[0], prepared)
        version = server_items(team_db.admin_dsn)[("company", ids["company"])]["version"]
        alice.sync()
        bob.sync()
        assert server_items(team_db.admin_dsn)[("company", ids["company"])]["version"] == version
        assert bob.services.companies.detail(ids["company"]).about == "replayed once"
        with psycopg.connect(team_db.admin_dsn, autocommit=True) as admin:
            backends = admin.execute(
                "SELECT usename::text, count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND usename = ANY(%s) GROUP BY 1",
                (team_db.dbname, list(roles.values())),
            ).fetchall()
        assert dict(backends) == dict.fromkeys(roles.values(), 1)  # the bouncer's pool
    finally:
        bouncer.stop()
