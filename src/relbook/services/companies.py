"""Companies: accounts with several e-mail domains, values, a parent, and their people."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from relbook.domain.addresses import is_free_mail, is_list_domain
from relbook.domain.clock import from_millis
from relbook.domain.errors import ConflictError, NotFoundError
from relbook.domain.money import parse_money_text, to_minor
from relbook.domain.names import comparison_key
from relbook.services import validate
from relbook.services.affiliations import refresh_people_count
from relbook.services.base import Service
from relbook.services.tags import set_tags
from relbook.storage.models import Company, CompanyDomain
from relbook.storage.session import mark_changed


@dataclass
class CompanyDraft:
    name: str = ""
    domains: list[str] = field(default_factory=list)
    website: str = ""
    industry: str = ""
    employees: int | None = None
    currency: str = ""  # empty: the book's currency
    current_value: Decimal | str | None = None
    potential_value: Decimal | str | None = None
    parent_id: str | None = None
    about: str = ""
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    origin: str = "manual"
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class CompanyDetail:
    id: str
    name: str
    domains: tuple[str, ...]
    website: str
    industry: str
    employees: int | None
    currency: str
    current_value_minor: int | None
    potential_value_minor: int | None
    parent_id: str | None
    parent_name: str
    about: str
    tags: tuple[str, ...]
    custom: dict[str, Any]
    people_count: int
    last_touch_at: datetime | None
    touch_count: int
    rhythm_days: float | None
    strength: float | None
    version: int


def _money(
    value: Decimal | str | None, currency: str, name: str, problems: validate.Problems
) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount = value if isinstance(value, Decimal) else parse_money_text(str(value))
    if amount is None:
        problems.add(name, f"'{value}' is not an amount")
        return None
    if amount < 0:
        problems.add(name, "cannot be negative")
        return None
    return to_minor(amount, currency)


class CompanyService(Service):
    def detail(self, company_id: str) -> CompanyDetail:
        row = self.db.execute(
            """SELECT c.id, c.name, c.website, c.industry, c.employees, c.currency,
                      c.current_value_minor, c.potential_value_minor, parent.id,
                      coalesce(parent.name, ''), c.about, c.custom, c.people_count,
                      c.last_touch_at, c.touch_count, c.rhythm_days, c.strength, c.version
               FROM company c LEFT JOIN company parent ON parent.id = c.parent_id
                    AND parent.deleted_at IS NULL
               WHERE c.id = ? AND c.deleted_at IS NULL""",
            (company_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("company", company_id)
        domains = tuple(
            r[0]
            for r in self.db.execute(
                "SELECT domain FROM company_domain WHERE company_id = ? ORDER BY position",
                (company_id,),
            )
        )
        return CompanyDetail(
            id=row[0],
            name=row[1],
            domains=domains,
            website=row[2],
            industry=row[3],
            employees=row[4],
            currency=row[5],
            current_value_minor=row[6],
            potential_value_minor=row[7],
            parent_id=row[8],
            parent_name=row[9],
            about=row[10],
            tags=tuple(self.services.tags.of(company_id)),
            custom=json.loads(row[11] or "{}"),
            people_count=row[12],
            last_touch_at=None if row[13] is None else from_millis(row[13]),
            touch_count=row[14],
            rhythm_days=row[15],
            strength=row[16],
            version=row[17],
        )

    def draft(self, company_id: str) -> CompanyDraft:
        d = self.detail(company_id)
        from relbook.domain.money import from_minor

        return CompanyDraft(
            id=d.id,
            version=d.version,
            name=d.name,
            domains=list(d.domains),
            website=d.website,
            industry=d.industry,
            employees=d.employees,
            currency=d.currency,
            current_value=None
            if d.current_value_minor is None
            else from_minor(d.current_value_minor, d.currency),
            potential_value=None
            if d.potential_value_minor is None
            else from_minor(d.potential_value_minor, d.currency),
            # The stored link, even to a parent deleted since (the detail shows none).
            parent_id=validate.stored(self.db, "company", d.id, "parent_id"),
            about=d.about,
            tags=list(d.tags),
            custom=dict(d.custom),
        )

    def find_by_domain(self, domain: str) -> str | None:
        row = self.db.execute(
            """SELECT d.company_id FROM company_domain d JOIN company c ON c.id = d.company_id
               WHERE d.domain = ? AND c.deleted_at IS NULL LIMIT 1""",
            (domain.lower(),),
        ).fetchone()
        return row[0] if row else None

    def find_by_name(self, name: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM company WHERE name_key = ? AND deleted_at IS NULL LIMIT 1",
            (comparison_key(name),),
        ).fetchone()
        return row[0] if row else None

    def _clean(
        self, draft: CompanyDraft
    ) -> tuple[CompanyDraft, dict[str, int | None], validate.Problems]:
        problems = validate.Problems()
        name = validate.required_text(draft.name, "name", problems, 300)
        currency = (draft.currency or self.services.settings.currency).upper()
        if not (len(currency) == 3 and currency.isalpha()):
            problems.add("currency", "must be a three-letter ISO code")
            currency = "EUR"
        domains: list[str] = []
        for index, raw in enumerate(draft.domains):
            domain = validate.domain(raw, f"domains.{index}", problems)
            if domain is None or domain in domains:
                continue
            if is_free_mail(domain) or is_list_domain(domain):
                problems.add(
                    f"domains.{index}",
                    f"{domain} is a free-mail or list domain; it cannot belong to a company",
                )
                continue
            owner = self.find_by_domain(domain)
            if owner and owner != draft.id:
                other = self.db.execute(
                    "SELECT name FROM company WHERE id = ?", (owner,)
                ).fetchone()[0]
                problems.add(f"domains.{index}", f"{domain} already belongs to {other}")
                continue
            domains.append(domain)
        if draft.employees is not None and draft.employees < 0:
            problems.add("employees", "cannot be negative")
        validate.reference(
            self.db,
            "company",
            draft.parent_id,
            "parent_id",
            problems,
            kept=validate.stored(self.db, "company", draft.id, "parent_id"),
        )
        if draft.parent_id and draft.parent_id == draft.id:
            problems.add("parent_id", "a company cannot be its own parent")
        elif draft.parent_id and draft.id and self._is_descendant(draft.parent_id, draft.id):
            problems.add("parent_id", "that company is one of this company's subsidiaries")
        values = {
            "current_value_minor": _money(draft.current_value, currency, "current_value", problems),
            "potential_value_minor": _money(
                draft.potential_value, currency, "potential_value", problems
            ),
        }
        clean = CompanyDraft(
            name=name,
            domains=domains,
            website=validate.url(draft.website, "website", problems),
            industry=validate.optional_text(draft.industry, "industry", problems, 200),
            employees=draft.employees,
            currency=currency,
            parent_id=draft.parent_id,
            about=draft.about.strip(),
            tags=draft.tags,
            origin=draft.origin,
            custom=self.services.fields.clean_values("company", draft.custom, problems),
            id=draft.id,
            version=draft.version,
        )
        return clean, values, problems

    def _is_descendant(self, candidate: str, ancestor: str) -> bool:
        row = self.db.execute(
            """WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT c.parent_id FROM company c
               JOIN up ON c.id = up.id WHERE c.parent_id IS NOT NULL)
               SELECT 1 FROM up WHERE id = ?""",
            (candidate, ancestor),
        ).fetchone()
        return row is not None

    def create(self, draft: CompanyDraft) -> str:
        clean, values, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("company",)) as session:
            company = Company(name=clean.name, origin=clean.origin)
            session.add(company)
            self._apply(session, company, clean, values)
            session.flush()
            company_id = company.id
        if clean.domains:  # mail already in the book from these domains (capture linking)
            self.services.relink.domains_changed(clean.domains)
        return company_id

    def update(self, draft: CompanyDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean, values, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("company", "person")) as session:
            company = session.get(Company, draft.id)
            if company is None or company.deleted_at is not None:
                raise NotFoundError("company", draft.id)
            if draft.version is not None and company.version != draft.version:
                raise ConflictError(
                    f"{company.name} was changed elsewhere while you edited it.",
                    "Reopen the company to see the latest version, then edit again.",
                )
            before = {d.domain for d in company.domains}
            self._apply(session, company, clean, values)
        changed = before ^ set(clean.domains)
        if changed:  # past mail from a gained or lost domain (capture linking)
            self.services.relink.domains_changed(sorted(changed))

    def _apply(
        self, session: Any, company: Company, clean: CompanyDraft, values: dict[str, int | None]
    ) -> None:
        company.name = clean.name
        company.name_key = comparison_key(clean.name)
        company.website = clean.website
        company.industry = clean.industry
        company.employees = clean.employees
        company.currency = clean.currency
        company.current_value_minor = values["current_value_minor"]
        company.potential_value_minor = values["potential_value_minor"]
        company.parent_id = clean.parent_id
        company.about = clean.about
        company.custom = clean.custom
        if [d.domain for d in company.domains] != clean.domains:
            company.domains[:] = [
                CompanyDomain(domain=d, position=i) for i, d in enumerate(clean.domains)
            ]
        session.flush()
        if set_tags(session, "company", company.id, clean.tags):
            mark_changed(session, company, "tags")

    def add_domain(self, company_id: str, domain: str) -> None:
        draft = self.draft(company_id)
        draft.domains.append(domain)
        self.update(draft)

    def delete(self, company_ids: list[str]) -> list[str]:
        """Soft-delete companies. Their people stay (with no current company shown)."""
        now = self.clock.now()
        deleted: list[str] = []
        with self.write(("company", "person"), reason="delete") as session:
            for company in session.scalars(select(Company).where(Company.id.in_(company_ids))):
                if company.deleted_at is None:
                    company.deleted_at = now
                    deleted.append(company.id)
        return deleted

    def restore(self, company_ids: list[str]) -> None:
        with self.write(("company", "person"), reason="restore") as session:
            for company in session.scalars(select(Company).where(Company.id.in_(company_ids))):
                company.deleted_at = None
            session.flush()
            refresh_people_count(session, set(company_ids))

    def people(self, company_id: str) -> list[tuple[str, str, str]]:
        """(person id, name, title) of the people currently there."""
        return [
            (r[0], r[1], r[2])
            for r in self.db.execute(
                """SELECT id, display_name, title FROM person
                   WHERE company_id = ? AND deleted_at IS NULL ORDER BY display_name""",
                (company_id,),
            )
        ]
