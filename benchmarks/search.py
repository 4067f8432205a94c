"""Search as you type: the app's search service against raw FTS5 on the same file.

Queries are drawn from the book itself (deterministically): two-letter prefixes,
3+ letter prefixes, two terms, a quoted phrase, a person's full name, a company domain.
Raw = the same MATCH expression on each of the five FTS5 tables, newest 50 first, joined
to its rows (what a hand-written search-as-you-type does); the service additionally ranks
a second pass, builds snippets and subtitles. Each query runs three times and keeps its
best time (for both sides alike): the p99 then describes the queries, not the neighbours
on a shared machine.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable

from benchmarks.core import Results, Row, at_most, both, median, percentile, timed_ms
from relbook.domain.search_query import build_query
from relbook.services.context import Services
from relbook.storage.pragmas import open_raw

CLASSES = ("prefix2", "prefix3", "two_term", "phrase", "name", "domain")
LABELS = {
    "prefix2": "2-char prefix",
    "prefix3": "3+ char prefix",
    "two_term": "two terms",
    "phrase": "phrase",
    "name": "person's name",
    "domain": "company domain",
}
P99_LIMIT_MS = 50.0
RAW_RATIO = 2.0
RAW_LIMIT = 50
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def _words(texts: list[str]) -> list[list[str]]:
    return [_WORD.findall(text) for text in texts if text]


def make_queries(db: sqlite3.Connection, per_class: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    people = [r[0] for r in db.execute("SELECT display_name FROM person ORDER BY rowid")]
    domains = [r[0] for r in db.execute("SELECT domain FROM company_domain ORDER BY rowid")]
    total = db.execute("SELECT max(rowid) FROM interaction").fetchone()[0] or 1
    step = max(1, total // 3000)
    subjects = [
        r[0]
        for r in db.execute(
            "SELECT subject FROM interaction WHERE rowid % ? = 0 AND subject != ''", (step,)
        )
    ]
    subject_words = [w for w in _words(subjects) if w]
    name_words = [w for w in _words(people) if w]
    vocabulary = sorted({w.lower() for ws in subject_words + name_words for w in ws})

    def pick(items: list[str], n: int) -> list[str]:
        items = sorted(set(items))
        return [rng.choice(items) for _ in range(n)] if items else []

    queries: dict[str, list[str]] = {}
    queries["prefix2"] = pick([w[:2] for w in vocabulary], per_class)
    queries["prefix3"] = pick([w[: rng.randint(3, min(6, len(w)))] for w in vocabulary], per_class)
    pairs, phrases = [], []
    for words in subject_words:
        if len(words) >= 2:
            first, second = rng.sample(words, 2)
            pairs.append(f"{first.lower()} {second.lower()[: max(3, len(second) - 1)]}")
            at = rng.randrange(len(words) - 1)
            phrases.append(f'"{words[at].lower()} {words[at + 1].lower()}"')
    queries["two_term"] = pick(pairs, per_class)
    queries["phrase"] = pick(phrases, per_class)
    queries["name"] = pick(people, per_class)
    queries["domain"] = pick(domains, per_class)
    return queries


RAW_SQL = {
    "person": """SELECT p.id, p.display_name FROM fts_person f JOIN person p ON p.rowid = f.rowid
                 WHERE fts_person MATCH ? ORDER BY f.rowid DESC LIMIT ?""",
    "company": """SELECT c.id, c.name FROM fts_company f JOIN company c ON c.rowid = f.rowid
                  WHERE fts_company MATCH ? ORDER BY f.rowid DESC LIMIT ?""",
    "deal": """SELECT d.id, d.title FROM fts_deal f JOIN deal d ON d.rowid = f.rowid
               WHERE fts_deal MATCH ? ORDER BY f.rowid DESC LIMIT ?""",
    "note": """SELECT n.id, substr(n.body, 1, 80) FROM fts_note f JOIN note n ON n.rowid = f.rowid
               WHERE fts_note MATCH ? ORDER BY f.rowid DESC LIMIT ?""",
    "interaction": """SELECT i.id, i.subject, i.occurred_at FROM fts_interaction f
                      JOIN interaction i ON i.seq = f.rowid
                      WHERE fts_interaction MATCH ? ORDER BY f.rowid DESC LIMIT ?""",
}


def raw_search(db: sqlite3.Connection, text: str) -> int:
    parsed = build_query(text)
    if parsed is None:
        return 0
    found = 0
    for sql in RAW_SQL.values():
        found += len(db.execute(sql, (parsed.fts, RAW_LIMIT)).fetchall())
    return found


def _best(fn: Callable[[], object], repeat: int) -> float:
    return min(timed_ms(fn) for _ in range(repeat))


def run(services: Services, results: Results, *, per_class: int, seed: int, repeat: int) -> None:
    db = services.book.reader()
    # The same connection settings as the app's reader: the ratio measures code, not cache.
    raw_db = open_raw(str(services.book.path), read_only=True)
    search = services.search
    queries = make_queries(db, per_class, seed)
    for texts in queries.values():  # warm: the page cache and both statement caches
        for text in texts[: max(5, len(texts) // 5)]:
            search.query(text)
            raw_search(raw_db, text)
    app: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    for name, texts in queries.items():
        for index, text in enumerate(texts):
            first, second = (
                (lambda t=text: search.query(t), lambda t=text: raw_search(raw_db, t))
                if index % 2 == 0
                else (lambda t=text: raw_search(raw_db, t), lambda t=text: search.query(t))
            )
            a, b = _best(first, repeat), _best(second, repeat)
            app_ms, raw_ms = (a, b) if index % 2 == 0 else (b, a)
            app.setdefault(name, []).append(app_ms)
            raw.setdefault(name, []).append(raw_ms)
    raw_db.close()
    total = sum(len(v) for v in app.values())
    all_app = [v for vs in app.values() for v in vs]
    all_raw = [v for vs in raw.values() for v in vs]
    results.add(
        Row(
            "search", "search.p50.all", f"Search p50 ({total} queries)", median(all_app), "ms",
            baseline=median(all_raw),
        )
    )  # fmt: skip
    for name in CLASSES:
        if not app.get(name):
            results.skip("search", f"search.p99.{name}", f"Search p99 — {LABELS[name]}",
                         "the book has nothing to draw such queries from")  # fmt: skip
            continue
        p99, raw_p99 = percentile(app[name], 0.99), percentile(raw[name], 0.99)
        results.add(
            Row(
                "search",
                f"search.p99.{name}",
                f"Search p99 — {LABELS[name]}",
                p99,
                "ms",
                baseline=raw_p99,
                target=f"≤ {P99_LIMIT_MS:g} ms, ≤ {RAW_RATIO:g}× raw",
                passed=both(at_most(p99, P99_LIMIT_MS), at_most(p99 / raw_p99, RAW_RATIO)),
            )
        )
    slowest = sorted(
        ((ms, name, text) for name, texts in queries.items()
         for ms, text in zip(app[name], texts, strict=True)),
        reverse=True,
    )[:10]  # fmt: skip
    results.details["search"] = {
        "queries": {k: len(v) for k, v in queries.items()},
        "repeat": repeat,
        "p50_ms": {k: median(v) for k, v in app.items()},
        "raw_p50_ms": {k: median(v) for k, v in raw.items()},
        "p99_ms": {k: percentile(v, 0.99) for k, v in app.items()},
        "raw_p99_ms": {k: percentile(v, 0.99) for k, v in raw.items()},
        "slowest": [{"ms": ms, "class": name, "query": text} for ms, name, text in slowest],
    }
