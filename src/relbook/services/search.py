"""Search across the book as you type: people, companies, deals, interactions, notes.

Recency first, ranked second: each kind fetches its newest matching candidates with an
index walk (``ORDER BY rowid DESC LIMIT k`` — for interactions the rowid is the
time-ordered ``seq``), then ranks those few by bm25 and what the book knows (a name that
starts with the query, how often you talk to them). Ranking every match of a two-letter
prefix across a million messages would cost seconds; this costs milliseconds.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from relbook.domain.clock import from_millis
from relbook.domain.names import comparison_key
from relbook.domain.search_query import SearchQuery, build_query
from relbook.services.base import Service

CANDIDATES = 200
INTERACTION_CANDIDATES = 50
KINDS = ("person", "company", "deal", "interaction", "note")


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: str
    title: str
    subtitle: str
    snippet: str
    when: datetime | None
    score: float


@dataclass(frozen=True)
class SearchGroup:
    kind: str
    hits: tuple[SearchHit, ...]
    more: bool  # more candidates matched than shown


@dataclass(frozen=True)
class SearchResults:
    text: str
    groups: tuple[SearchGroup, ...]

    @property
    def hits(self) -> list[SearchHit]:
        return [hit for group in self.groups for hit in group.hits]

    def first(self, kind: str) -> SearchHit | None:
        return next((h for g in self.groups if g.kind == kind for h in g.hits), None)


def _starts(words: tuple[str, ...], name_key: str) -> float:
    """How well the name matches what was typed: whole-name prefix > a word's prefix."""
    if not words or not name_key:
        return 0.0
    typed = " ".join(words)
    if name_key.startswith(typed):
        return 2.0
    name_words = name_key.split()
    return 1.0 if all(any(n.startswith(w) for n in name_words) for w in words) else 0.0


