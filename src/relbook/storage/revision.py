"""Write a new schema migration: ``python -m relbook.storage.revision "what changed"``.

A scratch book is built at the current head, Alembic compares it with the models and writes
``migrations/versions/NNNN_<slug>.py`` (batch mode). Review the script by hand, add the
revision to ``SCHEMA_REVISIONS`` in ``storage/migrate.py``, and once released write its
fixture book with ``python -m tests.fixtures.make_fixture_book``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from relbook.storage.migrate import SCHEMA_HEAD, migrations_dir


def next_revision_id(head: str) -> str:
    return f"{int(head) + 1:04d}"


def slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"


def write_revision(message: str) -> Path:
    from alembic import command
    from alembic.config import Config

    from relbook.domain.clock import SystemClock
    from relbook.storage.book import open_book
    from relbook.storage.session import make_engine

    revision_id = next_revision_id(SCHEMA_HEAD)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "head.relbook"
        open_book(path, SystemClock(), create=True).close()
        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        config.set_main_option("file_template", f"{revision_id}_{slug(message)}")
        engine = make_engine(str(path), foreign_keys=False)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.revision(config, message=message, autogenerate=True, rev_id=revision_id)
        finally:
            engine.dispose()
    return migrations_dir() / "versions" / f"{revision_id}_{slug(message)}.py"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: python -m relbook.storage.revision "what changed"', file=sys.stderr)
        return 2
    written = write_revision(argv[0])
    print(f"wrote {written}; add {written.name[:4]!r} to SCHEMA_REVISIONS and review it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
