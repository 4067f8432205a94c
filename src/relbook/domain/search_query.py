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
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"?')
MIN_PREFIX = 2


@dataclass(frozen=True)
class SearchQuery:
    fts: str  # the FTS5 MATCH expression
    words: tuple[str, ...]  # plain words, for highlighting and ranking


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


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


def _sequence(words: list[str]) -> str:
    """An FTS5 phrase of consecutive words, the last one a prefix when long enough."""
    last = words[-1]
    tail = f'"{last}"*' if _prefix_ok(last) else f'"{last}"'
    if len(words) == 1:
        return tail
    return "(" + " + ".join([*(f'"{w}"' for w in words[:-1]), tail]) + ")"


def build_query(text: str) -> SearchQuery | None:
    """None when there is nothing searchable (empty, or only one-letter words)."""
    parts: list[str] = []
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
        parts.append(f'"{word}"*')
        words.append(word)
    if not parts:
        lone = _terms(text)
        if len(lone) == 1 and lone[0]:
            return SearchQuery(f'"{lone[0]}"', (fold(lone[0]),))
        return None
    return SearchQuery(" AND ".join(parts), tuple(fold(w) for w in words))
