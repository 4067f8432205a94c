"""Every released schema upgrades to the current one without losing anything."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from tests.conftest import NOW

from relbook.domain.clock import FixedClock
from relbook.services.context import Services
from relbook.storage import backup, migrate
from relbook.storage.book import integrity_problems, open_book

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "books").glob("schema-*.relbook"))


def _schema(path: Path) -> set[tuple[str, str, str]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    finally:
        connection.close()
    return {(t, n, " ".join((s or "").split())) for t, n, s in rows}


def test_the_revision_list_matches_the_migration_scripts() -> None:
    assert list(migrate.SCHEMA_REVISIONS) == migrate.script_revisions()


def test_the_models_and_the_migrations_describe_the_same_schema(template_book: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from relbook.storage.models import Base

    engine = create_engine(f"sqlite:///{template_book}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (
                isinstance(d, tuple)
                and str(d[0]).endswith("_table")
                and str(d[1].name).startswith("fts_")
            )
        ]
    engine.dispose()
    assert differences == []


def test_released_schemas_have_fixture_books() -> None:
    released = {p.stem.removeprefix("schema-") for p in FIXTURES}
    assert migrate.SCHEMA_REVISIONS[0] in released


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_a_fixture_book_opens_upgraded_with_its_data(
    fixture: Path, tmp_path: Path, template_book: Path
) -> None:
    path = tmp_path / fixture.name
    shutil.copyfile(fixture, path)
    revision = fixture.stem.removeprefix("schema-")
    book = open_book(path, FixedClock(NOW))
    services = Services(book, FixedClock(NOW))
    person_id = services.people.find_by_address("fiona@fixture.example")
    assert person_id is not None
    person = services.people.detail(person_id)
    assert (person.display_name, person.company_name, person.tags) == (
        "Fiona Fixture",
        "Fixture GmbH",
        ("fixture",),
    )
    assert [p.value for p in person.phones] == ["+49301234567"]
    assert services.search.query("pricing").first("interaction") is not None
    assert services.search.query("fio").first("person") is not None
    titles = [e.title for e in services.timeline.for_entity(person_id)]
    assert "Fixture call" in titles and "Fixture note about pricing" in titles
    services.close()
    connection = sqlite3.connect(path)
    assert integrity_problems(connection) == []
    assert migrate.current_revision(connection) == migrate.SCHEMA_HEAD
    connection.close()
    assert _schema(path) == _schema(template_book)
    if revision != migrate.SCHEMA_HEAD:
        assert any(b.reason == f"pre-migrate-{revision}" for b in backup.list_backups(path))
