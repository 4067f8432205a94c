"""Three reps, each with their own book, edit, delete, share and unshare, go offline, crash
before an acknowledgement and receive pages twice — and still agree once they settle.

After every run all three come online and sync until nothing moves; then:
- every row a client holds as a team row is live on the server at the same version and
  holds the server's content (as that client can represent it);
- every live server row is held by every client (or is that client's private copy);
- nothing a client deleted comes back, and a team row that was deleted stays a tombstone;
- nothing unshared is on the server: each live row is marked by a rep whose book shares it,
  everything a book shares is there, tombstones carry no data, private notes never travel.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from relbook.credentials import SessionSecretStore
from relbook.domain.clock import FixedClock
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import PersonDraft
from relbook.storage.book import open_book
from relbook.team import connect as team_connect
from relbook.team import protocol, provision
from relbook.team import sync as team_sync
from relbook.team.errors import TeamUnreachable
from relbook.team.project import normalize, project
from relbook.team.project import read_rows as read_local
from relbook.team.spec import SPECS
from tests.conftest import NOW

from .conftest import TeamDb
from .helpers import server_items
from .pg import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NAMES = ("Acme", "Globex", "Initech")
VALUES = ("red", "green", "blue")
LEVELS = ("nothing", "metadata", "subject", "full")
CLIENTS = st.integers(min_value=0, max_value=2)
_runs = itertools.count(1)


class Rep:
    def __init__(self, services: Services, role: str, dsn: str, password: str) -> None:
        self.services = services
        self.role = role
        self.dsn = dsn
        self.password = password
        self.offline = False
        self.deleted: set[tuple[str, str]] = set()  # what this rep deleted
        self.team_deleted: set[tuple[str, str]] = set()  # …of it, rows the team held

    @property
    def reader(self) -> Any:
        return self.services.book.reader()

    def live(self, table: str) -> list[str]:
        return [
            r[0]
            for r in self.reader.execute(
                f"SELECT id FROM {table} WHERE deleted_at IS NULL ORDER BY id"
            )
        ]

    def tracked_live(self, key: tuple[str, str]) -> bool:
        row = self.reader.execute(
            "SELECT state FROM team_row WHERE entity_type = ? AND entity_id = ?", key
        ).fetchone()
        return row is not None and row[0] in team_sync.LIVE_STATES

    def set_dsn(self, dsn: str) -> None:
        with self.services.book.raw_write() as conn:
            conn.execute("UPDATE team_link SET dsn = ?", (dsn,))

    def connection(self) -> Any:
        return team_connect.connect(self.dsn, self.password)

    @property
    def team_id(self) -> str:
        return str(self.reader.execute("SELECT team_id FROM team_link").fetchone()[0])


@pytest.mark.timeout(900)
def test_three_reps_converge(team_db: TeamDb, tmp_path: Path, template_book: Path) -> None:
    team_db.init("base")

    class TeamMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            run = next(_runs)
            team = f"run{run}"
            provision.add_team(team_db.admin_dsn, team)
            self.reps: list[Rep] = []
            for name in ("a", "b", "c"):
                role = f"{team_db.prefix}_r{run}{name}"
                password = f"pw-{role}"
                provision.add_rep(team_db.admin_dsn, team, role, password=password)
                path = tmp_path / f"{role}.relbook"
                shutil.copyfile(template_book, path)
                clock = FixedClock(NOW)
                services = Services(open_book(path, clock), clock)
                services.team.secrets = SessionSecretStore()
                dsn = team_db.rep_dsn(role)
                services.team.connect(dsn, password)
                self.reps.append(Rep(services, role, dsn, password))

        @initialize(levels=st.lists(st.sampled_from(LEVELS), min_size=3, max_size=3))
        def start(self, levels: list[str]) -> None:
            """Each rep shares an account of its own and syncs once."""
            for rep, name, level in zip(self.reps, NAMES, levels, strict=True):
                company = rep.services.companies.create(CompanyDraft(name=name))
                person = rep.services.people.create(
                    PersonDraft(given_name="Dee", family_name=name, company_id=company)
                )
                rep.services.interactions.log(
                    LogDraft(kind="call", subject="hello", body="text", person_ids=[person])
                )
                rep.services.sharing.share("company", company, level)
                rep.services.team.sync(confirm=True)
            for rep in self.reps:
                rep.services.team.sync(confirm=True)

        # ---------------------------------------------------------------- editing
        @rule(c=CLIENTS, name=st.sampled_from(NAMES))
        def create_company(self, c: int, name: str) -> None:
            self.reps[c].services.companies.create(CompanyDraft(name=name))

        @rule(c=CLIENTS, data=st.data(), name=st.sampled_from(("Ann", "Bo", "Cy")))
        def create_person(self, c: int, data: st.DataObject, name: str) -> None:
            rep = self.reps[c]
            companies = rep.live("company")
            company = data.draw(st.sampled_from(companies)) if companies else None
            rep.services.people.create(
                PersonDraft(given_name=name, family_name="Test", company_id=company)
            )

        @rule(c=CLIENTS, data=st.data(), amount=st.sampled_from(("100", "250")))
        def create_deal(self, c: int, data: st.DataObject, amount: str) -> None:
            rep = self.reps[c]
            companies = rep.live("company")
            company = data.draw(st.sampled_from(companies)) if companies else None
            rep.services.deals.create(DealDraft(title="Deal", company_id=company, amount=amount))

        @rule(c=CLIENTS, data=st.data(), amount=st.sampled_from(("300", "400")))
        def edit_deal(self, c: int, data: st.DataObject, amount: str) -> None:
            rep = self.reps[c]
            deals = rep.live("deal")
            if not deals:
                return
            draft = rep.services.deals.draft(data.draw(st.sampled_from(deals)))
            draft.amount = amount
            rep.services.deals.update(draft)

        @rule(c=CLIENTS, data=st.data(), private=st.booleans())
        def add_note(self, c: int, data: st.DataObject, private: bool) -> None:
            rep = self.reps[c]
            targets = [("company", i) for i in rep.live("company")]
            targets += [("person", i) for i in rep.live("person")]
            if not targets:
                return
            kind, target = data.draw(st.sampled_from(targets))
            draft = NoteDraft(body=f"note {data.draw(st.sampled_from(VALUES))}", private=private)
            setattr(draft, f"{kind}_id", target)
            rep.services.notes.create(draft)

        @rule(c=CLIENTS, data=st.data())
        def log_call(self, c: int, data: st.DataObject) -> None:
            rep = self.reps[c]
            people = rep.live("person")
            if not people:
                return
            rep.services.interactions.log(
                LogDraft(
                    kind="call",
                    subject=f"call {data.draw(st.sampled_from(VALUES))}",
                    body=f"text {data.draw(st.sampled_from(VALUES))}",
                    person_ids=[data.draw(st.sampled_from(people))],
                )
            )

        @rule(
            c=CLIENTS,
            data=st.data(),
            field=st.sampled_from(("name", "industry", "website")),
            value=st.sampled_from(VALUES),
        )
        def edit_company(self, c: int, data: st.DataObject, field: str, value: str) -> None:
            rep = self.reps[c]
            companies = rep.live("company")
            if not companies:
                return
            draft = rep.services.companies.draft(data.draw(st.sampled_from(companies)))
            setattr(draft, field, f"https://{value}.example" if field == "website" else value)
            rep.services.companies.update(draft)

        @rule(c=CLIENTS, data=st.data(), value=st.sampled_from(VALUES))
        def edit_person(self, c: int, data: st.DataObject, value: str) -> None:
            rep = self.reps[c]
            people = rep.live("person")
            if not people:
                return
            draft = rep.services.people.draft(data.draw(st.sampled_from(people)))
            draft.about = value
            rep.services.people.update(draft)

        @rule(
            c=CLIENTS, data=st.data(), table=st.sampled_from(("person", "note", "company", "deal"))
        )
        def delete(self, c: int, data: st.DataObject, table: str) -> None:
            rep = self.reps[c]
            ids = rep.live(table)
            if not ids:
                return
            target = data.draw(st.sampled_from(ids))
            service = {"person": "people", "note": "notes", "company": "companies", "deal": "deals"}
            service = service[table]
            if rep.tracked_live((table, target)):
                rep.team_deleted.add((table, target))
            getattr(rep.services, service).delete([target])
            rep.deleted.add((table, target))

        # ---------------------------------------------------------------- sharing
        @rule(c=CLIENTS, data=st.data(), level=st.sampled_from(LEVELS))
        def share(self, c: int, data: st.DataObject, level: str) -> None:
            rep = self.reps[c]
            roots = [("company", i) for i in rep.live("company")]
            roots += [("person", i) for i in rep.live("person")]
            roots += [("deal", i) for i in rep.live("deal")]
            if not roots:
                return
            kind, target = data.draw(st.sampled_from(roots))
            rep.services.sharing.share(kind, target, level)

        @rule(c=CLIENTS, data=st.data())
        def unshare(self, c: int, data: st.DataObject) -> None:
            rep = self.reps[c]
            shared = rep.services.sharing.shared()
            if not shared:
                return
            item = data.draw(st.sampled_from(shared))
            rep.services.sharing.unshare(item.entity_type, item.entity_id)

        @rule(c=CLIENTS, data=st.data(), keep=st.sampled_from(("mine", "theirs")))
        def resolve(self, c: int, data: st.DataObject, keep: str) -> None:
            rep = self.reps[c]
            open_ = [x for x in rep.services.team.conflicts() if x.kind == "field"]
            if open_:
                rep.services.team.resolve(data.draw(st.sampled_from(open_)).id, keep)

        # ------------------------------------------------------- network and failure
        @rule(c=CLIENTS)
        def toggle_offline(self, c: int) -> None:
            rep = self.reps[c]
            rep.offline = not rep.offline
            port = rep.dsn.split("port=")[1].split()[0]
            rep.set_dsn(
                rep.dsn.replace(f"port={port}", f"port={free_port()}") if rep.offline else rep.dsn
            )

        @rule(c=CLIENTS)
        def sync(self, c: int) -> None:
            rep = self.reps[c]
            if rep.offline:
                with pytest.raises(TeamUnreachable):
                    rep.services.team.sync(confirm=True)
            else:
                rep.services.team.sync(confirm=True)

        @rule(c=CLIENTS)
        def crash_before_acknowledgement(self, c: int) -> None:
            rep = self.reps[c]
            if rep.offline:
                return
            with rep.connection() as conn:
                report = team_sync.SyncReport()
                team_sync.replay(rep.services.book, conn, rep.team_id, rep.role, report)
                prepared = team_sync.prepare(rep.services.book, confirm=True)
                if prepared:
                    protocol.push(conn, rep.team_id, prepared)  # the answer never arrives

        @rule(c=CLIENTS)
        def pull_twice_without_cursor(self, c: int) -> None:
            rep = self.reps[c]
            if rep.offline or team_sync.journal_size(rep.reader):
                return
            with rep.connection() as conn:
                for _ in range(2):
                    team_sync.pull(
                        rep.services.book,
                        conn,
                        rep.team_id,
                        team_sync.SyncReport(),
                        confirm=True,
                        save_cursor=False,
                    )

        # ------------------------------------------------------------------ settle
        def teardown(self) -> None:
            try:
                self._settle()
                self._check()
            finally:
                for rep in self.reps:
                    rep.services.close()

        def _settle(self) -> None:
            for rep in self.reps:
                if rep.offline:
                    rep.offline = False
                    rep.set_dsn(rep.dsn)
            for _round in range(12):
                moved = 0
                for rep in self.reps:
                    report = rep.services.team.sync(confirm=True)
                    moved += report.pushed + report.pulled
                if moved == 0:
                    return
            raise AssertionError("the reps did not settle in 12 rounds")

        def _check(self) -> None:
            team_id = self.reps[0].team_id
            items = {
                k: v for k, v in server_items(team_db.admin_dsn).items() if v["team"] == team_id
            }
            marks = _marks(team_db, team_id)
            views = {rep.role: team_sync.team_view(rep.reader) for rep in self.reps}
            for rep in self.reps:
                view = views[rep.role]
                for key, tracked in view.tracked.items():
                    if tracked.state not in team_sync.LIVE_STATES:
                        continue
                    item = items.get(key)
                    assert item is not None and item["state"] == "live", (rep.role, key, item)
                    assert tracked.server_version == item["version"], (rep.role, key)
                    values = read_local(rep.reader, key[0], [key[1]]).get(key[1])
                    assert values is not None and values["deleted_at"] is None, (rep.role, key)
                    spec = SPECS[key[0]]
                    mine = project(key[0], values, view.team_set, only=item["data"].keys())
                    theirs = {
                        name: normalize(key[0], spec.field(name), value, view.team_set)
                        for name, value in item["data"].items()
                    }
                    assert mine == theirs, (rep.role, key)
                for key in view.closure:
                    assert items.get(key, {}).get("state") == "live", (rep.role, "shares", key)
                    assert rep.role in marks.get(key, ()), (rep.role, "marks", key)
            for key, item in items.items():
                if item["state"] != "live":
                    assert item["data"] == {}
                    continue
                sharers = [
                    views[r.role].closure[key]
                    for r in self.reps
                    if key in views[r.role].closure and r.role in marks.get(key, ())
                ]
                assert sharers, ("nobody shares", key)
                # Nothing beyond the most generous sharer's level is on the server (an
                # interaction shared at "metadata" carries no subject or text).
                allowed = set(SPECS[key[0]].names)
                if key[0] == "interaction":
                    top = max(sharers, key=LEVELS.index)
                    allowed = set(SPECS[key[0]].names_at(top))
                assert set(item["data"]) <= allowed, ("beyond its level", key, item["data"])
                for rep in self.reps:
                    tracked = views[rep.role].tracked.get(key)
                    fork = tracked is None and read_local(rep.reader, key[0], [key[1]])
                    assert fork or (
                        tracked is not None
                        and tracked.state in (*team_sync.LIVE_STATES, team_sync.DETACHED)
                    ), (rep.role, "misses", key, tracked)
            for rep in self.reps:
                for key in rep.deleted:
                    values = read_local(rep.reader, key[0], [key[1]])[key[1]]
                    assert values["deleted_at"] is not None, (rep.role, "came back", key)
                for key in rep.team_deleted:
                    assert items[key]["state"] != "live", (rep.role, "team delete undone", key)
                private = [
                    r[0] for r in rep.reader.execute("SELECT id FROM note WHERE private = 1")
                ]
                for note_id in private:
                    item = items.get(("note", note_id))
                    assert item is None or item["state"] != "live", ("private note", note_id)

    run_state_machine_as_test(
        TeamMachine,
        settings=settings(
            max_examples=int(os.environ.get("RELBOOK_TEAM_EXAMPLES", "12")),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            print_blob=True,
        ),
    )


def _marks(team_db: TeamDb, team_id: str) -> dict[tuple[str, str], set[str]]:
    import psycopg

    with psycopg.connect(team_db.admin_dsn, autocommit=True) as conn:
        found: dict[tuple[str, str], set[str]] = {}
        for entity_type, entity_id, rep in conn.execute(
            """SELECT s.entity_type, s.id::text, s.rep::text FROM relbook.item_share s
               JOIN relbook.item i USING (team_id, entity_type, id)
               WHERE s.team_id = %s AND s.generation = i.generation""",
            (team_id,),
        ):
            found.setdefault((entity_type, entity_id), set()).add(rep)
        return found
