"""Open points in free text: promised follow-ups, to-dos and open questions (pure, stdlib).

Used by meeting briefings on the rep's recent notes (promises and questions) and on the
rep's recent outgoing e-mails (promises only). Deliberately simple and predictable:

- quoted mail is ignored (lines starting with ``>``, everything after "On … wrote:" or an
  "-----Original Message-----" / "From:" block), and so is a signature after ``-- ``;
- a checkbox line ``[ ] …`` is a to-do, ``[x] …`` is done and ignored;
- a line starting with TODO, To do, Action, Next step(s), Follow-up or Follow up is a
  to-do;
- a sentence in which the rep commits ("I'll…", "we will…", "I promised…", "I owe…",
  "get back to…", "follow up…"; German "ich werde…", "wir werden…", "melde mich…",
  "schicke…") is a promise — but saying where one will be ("I will be travelling on
  Tuesday", "I'll be out of office", "we will be in Lyon") commits to nothing unless the
  sentence also promises something ("I'll be in touch" does);
- a sentence ending with "?" is an open question (notes only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_POINT_CHARS = 240


class PointKind(StrEnum):
    TODO = "todo"
    PROMISE = "promise"
    QUESTION = "question"


@dataclass(frozen=True)
class OpenPoint:
    kind: PointKind
    text: str


_QUOTE_START = re.compile(
    r"^(on .{3,200} wrote:|am .{3,200} schrieb .{0,100}:|-{2,}\s*original message\s*-{2,}|"
    r"-{2,}\s*urspr[üu]ngliche nachricht\s*-{2,}|from:\s.+|von:\s.+)\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_CHECKBOX = re.compile(r"^\s*(?:[-*•]\s*)?\[( |x|X)\]\s*(.+)$")
_TODO_PREFIX = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:todo|to do|to-do|action(?: item)?|next steps?|follow[- ]up|"
    r"aufgabe|nächster schritt)\s*[:\-–]\s*(.+)$",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(?:(?:i|we)\s*(?:'ll|’ll|\swill|\sshall|\sam going to|\sare going to|\spromised|"
    r"\sowe|\sneed to send|\shave to send)|promised to|get back to|follow up with|"
    r"ich werde|wir werden|melde mich|schicke (?:ich|ihm|ihr|ihnen))\b",
    re.IGNORECASE,
)
# "I will be travelling / away / out / in Lyon …": an announcement, not a commitment.
_WHEREABOUTS = re.compile(
    r"\b(?:i|we)\s*(?:'ll|’ll|\swill|\sam going to|\sare going to)\s+be\s+"
    r"(?!in touch\b)(?:travell?ing|away|out\b|off\b|on (?:holiday|vacation|leave)\b|"
    r"unavailable|offline|in\b|at\b|back\b|there\b|around\b)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?]+[.!?]?")


# Every match of _PROMISE contains one of these (lower-case, as written in it): a line
# of plain ASCII without any cannot hold a promise. Other lines take the regex.
_PROMISE_WORDS = ("'ll", "will", "shall", "going to", "promised", "owe", "need to send",
                  "have to send", "get back to", "follow up with", "ich werde", "wir werden",
                  "melde mich", "schicke")  # fmt: skip


def _may_promise(line: str) -> bool:
    if not line.isascii():
        return True
    low = line.lower()
    return any(word in low for word in _PROMISE_WORDS)


def _is_promise(sentence: str) -> bool:
    return bool(_PROMISE.search(_WHEREABOUTS.sub(" ", sentence)))


def _own_text(text: str) -> list[str]:
    """The lines the author wrote (no quoted reply, no signature)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if _SIGNATURE.match(raw.rstrip("\n")) or _QUOTE_START.match(line):
            break
        if line.startswith(">"):
            continue
        lines.append(line)
    return lines


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_POINT_CHARS else text[: MAX_POINT_CHARS - 1] + "…"


def open_points(text: str, *, questions: bool = True) -> list[OpenPoint]:
    """Promises, to-dos and (optionally) questions, in the order they appear."""
    points: list[OpenPoint] = []
    seen: set[str] = set()

    def add(kind: PointKind, value: str) -> None:
        clean = _clip(value)
        key = clean.lower()
        if clean and key not in seen:
            seen.add(key)
            points.append(OpenPoint(kind, clean))

    for line in _own_text(text):
        if not line:
            continue
        box = _CHECKBOX.match(line)
        if box:
            if box.group(1) == " ":
                add(PointKind.TODO, box.group(2))
            continue
        prefixed = _TODO_PREFIX.match(line)
        if prefixed:
            add(PointKind.TODO, prefixed.group(1))
            continue
        # Most lines hold neither: test the line once before cutting it into sentences
        # (neither pattern spans a sentence end, so a line without a match has none).
        if not (questions and "?" in line) and not (
            _may_promise(line) and _PROMISE.search(_WHEREABOUTS.sub(" ", line))
        ):
            continue
        for match in _SENTENCE.finditer(line):
            sentence = match.group(0).strip()
            if not sentence:
                continue
            if _is_promise(sentence):
                add(PointKind.PROMISE, sentence)
            elif questions and sentence.endswith("?") and len(sentence) > 3:
                add(PointKind.QUESTION, sentence)
    return points
