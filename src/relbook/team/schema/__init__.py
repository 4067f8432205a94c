"""Versioned SQL of the team server, applied in order like the book's migrations.

Each module ``vNNNN_name.py`` holds ``VERSION`` and ``SQL``; ``relbook.schema_version``
records what a server has. The SQL is a template: ``{owner}`` is the NOLOGIN role that owns
every object and ``{reps}`` the group role every rep's login role belongs to (both quoted
identifiers). Released versions are never edited: add a new module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

# In order. Listed, not discovered: a frozen (PyInstaller) app cannot list its modules.
MODULES: tuple[str, ...] = ("v0001_initial",)


@dataclass(frozen=True)
class ServerMigration:
    version: int
    name: str
    sql: str


def migrations() -> list[ServerMigration]:
    found: list[ServerMigration] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        found.append(ServerMigration(int(module.VERSION), name, str(module.SQL)))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"team server migrations are not numbered 1..n: {versions}")
    return found


def head() -> int:
    return migrations()[-1].version
