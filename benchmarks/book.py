"""The benchmark book: built once per (scale, seed, schema, generator), cached, copied.

The cache key hashes the migrations and the demo generator's sources, so a schema or
generator change builds a new book instead of measuring a stale one. A small JSON file
next to the book records when it was built: measurements run with a clock fixed at that
moment, so "going cold" and "today" mean the same thing on every run over the same book.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from relbook.domain.clock import FixedClock

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"


def fingerprint() -> str:
    """What the book's content depends on besides scale and seed."""
    digest = hashlib.sha256()
    sources = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    sources += sorted((ROOT / "src" / "relbook" / "services" / "demo").glob("*.py"))
    sources += [ROOT / "src" / "relbook" / "storage" / "search_ddl.py"]
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class BenchBook:
    path: Path
    scale: float
    seed: int
    built_at: datetime
    build_seconds: float
    rows: dict[str, int]

    @property
    def clock(self) -> FixedClock:
        return FixedClock(self.built_at)

    @property
    def interactions(self) -> int:
        return int(self.rows.get("interaction", 0))


def _meta_path(book: Path) -> Path:
    return book.with_suffix(".json")


def cached_book(
    scale: float, seed: int, *, cache: Path = CACHE, rebuild: bool = False, log=print
) -> BenchBook:
    """The benchmark book for ``scale``/``seed``, building it when it is not cached."""
    from relbook.services.demo import build_demo_book

    cache.mkdir(parents=True, exist_ok=True)
    name = f"bench-s{scale:g}-seed{seed}-{fingerprint()}"
    path = cache / f"{name}.relbook"
    meta = _meta_path(path)
    if path.exists() and meta.exists() and not rebuild:
        data = json.loads(meta.read_text())
        log(f"Using the cached benchmark book {path.name}")
        return BenchBook(
            path,
            scale,
            seed,
            datetime.fromisoformat(data["built_at"]),
            float(data["seconds"]),
            {k: int(v) for k, v in data["rows"].items()},
        )
    for stale in cache.glob(f"bench-s{scale:g}-seed{seed}-*"):
        stale.unlink()  # an older schema or generator: never measured again
    log(f"Building the benchmark book at scale {scale:g} (seed {seed}); this is done once…")
    built_at = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    summary = build_demo_book(path, clock=FixedClock(built_at), seed=seed, scale=scale, force=True)
    seconds = time.monotonic() - started
    meta.write_text(
        json.dumps(
            {"built_at": built_at.isoformat(), "seconds": seconds, "rows": summary.rows}, indent=1
        )
    )
    log(f"  built in {seconds:.0f} s: {summary.describe()}")
    return BenchBook(path, scale, seed, built_at, seconds, dict(summary.rows))


def working_copy(book: BenchBook, folder: Path) -> Path:
    """A copy to measure on (ingest and the app write to it; the cache stays pristine)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "book.relbook"
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(book.path, target)
    return target
