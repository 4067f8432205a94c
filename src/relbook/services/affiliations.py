"""Affiliations: who works where, over time. People change jobs; history stays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relbook.domain.errors import FieldError, ValidationError
from relbook.services import validate
from relbook.services.base import Service, live
from relbook.storage.models import Affiliation, Company, Person


@dataclass(frozen=True)
class AffiliationRow:
    id: str
    person_id: str
    person_name: str
    company_id: str
    company_name: str
    role: str
    department: str
    start_date: str | None
    end_date: str | None
    is_primary: bool

    @property
    def current(self) -> bool:
        return self.end_date is None


def _affiliation(r: Any) -> AffiliationRow:
    return AffiliationRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9]))


def refresh_people_count(session: Session, company_ids: set[str]) -> None:
    for company_id in company_ids:
        count = session.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.company_id == company_id, Person.deleted_at.is_(None))
        )
        session.execute(update(Company).where(Company.id == company_id).values(people_count=count))


def set_current_company(
    session: Session, person: Person, company_id: str | None, role: str, today: str
) -> None:
    """Make ``company_id`` the person's current employer (None: no current employer).

    An open primary affiliation elsewhere is ended today, not deleted.
    """
    previous = person.company_id
    open_primary = session.scalars(
        select(Affiliation).where(
            Affiliation.person_id == person.id,
            Affiliation.end_date.is_(None),
            Affiliation.is_primary.is_(True),
            Affiliation.deleted_at.is_(None),
        )
    ).all()
    kept = False
    for affiliation in open_primary:
        if affiliation.company_id == company_id:
            kept = True
            if role and affiliation.role != role:
                affiliation.role = role
        else:
            affiliation.end_date = today
    if company_id and not kept:
        session.add(
            Affiliation(
                person_id=person.id,
                company_id=company_id,
                role=role,
                start_date=today,
                is_primary=True,
            )
        )
    person.company_id = company_id
    session.flush()
    refresh_people_count(session, {c for c in (previous, company_id) if c})


class AffiliationService(Service):
    _SELECT = """SELECT a.id, a.person_id, p.display_name, a.company_id, c.name, a.role,
                        a.department, a.start_date, a.end_date, a.is_primary
                 FROM affiliation a JOIN person p ON p.id = a.person_id
                 JOIN company c ON c.id = a.company_id
                 WHERE a.deleted_at IS NULL AND p.deleted_at IS NULL AND c.deleted_at IS NULL"""

    def of_person(self, person_id: str) -> list[AffiliationRow]:
        rows = self.db.execute(
            self._SELECT + " AND a.person_id = ? ORDER BY a.end_date IS NOT NULL, "
            "coalesce(a.end_date, '9999') DESC, a.start_date DESC",
            (person_id,),
        )
        return [_affiliation(r) for r in rows]

    def of_company(self, company_id: str, *, current_only: bool = False) -> list[AffiliationRow]:
        sql = self._SELECT + " AND a.company_id = ?"
        if current_only:
            sql += " AND a.end_date IS NULL"
        rows = self.db.execute(
            sql + " ORDER BY a.end_date IS NOT NULL, p.display_name", (company_id,)
        )
        return [_affiliation(r) for r in rows]

    def add(
        self,
        person_id: str,
        company_id: str,
        role: str = "",
        department: str = "",
        start_date: str | None = None,
        end_date: str | None = None,
        *,
        primary: bool = False,
    ) -> str:
        problems = validate.Problems()
        start = validate.iso_date(start_date, "start_date", problems)
        end = validate.iso_date(end_date, "end_date", problems)
        if start and end and end < start:
            problems.add("end_date", "ends before it starts")
        validate.reference(self.db, "person", person_id, "person_id", problems)
        validate.reference(self.db, "company", company_id, "company_id", problems)
        problems.raise_if_any()
        with self.write(("affiliation", "person", "company")) as session:
            person = live(session, Person, person_id, "person")
            if primary and end is None:
                set_current_company(
                    session, person, company_id, role, start or self.clock.now().date().isoformat()
                )
                found = session.scalar(
                    select(Affiliation).where(
                        Affiliation.person_id == person_id,
                        Affiliation.company_id == company_id,
                        Affiliation.end_date.is_(None),
                        Affiliation.deleted_at.is_(None),
                    )
                )
                assert found is not None
                if department:
                    found.department = department
                return found.id
            affiliation = Affiliation(
                person_id=person_id,
                company_id=company_id,
                role=role,
                department=department,
                start_date=start,
                end_date=end,
                is_primary=primary,
            )
            session.add(affiliation)
            session.flush()
            return affiliation.id

    def end(self, affiliation_id: str, end_date: str | None = None) -> None:
        problems = validate.Problems()
        end = (
            validate.iso_date(end_date, "end_date", problems) or self.clock.now().date().isoformat()
        )
        problems.raise_if_any()
        with self.write(("affiliation", "person", "company")) as session:
            affiliation = live(session, Affiliation, affiliation_id, "job")
            if affiliation.start_date and end < affiliation.start_date:
                raise ValidationError(FieldError("end_date", "ends before it starts"))
            affiliation.end_date = end
            _drop_current(session, affiliation)

    def update(
        self,
        affiliation_id: str,
        *,
        role: str,
        department: str = "",
        start_date: str | None = None,
        end_date: str | None = None,
    ) -> None:
        """Correct a job: its role, department and dates (ending it when an end is set)."""
        problems = validate.Problems()
        clean_role = validate.optional_text(role, "role", problems, 200)
        clean_department = validate.optional_text(department, "department", problems, 200)
        start = validate.iso_date(start_date, "start_date", problems)
        end = validate.iso_date(end_date, "end_date", problems)
        if start and end and end < start:
            problems.add("end_date", "ends before it starts")
        problems.raise_if_any()
        with self.write(("affiliation", "person", "company")) as session:
            affiliation = live(session, Affiliation, affiliation_id, "job")
            affiliation.role = clean_role
            affiliation.department = clean_department
            affiliation.start_date = start
            affiliation.end_date = end
            if end is not None:
                _drop_current(session, affiliation)

    def delete(self, affiliation_id: str) -> None:
        """Remove a job entered by mistake (a tombstone; the person and company stay)."""
        with self.write(("affiliation", "person", "company"), reason="delete") as session:
            affiliation = live(session, Affiliation, affiliation_id, "job")
            affiliation.deleted_at = self.clock.now()
            _drop_current(session, affiliation)


def _drop_current(session: Session, affiliation: Affiliation) -> None:
    """An ended or deleted primary job is no longer the person's current company."""
    person = session.get(Person, affiliation.person_id)
    if person is None or not affiliation.is_primary:
        return
    still_there = session.scalar(
        select(Affiliation.id).where(
            Affiliation.person_id == person.id,
            Affiliation.company_id == affiliation.company_id,
            Affiliation.id != affiliation.id,
            Affiliation.is_primary.is_(True),
            Affiliation.end_date.is_(None),
            Affiliation.deleted_at.is_(None),
        )
    )
    if person.company_id == affiliation.company_id and still_there is None:
        person.company_id = None
        session.flush()
        refresh_people_count(session, {affiliation.company_id})