class SearchService(Service):
    def query(
        self, text: str, *, limit_per_kind: int = 8, kinds: tuple[str, ...] = KINDS
    ) -> SearchResults:
        parsed = build_query(text)
        if parsed is None:
            return SearchResults(text, ())
        db = self.db
        groups = []
        for kind in kinds:
            hits, more = getattr(self, f"_{kind}")(db, parsed, limit_per_kind)
            if hits:
                groups.append(SearchGroup(kind, tuple(hits), more))
        return SearchResults(text, tuple(groups))

    # Each finder returns (hits, more-available).
    def _person(
        self, db: sqlite3.Connection, q: SearchQuery, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT p.id, p.display_name, p.name_key, p.title, coalesce(c.name, ''),
                      p.touch_count, p.last_touch_at, m.score,
                      (SELECT address FROM person_email WHERE person_id = p.id ORDER BY position LIMIT 1)
               FROM (SELECT rowid AS rid, bm25(fts_person, 10.0, 6.0, 3.0, 2.0, 1.0) AS score
                     FROM fts_person WHERE fts_person MATCH ? ORDER BY rowid DESC LIMIT ?) m
               JOIN person p ON p.rowid = m.rid LEFT JOIN company c ON c.id = p.company_id""",
            (q.fts, CANDIDATES + 1),
        ).fetchall()
        scored = []
        for r in rows[:CANDIDATES]:
            score = _starts(q.words, r[2]) * 10 - r[7] + math.log1p(r[5])
            subtitle = " · ".join(x for x in (r[3], r[4]) if x) or (r[8] or "")
            when = None if r[6] is None else from_millis(r[6])
            scored.append(SearchHit("person", r[0], r[1], subtitle, r[8] or "", when, score))
        scored.sort(key=lambda h: -h.score)
        return scored[:limit], len(rows) > limit

    def _company(
        self, db: sqlite3.Connection, q: SearchQuery, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT c.id, c.name, c.name_key, c.industry, c.people_count, c.touch_count,
                      c.last_touch_at, m.score,
                      (SELECT domain FROM company_domain WHERE company_id = c.id ORDER BY position LIMIT 1)
               FROM (SELECT rowid AS rid, bm25(fts_company, 10.0, 5.0, 1.0) AS score
                     FROM fts_company WHERE fts_company MATCH ? ORDER BY rowid DESC LIMIT ?) m
               JOIN company c ON c.rowid = m.rid""",
            (q.fts, CANDIDATES + 1),
        ).fetchall()
        scored = []
        for r in rows[:CANDIDATES]:
            score = _starts(q.words, r[2]) * 10 - r[7] + math.log1p(r[5])
            people = f"{r[4]} people" if r[4] else ""
            subtitle = " · ".join(x for x in (r[8] or "", r[3], people) if x)
            when = None if r[6] is None else from_millis(r[6])
            scored.append(SearchHit("company", r[0], r[1], subtitle, "", when, score))
        scored.sort(key=lambda h: -h.score)
        return scored[:limit], len(rows) > limit

    def _deal(
        self, db: sqlite3.Connection, q: SearchQuery, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT d.id, d.title, coalesce(c.name, ''), s.name, d.status, d.updated_at, m.score
               FROM (SELECT rowid AS rid, bm25(fts_deal, 10.0, 4.0, 1.0) AS score
                     FROM fts_deal WHERE fts_deal MATCH ? ORDER BY rowid DESC LIMIT ?) m
               JOIN deal d ON d.rowid = m.rid JOIN stage s ON s.id = d.stage_id
               LEFT JOIN company c ON c.id = d.company_id""",
            (q.fts, CANDIDATES + 1),
        ).fetchall()
        scored = []
        for r in rows[:CANDIDATES]:
            open_bonus = 2.0 if r[4] == "open" else 0.0
            score = _starts(q.words, comparison_key(r[1])) * 10 - r[6] + open_bonus
            subtitle = " · ".join(x for x in (r[2], r[3] if r[4] == "open" else r[4]) if x)
            scored.append(SearchHit("deal", r[0], r[1], subtitle, "", from_millis(r[5]), score))
        scored.sort(key=lambda h: -h.score)
        return scored[:limit], len(rows) > limit

    def _interaction(
        self, db: sqlite3.Connection, q: SearchQuery, limit: int
    ) -> tuple[list[SearchHit], bool]:
        # Newest first: the seq rowid is time-ordered, so this stops after k matches.
        candidates = db.execute(
            """SELECT rowid, bm25(fts_interaction, 4.0, 1.0) FROM fts_interaction
               WHERE fts_interaction MATCH ? ORDER BY rowid DESC LIMIT ?""",
            (q.fts, INTERACTION_CANDIDATES + 1),
        ).fetchall()
        if not candidates:
            return [], False
        more = len(candidates) > INTERACTION_CANDIDATES
        candidates = candidates[:INTERACTION_CANDIDATES]
        newest = candidates[0][0]
        # Ranked second pass: relevance, gently decayed by age (~ one point per 90 days).
        ranked = sorted(
            candidates,
            key=lambda c: c[1] + (newest - c[0]) / (1024 * 1000 * 86400 * 90),
        )[:limit]
        seqs = [c[0] for c in ranked]
        marks = ",".join("?" * len(seqs))
        rows = {
            r[0]: r
            for r in db.execute(
                f"""SELECT i.seq, i.id, i.kind, i.subject, i.occurred_at, i.direction,
                           (SELECT coalesce(nullif(name, ''), address) FROM interaction_participant
                            WHERE interaction_id = i.id AND role IN ('from', 'organizer') LIMIT 1),
                           snippet(fts_interaction, 1, '[', ']', '…', 12)
                    FROM fts_interaction f JOIN interaction i ON i.seq = f.rowid
                    WHERE fts_interaction MATCH ? AND f.rowid IN ({marks})""",
                (q.fts, *seqs),
            )
        }
        hits = []
        for position, seq in enumerate(seqs):
            r = rows.get(seq)
            if r is None:
                continue
            when = from_millis(r[4])
            subtitle = " · ".join(x for x in (r[2], r[6] or "", f"{when:%Y-%m-%d}") if x)
            hits.append(
                SearchHit(
                    "interaction", r[1], r[3] or f"({r[2]})", subtitle, r[7] or "", when, -position
                )
            )
        return hits, more

    def _note(
        self, db: sqlite3.Connection, q: SearchQuery, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT n.id, substr(n.body, 1, 80), n.occurred_at,
                      coalesce(p.display_name, c.name, d.title, ''),
                      snippet(fts_note, 0, '[', ']', '…', 12)
               FROM fts_note JOIN note n ON n.rowid = fts_note.rowid
               LEFT JOIN person p ON p.id = n.person_id LEFT JOIN company c ON c.id = n.company_id
               LEFT JOIN deal d ON d.id = n.deal_id
               WHERE fts_note MATCH ? ORDER BY fts_note.rowid DESC LIMIT ?""",
            (q.fts, limit + 1),
        ).fetchall()
        hits = [
            SearchHit("note", r[0], " ".join(r[1].split()), r[3], r[4], from_millis(r[2]), 0.0)
            for r in rows[:limit]
        ]
        return hits, len(rows) > limit
