"""The filter language of lists and saved views (parsing only; services compile it to SQL).

    tag:key-account stage:negotiation amount>10000 last-touch>30d company:acme "big fish"

A filter is a sequence of terms, all of which must hold. A term is either
``field OP value`` (OP one of ``:`` ``=`` ``!=`` ``>`` ``>=`` ``<`` ``<=``), optionally
negated with a leading ``-``, or a bare word / "quoted phrase" searched as text.
``field:a,b`` matches either value. Values may be quoted to hold spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from relbook.domain.errors import FilterSyntaxError

OPERATORS = (">=", "<=", "!=", ":", "=", ">", "<")
# A field name starts with a letter (any script: custom fields may be named '预算').
_FIELD = re.compile(r"[^\W\d_][\w.-]*")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([dwmy])$", re.IGNORECASE)
_AMOUNT = re.compile(r"^([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmM]?)$")


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]
    negated: bool = False
    position: int = 0  # where the term starts in the filter text
    value_position: int = 0  # where its (first) value starts: errors about a value point here


@dataclass(frozen=True)
class ParsedFilter:
    clauses: tuple[Clause, ...] = ()
    text_terms: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.clauses and not self.text_terms


@dataclass
class _Scanner:
    text: str
    pos: int = 0
    clauses: list[Clause] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    def error(self, message: str, at: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.pos if at is None else at, self.text)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def read_quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise self.error("a quote is opened but never closed", start)

    def read_bare(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace():
            if self.text[self.pos] == '"':
                break
            self.pos += 1
        return self.text[start : self.pos]

    def read_value(self) -> str:
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return self.read_quoted()
        return self.read_bare()

    def term(self) -> None:
        start = self.pos
        negated = False
        if self.text[self.pos] == "-" and self.pos + 1 < len(self.text):
            negated = True
            self.pos += 1
        if self.text[self.pos] == '"':
            phrase = self.read_quoted()
            if negated:
                raise self.error("a text phrase cannot be negated; use a field", start)
            if phrase.strip():
                self.words.append(phrase)
            return
        match = _FIELD.match(self.text, self.pos)
        if match:
            after = match.end()
            op = next((o for o in OPERATORS if self.text.startswith(o, after)), None)
            if op is not None:
                name = match.group(0).lower()
                self.pos = after + len(op)
                values: list[str] = []
                first_value_at = self.pos
                while True:
                    value_at = self.pos
                    value = self.read_value_in_list()
                    if value == "":
                        raise self.error(f"'{name}{op}' needs a value", value_at)
                    values.append(value)
                    if self.pos < len(self.text) and self.text[self.pos] == ",":
                        self.pos += 1
                        continue
                    break
                if len(values) > 1 and op not in (":", "=", "!="):
                    raise self.error(f"'{op}' compares with one value, not a list", start)
                self.clauses.append(Clause(name, op, tuple(values), negated, start, first_value_at))
                return
        self.pos = start
        if negated:
            self.pos += 1
            word = self.read_bare()
            raise self.error(f"'-{word}' negates nothing; write field:value after '-'", start)
        word = self.read_bare()
        if word:
            self.words.append(word)

    def read_value_in_list(self) -> str:
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return self.read_quoted()
        start = self.pos
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch.isspace() or ch in ',"':
                break
            self.pos += 1
        return self.text[start : self.pos]


def parse_filter(text: str) -> ParsedFilter:
    scanner = _Scanner(text)
    while True:
        scanner.skip_space()
        if scanner.pos >= len(text):
            break
        scanner.term()
    return ParsedFilter(tuple(scanner.clauses), tuple(scanner.words), text)


def parse_duration(text: str) -> timedelta | None:
    """``30d``, ``2w``, ``6m`` (30-day months), ``1y`` (365 days)."""
    match = _DURATION.match(text.strip())
    if not match:
        return None
    amount = float(match.group(1))
    unit = match.group(2).lower()
    days = {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    return timedelta(days=amount * days)


def parse_amount(text: str) -> float | None:
    """``10000``, ``10,000``, ``10k``, ``1.5m``."""
    match = _AMOUNT.match(text.strip())
    if not match:
        return None
    number = float(match.group(1).replace(",", "").replace("_", ""))
    suffix = match.group(2).lower()
    return number * {"": 1, "k": 1_000, "m": 1_000_000}[suffix]


def parse_date(text: str, today: date) -> date | None:
    """ISO dates plus ``today``, ``yesterday``, ``tomorrow``."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        return None
