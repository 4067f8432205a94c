"""Search across the book as you type: people, companies, deals, interactions, notes.

Recency first, ranked second: each kind fetches its newest matching candidates with an
index walk (``ORDER BY rowid DESC LIMIT k`` — for interactions the rowid is the
time-ordered ``seq``), then ranks those few in Python by what the book knows (a name that
starts with the query, how often you talk to them, the words in a message's subject).

A prefix of four letters or more is written out as the words of each index that start
with it (``SearchQuery.expanded``, ``storage.search_terms``): FTS5 would otherwise read the
postings of all those words before returning the first row (≈150 ms for a common word's
prefix over a million messages). The expansion matches exactly the same rows; the whole
query runs in one read transaction so the words and the rows come from the same commit.

FTS5's ``bm25()`` is not used: its IDF counts every match of each term in the whole
index, whatever the LIMIT — seconds for a common prefix across a million messages
(benchmark, issue 7). What the shown hits need besides (an e-mail address, a sender, a
snippet) is read for those few rows only.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from relbook.domain.clock import from_millis
from relbook.domain.search_query import SearchQuery, build_query, fold, strip_marks
from relbook.services.base import Service
from relbook.storage.search_ddl import FTS_TABLES
from relbook.storage.search_terms import words_with_prefix

CANDIDATES = 50
INTERACTION_CANDIDATES = 50
KINDS = ("person", "company", "deal", "interaction", "note")
SNIPPET_TOKENS = 12
_TOKEN = re.compile(r"\w+", re.UNICODE)
_PUNCTUATION = re.compile(r"[^\w\s]")
# Combining marks (accents) as NFKD leaves them: dropped to test a whole text at C speed.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]+")
# Before the first match: room for the snippet's few words of context.
_BEFORE_CHARS = 40
# Accented letters (Latin, Greek, Cyrillic) a query's folded letters stand for.
_ACCENTED = ((0x00C0, 0x0250), (0x0370, 0x0530), (0x1E00, 0x2000))


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


def _starts(words: tuple[str, ...], name_key: str, typed: str | None = None) -> float:
    """How well the name matches what was typed: whole-name prefix > a word's prefix.
    ``typed``: ``" ".join(words)``, when the caller has it."""
    if not words or not name_key:
        return 0.0
    typed = " ".join(words) if typed is None else typed
    if name_key.startswith(typed):
        return 2.0
    if not all(w in name_key for w in words):  # at C speed: most candidates stop here
        return 0.0
    name_words = name_key.split()
    return 1.0 if all(any(n.startswith(w) for n in name_words) for w in words) else 0.0


def _comparison_key(name: str) -> str:
    """``names.comparison_key`` (the same key), its accents dropped at C speed."""
    return " ".join(_PUNCTUATION.sub("", strip_marks(name).lower()).split())


@functools.cache
def _accented() -> dict[str, str]:
    """Folded letter → the accented letters that fold to it ('o' → 'ÒÓÔÕÖòóôõö…')."""
    table: dict[str, str] = {}
    for start, end in _ACCENTED:
        for ch in map(chr, range(start, end)):
            folded = fold(ch)
            if len(folded) == 1 and folded != ch:
                table[folded] = table.get(folded, "") + ch
    return table


def _letter(ch: str) -> str:
    others = _accented().get(ch)
    return f"[{re.escape(ch + others)}]" if others else re.escape(ch)


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Where a word of the query starts, in any case and with or without accents (the
    words are folded prefixes: 'zoe' finds 'Zoë' without folding the text)."""
    alternatives = sorted({w for w in words if w}, key=len, reverse=True)
    if not alternatives:
        return None
    regexes = ["".join(_letter(ch) for ch in word) for word in alternatives]
    return re.compile(r"(?<!\w)(?:" + "|".join(regexes) + ")", re.IGNORECASE)


