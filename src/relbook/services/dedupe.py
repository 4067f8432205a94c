"""Duplicate detection: pairs of people (or companies) that are probably one.

People: the same e-mail address (certain); a similar name at the same company (rapidfuzz
``token_sort_ratio`` on comparison keys, so word order and accents do not matter); the
same full name where at most one of them has a company (weaker). Companies: the same
e-mail domain or website (certain); a similar name once legal forms are set aside
("Acme Inc." ~ "ACME GmbH").

Built for a heavy book (50,000 people): candidates come from blocks — an address, a
company, a name key, a company's first word — never from comparing everyone with
everyone. Pairs the rep marked "not duplicates" stay dismissed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

from rapidfuzz import fuzz, process

from relbook.domain.errors import UserError
from relbook.domain.names import comparison_key
from relbook.services.base import Service

NAME_SIMILARITY = 90.0
COMPANY_SIMILARITY = 90.0
# A name shared by more people than this (in one block) is common, not a duplicate signal.
_MAX_SAME_NAME_GROUP = 12
_DISMISSED_KEY = "dedupe_dismissed"

_LEGAL_FORMS = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "ev",
        "se",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "snc",
        "bv",
        "nv",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "pty",
        "pte",
        "kk",
        "kabushiki",
        "kaisha",
        "holding",
        "holdings",
        "group",
        "the",
        "und",
        "and",
    ]
)


@dataclass(frozen=True)
class DuplicatePair:
    """Two records that look like one. ``a_id`` is the suggested survivor (more history)."""

    a_id: str
    b_id: str
    score: float  # 0–100
    reasons: tuple[str, ...]
    a_name: str = ""
    b_name: str = ""


def company_key(name: str) -> str:
    """'ACME, Inc.' → 'acme'; 'Müller & Söhne GmbH' → 'muller sohne'."""
    words = [w for w in comparison_key(name).split() if w not in _LEGAL_FORMS]
    return " ".join(words) or comparison_key(name)


def website_host(url: str) -> str:
    text = url.strip().lower()
    if not text:
        return ""
    host = urlparse(text if "://" in text else f"https://{text}").netloc
    return host.removeprefix("www.").split(":")[0]


class _Pairs:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def add(self, a: str, b: str, score: float, reason: str) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        best, reasons = self.found.get(key, (0.0, []))
        if reason not in reasons:
            reasons.append(reason)
        self.found[key] = (max(best, score), reasons)


class DedupeService(Service):
    def candidates(self, kind: str, *, limit: int | None = None) -> list[DuplicatePair]:
        """Likely duplicates, best first."""
        if kind == "person":
            pairs = self._people()
        elif kind == "company":
            pairs = self._companies()
        else:
            raise UserError(
                f"Cannot look for duplicate '{kind}' records.", "Use person or company."
            )
        dismissed = self._dismissed(kind)
        ranked: list[tuple[float, str, str, list[str]]] = []
        for (a, b), (score, reasons) in pairs.found.items():
            if (a, b) in dismissed:
                continue
            boosted = min(100.0, score + 5.0 * (len(reasons) - 1))
            ranked.append((boosted, a, b, reasons))
        ranked.sort(key=lambda item: (-item[0], item[1], item[2]))
        if limit is not None:
            ranked = ranked[:limit]
        info = self._info(kind, {i for item in ranked for i in item[1:3]})
        result = []
        for score, a, b, reasons in ranked:
            first, second = (a, b) if info[a][1] >= info[b][1] else (b, a)
            result.append(
                DuplicatePair(
                    first, second, round(score, 1), tuple(reasons), info[first][0], info[second][0]
                )
            )
        return result

    def of(self, kind: str, entity_id: str) -> list[DuplicatePair]:
        """Likely duplicates of one record (for a banner on its page)."""
        return [p for p in self.candidates(kind) if entity_id in (p.a_id, p.b_id)]

    def dismiss(self, kind: str, a_id: str, b_id: str) -> None:
        """Remember that these two are different (they are not offered again)."""
        self._set_dismissed(kind, a_id, b_id, dismissed=True)

    def undismiss(self, kind: str, a_id: str, b_id: str) -> None:
        self._set_dismissed(kind, a_id, b_id, dismissed=False)

    # ------------------------------------------------------------------ people
    def _people(self) -> _Pairs:
        pairs = _Pairs()
        db = self.db
        for address, ids in db.execute(
            """SELECT e.address, group_concat(DISTINCT e.person_id) FROM person_email e
               JOIN person p ON p.id = e.person_id WHERE p.deleted_at IS NULL
               GROUP BY e.address HAVING count(DISTINCT e.person_id) > 1"""
        ):
            _all_pairs(pairs, str(ids).split(","), 100.0, f"same e-mail address {address}")
        by_company: dict[str, list[tuple[str, str]]] = defaultdict(list)
        by_name: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        company_names: dict[str, str] = {}
        for person_id, key, company_id, company_name in db.execute(
            """SELECT p.id, p.name_key, c.id, c.name FROM person p
               LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
               WHERE p.deleted_at IS NULL AND p.name_key != ''"""
        ):
            if company_id:
                by_company[company_id].append((person_id, key))
                company_names[company_id] = company_name or ""
            if " " in key:  # a full name, not a lone first name
                by_name[key].append((person_id, company_id))
        for company_id, people in by_company.items():
            if len(people) < 2:
                continue
            where = company_names.get(company_id, "")
            for a, b, score in _similar_within(people, NAME_SIMILARITY):
                reason = (
                    f"same name at {where}"
                    if score >= 100
                    else f"similar names at {where} ({score:.0f}%)"
                )
                pairs.add(a, b, score, reason)
        for people_named in by_name.values():
            if not 2 <= len(people_named) <= _MAX_SAME_NAME_GROUP:
                continue
            for index, (a, company_a) in enumerate(people_named):
                for b, company_b in people_named[index + 1 :]:
                    if company_a and company_b:
                        continue  # two companies: covered above when it is the same one
                    pairs.add(a, b, 75.0, "same name, one without a company")
        return pairs

    # ------------------------------------------------------------------ companies
    def _companies(self) -> _Pairs:
        pairs = _Pairs()
        db = self.db
        for domain, ids in db.execute(
            """SELECT d.domain, group_concat(DISTINCT d.company_id) FROM company_domain d
               JOIN company c ON c.id = d.company_id WHERE c.deleted_at IS NULL
               GROUP BY d.domain HAVING count(DISTINCT d.company_id) > 1"""
        ):
            _all_pairs(pairs, str(ids).split(","), 100.0, f"same e-mail domain {domain}")
        by_host: dict[str, list[str]] = defaultdict(list)
        by_word: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for company_id, name, website in db.execute(
            "SELECT id, name, website FROM company WHERE deleted_at IS NULL"
        ):
            host = website_host(website or "")
            if host:
                by_host[host].append(company_id)
            key = company_key(name or "")
            if key:
                by_word[key.split()[0]].append((company_id, key))
        for host, ids in by_host.items():
            if 2 <= len(ids) <= _MAX_SAME_NAME_GROUP:
                _all_pairs(pairs, ids, 95.0, f"same website {host}")
        for companies in by_word.values():
            if len(companies) < 2:
                continue
            for a, b, score in _similar_within(companies, COMPANY_SIMILARITY, fuzz.ratio):
                reason = "same name" if score >= 100 else f"similar names ({score:.0f}%)"
                pairs.add(a, b, score, reason)
        return pairs

    # ------------------------------------------------------------------ helpers
    def _info(self, kind: str, ids: set[str]) -> dict[str, tuple[str, tuple[int, int]]]:
        """name and a 'more history' sort key (touches, older first) per id."""
        info: dict[str, tuple[str, tuple[int, int]]] = {}
        column = "display_name" if kind == "person" else "name"
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):
            batch = id_list[start : start + 500]
            marks = ",".join("?" * len(batch))
            for ident, name, touches, created in self.db.execute(
                f"SELECT id, {column}, touch_count, created_at FROM {kind} WHERE id IN ({marks})",
                batch,
            ):
                info[ident] = (name, (touches or 0, -(created or 0)))
        return info

    def _dismissed(self, kind: str) -> set[tuple[str, str]]:
        row = self.db.execute(
            "SELECT value FROM setting WHERE key = ?", (_DISMISSED_KEY,)
        ).fetchone()
        values = json.loads(row[0]) if row else []
        found = set()
        for entry in values:
            entry_kind, a, b = str(entry).split(":")
            if entry_kind == kind:
                found.add((a, b) if a < b else (b, a))
        return found

    def _set_dismissed(self, kind: str, a_id: str, b_id: str, *, dismissed: bool) -> None:
        from relbook.storage.models import Setting

        a, b = sorted((a_id, b_id))
        entry = f"{kind}:{a}:{b}"
        with self.write(("setting",), reason="duplicates dismissed") as session:
            current = session.get(Setting, _DISMISSED_KEY)
            values = list(current.value) if current is not None else []
            if dismissed and entry not in values:
                values.append(entry)
            elif not dismissed and entry in values:
                values.remove(entry)
            session.merge(Setting(key=_DISMISSED_KEY, value=values))


def _all_pairs(pairs: _Pairs, ids: list[str], score: float, reason: str) -> None:
    unique = sorted(set(ids))
    for index, a in enumerate(unique):
        for b in unique[index + 1 :]:
            pairs.add(a, b, score, reason)


def _similar_within(
    items: Iterable[tuple[str, str]],
    cutoff: float,
    scorer: Callable[..., float] = fuzz.token_sort_ratio,
) -> list[tuple[str, str, float]]:
    """Pairs in one block whose keys score at least ``cutoff`` (rapidfuzz, in C)."""
    entries = [(ident, key) for ident, key in items if key]
    keys = [key for _, key in entries]
    found = []
    for index, (ident, key) in enumerate(entries):
        rest = keys[index + 1 :]
        if not rest:
            break
        for _choice, score, offset in process.extract(
            key, rest, scorer=scorer, score_cutoff=cutoff, limit=None
        ):
            found.append((ident, entries[index + 1 + offset][0], float(score)))
    return found
