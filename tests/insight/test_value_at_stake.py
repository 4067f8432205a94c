"""The stored value at stake of people and contact of deals stay right, whatever writes.

``person.stake_minor`` / ``stake_deals_minor`` and ``deal.contact_person_id`` are kept by
triggers (migration 0002); the insight lists rank by them. Each test changes the book
the way a rep (or sync, or a merge) does and checks what the lists show, then compares
every stored value with a recomputation from the raw tables (``expected``).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from benchmarks.mail import contacts_of, make_messages, rep_of, write_maildir

from relbook.app import open_services
from relbook.domain.clock import FixedClock
from relbook.services.context import Services
from relbook.services.demo import build_demo_book
from relbook.storage.book import open_book
from tests.conftest import NOW
from tests.insight.scenario import Scenario

FIXTURES = Path(__file__).parents[1] / "fixtures" / "books"


def expected(
    db: sqlite3.Connection,
) -> tuple[dict[str, tuple[int, int]], dict[str, str | None]]:
    """(person → (value at stake, its open-deal part), deal → contact), from the raw
    tables, following the README's words: the open deals of the person's (live) company,
    plus their own open deals elsewhere, plus that company's value; a deal's contact is
    the live person on it touched last (never touched: oldest; ties: the smallest id)."""
    companies = {
        cid: max(current or 0, potential or 0)
        for cid, current, potential, deleted in db.execute(
            "SELECT id, current_value_minor, potential_value_minor, deleted_at FROM company"
        )
        if deleted is None
    }
    open_deals = {
        did: (cid, amount or 0)
        for did, cid, amount in db.execute(
            "SELECT id, company_id, amount_minor FROM deal "
            "WHERE status = 'open' AND deleted_at IS NULL"
        )
    }
    per_company: dict[str, int] = {}
    for cid, amount in open_deals.values():
        if cid:
            per_company[cid] = per_company.get(cid, 0) + amount
    on_deal: dict[str, list[str]] = {}
    deals_of: dict[str, list[str]] = {}
    for did, pid in db.execute("SELECT deal_id, person_id FROM deal_person"):
        on_deal.setdefault(did, []).append(pid)
        deals_of.setdefault(pid, []).append(did)
    stake = {}
    for pid, cid in db.execute("SELECT id, company_id FROM person"):
        live = cid if cid in companies else None
        deals = per_company.get(live, 0) if live else 0
        deals += sum(
            open_deals[d][1]
            for d in deals_of.get(pid, [])
            if d in open_deals and (live is None or open_deals[d][0] != live)
        )
        stake[pid] = (deals + (companies[live] if live else 0), deals)
    people = {
        pid: (last or 0, deleted)
        for pid, last, deleted in db.execute("SELECT id, last_touch_at, deleted_at FROM person")
    }
    contact = {}
    for (did,) in db.execute("SELECT id FROM deal"):
        live_people = [p for p in on_deal.get(did, []) if people[p][1] is None]
        contact[did] = min(live_people, key=lambda p: (-people[p][0], p)) if live_people else None
    return stake, contact


def stored(
    db: sqlite3.Connection,
) -> tuple[dict[str, tuple[int, int]], dict[str, str | None]]:
    stake = {
        pid: (total, deals)
        for pid, total, deals in db.execute("SELECT id, stake_minor, stake_deals_minor FROM person")
    }
    return stake, dict(db.execute("SELECT id, contact_person_id FROM deal").fetchall())


def assert_in_step(services: Services) -> None:
    db = services.book.reader()
    assert stored(db) == expected(db)


def value_of(services: Services, person_id: str) -> tuple[int, int]:
    """(open deals, account value) at stake with the person, as the lists show it."""
    value = services.insight.relationship(person_id).value
    return value.open_deals_minor, value.account_minor


@pytest.fixture
def scene(services: Services) -> Scenario:
    return Scenario(services)


def test_value_at_stake_follows_deal_and_company_edits(services: Services, scene: Scenario) -> None:
    acme = scene.company("Acme", current="20000", potential="50000")
    globex = scene.company("Globex")
    ann = scene.person("Ann Acme", acme)
    bob = scene.person("Bob Globex", globex)
    rollout = scene.deal("Rollout", acme, stage="Proposal", amount="10000", people=[ann])
    pilot = scene.deal("Pilot", globex, stage="Proposal", amount="5000", people=[ann])
    assert value_of(services, ann) == (1_500_000, 5_000_000)  # Acme's deal + her pilot
    assert value_of(services, bob) == (500_000, 0)
    assert_in_step(services)

    draft = services.deals.draft(rollout)
    draft.amount = "12000"
    services.deals.update(draft)
    assert value_of(services, ann) == (1_700_000, 5_000_000)
    scene.move(pilot, "Lost", reason="budget")
    assert value_of(services, ann) == (1_200_000, 5_000_000)
    assert value_of(services, bob) == (0, 0)
    assert_in_step(services)

    draft = services.deals.draft(rollout)
    draft.company_id = globex
    services.deals.update(draft)
    assert value_of(services, ann) == (1_200_000, 5_000_000)  # now her deal elsewhere
    assert value_of(services, bob) == (1_200_000, 0)
    services.deals.delete([rollout])
    assert value_of(services, ann) == (0, 5_000_000)
    assert value_of(services, bob) == (0, 0)
    services.deals.restore([rollout])
    assert value_of(services, bob) == (1_200_000, 0)
    assert_in_step(services)

    company = services.companies.draft(acme)
    company.potential_value = "80000"
    services.companies.update(company)
    assert value_of(services, ann) == (1_200_000, 8_000_000)
    services.companies.delete([acme])
    assert value_of(services, ann) == (1_200_000, 0)  # a deleted company is no account
    services.companies.restore([acme])
    assert value_of(services, ann) == (1_200_000, 8_000_000)
    assert_in_step(services)

    person = services.people.draft(ann)
    person.company_id = globex
    services.people.update(person)
    assert value_of(services, ann) == (1_200_000, 0)  # Globex's deal, once
    draft = services.deals.draft(rollout)
    draft.people = [(bob, "")]
    services.deals.update(draft)
    assert value_of(services, ann) == (1_200_000, 0)  # still Globex's deal
    person = services.people.draft(bob)
    person.company_id = None
    services.people.update(person)
    assert value_of(services, bob) == (1_200_000, 0)  # his own deal, no account
    cy = scene.person("Cy Newcomer", acme)
    assert value_of(services, cy) == (0, 8_000_000)  # a new person starts with the account
    assert_in_step(services)


def test_a_stuck_deal_is_listed_under_whoever_was_touched_last(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme")
    ann = scene.person("Ann Buyer", acme)
    bob = scene.person("Bob Engineer", acme)
    deal = scene.deal("Rollout", acme, stage="Proposal", people=[ann, bob], entered_days_ago=60)

    def listed_under() -> str:
        [entry] = [n for n in services.insight.next_contacts() if n.deal and n.deal.id == deal]
        return entry.name

    scene.touch(bob, 2)
    assert listed_under() == "Bob Engineer"
    scene.touch(ann, 1)
    assert listed_under() == "Ann Buyer"
    services.people.delete([ann])
    assert listed_under() == "Bob Engineer"
    services.people.restore([ann])
    assert listed_under() == "Ann Buyer"
    services.insight.snooze([ann], scene.ago(-7))
    assert listed_under() == "Acme"  # she is snoozed: the deal goes to its company
    services.insight.snooze([ann], None)
    draft = services.deals.draft(deal)
    draft.people = [(bob, "")]
    services.deals.update(draft)
    assert listed_under() == "Bob Engineer"
    assert_in_step(services)


def test_merges_and_their_undo_keep_values_in_step(services: Services, scene: Scenario) -> None:
    acme = scene.company("Acme", potential="30000")
    acme_twin = scene.company("Acme Inc", current="45000")
    ann = scene.person("Ann Acme", acme)
    ann_twin = scene.person("Ann Acme", acme_twin)
    scene.deal("Rollout", acme_twin, stage="Proposal", amount="7000", people=[ann_twin])
    scene.deal("Pilot", None, stage="Proposal", amount="1000", people=[ann])
    scene.touch(ann_twin, 3)
    assert value_of(services, ann) == (100_000, 3_000_000)

    record = services.merge.merge("person", ann, ann_twin)
    assert value_of(services, ann) == (800_000, 3_000_000)  # she brought the Rollout
    assert_in_step(services)
    services.merge.undo(record)
    assert value_of(services, ann) == (100_000, 3_000_000)
    assert value_of(services, ann_twin) == (700_000, 4_500_000)
    assert_in_step(services)

    record = services.merge.merge("company", acme, acme_twin)
    assert_in_step(services)
    services.merge.undo(record)
    assert_in_step(services)


def test_raw_writes_like_a_team_pull_keep_values_in_step(
    services: Services, scene: Scenario
) -> None:
    acme = scene.company("Acme", current="10000")
    ann = scene.person("Ann Acme", acme)
    bob = scene.person("Bob Acme", acme)
    deal = scene.deal("Rollout", None, stage="Proposal", amount="2000", people=[ann])
    support = scene.deal("Support", acme, stage="Proposal", amount="500", people=[bob])
    assert value_of(services, ann) == (250_000, 1_000_000)
    with services.book.raw_write() as connection:  # as team.apply writes a pulled change
        connection.execute("UPDATE company SET current_value_minor = 2500000 WHERE id = ?", (acme,))
        connection.execute("UPDATE deal SET amount_minor = 300000 WHERE id = ?", (deal,))
        connection.execute("DELETE FROM deal_person WHERE deal_id = ?", (deal,))
        connection.execute(
            "INSERT INTO deal_person (deal_id, person_id, role) VALUES (?, ?, '')", (deal, bob)
        )
        connection.execute("DELETE FROM deal WHERE id = ?", (support,))  # purged
        connection.execute(
            """INSERT INTO person (id, given_name, family_name, display_name, name_key, title,
                   about, custom, origin, company_id, created_at, updated_at)
               VALUES ('cy', 'Cy', 'Pulled', 'Cy Pulled', 'cy pulled', '', '', '{}', 'team',
                       ?, 0, 0)""",
            (acme,),
        )
    assert value_of(services, ann) == (0, 2_500_000)  # off the deal
    assert value_of(services, bob) == (300_000, 2_500_000)  # on it, at its new amount
    assert value_of(services, "cy") == (0, 2_500_000)
    assert_in_step(services)


def test_an_older_book_is_backfilled_when_it_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "schema-0001.relbook"
    shutil.copyfile(FIXTURES / "schema-0001.relbook", path)
    services = Services(open_book(path, FixedClock(NOW)), FixedClock(NOW))
    try:
        fiona = services.people.find_by_address("fiona@fixture.example")
        assert fiona is not None
        # Fixture GmbH: its deal of 5,000 and its current value of 12,000.
        assert value_of(services, fiona) == (500_000, 1_200_000)
        assert_in_step(services)
    finally:
        services.close()


@pytest.mark.slow
def test_the_demo_build_and_mail_ingest_keep_values_in_step(tmp_path: Path) -> None:
    book = tmp_path / "demo.relbook"
    build_demo_book(book, clock=FixedClock(NOW), scale=1)
    services = open_services(book, clock=FixedClock(NOW))
    try:
        assert_in_step(services)  # the build drops the triggers and fills the columns
        db = services.book.reader()
        assert db.execute("SELECT count(*) FROM person WHERE stake_minor > 0").fetchone()[0]
        before = dict(db.execute("SELECT id, contact_person_id FROM deal").fetchall())
        mail = make_messages(rep_of(db), contacts_of(db, 40), 300, seed=3, tag="stake", now=NOW)
        report = services.file_import.run([write_maildir(tmp_path / "Maildir", mail)])
        assert report.ingest.created == len(mail)
        assert_in_step(services)
        after = dict(db.execute("SELECT id, contact_person_id FROM deal").fetchall())
        assert before != after  # new mail made other people the ones touched last
    finally:
        services.close()


@pytest.mark.slow
def test_walking_people_by_value_finds_the_same_top_as_scoring_everyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lists read the most valuable people first and stop where nobody else can
    reach the k-th best score; with a short first read (so the bound is used on a small
    book) the top k must be what scoring every person says."""
    from relbook.domain.clock import from_millis
    from relbook.domain.insight import ColdState, cold_check, cold_urgency, value_weight
    from relbook.services.insight import ranking

    book = tmp_path / "demo.relbook"
    build_demo_book(book, clock=FixedClock(NOW), scale=2)
    services = open_services(book, clock=FixedClock(NOW))
    try:
        db = services.book.reader()
        everyone = []
        for pid, name, last, rhythm, stake, snoozed in db.execute(
            """SELECT id, display_name, last_touch_at, rhythm_days, stake_minor, snoozed_until
               FROM person WHERE deleted_at IS NULL"""
        ):
            check = cold_check(from_millis(last) if last else None, rhythm, NOW, 2.0)
            if snoozed or check is None or check.state is not ColdState.GOING_COLD:
                continue
            score = round(cold_urgency(check) * value_weight(stake, "EUR"), 3)
            everyone.append((-score, -check.silence_days, name, pid))
        everyone.sort()
        assert len(everyone) > 40
        complete = services.insight.next_contacts(limit=None)
        assert len(complete) > 40
        monkeypatch.setattr(ranking, "FIRST_READ", 20)
        for k in (1, 3, 10, 25):
            assert [e.id for e in services.insight.going_cold(limit=k)] == [
                pid for *_, pid in everyone[:k]
            ]
            assert services.insight.next_contacts(limit=k) == complete[:k]
    finally:
        services.close()