def snippet(
    text: str,
    words: tuple[str, ...],
    size: int = SNIPPET_TOKENS,
    pattern: re.Pattern[str] | None = None,
) -> str:
    """About ``size`` words of ``text`` from a little before the first query word, each
    match in [brackets], with … where text was cut (like FTS5's snippet()).

    ``words`` are folded (lower case, no accents) and match as prefixes (``pattern``:
    ``_words_pattern(words)``, when the caller has it). Only the few words shown are
    tokenised, so a long message costs no more than a short one.
    """
    if not text:
        return ""
    pattern = pattern or _words_pattern(words)
    found = pattern.search(text) if pattern is not None else None
    if (
        found is None
        and pattern is not None
        and not text.isascii()
        and pattern.search(_MARKS.sub("", unicodedata.normalize("NFKD", text)))
    ):
        # A spelling the pattern does not know (decomposed accents, a ligature): find it
        # token by token (rare; most texts without a match have none at all: the words
        # were in the subject).
        found = next((t for t in _TOKEN.finditer(text) if pattern.match(fold(t.group()))), None)
    first = found.start() if found is not None else 0
    low = max(0, first - _BEFORE_CHARS)
    # Up to three words before the match (not one cut in half at ``low``), then the rest.
    before = list(_TOKEN.finditer(text, low, first)) if first else []
    if before and low > 0 and before[0].start() == low:
        del before[0]
    before = before[-3:]
    after = itertools.islice(_TOKEN.finditer(text, first), max(1, size - len(before)))
    shown = [*before, *after][:size]
    if not shown:
        return ""
    prefixes = tuple(w for w in words if w)
    parts = ["…" if _TOKEN.search(text, 0, shown[0].start()) else ""]
    cursor = shown[0].start()
    for token in shown:
        word = token.group()
        folded = word.lower() if word.isascii() else fold(word)
        parts.append(text[cursor : token.start()])
        parts.append(f"[{word}]" if prefixes and folded.startswith(prefixes) else word)
        cursor = token.end()
    if _TOKEN.search(text, cursor):
        parts.append("…")
    return " ".join("".join(parts).split())


