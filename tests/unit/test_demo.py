"""The demo book: deterministic, realistic, consistent with what the storage layer derives."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import NOW

from relbook.__main__ import main
from relbook.cli import EXIT_OK, EXIT_USER
from relbook.domain.clock import FixedClock, to_millis
from relbook.domain.errors import UserError
from relbook.services.context import Services
from relbook.services.demo import (
    DEFAULT_SEED,
    DemoCancelled,
    DemoCounts,
    build_demo_book,
)
from relbook.services.demo.build import building_path
from relbook.storage import touch
from relbook.storage.book import open_book

DAY_MS = 86_400_000
NOW_MS = to_millis(NOW)
TODAY_MS = NOW_MS // DAY_MS * DAY_MS
MAIN_TABLES = (
    "setting", "tag", "custom_field_def", "pipeline", "stage", "company", "company_domain",
    "person", "person_email", "person_phone", "person_address", "affiliation", "deal",
    "deal_person", "deal_stage_change", "interaction", "interaction_participant",
    "interaction_link", "task", "note", "feedback", "entity_tag", "saved_view", "review_item",
    "fts_person", "fts_interaction_data",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.relbook"
    build_demo_book(path, clock=FixedClock(NOW))
    return path


@pytest.fixture
def demo(demo_path: Path) -> Iterator[Services]:
    clock = FixedClock(NOW)
    ctx = Services(open_book(demo_path, clock), clock)
    yield ctx
    ctx.close()


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with _db(path) as db:
        for table in MAIN_TABLES:
            for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def one(db: sqlite3.Connection, sql: str, *params: object) -> Any:
    """The single value a query returns (an int, a str or None: SQLite's types)."""
    return db.execute(sql, params).fetchone()[0]


# ------------------------------------------------------------------- determinism


def test_same_seed_and_day_build_the_same_book_and_another_seed_another(
    demo_path: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.relbook"
    build_demo_book(again, clock=FixedClock(NOW), seed=DEFAULT_SEED)
    assert content_hash(again) == content_hash(demo_path)

    other = tmp_path / "other.relbook"
    build_demo_book(other, clock=FixedClock(NOW), seed=DEFAULT_SEED + 1, scale=0.1)
    small = tmp_path / "small.relbook"
    build_demo_book(small, clock=FixedClock(NOW), seed=DEFAULT_SEED, scale=0.1)
    assert content_hash(other) != content_hash(small)


def test_scale_maps_to_the_demo_and_the_benchmark_book() -> None:
    assert DemoCounts.for_scale(1) == DemoCounts(300, 60, 40, 60, 5_000, 120, 6)
    bench = DemoCounts.for_scale(200)
    assert (bench.people, bench.companies, bench.deals, bench.tasks, bench.interactions) == (
        50_000, 5_000, 20_000, 30_000, 1_000_000,
    )  # fmt: skip
    tiny = DemoCounts.for_scale(0.01)
    assert tiny.people >= 24 and tiny.companies >= 8 and tiny.deals >= 8
    for bad in (0, -1, float("nan"), 5000):
        with pytest.raises(ValueError, match="scale"):
            DemoCounts.for_scale(bad)


# ----------------------------------------------------------------------- content


def test_counts_are_in_the_documented_ranges(demo_path: Path) -> None:
    with _db(demo_path) as db:
        assert one(db, "SELECT count(*) FROM person") == 300
        assert one(db, "SELECT count(*) FROM company") == 60
        assert one(db, "SELECT count(*) FROM deal") == 40
        assert one(db, "SELECT count(*) FROM pipeline") == 2
        assert 4_700 <= one(db, "SELECT count(*) FROM interaction") <= 5_300
        assert one(db, "SELECT count(*) FROM task") == 60
        assert one(db, "SELECT count(*) FROM note") == 120
        assert one(db, "SELECT count(*) FROM review_item WHERE status = 'pending'") == 6
        # Two years of history.
        first = one(db, "SELECT min(occurred_at) FROM interaction")
        assert NOW_MS - first > 700 * DAY_MS


def test_companies_people_and_deals_look_like_a_real_book(demo_path: Path) -> None:
    with _db(demo_path) as db:
        assert one(db, "SELECT count(*) FROM company WHERE parent_id IS NOT NULL") >= 1
        several_domains = one(
            db, "SELECT count(*) FROM (SELECT company_id FROM company_domain "
            "GROUP BY company_id HAVING count(*) > 1)"
        )  # fmt: skip
        assert several_domains >= 5
        assert one(db, "SELECT count(DISTINCT industry) FROM company") >= 8
        assert one(db, "SELECT count(*) FROM company WHERE potential_value_minor > 0") == 60
        assert one(db, "SELECT count(*) FROM company WHERE current_value_minor > 0") >= 20
        domains = [r[0] for r in db.execute("SELECT domain FROM company_domain")]
        assert all(d.endswith((".example", ".test")) for d in domains)
        addresses = [r[0] for r in db.execute("SELECT address FROM person_email")]
        assert all(a.endswith((".example", ".test")) for a in addresses)
        assert len(set(addresses)) == len(addresses)
        # Mixed nationalities: names with letters beyond ASCII, many family names.
        names = [r[0] for r in db.execute("SELECT display_name FROM person")]
        assert sum(not n.isascii() for n in names) >= 20
        assert one(db, "SELECT count(DISTINCT family_name) FROM person") >= 150
        # People changed jobs: an ended affiliation elsewhere and their old address kept.
        moved = one(
            db, """SELECT count(*) FROM affiliation a JOIN person p ON p.id = a.person_id
                   WHERE a.end_date IS NOT NULL AND a.company_id != p.company_id"""
        )  # fmt: skip
        assert moved >= 5
        # Both pipelines used; lost deals carry reasons, most name a competitor.
        assert one(db, "SELECT count(DISTINCT pipeline_id) FROM deal") == 2
        lost = db.execute("SELECT lost_reason, competitors FROM deal WHERE status = 'lost'")
        lost_rows = lost.fetchall()
        assert lost_rows and all(reason for reason, _ in lost_rows)
        assert any(competitors != "[]" for _, competitors in lost_rows)
        assert one(db, "SELECT count(*) FROM deal WHERE status = 'won'") >= 3
        ages = [
            (NOW_MS - r[0]) // DAY_MS
            for r in db.execute("SELECT stage_entered_at FROM deal WHERE status = 'open'")
        ]
        assert min(ages) < 14 and max(ages) > 30
        # The rep's side is set up.
        settings = dict(db.execute("SELECT key, value FROM setting"))
        assert settings["internal_domains"] == '["kestrel-data.example"]'
        assert "sam.rivera@kestrel-data.example" in settings["my_addresses"]


def test_fields_tags_views_and_feedback_are_usable(demo: Services) -> None:
    with _db(demo.book.path) as db:
        assert one(db, "SELECT count(*) FROM custom_field_def") >= 3
        assert one(db, "SELECT count(*) FROM company WHERE custom LIKE '%segment%'") == 60
        assert one(db, "SELECT count(*) FROM person WHERE custom != '{}'") >= 100
        person_id = one(db, "SELECT id FROM person WHERE custom != '{}' LIMIT 1")
        assert one(db, "SELECT count(DISTINCT tag_id) FROM entity_tag") >= 6
        from_notes = one(db, "SELECT count(*) FROM feedback WHERE note_id IS NOT NULL")
        from_mail = one(db, "SELECT count(*) FROM feedback WHERE interaction_id IS NOT NULL")
        topics = {r[0] for r in db.execute("SELECT DISTINCT topic FROM feedback")}
        quote, note_body = db.execute(
            """SELECT f.quote, n.body FROM feedback f JOIN note n ON n.id = f.note_id
               LIMIT 1"""
        ).fetchone()
    assert from_notes >= 20 and from_mail >= 5
    assert {"product", "competitor"} <= topics
    assert quote in note_body
    assert "preferred-language" in demo.people.detail(person_id).custom
    for view in demo.views.all():
        assert demo.lists.count(view.entity_type, view.filter_text) >= 1, view.name


def test_interactions_have_bodies_participants_and_explained_links(demo_path: Path) -> None:
    with _db(demo_path) as db:
        sizes = [
            r[0] for r in db.execute("SELECT length(body) FROM interaction WHERE kind = 'email'")
        ]
        assert min(sizes) >= 800 and max(sizes) <= 2200
        assert 1100 <= sum(sizes) / len(sizes) <= 1800
        kinds = {r[0] for r in db.execute("SELECT DISTINCT kind FROM interaction")}
        assert {"email", "meeting", "call", "offer"} <= kinds
        directions = dict(db.execute(
            "SELECT direction, count(*) FROM interaction WHERE kind = 'email' GROUP BY 1"
        ).fetchall())  # fmt: skip
        assert directions["inbound"] > 1000 and directions["outbound"] > 1000
        assert one(db, "SELECT count(*) FROM interaction WHERE subject LIKE 'Re: %'") > 300
        unlinked = one(
            db, "SELECT count(*) FROM interaction i WHERE NOT EXISTS "
            "(SELECT 1 FROM interaction_link l WHERE l.interaction_id = i.id)"
        )  # fmt: skip
        assert unlinked == 0
        mismatched = one(
            db, """SELECT count(*) FROM interaction_link l JOIN interaction i
                   ON i.id = l.interaction_id
                   WHERE l.occurred_at != i.occurred_at OR l.kind != i.kind
                      OR l.direction != i.direction""",
        )  # fmt: skip
        assert mismatched == 0
        assert one(db, "SELECT count(*) FROM interaction_link WHERE reason = ''") == 0
        linked_types = {
            r[0] for r in db.execute("SELECT DISTINCT entity_type FROM interaction_link")
        }
        assert linked_types == {"person", "company", "deal"}
        multi = one(
            db, """SELECT count(*) FROM (SELECT interaction_id FROM interaction_participant
                   WHERE role = 'attendee' AND person_id IS NOT NULL
                   GROUP BY interaction_id HAVING count(*) > 1)"""
        )  # fmt: skip
        assert multi >= 10
        assert one(db, "SELECT count(*) FROM interaction WHERE status = 'cancelled'") == 1
        assert one(
            db, "SELECT is_touch FROM interaction_link l JOIN interaction i "
            "ON i.id = l.interaction_id WHERE i.status = 'cancelled' LIMIT 1"
        ) == 0  # fmt: skip


# ------------------------------------------------------------- the stories it tells


def test_relationships_going_cold_and_quietly_fine_are_in_the_stored_stats(
    demo_path: Path,
) -> None:
    with _db(demo_path) as db:
        rows = db.execute(
            """SELECT display_name, title, rhythm_days, last_touch_at FROM person
               WHERE rhythm_days IS NOT NULL"""
        ).fetchall()
    silent = {name: ((NOW_MS - last) / DAY_MS, rhythm, title) for name, title, rhythm, last in rows}
    going_cold = [
        n for n, (days, rhythm, _) in silent.items() if rhythm <= 14 and days >= 3 * rhythm
    ]
    quietly_fine = [n for n, (days, rhythm, _) in silent.items() if rhythm >= 60 and days < rhythm]
    assert going_cold and quietly_fine
    # The key account's head of procurement: a two-week rhythm, silent for 45 days.
    _days, rhythm, _ = next(v for v in silent.values() if v[2] == "Head of Procurement"
                           and 44 <= v[0] <= 46)  # fmt: skip
    assert 12 <= rhythm <= 16
    # Every rhythm class is present.
    rhythms = [r for _, r, _ in silent.values()]
    assert min(rhythms) <= 8 and any(25 <= r <= 35 for r in rhythms) and max(rhythms) >= 80


def test_my_day_has_meetings_today_and_tomorrow_with_people_we_know(demo_path: Path) -> None:
    with _db(demo_path) as db:

        def meetings(start: int) -> list[tuple[str, str, int]]:
            return db.execute(
                """SELECT id, status, occurred_at FROM interaction WHERE kind = 'meeting'
                   AND occurred_at >= ? AND occurred_at < ? AND status != 'cancelled'""",
                (start, start + DAY_MS),
            ).fetchall()

        today = meetings(TODAY_MS)
        tomorrow = meetings(TODAY_MS + DAY_MS)
        later = meetings(TODAY_MS + 2 * DAY_MS) + meetings(TODAY_MS + 3 * DAY_MS)
        assert len(today) >= 2 and len(tomorrow) >= 2
        assert any(status == "planned" and at > NOW_MS for _, status, at in today)
        assert all(status == "planned" for _, status, _ in tomorrow + later)
        for meeting_id, _, _ in today + tomorrow:
            known = db.execute(
                """SELECT p.touch_count FROM interaction_participant ip
                   JOIN person p ON p.id = ip.person_id
                   WHERE ip.interaction_id = ? AND ip.role = 'attendee'""",
                (meeting_id,),
            ).fetchall()
            assert known and all(count >= 3 for (count,) in known)


def test_open_tasks_include_overdue_and_due_today(demo_path: Path) -> None:
    with _db(demo_path) as db:
        overdue = one(db, "SELECT count(*) FROM task WHERE done_at IS NULL AND due_at < ?",
                      TODAY_MS)  # fmt: skip
        due_today = one(
            db, "SELECT count(*) FROM task WHERE done_at IS NULL AND due_at >= ? AND due_at < ?",
            TODAY_MS, TODAY_MS + DAY_MS,
        )  # fmt: skip
        done = one(db, "SELECT count(*) FROM task WHERE done_at IS NOT NULL")
    assert overdue >= 1 and due_today >= 1 and done >= 5


# ----------------------------------------------------------- derived state and health


def test_demo_book_is_healthy_and_its_search_index_in_step(demo: Services) -> None:
    report = demo.maintenance.check()
    assert report.healthy, report.problems
    assert report.counts["person"] == 300
    with _db(demo.book.path) as db:
        assert one(db, "SELECT count(*) FROM outbox") == 0  # sample data, not pending edits
        assert one(db, "PRAGMA journal_mode") == "wal"
        # Every interaction is in the full-text index (its rowid is seq).
        assert one(db, "SELECT count(*) FROM fts_interaction_docsize") == one(
            db, "SELECT count(*) FROM interaction"
        )
        people_counts = db.execute(
            """SELECT c.people_count, (SELECT count(*) FROM person p WHERE p.company_id = c.id)
               FROM company c"""
        ).fetchall()
    assert all(stored == actual for stored, actual in people_counts)


def test_search_finds_a_demo_person_by_a_prefix_of_their_name(demo: Services) -> None:
    with _db(demo.book.path) as db:
        person_id, given, family = db.execute(
            "SELECT id, given_name, family_name FROM person WHERE title = 'Head of Procurement' "
            "ORDER BY created_at LIMIT 1"
        ).fetchone()
    results = demo.search.query(f"{given} {family[:3]}", kinds=("person",))
    assert person_id in [hit.id for hit in results.hits]
    mail = demo.search.query("quarterly review", kinds=("interaction",))
    assert mail.hits


def test_touch_statistics_equal_what_the_storage_layer_computes(
    demo_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.relbook"
    shutil.copyfile(demo_path, copy)
    columns = (
        "id, touch_count, first_touch_at, last_touch_at, last_inbound_at, last_outbound_at, "
        "inbound_count, outbound_count, rhythm_days, last_two_way_at, touch_days, "
        "touch_weight_30, touch_weight_180, strength"
    )
    connection = sqlite3.connect(copy, isolation_level=None)
    try:

        def snapshot() -> list[tuple[object, ...]]:
            rows = []
            for table in ("person", "company"):
                rows += connection.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()
            rows += connection.execute(
                "SELECT * FROM company_month ORDER BY company_id, month"
            ).fetchall()
            return rows

        before = snapshot()
        assert sum(1 for row in before if row[1]) > 250
        ids = [
            r[0]
            for r in connection.execute(
                "SELECT DISTINCT entity_id FROM interaction_link WHERE entity_type = 'person'"
            )
        ]
        ids += [r[0] for r in connection.execute(
            "SELECT DISTINCT entity_id FROM interaction_link WHERE entity_type = 'company'")]  # fmt: skip
        connection.execute("BEGIN")
        touch.refresh(connection, ids, NOW_MS)
        connection.execute("COMMIT")
        assert snapshot() == before
    finally:
        connection.close()


# ------------------------------------------------------------- other ways to build


def test_a_small_scale_builds_a_complete_healthy_book(tmp_path: Path) -> None:
    path = tmp_path / "small.relbook"
    summary = build_demo_book(path, clock=FixedClock(NOW), scale=0.1)
    assert summary.rows["person"] == DemoCounts.for_scale(0.1).people
    assert summary.rows["interaction"] >= 200
    clock = FixedClock(NOW)
    ctx = Services(open_book(path, clock), clock)
    try:
        assert ctx.maintenance.check().healthy
    finally:
        ctx.close()


def test_fill_an_open_empty_book_once(services: Services) -> None:
    seen: list[tuple[float, str]] = []
    summary = services.demo.fill(scale=0.1, progress=lambda f, m: seen.append((f, m)))
    assert summary.rows["person"] == services.maintenance.check().counts["person"]
    assert services.maintenance.check().healthy
    assert seen[-1][0] == 1.0 and [f for f, _ in seen] == sorted(f for f, _ in seen)
    with pytest.raises(UserError, match="empty book"):
        services.demo.fill(scale=0.1)
    assert services.maintenance.check().counts["person"] == summary.rows["person"]


def test_a_cancelled_build_leaves_nothing_behind(tmp_path: Path, services: Services) -> None:
    path = tmp_path / "cancelled.relbook"
    calls = iter(range(1000))
    with pytest.raises(DemoCancelled):
        build_demo_book(path, clock=FixedClock(NOW), cancel=lambda: next(calls) > 5)
    assert not path.exists() and not building_path(path).exists()
    assert list(tmp_path.iterdir()) == [services.book.path] or not any(
        p.name.startswith(".") for p in tmp_path.iterdir()
    )
    # Cancelling the fill of an open book rolls it back: still empty, still healthy.
    calls = iter(range(1000))
    with pytest.raises(DemoCancelled):
        services.demo.fill(scale=0.1, cancel=lambda: next(calls) > 3)
    report = services.maintenance.check()
    assert report.counts["person"] == 0 and report.healthy


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    path = tmp_path / "mine.relbook"
    path.write_bytes(b"precious")
    with pytest.raises(UserError, match="already exists"):
        build_demo_book(path, clock=FixedClock(NOW), scale=0.05)
    assert path.read_bytes() == b"precious"
    build_demo_book(path, clock=FixedClock(NOW), scale=0.05, force=True)
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_relbook_demo_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.relbook"
    assert main(["demo", "--out", str(path), "--scale", "0.05", "--seed", "7"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert str(path) in out and "people" in out and "relbook --book" in out
    assert "100.0%" in err  # progress on stderr
    assert path.exists()
    assert main(["demo", "--out", str(path), "--scale", "0.05"]) == EXIT_USER
    assert "--force" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "x.relbook"), "--scale", "0"]) == EXIT_USER
    assert "scale" in capsys.readouterr().err


def test_the_book_day_follows_the_clock(tmp_path: Path) -> None:
    later = NOW + timedelta(days=40)
    path = tmp_path / "later.relbook"
    build_demo_book(path, clock=FixedClock(later), scale=0.1)
    today = to_millis(later) // DAY_MS * DAY_MS
    with _db(path) as db:
        assert one(
            db, "SELECT count(*) FROM interaction WHERE kind = 'meeting' AND occurred_at >= ? "
            "AND occurred_at < ?", today, today + DAY_MS,
        ) >= 2  # fmt: skip
        assert one(db, "SELECT max(occurred_at) FROM interaction WHERE status = 'done'") <= (
            to_millis(later)
        )
