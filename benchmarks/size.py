"""Size: the book's bytes per 1,000 interactions, next to its raw tables + FTS.

Raw = the pages of the rows themselves: every ordinary table's b-tree and the FTS5
shadow tables (what any schema holding the same rows and the same search index needs).
The rest of the file is what Relbook adds on top: secondary and constraint indexes, and
free pages. Counted with SQLite's ``dbstat`` (every page, summed per b-tree) on the cached
benchmark book, read-only, after a checkpoint (the cache holds no WAL).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.core import Results, Row, at_most

SIZE_RATIO = 1.3
MB = 1_000_000


def btree_sizes(path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Bytes per b-tree (``dbstat``) and each b-tree's kind: table, fts or index."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sizes = {
            name: int(size)
            # Page by page, summed here: dbstat's aggregate mode overflows past 2 GB.
            for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
        }
        fts = {
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE "
                "'CREATE VIRTUAL TABLE%USING fts5%'"
            )
        }
        kinds: dict[str, str] = {}
        for name, kind in db.execute("SELECT name, type FROM sqlite_schema"):
            shadow = any(name.startswith(f"{table}_") for table in fts)
            kinds[name] = "fts" if shadow else ("index" if kind == "index" else "table")
        kinds.setdefault("sqlite_schema", "table")
        return sizes, kinds
    finally:
        db.close()


def run(path: Path, results: Results, *, interactions: int) -> None:
    sizes, kinds = btree_sizes(path)
    file_bytes = path.stat().st_size
    for suffix in ("-wal",):
        extra = Path(str(path) + suffix)
        if extra.exists():
            file_bytes += extra.stat().st_size
    by_kind: dict[str, int] = {"table": 0, "fts": 0, "index": 0}
    for name, size in sizes.items():
        by_kind[kinds.get(name, "table")] += size
    raw = by_kind["table"] + by_kind["fts"]
    per_thousand = max(1, interactions) / 1000
    value = file_bytes / MB / per_thousand
    baseline = raw / MB / per_thousand
    results.add(
        Row(
            "size",
            "size.per_1k_interactions",
            f"Book size per 1,000 interactions ({file_bytes / MB:,.0f} MB in all)",
            value,
            "MB",
            baseline=baseline,
            target=f"≤ {SIZE_RATIO:g}× raw tables + FTS",
            passed=at_most(value / baseline, SIZE_RATIO) if baseline else None,
            note="raw: table b-trees + FTS5 shadow tables (dbstat); the rest is indexes",
        )
    )
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:15]
    results.details["size"] = {
        "file_bytes": file_bytes,
        "table_bytes": by_kind["table"],
        "fts_bytes": by_kind["fts"],
        "index_bytes": by_kind["index"],
        "free_bytes": file_bytes - sum(sizes.values()),
        "interactions": interactions,
        "largest": dict(largest),
    }
