"""What the rep types into a search box → a safe FTS5 query (pure).

Every word becomes a quoted prefix term (``"acm"*``) so FTS syntax in the input can never
break or widen the query; words are ANDed. A "quoted phrase" stays a phrase (its last word
a prefix). Punctuation splits words the way the index's unicode61 tokenizer does, so
``acme.com`` becomes ``"acme" "com"*``, and ``jane.doe@acme.com`` finds the address.
Words shorter than two characters are dropped unless they are all there is: the index
has 2- and 3-character prefix tables, a one-letter prefix would walk the whole index.
A Chinese, Japanese or Korean character is different: the tokenizer keeps a run of them
as one word ('王伟'), so one typed character ('王', a family name) is a prefix — there
are few words starting with one ideograph, the walk is short.

A prefix of four letters or more has no prefix table: FTS5 reads the postings of every
word that starts with it before it returns the first row (150 ms for "afte" over a million
messages, whatever the LIMIT). ``SearchQuery.expanded`` writes such a prefix as the words
of the index that start with it (``"after" OR "afternoon"``), which FTS5 walks newest
first and stops after the first rows; the caller looks the words up
(``storage.search_terms``). The clauses keep the query's structure for that.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"?')
MIN_PREFIX = 2
# Prefixes up to this length have a prefix table of their own (search_ddl PREFIX '2 3').
INDEXED_PREFIX = 3


@dataclass(frozen=True)
class Clause:
    """Consecutive words (a phrase when more than one); the last one a prefix or not."""

    words: tuple[str, ...]
    prefix: bool

    def fts(self, last: str | None = None) -> str:
        words = [*self.words[:-1], self.words[-1] if last is None else last]
        tail = f'"{words[-1]}"*' if self.prefix and last is None else f'"{words[-1]}"'
        if len(words) == 1:
            return tail
        return "(" + " + ".join([*(f'"{w}"' for w in words[:-1]), tail]) + ")"

    @property
    def long_prefix(self) -> str | None:
        """The last word as the index stores it, when it is a prefix without a prefix table
        of its own that can be written out: plain letters and digits (the index folds them
        to lower case and nothing else), four or more."""
        last = self.words[-1]
        if self.prefix and len(last) > INDEXED_PREFIX and last.isascii() and last.isalnum():
            return last.lower()
        return None


@dataclass(frozen=True)
class SearchQuery:
    fts: str  # the FTS5 MATCH expression
    words: tuple[str, ...]  # plain words, for highlighting and ranking
    clauses: tuple[Clause, ...] = ()  # what ``fts`` ANDs, in order

    def expanded(self, words_with_prefix: Callable[[str], tuple[str, ...] | None]) -> str | None:
        """``fts`` with each long prefix written out as the index's words that start with it.

        ``words_with_prefix(prefix)`` gives those words, or None to keep the prefix (too
        many of them, or not worth looking up). The result matches exactly the rows ``fts``
        matches; None when a prefix starts no word at all (nothing can match).
        """
        parts = []
        for clause in self.clauses:
            prefix = clause.long_prefix
            found = None if prefix is None else words_with_prefix(prefix)
            if found is None:
                parts.append(clause.fts())
            elif not found:
                return None
            elif len(found) == 1:
                parts.append(clause.fts(found[0]))
            else:
                parts.append("(" + " OR ".join(clause.fts(word) for word in found) + ")")
        return " AND ".join(parts) if parts else self.fts


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """Every combining mark of the Basic Multilingual Plane (built once, ~10 ms)."""
    ranges: list[str] = []
    run_start = run_end = -1
    for code in range(0x0300, 0x10000):
        if not unicodedata.combining(chr(code)):
            continue
        if code != run_end + 1:
            if run_start >= 0:
                ranges.append(f"{re.escape(chr(run_start))}-{re.escape(chr(run_end))}")
            run_start = code
        run_end = code
    ranges.append(f"{re.escape(chr(run_start))}-{re.escape(chr(run_end))}")
    return re.compile("[" + "".join(ranges) + "]+")


def strip_marks(text: str) -> str:
    """``text`` in compatibility decomposition (NFKD) without its combining marks:
    'Zoë' → 'Zoe', 'ﬁ' → 'fi'."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if max(decomposed) > "\uffff":  # marks beyond the BMP: letter by letter
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _combining_marks().sub("", decomposed)


def fold(word: str) -> str:
    """Lower case without accents ('Zoë' → 'zoe')."""
    return strip_marks(word).lower()


def _terms(text: str) -> list[str]:
    # As typed: the index's tokenizer folds case and diacritics of query terms exactly as
    # it folded the documents (its tables are not Python's lower() and NFKD).
    return [w for w in _WORD.findall(text) if w]


def _is_cjk(word: str) -> bool:
    """Ideographs, kana and hangul (a run of them is a single word to the tokenizer)."""
    return bool(word) and all(
        0x2E80 <= ord(ch) <= 0x9FFF or 0xAC00 <= ord(ch) <= 0xD7AF or 0xF900 <= ord(ch) <= 0xFAFF
        for ch in word
    )


def _prefix_ok(word: str) -> bool:
    return len(word) >= MIN_PREFIX or _is_cjk(word)


def _sequence(words: list[str]) -> Clause:
    """An FTS5 phrase of consecutive words, the last one a prefix when long enough."""
    return Clause(tuple(words), _prefix_ok(words[-1]))


def build_query(text: str) -> SearchQuery | None:
    """None when there is nothing searchable (empty, or only one-letter words)."""
    parts: list[Clause] = []
    words: list[str] = []
    rest = text
    for match in _PHRASE.finditer(text):
        phrase = _terms(match.group(1))
        if phrase:
            parts.append(_sequence(phrase))
            words += phrase
    rest = _PHRASE.sub(" ", text)
    for chunk in rest.split():
        pieces = _terms(chunk)
        if not pieces:
            continue
        if len(pieces) > 1:
            # a.b@c.d or o'neil: consecutive tokens
            parts.append(_sequence(pieces))
            words += pieces
            continue
        word = pieces[0]
        if not _prefix_ok(word):
            continue
        parts.append(Clause((word,), True))
        words.append(word)
    if not parts:
        lone = _terms(text)
        if len(lone) == 1 and lone[0]:
            clause = Clause((lone[0],), False)
            return SearchQuery(clause.fts(), (fold(lone[0]),), (clause,))
        return None
    clauses = tuple(parts)
    return SearchQuery(
        " AND ".join(c.fts() for c in clauses), tuple(fold(w) for w in words), clauses
    )
