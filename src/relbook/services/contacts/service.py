"""Contacts in and out of the book: preview-then-commit import, vCard/CSV export.

Import never half-imports. ``preview`` reads the files and says, record by record, what
would happen (new person, merge into an existing one, duplicate of an earlier record) and
what could not be read (file:line); it writes nothing. ``commit`` writes the whole preview
in one transaction: either every chosen record lands or none does. Merging into an
existing person only adds (addresses, phones, tags, empty fields); it never overwrites.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from relbook.domain.errors import ConflictError, ImportFileError, UserError
from relbook.domain.ids import new_id
from relbook.domain.names import comparison_key
from relbook.services import validate
from relbook.services.affiliations import refresh_people_count, set_current_company
from relbook.services.base import Service
from relbook.services.contacts.csv_reader import read_csv
from relbook.services.contacts.matching import BatchIndex, BookMatcher
from relbook.services.contacts.records import ContactRecord, RecordIssue, looks_binary
from relbook.services.contacts.vcard_reader import read_vcards
from relbook.services.people import AddressEntry, Labeled, PersonDraft
from relbook.services.tags import add_tags, ensure_tag, tag_key
from relbook.storage.models import (
    Affiliation,
    Company,
    EntityTag,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    Tag,
)
from relbook.storage.session import mark_changed

VCARD_SUFFIXES = frozenset({".vcf", ".vcard"})
CSV_SUFFIXES = frozenset({".csv"})
MAX_FILE_BYTES = 200 * 1024 * 1024

NEW = "new"
MATCH = "match"
DUPLICATE = "duplicate"
SKIP = "skip"


@dataclass(frozen=True)
class FileSummary:
    path: str
    format: str  # "vCard", "Google Contacts", "Outlook", "LinkedIn connections"…
    encoding: str
    delimiter: str  # CSV only
    records: int  # cards or non-empty rows read
    empty_rows: int
    ignored_columns: tuple[str, ...]


@dataclass
class PreviewEntry:
    """One record and what commit will do with it (unless a choice says otherwise)."""

    index: int
    record: ContactRecord
    status: str  # new / match / duplicate
    match_id: str | None = None  # status match: the existing person
    match_name: str = ""
    reason: str = ""  # why it matches / duplicates
    duplicate_of: int | None = None  # status duplicate: the earlier entry's index
    notes: list[str] = field(default_factory=list)

    @property
    def draft(self) -> PersonDraft:
        return self.record.draft()

    @property
    def issues(self) -> list[RecordIssue]:
        return self.record.issues

    @property
    def where(self) -> str:
        return f"{self.record.source}:{self.record.line}"

    def describe(self, earlier: PreviewEntry | None = None) -> str:
        """One line; ``earlier`` is the entry a duplicate repeats (named by its place)."""
        name = self.record.display_name
        if self.status == MATCH:
            return f"{self.where}: {name} → merge into {self.match_name} ({self.reason})"
        if self.status == DUPLICATE:
            first = earlier.where if earlier is not None else f"record {self.duplicate_of}"
            return f"{self.where}: {name} → same person as {first} ({self.reason})"
        return f"{self.where}: {name} → new person"


@dataclass
class ContactImportPreview:
    files: list[FileSummary]
    entries: list[PreviewEntry]
    errors: list[RecordIssue]  # records (or files) that cannot be imported

    @property
    def new_count(self) -> int:
        return sum(1 for e in self.entries if e.status == NEW)

    @property
    def match_count(self) -> int:
        return sum(1 for e in self.entries if e.status == MATCH)

    @property
    def duplicate_count(self) -> int:
        return sum(1 for e in self.entries if e.status == DUPLICATE)

    @property
    def warnings(self) -> list[RecordIssue]:
        return [issue for entry in self.entries for issue in entry.record.issues]

    def summary(self) -> str:
        parts = [
            f"{len(self.entries)} contacts read from {len(self.files)} file(s)",
            f"{self.new_count} new",
            f"{self.match_count} already in the book (will be merged)",
            f"{self.duplicate_count} listed more than once",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} could not be imported")
        return ", ".join(parts) + "."

    def describe(self) -> list[str]:
        """Lines for a terminal or a log: the summary, each record, each problem."""
        lines = [self.summary()]
        by_index = {entry.index: entry for entry in self.entries}
        lines += [
            "  "
            + entry.describe(None if entry.duplicate_of is None else by_index[entry.duplicate_of])
            for entry in self.entries
        ]
        lines += [f"  warning: {issue}" for issue in self.warnings]
        lines += [f"  note: {note}" for entry in self.entries for note in entry.notes]
        lines += [f"  error: {issue}" for issue in self.errors]
        for summary in self.files:
            if summary.ignored_columns:
                lines.append(
                    f"  {summary.path}: columns not imported: {', '.join(summary.ignored_columns)}"
                )
        return lines


@dataclass(frozen=True)
class RecordOutcome:
    index: int
    action: str  # created / merged / skipped
    person_id: str | None


@dataclass
class ContactImportResult:
    created: list[str]
    merged: list[str]  # existing people that received data (each once)
    skipped: int
    outcomes: list[RecordOutcome]
    issues: list[RecordIssue]  # everything the preview reported, plus commit notes
    notes: list[str]

    def summary(self) -> str:
        text = (
            f"{len(self.created)} people added, {len(self.merged)} updated, {self.skipped} skipped"
        )
        if self.issues:
            text += f", {len(self.issues)} problems reported"
        return text + "."


class ContactService(Service):
    # ------------------------------------------------------------------ import
    @staticmethod
    def handles(path: Path) -> bool:
        """Whether ``relbook import`` should hand this file to contacts import."""
        return path.suffix.lower() in VCARD_SUFFIXES | CSV_SUFFIXES

    def read(self, path: Path) -> tuple[list[ContactRecord], list[RecordIssue], FileSummary]:
        """Read one contact file (no matching): its records, problems and a summary."""
        shown = str(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportFileError(
                    f"{shown} is larger than {MAX_FILE_BYTES // 2**20} MB; not a contact export.",
                    "Split the file, or check that it is the right one.",
                )
            data = path.read_bytes()
        except FileNotFoundError as error:
            raise ImportFileError(f"{shown} does not exist.", "Check the path.") from error
        except IsADirectoryError as error:
            raise ImportFileError(f"{shown} is a folder.", "Pass the file inside it.") from error
        except OSError as error:
            raise ImportFileError(
                f"{shown} cannot be read: {error.strerror or error}.",
                "Check the file's permissions.",
            ) from error
        if looks_binary(data):
            raise ImportFileError(
                f"{shown} is not a text file (a spreadsheet or a binary?).",
                "Export the contacts as CSV or vCard (.vcf) and import that file.",
            )
        if self._is_vcard(path, data):
            vcards = read_vcards(data, shown)
            summary = FileSummary(shown, "vCard", vcards.encoding, "", vcards.cards, 0, ())
            return vcards.records, vcards.issues, summary
        table = read_csv(data, shown)
        summary = FileSummary(
            shown,
            table.layout,
            table.encoding,
            table.delimiter,
            table.rows,
            table.empty_rows,
            tuple(table.unknown_columns),
        )
        return table.records, table.issues, summary

    @staticmethod
    def _is_vcard(path: Path, data: bytes) -> bool:
        if path.suffix.lower() in VCARD_SUFFIXES:
            return True
        if path.suffix.lower() in CSV_SUFFIXES:
            return False
        head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
        return head.startswith(b"BEGIN:VCARD") or b"\x00B\x00E\x00G\x00I\x00N" in data[:64]

    def preview(self, paths: Sequence[Path | str]) -> ContactImportPreview:
        """Read the files and decide, per record, what commit would do. Writes nothing."""
        files: list[FileSummary] = []
        errors: list[RecordIssue] = []
        records: list[ContactRecord] = []
        for raw_path in paths:
            path = Path(raw_path)
            try:
                found, issues, summary = self.read(path)
            except ImportFileError as error:
                errors.append(RecordIssue(str(path), 0, "", str(error), True))
                continue
            files.append(summary)
            errors += [issue for issue in issues if issue.skipped]
            file_warnings = [issue for issue in issues if not issue.skipped]
            if file_warnings and found:
                found[0].issues[:0] = file_warnings
            elif file_warnings:
                errors += file_warnings
            records += found
        region = str(self.services.settings.get("phone_region"))
        for record in records:
            _normalise_phones(record, region)
        return ContactImportPreview(files, self._entries(records), errors)

    def _entries(self, records: list[ContactRecord]) -> list[PreviewEntry]:
        matcher = BookMatcher(self.db)
        batch = BatchIndex()
        entries: list[PreviewEntry] = []
        for index, record in enumerate(records):
            match, notes = matcher.match(record)
            earlier = batch.find(record)
            if earlier is not None:
                root = entries[earlier[0]]
                entry = PreviewEntry(
                    index, record, DUPLICATE, reason=earlier[1], duplicate_of=root.index
                )
                if match is not None and root.match_id not in (None, match.person_id):
                    notes.append(
                        f"also looks like {match.name} in the book ({match.reason}); merged with "
                        f"record {root.index} as listed"
                    )
            elif match is not None:
                entry = PreviewEntry(
                    index, record, MATCH, match.person_id, match.name, match.reason
                )
            else:
                entry = PreviewEntry(index, record, NEW)
            entry.notes = notes
            batch.add(record, index)
            entries.append(entry)
        return entries

    def commit(
        self, preview: ContactImportPreview, *, choices: Mapping[int, str] | None = None
    ) -> ContactImportResult:
        """Write the preview in one transaction (all or nothing).

        ``choices`` overrides the preview per entry index: ``"skip"``, ``"new"`` (a new
        person even if one matched), or a person id to merge into.
        """
        choices = dict(choices or {})
        unknown = [i for i in choices if not 0 <= i < len(preview.entries)]
        if unknown:
            raise UserError(
                f"No record {unknown[0]} in this import preview.", "Preview the files again."
            )
        self._check_still_valid(preview, choices)
        today = self.clock.now().date().isoformat()
        outcomes: list[RecordOutcome] = []
        notes: list[str] = []
        created: list[str] = []
        merged: list[str] = []
        person_of: dict[int, str | None] = {}
        with self.write(("person", "company", "affiliation", "tag"), reason="import") as session:
            writer = _Writer(session, today, notes, [e.record for e in preview.entries])
            for entry in preview.entries:
                choice = choices.get(entry.index, "")
                target = self._target(entry, choice, person_of)
                if target == SKIP:
                    person_of[entry.index] = None
                    outcomes.append(RecordOutcome(entry.index, "skipped", None))
                    continue
                if target == NEW:
                    person_id = writer.create(entry.record)
                    created.append(person_id)
                    action = "created"
                else:
                    person_id = writer.merge_into(target, entry.record)
                    if person_id not in created and person_id not in merged:
                        merged.append(person_id)
                    action = "merged"
                person_of[entry.index] = person_id
                outcomes.append(RecordOutcome(entry.index, action, person_id))
            writer.finish()
        issues = preview.errors + preview.warnings
        notes = [n for entry in preview.entries for n in entry.notes] + notes
        return ContactImportResult(
            created,
            merged,
            sum(1 for o in outcomes if o.action == "skipped") + len(preview.errors),
            outcomes,
            issues,
            notes,
        )

    def import_files(self, paths: Sequence[Path | str]) -> ContactImportResult:
        """Preview and commit with the preview's own decisions (the command line's path)."""
        return self.commit(self.preview(paths))

    # ----------------------------------------------------------------- commit parts
    @staticmethod
    def _target(entry: PreviewEntry, choice: str, person_of: dict[int, str | None]) -> str:
        if choice in (SKIP, NEW):
            return choice
        if choice:
            return choice  # a person id
        if entry.status == MATCH and entry.match_id:
            return entry.match_id
        if entry.status == DUPLICATE and entry.duplicate_of is not None:
            return person_of.get(entry.duplicate_of) or NEW
        return NEW

    def _check_still_valid(self, preview: ContactImportPreview, choices: dict[int, str]) -> None:
        """The book may have changed since the preview: refuse rather than guess."""
        db = self.db
        wanted = {e.match_id for e in preview.entries if e.status == MATCH and e.match_id}
        wanted |= {c for c in choices.values() if c not in (SKIP, NEW, "")}
        for person_id in wanted:
            row = db.execute(
                "SELECT 1 FROM person WHERE id = ? AND deleted_at IS NULL", (person_id,)
            ).fetchone()
            if row is None:
                raise ConflictError(
                    f"Person {person_id} is no longer in the book (deleted or merged since the "
                    "preview); nothing was imported.",
                    "Preview the files again.",
                )
        matcher = BookMatcher(db)
        for entry in preview.entries:
            if entry.status != NEW or choices.get(entry.index):
                continue
            for email in entry.record.emails:
                owner = matcher.owner_of(email.value)
                if owner is not None:
                    raise ConflictError(
                        f"{email.value} was added to {owner[1]} after the preview; nothing was "
                        "imported.",
                        "Preview the files again.",
                    )

    # ------------------------------------------------------------------ export
    def export_vcards(self, person_ids: Iterable[str] | None = None, version: str = "3.0") -> str:
        """vCard text (3.0 or 4.0) of these people, or of every live person."""
        from relbook.services.contacts.vcard_writer import write_vcards

        return write_vcards(self.db, self.ids_for("person", person_ids), version)

    def export_csv(self, kind: str = "person", ids: Iterable[str] | None = None) -> str:
        """CSV of people, companies or deals; cells that a spreadsheet would run as a
        formula (=, +, -, @ …) are neutralised (defusedcsv)."""
        from relbook.services.contacts.csv_writer import write_csv

        return write_csv(self.db, kind, self.ids_for(kind, ids))

    def ids_for(
        self, kind: str, ids: Iterable[str] | None = None, filter_text: str = ""
    ) -> list[str]:
        """The live records to export: these ids, those matching a list filter, or all."""
        if kind not in ("person", "company", "deal"):
            raise UserError(f"Cannot export '{kind}'.", "Choose one of: person, company, deal.")
        order = "display_name" if kind == "person" else ("name" if kind == "company" else "title")
        if filter_text.strip():
            return list(self.services.lists.ids(kind, filter_text))
        if ids is None:
            return [
                row[0]
                for row in self.db.execute(
                    f"SELECT id FROM {kind} WHERE deleted_at IS NULL ORDER BY {order}, id"
                )
            ]
        wanted = list(dict.fromkeys(ids))
        missing = []
        for ident in wanted:
            row = self.db.execute(
                f"SELECT 1 FROM {kind} WHERE id = ? AND deleted_at IS NULL", (ident,)
            ).fetchone()
            if row is None:
                missing.append(ident)
        if missing:
            raise UserError(
                f"No {kind} with id {missing[0]} in this book"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + ".",
                "Check the ids (relbook search shows them) or use --filter.",
            )
        return wanted


class _Writer:
    """Writes records inside the commit's transaction, with caches so a large import does
    one query per company/tag/address set rather than several per record."""

    _FLUSH_EVERY = 500

    def __init__(
        self, session: Session, today: str, notes: list[str], records: list[ContactRecord]
    ) -> None:
        self.session = session
        self.today = today
        self.notes = notes
        self.companies: dict[str, str] = {}
        self.tags: dict[str, Tag] = {}
        self.counted: set[str] = set()
        self.pending = 0
        # Affiliations wait until their person rows are inserted (no ORM relationship
        # orders the two inserts).
        self.affiliations: list[Affiliation] = []
        self.owners: dict[str, tuple[str, str]] = {}
        addresses = sorted({e.value for r in records for e in r.emails})
        for start in range(0, len(addresses), 500):
            rows = session.execute(
                select(PersonEmail.address, Person.id, Person.display_name)
                .join(Person, Person.id == PersonEmail.person_id)
                .where(PersonEmail.address.in_(addresses[start : start + 500]))
                .where(Person.deleted_at.is_(None))
            )
            for address, person_id, name in rows:
                self.owners.setdefault(address, (person_id, name))

    # ------------------------------------------------------------------ people
    def create(self, record: ContactRecord) -> str:
        person_id = new_id()
        name = record.display_name[:400]
        emails = self._free_emails(person_id, name, record, set())
        company_id = self.company(record.company)
        person = Person(
            id=person_id,
            given_name=record.given_name[:200],
            family_name=record.family_name[:200],
            display_name=name,
            name_key=comparison_key(name)[:400],
            title=record.title[:200],
            birthday=record.birthday,
            about=record.about,
            photo=record.photo,
            origin="import",
            custom={},
            company_id=company_id,
            emails=[
                PersonEmail(address=e.value, label=e.label, position=i)
                for i, e in enumerate(emails)
            ],
            phones=[
                PersonPhone(number=p.value, label=p.label[:40], position=i)
                for i, p in enumerate(record.phones)
            ],
            addresses=[_postal(a, i) for i, a in enumerate(_unique_addresses(record.addresses))],
        )
        self.session.add(person)
        if company_id:
            self.affiliations.append(
                Affiliation(
                    person_id=person_id,
                    company_id=company_id,
                    role=record.title[:200],
                    department=record.department[:200],
                    start_date=self.today,
                    is_primary=True,
                )
            )
            self.counted.add(company_id)
        for tag in self._tags(record.tags):
            self.session.add(EntityTag(tag_id=tag.id, entity_id=person_id, entity_type="person"))
        self.pending += 1
        if self.pending >= self._FLUSH_EVERY:
            self.flush()
        return person_id

    def flush(self) -> None:
        self.session.flush()
        if self.affiliations:
            self.session.add_all(self.affiliations)
            self.affiliations.clear()
            self.session.flush()
        self.pending = 0

    def merge_into(self, person_id: str, record: ContactRecord) -> str:
        """Add what the person lacks; keep every value they have."""
        self.flush()
        session = self.session
        person = session.get(Person, person_id)
        if person is None or person.deleted_at is not None:
            raise ConflictError(
                f"Person {person_id} is no longer in the book; nothing was imported.",
                "Preview the files again.",
            )
        if not person.given_name and not person.family_name and record.given_name:
            person.given_name = record.given_name[:200]
            person.family_name = record.family_name[:200]
            if "@" in person.display_name or not person.display_name:
                person.display_name = record.display_name[:400]
                person.name_key = comparison_key(record.display_name)[:400]
        if not person.title and record.title:
            person.title = record.title[:200]
        if person.birthday is None and record.birthday:
            person.birthday = record.birthday
        if record.about and record.about not in person.about:
            person.about = f"{person.about}\n\n{record.about}" if person.about else record.about
        if record.photo and person.photo is None:
            person.photo = record.photo
        have = {e.address for e in person.emails}
        for email in self._free_emails(person.id, person.display_name, record, have):
            person.emails.append(
                PersonEmail(address=email.value, label=email.label, position=len(person.emails))
            )
        numbers = {p.number for p in person.phones}
        for phone in record.phones:
            if phone.value not in numbers:
                person.phones.append(
                    PersonPhone(
                        number=phone.value, label=phone.label[:40], position=len(person.phones)
                    )
                )
                numbers.add(phone.value)
        existing = {_address_key(a) for a in person.addresses}
        for address in _unique_addresses(record.addresses):
            if _address_key(address) not in existing:
                person.addresses.append(_postal(address, len(person.addresses)))
                existing.add(_address_key(address))
        session.flush()
        company_id = self.company(record.company)
        if person.company_id is None and company_id:
            set_current_company(session, person, company_id, record.title[:200], self.today)
            if record.department:
                affiliation = session.scalar(
                    select(Affiliation).where(
                        Affiliation.person_id == person.id,
                        Affiliation.company_id == company_id,
                        Affiliation.end_date.is_(None),
                    )
                )
                if affiliation is not None and not affiliation.department:
                    affiliation.department = record.department[:200]
        if record.tags and add_tags(session, "person", person.id, record.tags):
            mark_changed(session, person, "tags")
        return person.id

    def finish(self) -> None:
        self.flush()
        refresh_people_count(self.session, self.counted)

    # ------------------------------------------------------------------ helpers
    def _free_emails(
        self, person_id: str, name: str, record: ContactRecord, have: set[str]
    ) -> list[Labeled]:
        """The record's addresses this person may take (one owner per address)."""
        free = []
        for email in record.emails:
            if email.value in have:
                continue
            owner = self.owners.get(email.value)
            if owner is not None and owner[0] != person_id:
                self.notes.append(
                    f"{email.value} was not added to {name}: it belongs to {owner[1]} "
                    "(merge the two people if they are one)"
                )
                continue
            self.owners[email.value] = (person_id, name)
            have.add(email.value)
            free.append(email)
        return free

    def company(self, raw_name: str) -> str | None:
        name = " ".join(raw_name.split())[:300]
        key = comparison_key(name)
        if not key:
            return None
        if key not in self.companies:
            with self.session.no_autoflush:
                found = self.session.scalar(
                    select(Company.id)
                    .where(Company.name_key == key, Company.deleted_at.is_(None))
                    .limit(1)
                )
            if found is None:
                company = Company(id=new_id(), name=name, name_key=key, origin="import")
                self.session.add(company)
                self.session.flush()  # before the people who point at it
                found = company.id
            self.companies[key] = str(found)
        return self.companies[key]

    def _tags(self, names: list[str]) -> list[Tag]:
        found: dict[str, Tag] = {}
        for name in names:
            key = tag_key(name)
            if not key or key in found:
                continue
            if key not in self.tags:
                self.tags[key] = ensure_tag(self.session, name)
            found[key] = self.tags[key]
        return list(found.values())


