"""The review queue: people who wrote (or were written to) and are not in the book yet.

Capture never creates people on its own; each unknown correspondent waits here:
- **accept** → a person with that address, at the company owning the address's domain
  (created from the domain unless it is free-mail or a list host); their past messages
  are linked at once;
- **ignore** → off the queue (their mail stays unlinked);
- **always ignore** the address or the whole domain → a rule: never a relationship, never
  queued again, past links from it removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relbook.capture.domains import company_name_from_domain, registrable_domain
from relbook.domain.addresses import domain_of, is_free_mail, is_list_domain, normalise_address
from relbook.domain.clock import from_millis
from relbook.domain.errors import NotFoundError
from relbook.domain.names import name_from_address, split_full_name
from relbook.services.base import Service
from relbook.services.companies import CompanyDraft
from relbook.services.people import Labeled, PersonDraft


@dataclass(frozen=True)
class ReviewEntry:
    address: str
    name: str
    domain: str
    status: str  # pending / accepted / ignored
    first_seen_at: datetime
    last_seen_at: datetime
    message_count: int
    last_subject: str
    company_id: str | None  # the company that already owns the domain, if any
    company_name: str
    free_mail: bool  # accepting creates no company


@dataclass(frozen=True)
class ReviewCounts:
    pending: int
    accepted: int
    ignored: int


@dataclass(frozen=True)
class ReviewPage:
    entries: tuple[ReviewEntry, ...]
    total: int  # pending entries matching the search (for paging)
    counts: ReviewCounts


@dataclass(frozen=True)
class AcceptResult:
    person_id: str
    company_id: str | None
    company_created: bool
    linked_interactions: int  # interactions linked to the person once accepted


class ReviewService(Service):
    KINDS = ("review", "person", "company", "interaction")

    # ---------------------------------------------------------------- reads
    def counts(self) -> ReviewCounts:
        found = dict(
            self.db.execute("SELECT status, count(*) FROM review_item GROUP BY status").fetchall()
        )
        return ReviewCounts(
            int(found.get("pending", 0)),
            int(found.get("accepted", 0)),
            int(found.get("ignored", 0)),
        )

    def pending(self, *, limit: int = 100, offset: int = 0, search: str = "") -> ReviewPage:
        """The queue, most active correspondents first."""
        where = "r.status = 'pending'"
        params: list[object] = []
        if search.strip():
            where += " AND (r.address LIKE ? OR r.name LIKE ?)"
            like = f"%{search.strip()}%"
            params += [like, like]
        total = self.db.execute(
            f"SELECT count(*) FROM review_item r WHERE {where}", params
        ).fetchone()[0]
        rows = self.db.execute(
            f"""SELECT r.address, r.name, r.domain, r.status, r.first_seen_at, r.last_seen_at,
                       r.message_count, r.last_subject
                FROM review_item r WHERE {where}
                ORDER BY r.message_count DESC, r.last_seen_at DESC LIMIT ? OFFSET ?""",
            [*params, limit, offset],
        ).fetchall()
        return ReviewPage(tuple(self._entry(r) for r in rows), int(total), self.counts())

    def entry(self, address: str) -> ReviewEntry:
        row = self.db.execute(
            """SELECT address, name, domain, status, first_seen_at, last_seen_at, message_count,
                      last_subject FROM review_item WHERE address = ?""",
            (normalise_address(address),),
        ).fetchone()
        if row is None:
            raise NotFoundError("review item", address)
        return self._entry(row)

    def _entry(self, row: tuple[object, ...]) -> ReviewEntry:
        address, name, domain = str(row[0]), str(row[1]), str(row[2])
        company_id = self.services.companies.find_by_domain(domain) if domain else None
        company_name = ""
        if company_id:
            company_name = self.db.execute(
                "SELECT name FROM company WHERE id = ?", (company_id,)
            ).fetchone()[0]
        return ReviewEntry(
            address=address,
            name=name,
            domain=domain,
            status=str(row[3]),
            first_seen_at=from_millis(int(row[4])),  # type: ignore[call-overload]
            last_seen_at=from_millis(int(row[5])),  # type: ignore[call-overload]
            message_count=int(row[6]),  # type: ignore[call-overload]
            last_subject=str(row[7]),
            company_id=company_id,
            company_name=company_name,
            free_mail=_no_company(domain),
        )

    # --------------------------------------------------------------- writes
    def accept(
        self,
        address: str,
        *,
        given_name: str | None = None,
        family_name: str | None = None,
        company_name: str | None = None,
    ) -> AcceptResult:
        """A person from a queued address (and a company from its domain); links the past.

        Idempotent: accepting an address that already belongs to a person links and
        resolves it without creating anyone.
        """
        entry = self.entry(address)
        people, companies = self.services.people, self.services.companies
        company_id: str | None = None
        created_company = False
        domain = entry.domain or registrable_domain(domain_of(entry.address))
        if company_name and company_name.strip():
            company_id = companies.find_by_name(company_name)
            if company_id is None:
                domains = [domain] if domain and not _no_company(domain) else []
                if domains and companies.find_by_domain(domain):
                    domains = []  # the domain is someone else's; the name decides
                company_id = companies.create(
                    CompanyDraft(name=company_name.strip(), domains=domains, origin="review")
                )
                created_company = True
        elif domain and not _no_company(domain):
            company_id = companies.find_by_domain(domain)
            if company_id is None:
                company_id = companies.create(
                    CompanyDraft(
                        name=company_name_from_domain(domain), domains=[domain], origin="review"
                    )
                )
                created_company = True

        person_id = people.find_by_address(entry.address)
        if person_id is None:
            given, family = _names(entry, given_name, family_name)
            person_id = people.create(
                PersonDraft(
                    given_name=given,
                    family_name=family,
                    emails=[Labeled(entry.address, "work" if company_id else "")],
                    company_id=company_id,
                    origin="review",
                )
            )
        else:  # already someone's: make sure their mail from it is theirs
            self.services.relink.addresses_changed([entry.address])
        # Creating the company and the person relinked their past mail already
        # (services.relink, called by the companies and people services).
        with self.book.raw_write() as connection:
            connection.execute(
                "UPDATE review_item SET status = 'accepted' WHERE address = ?", (entry.address,)
            )
            linked = connection.execute(
                """SELECT count(*) FROM interaction_link
                   WHERE entity_id = ? AND excluded = 0""",
                (person_id,),
            ).fetchone()[0]
        self.services.changes.publish(self.KINDS, reason="review accepted")
        return AcceptResult(person_id, company_id, created_company, int(linked))

    def ignore(self, address: str) -> None:
        """Off the queue; nothing else changes (their mail stays unlinked)."""
        self._set_status([normalise_address(address)], "ignored")

    def reopen(self, address: str) -> None:
        """Put an ignored or accepted address back on the queue (undo)."""
        self._set_status([normalise_address(address)], "pending")

    def always_ignore_address(self, address: str) -> int:
        """Never a relationship: a rule, the queue entry ignored, past links removed."""
        address = normalise_address(address)
        result = self.services.relink.add_rule("address", address, "ignore")
        self._set_status([address], "ignored")
        return result.interactions

    def always_ignore_domain(self, domain: str) -> int:
        """Nobody at this domain is a relationship (a notification service, say)."""
        domain = domain.strip().lower().strip(".")
        result = self.services.relink.add_rule("domain", domain, "ignore")
        addresses = [
            r[0]
            for r in self.db.execute(
                """SELECT address FROM review_item
                   WHERE domain = ? OR address LIKE ? OR address LIKE ?""",
                (domain, f"%@{domain}", f"%@%.{domain}"),
            )
        ]
        self._set_status(addresses, "ignored")
        return result.interactions

    def _set_status(self, addresses: list[str], status: str) -> None:
        with self.book.raw_write() as connection:
            cursor = connection.executemany(
                "UPDATE review_item SET status = ? WHERE address = ?",
                [(status, a) for a in addresses],
            )
            if len(addresses) == 1 and cursor.rowcount == 0:
                raise NotFoundError("review item", addresses[0])
        self.services.changes.publish(("review",), reason=f"review {status}")


def _no_company(domain: str) -> bool:
    return not domain or is_free_mail(domain) or is_list_domain(domain)


def _names(entry: ReviewEntry, given: str | None, family: str | None) -> tuple[str, str]:
    if given is not None or family is not None:
        return (given or "").strip(), (family or "").strip()
    name = entry.name.strip()
    if name and "@" not in name:
        return split_full_name(name)
    return name_from_address(entry.address)
