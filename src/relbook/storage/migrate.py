"""Schema versions: reading a book's revision cheaply, and upgrading it with Alembic.

``SCHEMA_REVISIONS`` lists every released revision in order (a test checks it against the
scripts in ``migrations/``). Reading the revision needs only sqlite3, so opening an
up-to-date book never imports Alembic or SQLAlchemy (start-up time).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

SCHEMA_REVISIONS: tuple[str, ...] = ("0001", "0002")
SCHEMA_HEAD = SCHEMA_REVISIONS[-1]


def migrations_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "migrations"
    return Path(__file__).resolve().parents[3] / "migrations"


def current_revision(connection: sqlite3.Connection) -> str | None:
    """The book's revision, or None for a file with no schema yet."""
    has_table = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_table:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def is_blank(connection: sqlite3.Connection) -> bool:
    count: int = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return count == 0


def upgrade(path: str, target: str = "head") -> None:
    """Run the Alembic upgrade on the book at ``path`` (the caller backed it up)."""
    from alembic import command
    from alembic.config import Config

    from relbook.storage.session import make_engine

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, target)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(
                    f"migration left {len(broken)} dangling references: {broken[:5]}"
                )
    finally:
        engine.dispose()


def script_revisions() -> list[str]:
    """Revisions as the scripts in ``migrations/`` define them, oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    scripts = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
