"""Sharing and syncing between reps' books through a real PostgreSQL team server."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from relbook.domain.errors import GuardTripped
from relbook.domain.ids import new_id
from relbook.services.companies import CompanyDraft
from relbook.services.people import PersonDraft
from relbook.team import protocol
from relbook.team import sync as team_sync
from relbook.team.errors import TeamError, TeamUnreachable

from .conftest import Client, TeamDb
from .helpers import account, local_live, server_items
from .pg import free_port

pytestmark = pytest.mark.integration

MakeClient = Callable[..., Client]


def rename(client: Client, company_id: str, **changes: object) -> None:
    draft = client.services.companies.draft(company_id)
    for key, value in changes.items():
        setattr(draft, key, value)
    client.services.companies.update(draft)


def test_private_by_default_nothing_leaves_the_laptop(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice = make_client("alice")
    account(alice.services)
    alice.sync()
    assert server_items(team_db.admin_dsn) == {}
    assert alice.services.team.status().pending_changes == 0


def test_shared_account_reaches_a_teammate_without_private_data(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "subject")
    alice.sync()
    bob.sync()

    items = server_items(team_db.admin_dsn)
    assert ("note", ids["secret"]) not in items
    assert all("secret" not in str(item["data"]) for item in items.values())
    call = items[("interaction", ids["call"])]["data"]
    assert call["subject"] == "Pricing call" and "body" not in call

    bob_services = bob.services
    assert bob_services.companies.detail(ids["company"]).name == "Acme"
    person = bob_services.people.detail(ids["person"])
    assert (person.display_name, person.title, person.company_name) == ("Ann Acme", "Buyer", "Acme")
    assert person.touch_count == 0  # a teammate's call is not Bob's own touch
    assert bob_services.deals.detail(ids["deal"]).title == "Acme renewal"
    assert local_live(bob_services, "note", ids["note"])
    assert not local_live(bob_services, "note", ids["secret"])
    db = bob_services.book.reader()
    subject, body = db.execute(
        "SELECT subject, body FROM interaction WHERE id = ?", (ids["call"],)
    ).fetchone()
    assert (subject, body) == ("Pricing call", "")
    assert bob_services.search.query("Ann").groups  # searchable in Bob's book


def test_edits_to_different_fields_merge(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()

    rename(alice, ids["company"], website="https://acme.example")
    rename(bob, ids["company"], industry="Steel")
    alice.sync()
    bob.sync()
    alice.sync()

    for client in (alice, bob):
        detail = client.services.companies.detail(ids["company"])
        assert (detail.website, detail.industry) == ("https://acme.example", "Steel")
        assert client.services.team.conflicts() == []


def test_same_field_first_write_wins_and_the_other_is_kept(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()

    rename(alice, ids["company"], name="Acme AG")
    rename(bob, ids["company"], name="Acme GmbH")
    alice.sync()
    bob.sync()

    assert bob.services.companies.detail(ids["company"]).name == "Acme AG"
    (conflict,) = bob.services.team.conflicts()
    assert (conflict.field, conflict.mine, conflict.theirs) == ("name", "Acme GmbH", "Acme AG")
    assert conflict.their_rep == alice.role
    assert bob.services.team.status().open_conflicts == 1

    bob.services.team.resolve(conflict.id, "mine")
    bob.sync()
    alice.sync()
    for client in (alice, bob):
        assert client.services.companies.detail(ids["company"]).name == "Acme GmbH"
    assert alice.services.team.conflicts() == [] and bob.services.team.conflicts() == []


def test_unsharing_withdraws_the_rows_from_the_team(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "full")
    alice.sync()
    bob.sync()
    assert local_live(bob.services, "person", ids["person"])

    alice.services.sharing.unshare("company", ids["company"])
    alice.sync()
    items = server_items(team_db.admin_dsn)
    assert items and all(i["state"] == "withdrawn" and i["data"] == {} for i in items.values())
    bob.sync()
    for table in ("company", "person", "deal", "note"):
        assert not local_live(bob.services, table, ids[table])
        assert local_live(alice.services, table, ids[table])

    # Editing after unsharing stays private.
    rename(alice, ids["company"], about="private again")
    alice.sync()
    assert all(i["data"] == {} for i in server_items(team_db.admin_dsn).values())

    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()
    assert bob.services.companies.detail(ids["company"]).about == "private again"


def test_a_deleted_row_never_comes_back(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()

    alice.services.people.delete([ids["person"]])
    draft = bob.services.people.draft(ids["person"])
    draft.title = "CFO"
    bob.services.people.update(draft)  # offline edit at the same time
    alice.sync()
    bob.sync()
    alice.sync()

    assert server_items(team_db.admin_dsn)[("person", ids["person"])]["state"] == "deleted"
    assert not local_live(alice.services, "person", ids["person"])
    assert not local_live(bob.services, "person", ids["person"])
    kept = {c.entity_type: c for c in bob.services.team.conflicts()}
    assert kept["person"].kind == "deleted" and kept["person"].mine["title"] == "CFO"
    # Bob's edit also changed the affiliation's role; that row left the team with the person.
    assert kept["affiliation"].kind == "withdrawn" and kept["affiliation"].mine == {"role": "CFO"}


def test_mass_delete_guard_stops_and_asks(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    for n in range(12):
        alice.services.people.create(
            PersonDraft(given_name=f"P{n}", family_name="Staff", company_id=ids["company"])
        )
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()

    alice.services.sharing.unshare("company", ids["company"])
    with pytest.raises(GuardTripped, match="withdraw"):
        alice.sync(confirm=False)
    assert "withdraw" in alice.services.team.status().pending_question
    assert all(i["state"] == "live" for i in server_items(team_db.admin_dsn).values())

    alice.sync(confirm=True)
    assert alice.services.team.status().pending_question == ""
    with pytest.raises(GuardTripped, match="withdrew"):
        bob.sync(confirm=False)
    assert local_live(bob.services, "person", ids["person"])  # nothing removed yet
    bob.sync(confirm=True)
    assert not local_live(bob.services, "person", ids["person"])


def _go_offline(client: Client) -> str:
    dsn = client.services.book.reader().execute("SELECT dsn FROM team_link").fetchone()[0]
    with client.services.book.raw_write() as conn:
        conn.execute(
            "UPDATE team_link SET dsn = ?",
            (dsn.replace(f"port={dsn.split('port=')[1].split()[0]}", f"port={free_port()}"),),
        )
    return str(dsn)


def test_edits_wait_offline_and_go_out_when_the_server_is_back(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()

    online_dsn = _go_offline(bob)
    rename(bob, ids["company"], industry="Chemicals")
    with pytest.raises(TeamUnreachable, match="cannot be reached"):
        bob.sync()
    status = bob.services.team.status()
    assert "cannot be reached" in status.last_error and status.last_error_at is not None
    assert status.pending_changes == 1
    assert bob.services.companies.detail(ids["company"]).industry == "Chemicals"

    with bob.services.book.raw_write() as conn:
        conn.execute("UPDATE team_link SET dsn = ?", (online_dsn,))
    bob.sync()
    status = bob.services.team.status()
    assert status.last_error == "" and status.pending_changes == 0
    alice.sync()
    assert alice.services.companies.detail(ids["company"]).industry == "Chemicals"


def _rep_connection(team_db: TeamDb, client: Client) -> psycopg.Connection:
    return psycopg.connect(
        client.dsn, password=client.password, autocommit=True, prepare_threshold=None
    )


def test_a_lost_acknowledgement_never_applies_twice(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice = make_client("alice")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    rename(alice, ids["company"], name="Acme Two")
    team_id = alice.services.book.reader().execute("SELECT team_id FROM team_link").fetchone()[0]

    prepared = team_sync.prepare(alice.services.book)
    assert [m.entity_type for m in prepared] == ["company"]
    with _rep_connection(team_db, alice) as conn:
        protocol.push(conn, team_id, prepared)  # applied… and the answer is lost
        version_after = server_items(team_db.admin_dsn)[("company", ids["company"])]["version"]
        report = team_sync.SyncReport()
        team_sync.replay(alice.services.book, conn, team_id, alice.role, report)
        assert report.pushed == 1
        assert conn.execute("SELECT count(*) FROM relbook.mutation").fetchone()[0] == 0
    item = server_items(team_db.admin_dsn)[("company", ids["company"])]
    assert item["version"] == version_after == 2
    assert item["data"]["name"] == "Acme Two"
    alice.sync()
    assert alice.services.team.status().pending_changes == 0


def test_pages_delivered_twice_change_nothing(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    team_id = bob.services.book.reader().execute("SELECT team_id FROM team_link").fetchone()[0]
    with _rep_connection(team_db, bob) as conn:
        for _ in range(2):  # the first pull "crashes" before it stores its cursor
            team_sync.pull(
                bob.services.book, conn, team_id, team_sync.SyncReport(), save_cursor=False
            )
    version = bob.services.companies.detail(ids["company"]).version
    bob.sync()
    assert bob.services.companies.detail(ids["company"]).version == version == 1
    assert bob.services.team.conflicts() == []


def test_pull_does_not_skip_a_change_that_commits_late(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    """A transaction that started first but commits last is still pulled (xid horizon)."""
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    team_id = bob.services.book.reader().execute("SELECT team_id FROM team_link").fetchone()[0]
    late_id = new_id()
    slow = psycopg.connect(alice.dsn, password=alice.password, prepare_threshold=None)
    slow.execute(
        """INSERT INTO relbook.item (team_id, entity_type, id, version, data)
           VALUES (%s, 'company', %s, 1, %s)""",
        (team_id, late_id, psycopg.types.json.Jsonb({"name": "Late Ltd"})),
    )
    slow.execute(
        "INSERT INTO relbook.item_share (team_id, entity_type, id, generation) "
        "VALUES (%s, 'company', %s, 1)",
        (team_id, late_id),
    )
    early = alice.services.companies.create(CompanyDraft(name="Early Inc"))
    alice.services.sharing.share("company", early)
    alice.sync()  # commits after the slow transaction started
    bob.sync()
    assert local_live(bob.services, "company", early)
    assert not local_live(bob.services, "company", late_id)

    slow.commit()
    slow.close()
    bob.sync()
    assert bob.services.companies.detail(late_id).name == "Late Ltd"


def test_a_lower_interaction_level_takes_the_text_back(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "full")
    alice.sync()
    assert server_items(team_db.admin_dsn)[("interaction", ids["call"])]["data"]["body"]
    bob.sync()
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    data = server_items(team_db.admin_dsn)[("interaction", ids["call"])]["data"]
    assert "body" not in data and "subject" not in data
    bob.sync()
    row = (
        bob.services.book.reader()
        .execute("SELECT subject, body FROM interaction WHERE id = ?", (ids["call"],))
        .fetchone()
    )
    assert row == ("", "")


def test_preview_is_exactly_what_the_server_gets(team_db: TeamDb, make_client: MakeClient) -> None:
    team_db.init()
    alice = make_client("alice")
    ids = account(alice.services)
    before = alice.services.sharing.preview("company", ids["company"])
    assert not before.shared and before.rows == ()
    would = alice.services.sharing.preview("company", ids["company"], "subject")
    assert any("private note" in line for line in would.withheld)
    assert any("text of 1 interaction" in line for line in would.withheld)

    alice.services.sharing.share("company", ids["company"], "subject")
    preview = alice.services.sharing.preview("company", ids["company"])
    alice.sync()
    items = server_items(team_db.admin_dsn)
    assert {(r.entity_type, r.entity_id) for r in preview.rows} == set(items)
    for row in preview.rows:
        assert items[(row.entity_type, row.entity_id)]["data"] == row.fields
    assert preview.rows == would.rows


def test_team_view_reads_what_was_shared(team_db: TeamDb, make_client: MakeClient) -> None:
    from relbook.services.interactions import LogDraft

    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services, "Acme")
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    bob.sync()
    # Bob talks to Alice's contact too, and shares his own account.
    bob.services.interactions.log(
        LogDraft(kind="meeting", subject="Demo", person_ids=[ids["person"]])
    )
    bob.services.sharing.share("company", ids["company"], "metadata")
    other = account(bob.services, "Globex")
    bob.services.sharing.share("company", other["company"], "metadata")
    bob.sync()
    alice.sync()

    view = alice.services.team
    accounts = {a.name: a for a in view.shared_accounts()}
    assert set(accounts) == {"Acme", "Globex"}
    assert accounts["Acme"].open_deals == 1 and accounts["Acme"].open_amount == {"EUR": 100000}
    (ann,) = view.who_knows_whom(ids["company"])
    assert {c.rep: c.interactions for c in ann.reps} == {alice.role: 1, bob.role: 1}
    pipeline = {(c.rep, c.stage): c.deals for c in view.pipeline_by_rep()}
    assert pipeline == {(alice.role, "Lead"): 1, (bob.role, "Lead"): 1}
    (theme,) = view.feedback_themes()
    assert (theme.topic, theme.subject, theme.mentions) == ("price", "Widget", 2)
    assert theme.reps == tuple(sorted((alice.role, bob.role)))
    assert set(theme.companies) == {"Acme", "Globex"}


def test_sharing_one_person_or_one_deal_sends_only_that(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("person", ids["person"], "nothing")
    alice.services.sharing.share("deal", ids["deal"], "metadata")
    alice.sync()

    items = server_items(team_db.admin_dsn)
    kinds = sorted({key[0] for key in items})
    assert kinds == ["deal", "person", "pipeline", "stage"]  # the deal brings its stages
    person = items[("person", ids["person"])]["data"]
    assert person["display_name"] == "Ann Acme" and person["company_id"] is None
    assert items[("deal", ids["deal"])]["data"]["company_id"] is None  # the company is private
    assert ("interaction", ids["call"]) not in items  # level "nothing": no interactions

    bob.sync()
    assert bob.services.people.detail(ids["person"]).company_name in (None, "")
    assert bob.services.deals.detail(ids["deal"]).title == "Acme renewal"
    assert not local_live(bob.services, "company", ids["company"])
    assert not local_live(bob.services, "interaction", ids["call"])

    # Sharing the company later fills in the references the team could not see before.
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    bob.sync()
    assert bob.services.people.detail(ids["person"]).company_name == "Acme"
    assert bob.services.deals.detail(ids["deal"]).company_id == ids["company"]
    assert local_live(bob.services, "interaction", ids["call"])  # the company's level


def test_status_counts_every_change_waiting_to_be_sent(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice = make_client("alice")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "metadata")
    waiting = alice.services.team.status().pending_changes
    alice.sync()
    # Every row that went out was counted: company, person, job, deal, pipeline and its
    # stages, the note, the call, the feedback.
    assert waiting == len(server_items(team_db.admin_dsn)) > 10
    assert alice.services.team.status().pending_changes == 0

    # A new person at the shared company travels too (with their job there): both wait.
    alice.services.people.create(
        PersonDraft(given_name="Bo", family_name="New", company_id=ids["company"])
    )
    assert alice.services.team.status().pending_changes == 2
    private = alice.services.companies.create(CompanyDraft(name="Private Ltd"))
    rename(alice, private, industry="Secret")
    assert alice.services.team.status().pending_changes == 2  # private edits wait for nothing
    alice.sync()
    assert alice.services.team.status().pending_changes == 0

    alice.services.sharing.unshare("company", ids["company"])
    # Every row is withdrawn (the new person and job too).
    assert alice.services.team.status().pending_changes == waiting + 2
    alice.sync()
    assert alice.services.team.status().pending_changes == 0


def test_disconnecting_and_connecting_again_resumes(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    bob.sync()

    bob.services.team.disconnect()
    assert not bob.services.team.status().connected
    assert bob.services.team.secrets.get("team-server") is None
    assert bob.services.companies.detail(ids["company"]).name == "Acme"  # the book keeps it
    rename(alice, ids["company"], name="Acme AG")
    alice.sync()
    draft = bob.services.people.draft(ids["person"])
    draft.title = "CFO"  # edited while disconnected
    bob.services.people.update(draft)

    bob.connect()
    bob.sync()
    alice.sync()
    assert bob.services.companies.detail(ids["company"]).name == "Acme AG"
    assert alice.services.people.detail(ids["person"]).title == "CFO"
    assert bob.services.team.conflicts() == [] and alice.services.team.conflicts() == []

    # Another team is refused while connected, and starts afresh after disconnecting.
    team_db.add_team("south")
    carl = team_db.add_rep("carl", team="south")
    south = team_db.rep_dsn(carl)
    with pytest.raises(TeamError, match="Disconnect first"):
        bob.services.team.connect(south, team_db.password(carl))
    bob.services.team.disconnect()
    status = bob.services.team.connect(south, team_db.password(carl))
    assert status.team_name == "south" and status.team_rows == 0
    bob.sync()
    assert (
        server_items(team_db.admin_dsn)[("company", ids["company"])]["team"]
        != (bob.services.book.reader().execute("SELECT team_id FROM team_link").fetchone()[0])
    )
    assert bob.services.companies.detail(ids["company"]).name == "Acme AG"  # kept, private


def test_a_book_that_lost_its_sync_state_takes_the_team_rows_up_again(
    team_db: TeamDb, make_client: MakeClient
) -> None:
    """Rows this book holds but no longer tracks (its sync state was lost, e.g. by an
    earlier Relbook's disconnect): the team's values are taken, and every value of the
    book's that differs is kept as a conflict — whose is newer cannot be known."""
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    bob.sync()
    with bob.services.book.raw_write() as conn:
        conn.execute("DELETE FROM team_row")
        conn.execute("UPDATE team_link SET cursor = '0', fingerprint = ''")
    rename(alice, ids["company"], industry="Steel")
    alice.sync()
    draft = bob.services.people.draft(ids["person"])
    draft.about = "met at the fair"
    bob.services.people.update(draft)

    bob.sync()
    assert bob.services.companies.detail(ids["company"]).industry == "Steel"
    assert bob.services.people.detail(ids["person"]).about == ""
    (conflict,) = bob.services.team.conflicts()
    assert (conflict.entity_id, conflict.field) == (ids["person"], "about")
    assert conflict.mine == "met at the fair"
    bob.services.team.resolve(conflict.id, "mine")
    bob.sync()
    alice.sync()
    assert alice.services.people.detail(ids["person"]).about == "met at the fair"
    rename(alice, ids["company"], website="https://acme.example")  # updates flow again
    alice.sync()
    bob.sync()
    assert bob.services.companies.detail(ids["company"]).website == "https://acme.example"
