"""``make bench``: build (once) the benchmark book, measure everything, print and save.

    python -m benchmarks.run                      # the heavy rep's book (scale 200)
    python -m benchmarks.run --scale 10 --only search,timeline
    make bench BENCH_ARGS="--scale 50 --runs 3"

Read-only measurements run first on a working copy of the cached book (size on the
cached book itself), then the ones that write to the copy (ingest, IMAP, UI stalls).
A group that crashes is reported as skipped with its error; the others still run.
The table goes to stdout, the JSON (rows, details, machine, arguments) to
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.book import CACHE, ROOT, BenchBook, cached_book, working_copy
from benchmarks.core import MEASUREMENTS, Results, Row, at_most, median, table

RESULTS = ROOT / "benchmarks" / "results"
STALL_LIMIT_MS = 50.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Relbook's benchmark: the app against raw SQLite on the same book.",
    )
    parser.add_argument("--scale", type=float, default=200, help="demo scale (200: 1M mails)")
    parser.add_argument("--seed", type=int, default=2026, help="demo generator seed")
    parser.add_argument(
        "--only", default="", help=f"comma-separated groups, of: {','.join(MEASUREMENTS)}"
    )
    parser.add_argument("--skip", default="", help="comma-separated groups to leave out")
    parser.add_argument("--runs", type=int, default=5, help="start-up, list and insight runs")
    parser.add_argument("--queries", type=int, default=50, help="search queries per class (×6)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per query (best kept)")
    parser.add_argument("--entities", type=int, default=50, help="timelines: busiest + random")
    parser.add_argument("--messages", type=int, default=20_000, help="Maildir ingest messages")
    parser.add_argument("--imap-messages", type=int, default=5_000, help="IMAP sync messages")
    parser.add_argument("--sync-messages", type=int, default=10_000, help="UI stall sync size")
    parser.add_argument("--typed", type=int, default=5, help="stalls: queries typed per class")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--cache", type=Path, default=CACHE, help="benchmark book cache")
    parser.add_argument("--work", type=Path, default=None, help="folder for working copies")
    parser.add_argument("--rebuild", action="store_true", help="build the book again")
    args = parser.parse_args(argv)
    groups = [g for g in args.only.split(",") if g] or list(MEASUREMENTS)
    unknown = sorted(set(groups + [g for g in args.skip.split(",") if g]) - set(MEASUREMENTS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(MEASUREMENTS)}")
    args.groups = [g for g in MEASUREMENTS if g in groups and g not in args.skip.split(",")]
    return args


# ------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    from importlib import metadata

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "benchmarks", "migrations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    versions = {}
    for package in ("PySide6-Essentials", "SQLAlchemy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = ""
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **versions,
        "commit": commit + ("+changes" if dirty else ""),
        "load_before": os.getloadavg()[0],
    }


def describe_machine(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu'] or platform.machine()}, {info['cores']} cores, "
        f"{info['memory_gb']:g} GB RAM; {info['platform']}; Python {info['python']}, "
        f"SQLite {info['sqlite']}, PySide6 {info['PySide6-Essentials']}; commit {info['commit']}"
    )


# ------------------------------------------------------------------ child probes


def ui_probe(mode: str, book: Path, bench: BenchBook, extra: list[str]) -> dict[str, Any]:
    """Run ``benchmarks.ui`` in a fresh offscreen process; its RESULT line, parsed."""
    from benchmarks.startup import qt_env
    from benchmarks.ui import RESULT

    home = Path(tempfile.mkdtemp(prefix="relbook-bench-home-"))
    args = [sys.executable, "-m", "benchmarks.ui", mode, "--book", str(book)]
    args += ["--built-at", bench.built_at.isoformat(), "--seed", str(bench.seed), *extra]
    try:
        done = subprocess.run(
            args,
            env=qt_env(home),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=7200,
            check=False,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT):
            return dict(json.loads(line[len(RESULT) :]))
    raise RuntimeError(
        f"benchmarks.ui {mode} exited with {done.returncode} and no result:\n"
        f"{(done.stdout + done.stderr)[-3000:]}"
    )


def run_lists(book: Path, bench: BenchBook, results: Results, runs: int) -> None:
    data = ui_probe("lists", book, bench, ["--runs", str(max(1, runs // 2))])
    app, raw = data["app"], data["raw"]
    rows = app[0]["rows"]
    for key, label in (
        ("first_paint_ms", f"People list ({rows:,} rows): first paint"),
        ("to_end_ms", "People list: scroll to the end → last rows painted"),
    ):
        results.add(
            Row(
                "lists",
                f"lists.people.{key.removesuffix('_ms')}",
                label,
                median(r[key] for r in app),
                "ms",
                baseline=median(r[key] for r in raw),
                note="raw: bare QTableView, same blocks read with sqlite3 on the UI thread",
            )
        )
    results.details["lists"] = data


def run_stalls(
    book: Path, bench: BenchBook, results: Results, messages: int, queries: list[str]
) -> None:
    data = ui_probe(
        "stalls",
        book,
        bench,
        ["--messages", str(messages), "--queries", json.dumps(queries)],
    )
    if "skipped" in data:
        for key, label in (("sync", "during a background sync"), ("typing", "while typing")):
            results.skip("stalls", f"stalls.{key}", f"Longest UI stall {label}", data["skipped"])
        return
    idle = data["idle"]["longest_ms"]
    for key, label in (
        ("sync", f"Longest UI stall: sync of {data['stored']:,} messages, My Day open"),
        ("typing", f"Longest UI stall: typing in search ({data['searches_shown']} results shown)"),
    ):
        value = data[key]["longest_ms"]
        results.add(
            Row(
                "stalls",
                f"stalls.{key}",
                label,
                value,
                "ms",
                baseline=idle,
                target=f"≤ {STALL_LIMIT_MS:g} ms",
                passed=at_most(value, STALL_LIMIT_MS)
                if key != "sync" or data["stored"] == messages
                else False,
                note="raw: the same detector with the window idle",
            )
        )
    results.details["stalls"] = data


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    info = machine()
    print(f"Machine: {describe_machine(info)}", flush=True)
    bench = cached_book(args.scale, args.seed, cache=args.cache, rebuild=args.rebuild)
    results = Results()
    results.details["book"] = {
        "scale": bench.scale,
        "seed": bench.seed,
        "built_at": bench.built_at.isoformat(),
        "build_seconds": bench.build_seconds,
        "rows": bench.rows,
        "bytes": bench.path.stat().st_size,
    }
    work = Path(tempfile.mkdtemp(prefix="relbook-bench-", dir=args.work))
    try:
        measure(args, bench, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print()
    print(table(results))
    path = save(args, bench, info, results, elapsed)
    failed = [row.label for row in results.rows if row.passed is False]
    print(f"\n{len(results.rows)} rows, {len(failed)} FAIL; {elapsed:.0f} s; saved to {path}")
    return 0


def measure(args: argparse.Namespace, bench: BenchBook, work: Path, results: Results) -> None:
    from relbook.app import open_services

    groups = set(args.groups)

    def group(name: str, fn: Callable[[], None]) -> None:
        if name not in groups:
            return
        print(f"Measuring {name}…", flush=True)
        begun = time.monotonic()
        try:
            fn()
        except Exception as error:  # one broken group must not lose the others
            traceback.print_exc()
            results.skip(
                name, f"{name}.error", f"{name} (failed)", f"{type(error).__name__}: {error}"
            )
        print(f"  {name} took {time.monotonic() - begun:.0f} s", flush=True)

    from benchmarks import reads, search, size, startup

    group("size", lambda: size.run(bench.path, results, interactions=bench.interactions))
    book = working_copy(bench, work / "book")
    services = open_services(book, clock=bench.clock)
    queries: list[str] = []
    try:
        group(
            "search",
            lambda: search.run(
                services, results, per_class=args.queries, seed=args.seed, repeat=args.repeat
            ),
        )
        group(
            "timeline",
            lambda: reads.run_timeline(
                services, results, each=args.entities, seed=args.seed, repeat=args.repeat
            ),
        )
        group("insight", lambda: reads.run_insight(services, results, runs=args.runs))
        group("lists", lambda: run_lists(book, bench, results, args.runs))
        group("startup", lambda: startup.run(book, results, runs=args.runs))
        group("ingest", lambda: run_ingest(services, bench, work, results, args.messages))
        group("imap", lambda: run_imap(services, bench, results, args.imap_messages))
        if "stalls" in groups:
            typed = search.make_queries(services.book.reader(), args.typed, args.seed + 1)
            queries = [q for name in search.CLASSES for q in typed.get(name, [])]
    finally:
        services.close()
    group("stalls", lambda: run_stalls(book, bench, results, args.sync_messages, queries))


def _mail(services: Any, bench: BenchBook, count: int, tag: str) -> list[bytes]:
    from benchmarks.mail import contacts_of, make_messages, rep_of

    db = services.book.reader()
    return make_messages(
        rep_of(db), contacts_of(db), count, seed=bench.seed, tag=tag, now=bench.built_at
    )


def run_ingest(services: Any, bench: BenchBook, work: Path, results: Results, count: int) -> None:
    from benchmarks.ingest import run_maildir
    from benchmarks.mail import write_maildir

    folder = write_maildir(work / "Maildir", _mail(services, bench, count, "maildir"))
    try:
        run_maildir(services, results, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_imap(services: Any, bench: BenchBook, results: Results, count: int) -> None:
    from benchmarks.ingest import run_imap as measure_imap

    measure_imap(services, results, _mail(services, bench, count, "imap"))


def save(
    args: argparse.Namespace,
    bench: BenchBook,
    info: dict[str, Any],
    results: Results,
    elapsed: float,
) -> Path:
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = args.results / f"{stamp}-scale{bench.scale:g}.json"
    arguments = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
        if k not in ("results", "cache", "work")
    }
    data = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": elapsed,
        "machine": info,
        "machine_text": describe_machine(info),
        "arguments": arguments,
        "rows": [row.as_json() for row in results.rows],
        "details": results.details,
        "markdown": table(results, markdown=True),
    }
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


if __name__ == "__main__":
    sys.exit(main())