class SearchService(Service):
    def query(
        self, text: str, *, limit_per_kind: int = 8, kinds: tuple[str, ...] = KINDS
    ) -> SearchResults:
        parsed = build_query(text)
        if parsed is None:
            return SearchResults(text, ())
        db = self.db
        groups = []
        own_transaction = not db.in_transaction
        if own_transaction:
            db.execute("BEGIN")
        try:
            for kind in kinds:
                match = self._match(db, kind, parsed)
                if match is None:
                    continue
                hits, more = getattr(self, f"_{kind}")(db, parsed, match, limit_per_kind)
                if hits:
                    groups.append(SearchGroup(kind, tuple(hits), more))
        finally:
            if own_transaction:
                db.execute("COMMIT")
        return SearchResults(text, tuple(groups))

    @staticmethod
    def _match(db: sqlite3.Connection, kind: str, q: SearchQuery) -> str | None:
        """The MATCH expression for ``kind``'s index: long prefixes written out as its words
        (None: a prefix starts no word there, nothing matches)."""
        table = FTS_TABLES[kind]
        return q.expanded(lambda prefix: words_with_prefix(db, table, prefix))

    # Each finder returns (hits, more-available).
    def _person(
        self, db: sqlite3.Connection, q: SearchQuery, match: str, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT p.rowid, p.display_name, p.name_key, p.touch_count
               FROM (SELECT rowid AS rid FROM fts_person WHERE fts_person MATCH ?
                     ORDER BY rowid DESC LIMIT ?) m
               JOIN person p ON p.rowid = m.rid""",
            (match, CANDIDATES + 1),
        ).fetchall()
        typed = " ".join(q.words)
        ranked = sorted(
            rows[:CANDIDATES],
            key=lambda r: _starts(q.words, r[2], typed) * 10 + math.log1p(r[3]),
            reverse=True,
        )[:limit]
        if not ranked:
            return [], False
        shown = {
            r[0]: r
            for r in db.execute(
                f"""SELECT p.rowid, p.id, p.title, coalesce(c.name, ''), p.last_touch_at,
                           (SELECT address FROM person_email WHERE person_id = p.id
                            ORDER BY position LIMIT 1)
                    FROM person p LEFT JOIN company c ON c.id = p.company_id
                         AND c.deleted_at IS NULL
                    WHERE p.rowid IN ({",".join("?" * len(ranked))})""",
                [r[0] for r in ranked],
            )
        }
        hits = []
        for position, (rowid, name, _key, _touches) in enumerate(ranked):
            _rid, person_id, title, company, last_touch, email = shown[rowid]
            subtitle = " · ".join(x for x in (title, company) if x) or (email or "")
            when = None if last_touch is None else from_millis(last_touch)
            hits.append(
                SearchHit("person", person_id, name, subtitle, email or "", when, -position)
            )
        return hits, len(rows) > limit

    def _company(
        self, db: sqlite3.Connection, q: SearchQuery, match: str, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT c.rowid, c.name, c.name_key, c.touch_count
               FROM (SELECT rowid AS rid FROM fts_company WHERE fts_company MATCH ?
                     ORDER BY rowid DESC LIMIT ?) m
               JOIN company c ON c.rowid = m.rid""",
            (match, CANDIDATES + 1),
        ).fetchall()
        typed = " ".join(q.words)
        ranked = sorted(
            rows[:CANDIDATES],
            key=lambda r: _starts(q.words, r[2], typed) * 10 + math.log1p(r[3]),
            reverse=True,
        )[:limit]
        if not ranked:
            return [], False
        shown = {
            r[0]: r
            for r in db.execute(
                f"""SELECT c.rowid, c.id, c.industry, c.people_count, c.last_touch_at,
                           (SELECT domain FROM company_domain WHERE company_id = c.id
                            ORDER BY position LIMIT 1)
                    FROM company c WHERE c.rowid IN ({",".join("?" * len(ranked))})""",
                [r[0] for r in ranked],
            )
        }
        hits = []
        for position, (rowid, name, _key, _touches) in enumerate(ranked):
            _rid, company_id, industry, people_count, last_touch, domain = shown[rowid]
            people = f"{people_count} people" if people_count else ""
            subtitle = " · ".join(x for x in (domain or "", industry, people) if x)
            when = None if last_touch is None else from_millis(last_touch)
            hits.append(SearchHit("company", company_id, name, subtitle, "", when, -position))
        return hits, len(rows) > limit

    def _deal(
        self, db: sqlite3.Connection, q: SearchQuery, match: str, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT d.rowid, d.title, d.status
               FROM (SELECT rowid AS rid FROM fts_deal WHERE fts_deal MATCH ?
                     ORDER BY rowid DESC LIMIT ?) m
               JOIN deal d ON d.rowid = m.rid""",
            (match, CANDIDATES + 1),
        ).fetchall()
        typed = " ".join(q.words)
        ranked = sorted(
            rows[:CANDIDATES],
            key=lambda r: (
                _starts(q.words, _comparison_key(r[1]), typed) * 10 + (r[2] == "open") * 2.0
            ),
            reverse=True,
        )[:limit]
        if not ranked:
            return [], False
        shown = {
            r[0]: r
            for r in db.execute(
                f"""SELECT d.rowid, d.id, coalesce(c.name, ''), s.name, d.updated_at
                    FROM deal d JOIN stage s ON s.id = d.stage_id
                    LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
                    WHERE d.rowid IN ({",".join("?" * len(ranked))})""",
                [r[0] for r in ranked],
            )
        }
        hits = []
        for position, (rowid, title, status) in enumerate(ranked):
            _rid, deal_id, company, stage, updated_at = shown[rowid]
            subtitle = " · ".join(x for x in (company, stage if status == "open" else status) if x)
            hits.append(
                SearchHit("deal", deal_id, title, subtitle, "", from_millis(updated_at), -position)
            )
        return hits, len(rows) > limit

    def _interaction(
        self, db: sqlite3.Connection, q: SearchQuery, match: str, limit: int
    ) -> tuple[list[SearchHit], bool]:
        # Newest first: the seq rowid is time-ordered, so this stops after k matches.
        rows = db.execute(
            """SELECT i.seq, i.subject, i.occurred_at
               FROM (SELECT rowid AS rid FROM fts_interaction WHERE fts_interaction MATCH ?
                     ORDER BY rowid DESC LIMIT ?) m
               JOIN interaction i ON i.seq = m.rid""",
            (match, INTERACTION_CANDIDATES + 1),
        ).fetchall()
        if not rows:
            return [], False
        more = len(rows) > INTERACTION_CANDIDATES
        # Ranked second pass over these few: the query's words in the subject first,
        # gently decayed by age (a point per 90 days); the newest first among equals.
        pattern = _words_pattern(q.words)
        newest: int = rows[0][2]

        def rank(r: tuple[int, str, int]) -> float:
            subject = r[1] or ""
            if pattern is None or not subject:
                in_subject = 0
            else:
                # The pattern finds accented spellings itself; text with combining marks
                # (decomposed accents) is folded first.
                plain = subject.isascii() or not _MARKS.search(subject)
                found = pattern.findall(subject if plain else fold(subject))
                in_subject = len(found)
            return 2.0 * in_subject / (in_subject + 1.2) - (newest - r[2]) / (86_400_000 * 90)

        ranked = sorted(rows[:INTERACTION_CANDIDATES], key=rank, reverse=True)[:limit]
        seqs = [r[0] for r in ranked]
        shown = {
            r[0]: r
            for r in db.execute(
                f"""SELECT i.seq, i.id, i.kind,
                           (SELECT coalesce(nullif(name, ''), address) FROM interaction_participant
                            WHERE interaction_id = i.id AND role IN ('from', 'organizer') LIMIT 1),
                           i.body
                    FROM interaction i WHERE i.seq IN ({",".join("?" * len(seqs))})""",
                seqs,
            )
        }
        hits = []
        for position, (seq, subject, occurred_at) in enumerate(ranked):
            _seq, interaction_id, kind, sender, body = shown[seq]
            when = from_millis(occurred_at)
            subtitle = " · ".join(x for x in (kind, sender or "", f"{when:%Y-%m-%d}") if x)
            hits.append(
                SearchHit(
                    "interaction",
                    interaction_id,
                    subject or f"({kind})",
                    subtitle,
                    snippet(body or "", q.words, pattern=pattern),
                    when,
                    -position,
                )
            )
        return hits, more

    def _note(
        self, db: sqlite3.Connection, q: SearchQuery, match: str, limit: int
    ) -> tuple[list[SearchHit], bool]:
        rows = db.execute(
            """SELECT n.id, substr(n.body, 1, 80), n.occurred_at,
                      coalesce(p.display_name, c.name, d.title, ''),
                      snippet(fts_note, 0, '[', ']', '…', 12)
               FROM fts_note JOIN note n ON n.rowid = fts_note.rowid
               LEFT JOIN person p ON p.id = n.person_id AND p.deleted_at IS NULL
               LEFT JOIN company c ON c.id = n.company_id AND c.deleted_at IS NULL
               LEFT JOIN deal d ON d.id = n.deal_id AND d.deleted_at IS NULL
               WHERE fts_note MATCH ? ORDER BY fts_note.rowid DESC LIMIT ?""",
            (match, limit + 1),
        ).fetchall()
        hits = [
            SearchHit("note", r[0], " ".join(r[1].split()), r[3], r[4], from_millis(r[2]), 0.0)
            for r in rows[:limit]
        ]
        return hits, len(rows) > limit