def _unique_addresses(addresses: list[AddressEntry]) -> list[AddressEntry]:
    seen: set[tuple[str, ...]] = set()
    unique = []
    for address in addresses:
        if _address_key(address) not in seen:
            seen.add(_address_key(address))
            unique.append(address)
    return unique


def _postal(address: AddressEntry, position: int) -> PostalAddress:
    return PostalAddress(
        label=address.label[:40],
        street=address.street[:400],
        locality=address.locality[:200],
        region=address.region[:200],
        postcode=address.postcode[:40],
        country=address.country[:100],
        position=position,
    )


def _address_key(address: AddressEntry | PostalAddress) -> tuple[str, ...]:
    return tuple(
        comparison_key(getattr(address, part))
        for part in ("street", "locality", "region", "postcode", "country")
    )


def _normalise_phones(record: ContactRecord, region: str) -> None:
    """Phones in the form the book stores (E.164 when it parses), as the editor does."""
    problems = validate.Problems()
    seen: set[str] = set()
    phones = []
    for index, phone in enumerate(record.phones):
        number = validate.phone(phone.value, region, f"phones.{index}", problems)
        extension = re.search(r"(?:ext\.?|x|;ext=)\s*(\d+)\s*$", phone.value, re.IGNORECASE)
        if number and extension and extension.group(1) not in number:
            number = f"{number} ext. {extension.group(1)}"
        if number and number not in seen:
            seen.add(number)
            phones.append(type(phone)(number, phone.label))
    record.phones = phones
    for problem in problems.errors:
        record.warn(problem.message)
