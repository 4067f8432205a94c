"""People: create, read, update, delete (soft, undoable), and the editor's draft."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from relbook.domain.clock import from_millis
from relbook.domain.errors import ConflictError, NotFoundError
from relbook.domain.names import comparison_key, display_name, name_from_address
from relbook.services import validate
from relbook.services.affiliations import refresh_people_count, set_current_company
from relbook.services.base import Service, live
from relbook.services.tags import set_tags, tags_of
from relbook.storage.models import Company, Person, PersonEmail, PersonPhone, PostalAddress
from relbook.storage.session import mark_changed

PHOTO_LIMIT = 512 * 1024


@dataclass
class Labeled:
    value: str
    label: str = ""


@dataclass
class AddressEntry:
    label: str = ""
    street: str = ""
    locality: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""

    def is_empty(self) -> bool:
        return not any((self.street, self.locality, self.region, self.postcode, self.country))


@dataclass
class PersonDraft:
    """What an editor edits. ``id`` None = a new person; ``version`` guards lost updates."""

    given_name: str = ""
    family_name: str = ""
    display_name: str = ""  # empty: composed from the names
    title: str = ""
    birthday: str | None = None
    about: str = ""
    emails: list[Labeled] = field(default_factory=list)
    phones: list[Labeled] = field(default_factory=list)
    addresses: list[AddressEntry] = field(default_factory=list)
    company_id: str | None = None
    company_name: str = ""  # used when company_id is None: found by name or created
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    cadence_days: int | None = None
    origin: str = "manual"
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class PersonDetail:
    id: str
    display_name: str
    given_name: str
    family_name: str
    title: str
    company_id: str | None
    company_name: str
    emails: tuple[Labeled, ...]
    phones: tuple[Labeled, ...]
    addresses: tuple[AddressEntry, ...]
    birthday: str | None
    about: str
    tags: tuple[str, ...]
    custom: dict[str, Any]
    cadence_days: int | None
    snoozed_until: datetime | None
    last_touch_at: datetime | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    touch_count: int
    inbound_count: int
    outbound_count: int
    rhythm_days: float | None
    strength: float | None
    created_at: datetime
    version: int
    has_photo: bool


def _ms(value: int | None) -> datetime | None:
    return None if value is None else from_millis(value)


class PeopleService(Service):
    # ------------------------------------------------------------------ reads
    def detail(self, person_id: str) -> PersonDetail:
        """The person as the rep sees them: a deleted company is no company (no name, no
        link) until it is restored; the stored link stays (see ``draft``)."""
        db = self.db
        row = db.execute(
            """SELECT p.id, p.display_name, p.given_name, p.family_name, p.title, c.id,
                      coalesce(c.name, ''), p.birthday, p.about, p.custom, p.cadence_days,
                      p.snoozed_until, p.last_touch_at, p.last_inbound_at, p.last_outbound_at,
                      p.touch_count, p.inbound_count, p.outbound_count, p.rhythm_days,
                      p.strength, p.created_at, p.version, p.photo IS NOT NULL
               FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
               WHERE p.id = ? AND p.deleted_at IS NULL""",
            (person_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("person", person_id)
        emails = tuple(
            Labeled(a, lbl)
            for a, lbl in db.execute(
                "SELECT address, label FROM person_email WHERE person_id = ? ORDER BY position",
                (person_id,),
            )
        )
        phones = tuple(
            Labeled(n, lbl)
            for n, lbl in db.execute(
                "SELECT number, label FROM person_phone WHERE person_id = ? ORDER BY position",
                (person_id,),
            )
        )
        addresses = tuple(
            AddressEntry(*r)
            for r in db.execute(
                """SELECT label, street, locality, region, postcode, country FROM person_address
                   WHERE person_id = ? ORDER BY position""",
                (person_id,),
            )
        )
        return PersonDetail(
            id=row[0],
            display_name=row[1],
            given_name=row[2],
            family_name=row[3],
            title=row[4],
            company_id=row[5],
            company_name=row[6],
            emails=emails,
            phones=phones,
            addresses=addresses,
            birthday=row[7],
            about=row[8],
            tags=tuple(self.services.tags.of(person_id)),
            custom=json.loads(row[9] or "{}"),
            cadence_days=row[10],
            snoozed_until=_ms(row[11]),
            last_touch_at=_ms(row[12]),
            last_inbound_at=_ms(row[13]),
            last_outbound_at=_ms(row[14]),
            touch_count=row[15],
            inbound_count=row[16],
            outbound_count=row[17],
            rhythm_days=row[18],
            strength=row[19],
            created_at=from_millis(row[20]),
            version=row[21],
            has_photo=bool(row[22]),
        )

    def draft(self, person_id: str) -> PersonDraft:
        detail = self.detail(person_id)
        return PersonDraft(
            id=detail.id,
            version=detail.version,
            given_name=detail.given_name,
            family_name=detail.family_name,
            display_name=""
            if detail.display_name == display_name(detail.given_name, detail.family_name)
            else detail.display_name,
            title=detail.title,
            birthday=detail.birthday,
            about=detail.about,
            emails=[Labeled(e.value, e.label) for e in detail.emails],
            phones=[Labeled(p.value, p.label) for p in detail.phones],
            addresses=list(detail.addresses),
            # The stored link, even to a company deleted since (shown without a name):
            # saving keeps it, so restoring the company finds the person there again.
            company_id=validate.stored(self.db, "person", detail.id, "company_id"),
            company_name=detail.company_name,
            tags=list(detail.tags),
            custom=dict(detail.custom),
            cadence_days=detail.cadence_days,
        )

    def find_by_address(self, address: str) -> str | None:
        row = self.db.execute(
            """SELECT e.person_id FROM person_email e JOIN person p ON p.id = e.person_id
               WHERE e.address = ? AND p.deleted_at IS NULL LIMIT 1""",
            (address.strip().lower(),),
        ).fetchone()
        return row[0] if row else None

    def photo(self, person_id: str) -> bytes | None:
        row = self.db.execute("SELECT photo FROM person WHERE id = ?", (person_id,)).fetchone()
        return row[0] if row else None

    def count(self) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM person WHERE deleted_at IS NULL").fetchone()[0]
        )

    # ----------------------------------------------------------------- writes
    def _clean(self, draft: PersonDraft) -> tuple[PersonDraft, validate.Problems]:
        problems = validate.Problems()
        region = str(self.services.settings.get("phone_region"))
        given = validate.optional_text(draft.given_name, "given_name", problems, 200)
        family = validate.optional_text(draft.family_name, "family_name", problems, 200)
        emails: list[Labeled] = []
        seen: set[str] = set()
        for index, entry in enumerate(draft.emails):
            address = validate.email(entry.value, f"emails.{index}", problems)
            if address and address not in seen:
                seen.add(address)
                emails.append(Labeled(address, entry.label.strip()[:40]))
        phones: list[Labeled] = []
        for index, entry in enumerate(draft.phones):
            number = validate.phone(entry.value, region, f"phones.{index}", problems)
            if number and number not in {p.value for p in phones}:
                phones.append(Labeled(number, entry.label.strip()[:40]))
        name = " ".join(draft.display_name.split()) or display_name(given, family)
        if not name and emails:
            guess = name_from_address(emails[0].value)
            given, family = (given or guess[0]), (family or guess[1])
            name = display_name(given, family) or emails[0].value
        if not name:
            problems.add("given_name", "a person needs a name or an e-mail address")
        validate.reference(
            self.db,
            "company",
            draft.company_id,
            "company_id",
            problems,
            kept=validate.stored(self.db, "person", draft.id, "company_id"),
        )
        if draft.cadence_days is not None and not 1 <= draft.cadence_days <= 3650:
            problems.add("cadence_days", "must be between 1 and 3650 days")
        clean = PersonDraft(
            given_name=given,
            family_name=family,
            display_name=name,
            title=validate.optional_text(draft.title, "title", problems, 200),
            birthday=validate.birthday(draft.birthday, "birthday", problems),
            about=draft.about.strip(),
            emails=emails,
            phones=phones,
            addresses=[a for a in draft.addresses if not a.is_empty()],
            company_id=draft.company_id,
            company_name=" ".join(draft.company_name.split()),
            tags=draft.tags,
            cadence_days=draft.cadence_days,
            origin=draft.origin,
            custom=self.services.fields.clean_values("person", draft.custom, problems),
            id=draft.id,
            version=draft.version,
        )
        for address in seen:
            owner = self.find_by_address(address)
            if owner and owner != draft.id:
                other = self.db.execute(
                    "SELECT display_name FROM person WHERE id = ?", (owner,)
                ).fetchone()[0]
                index = next(i for i, e in enumerate(emails) if e.value == address)
                problems.add(
                    f"emails.{index}", f"{address} already belongs to {other} (merge them instead)"
                )
        return clean, problems

    def create(self, draft: PersonDraft) -> str:
        clean, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("person",)) as session:
            person = Person(origin=clean.origin)
            session.add(person)
            self._apply(session, person, clean)
            session.flush()
            person_id = person.id
        # Mail already in the book from these addresses is theirs now (capture linking).
        self.services.relink.addresses_changed([e.value for e in clean.emails])
        return person_id

    def update(self, draft: PersonDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("person",)) as session:
            person = session.get(Person, draft.id)
            if person is None or person.deleted_at is not None:
                raise NotFoundError("person", draft.id)
            if draft.version is not None and person.version != draft.version:
                raise ConflictError(
                    f"{person.display_name} was changed elsewhere while you edited it.",
                    "Reopen the person to see the latest version, then edit again.",
                )
            before = {e.address for e in person.emails}
            company_before = person.company_id
            self._apply(session, person, clean)
            after = {e.address for e in person.emails}
            # A first employer reaches their past mail; after a move, mail already in the
            # book stays with the company they were at (it was linked when it came in).
            employed = company_before is None and person.company_id is not None
        # Past mail follows a gained or lost address (capture linking).
        changed = (before ^ after) | (after if employed else set())
        if changed:
            self.services.relink.addresses_changed(sorted(changed))

    def _apply(self, session: Any, person: Person, clean: PersonDraft) -> None:
        person.given_name = clean.given_name
        person.family_name = clean.family_name
        person.display_name = clean.display_name
        person.name_key = comparison_key(clean.display_name)
        person.title = clean.title
        person.birthday = clean.birthday
        person.about = clean.about
        person.custom = clean.custom
        person.cadence_days = clean.cadence_days
        _replace_children(
            person.emails,
            [
                PersonEmail(address=e.value, label=e.label, position=i)
                for i, e in enumerate(clean.emails)
            ],
            key=lambda row: (row.address, row.label, row.position),
        )
        _replace_children(
            person.phones,
            [
                PersonPhone(number=p.value, label=p.label, position=i)
                for i, p in enumerate(clean.phones)
            ],
            key=lambda row: (row.number, row.label, row.position),
        )
        _replace_children(
            person.addresses,
            [
                PostalAddress(
                    label=a.label,
                    street=a.street,
                    locality=a.locality,
                    region=a.region,
                    postcode=a.postcode,
                    country=a.country,
                    position=i,
                )
                for i, a in enumerate(clean.addresses)
            ],
            key=lambda row: (
                row.label,
                row.street,
                row.locality,
                row.region,
                row.postcode,
                row.country,
                row.position,
            ),
        )
        session.flush()
        company_id = clean.company_id
        if company_id is None and clean.company_name:
            company_id = find_or_create_company(session, clean.company_name)
        if company_id or person.company_id:
            set_current_company(
                session, person, company_id, clean.title, self.clock.now().date().isoformat()
            )
        if set_tags(session, "person", person.id, clean.tags):
            mark_changed(session, person, "tags")

    def set_photo(self, person_id: str, data: bytes | None) -> None:
        if data is not None and len(data) > PHOTO_LIMIT:
            from relbook.domain.errors import FieldError, ValidationError

            raise ValidationError(FieldError("photo", "is larger than 512 KB; use a smaller image"))
        with self.write(("person",)) as session:
            live(session, Person, person_id, "person").photo = data

    def set_cadence(self, person_id: str, days: int | None) -> None:
        if days is not None and not 1 <= days <= 3650:
            from relbook.domain.errors import FieldError, ValidationError

            raise ValidationError(FieldError("cadence_days", "must be between 1 and 3650 days"))
        with self.write(("person",)) as session:
            live(session, Person, person_id, "person").cadence_days = days

    def snooze(self, person_id: str, until: datetime | None) -> None:
        with self.write(("person",)) as session:
            live(session, Person, person_id, "person").snoozed_until = until

    def delete(self, person_ids: list[str]) -> list[str]:
        """Soft-delete (the rows stay as tombstones); returns the ids for ``restore``."""
        now = self.clock.now()
        deleted: list[str] = []
        with self.write(("person",), reason="delete") as session:
            companies: set[str] = set()
            for person in session.scalars(select(Person).where(Person.id.in_(person_ids))):
                if person.deleted_at is None:
                    person.deleted_at = now
                    deleted.append(person.id)
                    if person.company_id:
                        companies.add(person.company_id)
            session.flush()
            refresh_people_count(session, companies)
        return deleted

    def restore(self, person_ids: list[str]) -> None:
        with self.write(("person",), reason="restore") as session:
            companies: set[str] = set()
            for person in session.scalars(select(Person).where(Person.id.in_(person_ids))):
                person.deleted_at = None
                if person.company_id:
                    companies.add(person.company_id)
            session.flush()
            refresh_people_count(session, companies)

    def add_email(self, person_id: str, address: str, label: str = "") -> None:
        draft = self.draft(person_id)
        draft.emails.append(Labeled(address, label))
        self.update(draft)

    def tags_of(self, session: Any, person_id: str) -> list[str]:
        return tags_of(session, person_id)


def _replace_children(current: list[Any], wanted: list[Any], key: Any) -> None:
    """Replace a child collection only when it differs (no spurious version bumps)."""
    if [key(row) for row in current] == [key(row) for row in wanted]:
        return
    current[:] = wanted


def find_or_create_company(session: Any, name: str) -> str:
    key = comparison_key(name)
    found = session.scalar(
        select(Company.id).where(Company.name_key == key, Company.deleted_at.is_(None)).limit(1)
    )
    if found:
        return str(found)
    company = Company(name=name, name_key=key)
    session.add(company)
    session.flush()
    return company.id
