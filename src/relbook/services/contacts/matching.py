"""Who an imported record already is: a person in the book, or an earlier record of the
same import. Same rules as duplicate detection: the same e-mail address, or a similar
name at the same company (rapidfuzz), so an import never creates what dedupe would flag.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from rapidfuzz import fuzz

from relbook.domain.names import comparison_key
from relbook.services.contacts.records import ContactRecord

# token_sort_ratio on comparison keys; 'Jon Smith' ~ 'John Smith' = 95, 'Ann Lee' ~ 'Dan Lee' = 86.
NAME_SIMILARITY = 90.0


def name_threshold(record_has_email: bool, other_has_email: bool) -> float:
    """How alike two names at one company must be to be one person.

    When both carry e-mail addresses and none is shared, the addresses already say they
    may be two people (Maria and Mario Garcia at Acme): only the same name counts then.
    Duplicate detection still offers the similar pair to the rep, with its reason.
    """
    return 100.0 if record_has_email and other_has_email else NAME_SIMILARITY


def similar_names(a: str, b: str) -> float:
    """0–100: how alike two comparison keys are (word order does not matter)."""
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b))


@dataclass(frozen=True)
class Match:
    person_id: str
    name: str
    reason: str


class BookMatcher:
    """Looks records up in the book (read connection; indexed queries only)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._company_people: dict[str, list[tuple[str, str, str, bool]]] = {}

    def owner_of(self, address: str) -> tuple[str, str] | None:
        row = self.db.execute(
            """SELECT p.id, p.display_name FROM person_email e JOIN person p ON p.id = e.person_id
               WHERE e.address = ? AND p.deleted_at IS NULL ORDER BY p.created_at LIMIT 1""",
            (address,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def people_at(self, company_key: str) -> list[tuple[str, str, str, bool]]:
        """(id, display name, name key, has e-mail) of live people currently at a company
        with this name key."""
        if company_key not in self._company_people:
            self._company_people[company_key] = [
                (r[0], r[1], r[2], bool(r[3]))
                for r in self.db.execute(
                    """SELECT p.id, p.display_name, p.name_key,
                              EXISTS(SELECT 1 FROM person_email e WHERE e.person_id = p.id)
                       FROM person p
                       JOIN company c ON c.id = p.company_id
                       WHERE c.name_key = ? AND c.deleted_at IS NULL
                         AND p.deleted_at IS NULL""",
                    (company_key,),
                )
            ]
        return self._company_people[company_key]

    def match(self, record: ContactRecord) -> tuple[Match | None, list[str]]:
        """The person this record is, and notes about addresses owned by someone else."""
        notes: list[str] = []
        found: Match | None = None
        if record.uid:
            row = self.db.execute(
                "SELECT id, display_name FROM person WHERE id = ? AND deleted_at IS NULL",
                (record.uid,),
            ).fetchone()
            if row is not None:
                found = Match(row[0], row[1], "exported from this book (same id)")
        for email in record.emails:
            owner = self.owner_of(email.value)
            if owner is None:
                continue
            if found is None:
                found = Match(owner[0], owner[1], f"same e-mail address {email.value}")
                continue
            if owner[0] != found.person_id:
                notes.append(
                    f"{email.value} belongs to {owner[1]}, another person in the book; it will "
                    f"not be added (merge the two people if they are one)"
                )
        if found is not None:
            return found, notes
        if record.company_key and record.name_key:
            best: tuple[float, str, str] | None = None
            for person_id, name, key, has_email in self.people_at(record.company_key):
                score = similar_names(record.name_key, key or comparison_key(name))
                needed = name_threshold(bool(record.emails), has_email)
                if score >= needed and (best is None or score > best[0]):
                    best = (score, person_id, name)
            if best is not None:
                reason = f"similar name at {record.company} ({best[0]:.0f}%)"
                if best[0] >= 100:
                    reason = f"same name at {record.company}"
                return Match(best[1], best[2], reason), notes
        return None, notes


class BatchIndex:
    """Records of this import seen so far, to spot a person listed twice (or in two files)."""

    def __init__(self) -> None:
        self._by_email: dict[str, int] = {}
        self._by_company: dict[str, list[tuple[str, int, bool]]] = {}

    def find(self, record: ContactRecord) -> tuple[int, str] | None:
        for email in record.emails:
            if email.value in self._by_email:
                return self._by_email[email.value], f"same e-mail address {email.value}"
        if record.company_key and record.name_key:
            for key, index, has_email in self._by_company.get(record.company_key, []):
                score = similar_names(record.name_key, key)
                if score >= name_threshold(bool(record.emails), has_email):
                    if score >= 100:
                        return index, f"same name at {record.company}"
                    return index, f"similar name at {record.company} ({score:.0f}%)"
        return None

    def add(self, record: ContactRecord, index: int) -> None:
        for email in record.emails:
            self._by_email.setdefault(email.value, index)
        if record.company_key and record.name_key:
            self._by_company.setdefault(record.company_key, []).append(
                (record.name_key, index, bool(record.emails))
            )
