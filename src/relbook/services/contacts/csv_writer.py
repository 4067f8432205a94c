"""People, companies or deals → CSV that is safe to open in a spreadsheet.

Every cell goes through defusedcsv, which neutralises cells a spreadsheet would run as a
formula (starting with =, +, -, @, |, %) by prefixing an apostrophe; a leading tab or
carriage return, which some spreadsheets strip before evaluating, is treated the same.
People's columns follow the Google Contacts layout so the file imports back (here or
into Google/Outlook) without mapping.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from defusedcsv import csv as safe_csv

from relbook.domain.clock import from_millis
from relbook.domain.money import from_minor, minor_digits

_BATCH = 500


def safe_cell(value: Any) -> Any:
    """What defusedcsv would not catch: formulas hidden behind a leading tab/CR."""
    if isinstance(value, str) and value[:1] in ("\t", "\r"):
        return "'" + value
    return value


def write_csv(db: sqlite3.Connection, kind: str, ids: Sequence[str]) -> str:
    writers: dict[str, Callable[[sqlite3.Connection, Sequence[str]], list[list[Any]]]] = {
        "person": _people,
        "company": _companies,
        "deal": _deals,
    }
    rows = writers[kind](db, ids)
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def _batches(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _BATCH] for i in range(0, len(ids), _BATCH)]


def _children(
    db: sqlite3.Connection, sql: str, ids: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        for row in db.execute(sql.format(ids=marks), list(batch)):
            found.setdefault(row[0], []).append(tuple(row[1:]))
    return found


def _tags(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    return _children(
        db,
        """SELECT et.entity_id, t.name FROM entity_tag et JOIN tag t ON t.id = et.tag_id
           WHERE et.entity_id IN ({ids}) ORDER BY t.name_key""",
        ids,
    )


def _moment(value: int | None) -> str:
    return "" if value is None else from_millis(value).strftime("%Y-%m-%d %H:%M")


def _money(minor: int | None, currency: str) -> str:
    if minor is None:
        return ""
    return f"{from_minor(minor, currency):.{minor_digits(currency)}f}"


def _people(db: sqlite3.Connection, ids: Sequence[str]) -> list[list[Any]]:
    rows_by_id: dict[str, tuple[Any, ...]] = {}
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        for found_row in db.execute(
            f"""SELECT p.id, p.display_name, p.given_name, p.family_name,
                       coalesce(c.name, ''), p.title, p.birthday, p.about, p.last_touch_at,
                       p.touch_count, p.created_at
                FROM person p LEFT JOIN company c ON c.id = p.company_id
                     AND c.deleted_at IS NULL
                WHERE p.id IN ({marks})""",
            list(batch),
        ):
            rows_by_id[found_row[0]] = tuple(found_row)
    emails = _children(
        db,
        """SELECT person_id, label, address FROM person_email WHERE person_id IN ({ids})
           ORDER BY person_id, position""",
        ids,
    )
    phones = _children(
        db,
        """SELECT person_id, label, number FROM person_phone WHERE person_id IN ({ids})
           ORDER BY person_id, position""",
        ids,
    )
    addresses = _children(
        db,
        """SELECT person_id, label, street, locality, region, postcode, country
           FROM person_address WHERE person_id IN ({ids}) ORDER BY person_id, position""",
        ids,
    )
    tags = _tags(db, ids)
    n_email = max((len(v) for v in emails.values()), default=1)
    n_phone = max((len(v) for v in phones.values()), default=1)
    n_address = max((len(v) for v in addresses.values()), default=1)
    header = [
        "Name",
        "Given Name",
        "Family Name",
        "Organization 1 - Name",
        "Organization 1 - Title",
        "Birthday",
        "Labels",
        "Notes",
    ]
    for i in range(1, n_email + 1):
        header += [f"E-mail {i} - Label", f"E-mail {i} - Value"]
    for i in range(1, n_phone + 1):
        header += [f"Phone {i} - Label", f"Phone {i} - Value"]
    for i in range(1, n_address + 1):
        header += [
            f"Address {i} - Label",
            f"Address {i} - Street",
            f"Address {i} - City",
            f"Address {i} - Region",
            f"Address {i} - Postal Code",
            f"Address {i} - Country",
        ]
    header += ["Last Touch", "Touches", "Created", "Relbook ID"]
    rows: list[list[Any]] = [header]
    for person_id in ids:
        found = rows_by_id.get(person_id)
        if found is None:
            continue
        (_, name, given, family, company, title, birthday, about, last, touches, created) = found
        row: list[Any] = [
            name,
            given,
            family,
            company,
            title,
            birthday or "",
            " ::: ".join(t[0] for t in tags.get(person_id, [])),
            about,
        ]
        row += _padded(emails.get(person_id, []), n_email, 2)
        row += _padded(phones.get(person_id, []), n_phone, 2)
        row += _padded(addresses.get(person_id, []), n_address, 6)
        row += [_moment(last), touches, _moment(created), person_id]
        rows.append(row)
    return rows


def _padded(items: list[tuple[Any, ...]], count: int, width: int) -> list[Any]:
    cells: list[Any] = []
    for index in range(count):
        cells += list(items[index]) if index < len(items) else [""] * width
    return cells


def _companies(db: sqlite3.Connection, ids: Sequence[str]) -> list[list[Any]]:
    header = [
        "Name",
        "Domains",
        "Website",
        "Industry",
        "Employees",
        "Currency",
        "Current value",
        "Potential value",
        "Parent company",
        "People",
        "Labels",
        "Last Touch",
        "Touches",
        "About",
        "Relbook ID",
    ]
    domains = _children(
        db,
        """SELECT company_id, domain FROM company_domain WHERE company_id IN ({ids})
           ORDER BY company_id, position""",
        ids,
    )
    tags = _tags(db, ids)
    rows: list[list[Any]] = [header]
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        found = {
            r[0]: r
            for r in db.execute(
                f"""SELECT c.id, c.name, c.website, c.industry, c.employees, c.currency,
                           c.current_value_minor, c.potential_value_minor,
                           coalesce(parent.name, ''), c.people_count, c.last_touch_at,
                           c.touch_count, c.about
                    FROM company c LEFT JOIN company parent ON parent.id = c.parent_id
                         AND parent.deleted_at IS NULL
                    WHERE c.id IN ({marks})""",
                list(batch),
            )
        }
        for company_id in batch:
            r = found.get(company_id)
            if r is None:
                continue
            rows.append(
                [
                    r[1],
                    "; ".join(d[0] for d in domains.get(company_id, [])),
                    r[2],
                    r[3],
                    "" if r[4] is None else r[4],
                    r[5],
                    _money(r[6], r[5]),
                    _money(r[7], r[5]),
                    r[8],
                    r[9],
                    " ::: ".join(t[0] for t in tags.get(company_id, [])),
                    _moment(r[10]),
                    r[11],
                    r[12],
                    company_id,
                ]
            )
    return rows


def _deals(db: sqlite3.Connection, ids: Sequence[str]) -> list[list[Any]]:
    header = [
        "Title",
        "Company",
        "Pipeline",
        "Stage",
        "Status",
        "Amount",
        "Currency",
        "Probability %",
        "Expected close",
        "People",
        "Competitors",
        "Lost reason",
        "Won reason",
        "Closed",
        "Labels",
        "Description",
        "Relbook ID",
    ]
    people = _children(
        db,
        """SELECT dp.deal_id, p.display_name, dp.role FROM deal_person dp
           JOIN person p ON p.id = dp.person_id
           WHERE dp.deal_id IN ({ids}) AND p.deleted_at IS NULL ORDER BY p.display_name""",
        ids,
    )
    tags = _tags(db, ids)
    rows: list[list[Any]] = [header]
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        found = {
            r[0]: r
            for r in db.execute(
                f"""SELECT d.id, d.title, coalesce(c.name, ''), coalesce(pl.name, ''),
                           coalesce(s.name, ''), d.status, d.amount_minor, d.currency,
                           coalesce(d.probability, s.probability), d.expected_close,
                           d.competitors, d.lost_reason, d.won_reason, d.closed_at,
                           d.description
                    FROM deal d LEFT JOIN company c ON c.id = d.company_id
                         AND c.deleted_at IS NULL
                    LEFT JOIN pipeline pl ON pl.id = d.pipeline_id
                    LEFT JOIN stage s ON s.id = d.stage_id
                    WHERE d.id IN ({marks})""",
                list(batch),
            )
        }
        for deal_id in batch:
            r = found.get(deal_id)
            if r is None:
                continue
            names = [f"{n} ({role})" if role else n for n, role in people.get(deal_id, [])]
            competitors = json.loads(r[10] or "[]")
            rows.append(
                [
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    _money(r[6], r[7]),
                    r[7],
                    "" if r[8] is None else r[8],
                    r[9] or "",
                    "; ".join(names),
                    "; ".join(str(c) for c in competitors),
                    r[11],
                    r[12],
                    _moment(r[13]),
                    " ::: ".join(t[0] for t in tags.get(deal_id, [])),
                    r[14],
                    deal_id,
                ]
            )
    return rows
