"""Contact CSV exports (Google legacy and current, Outlook, LinkedIn…) → contact records.

Nothing is configured by the user: the header row is found (LinkedIn puts three lines of
preamble before it), the delimiter is the one under which the most header names are
recognised, and each column is mapped by its name. Columns nobody recognises are listed
in the preview, never silently dropped from view.

Vendor conventions handled: Google's ``a ::: b`` multi-values and ``* `` primary markers,
numbered groups (``E-mail 2 - Value``, ``Address 1 - City``), Outlook's 92 columns with
labels in the column names (``Business Fax``) and its ``0/0/00`` empty dates, quoted
nicknames inside name cells (``"DJ"``), multi-line quoted cells.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from relbook.services.contacts.records import (
    ContactRecord,
    RecordIssue,
    clean_label,
    clean_text,
    compose_name,
    decode_file,
    parse_plain_date,
    split_nickname,
)
from relbook.services.people import AddressEntry

_DELIMITERS = (",", ";", "\t", "|")
_HEADER_SEARCH_ROWS = 12
_MULTI = re.compile(r"\s+:::\s+")

# Plain columns: normalised header → field.
_SIMPLE: dict[str, str] = {
    "name": "full_name",
    "full name": "full_name",
    "display name": "full_name",
    "contact name": "full_name",
    "given name": "given",
    "first name": "given",
    "firstname": "given",
    "forename": "given",
    "additional name": "middle",
    "middle name": "middle",
    "family name": "family",
    "last name": "family",
    "lastname": "family",
    "surname": "family",
    "name prefix": "prefix",
    "prefix": "prefix",
    "name suffix": "suffix",
    "suffix": "suffix",
    "nickname": "nickname",
    "file as": "file_as",
    "company": "company",
    "company name": "company",
    "organization": "company",
    "organisation": "company",
    "organization name": "company",
    "department": "department",
    "organization department": "department",
    "job title": "title",
    "organization title": "title",
    "position": "title",
    "role": "title",
    "birthday": "birthday",
    "date of birth": "birthday",
    "notes": "notes",
    "note": "notes",
    "group membership": "tags",
    "labels": "tags",
    "categories": "tags",
    "tags": "tags",
    "email": "email",
    "email address": "email",
    "email 2 address": "email",
    "email 3 address": "email",
    "primary email": "email",
    "web page": "website",
    "personal web page": "website",
    "business web page": "website",
    "website": "website",
    "url": "website",
    "connected on": "connected_on",
    "relbook id": "uid",
}

# Columns that are known and deliberately not imported (shown as "not imported").
_KNOWN_IGNORED = re.compile(
    r"^(yomi name|given name yomi|additional name yomi|family name yomi|phonetic .*|initials|"
    r"short name|maiden name|gender|location|billing information|directory server|mileage|"
    r"occupation|hobby|sensitivity|priority|subject|language|photo|email type|"
    r"email \d display name|email display name|email \d type|anniversary|assistant's name|"
    r"account|children|government id number|internet free busy|keywords|manager's name|"
    r"office location|organizational id number|private|profession|referred by|spouse|"
    r"user \d|.*yomi.*)$"
)

_OUTLOOK_PHONES: dict[str, str] = {
    "assistant's phone": "assistant",
    "business fax": "work fax",
    "business phone": "work",
    "business phone 2": "work",
    "callback": "callback",
    "car phone": "car",
    "company main phone": "main",
    "home fax": "home fax",
    "home phone": "home",
    "home phone 2": "home",
    "isdn": "isdn",
    "mobile phone": "mobile",
    "other fax": "fax",
    "other phone": "other",
    "pager": "pager",
    "primary phone": "",
    "radio phone": "radio",
    "tty/tdd phone": "tty",
    "telex": "telex",
    "phone": "",
    "phone number": "",
    "mobile": "mobile",
    "work phone": "work",
}

_OUTLOOK_ADDRESS = re.compile(
    r"^(business|home|other) (street|street 2|street 3|city|state|postal code|"
    r"country/region|country|address po box)$"
)
_NUMBERED = re.compile(
    r"^(email|phone|address|organization|website|im|relation|event|custom field) (\d+) - (.+)$"
)
_ADDRESS_PART = {
    "street": "street",
    "street 2": "street2",
    "street 3": "street3",
    "city": "locality",
    "state": "region",
    "region": "region",
    "postal code": "postcode",
    "country/region": "country",
    "country": "country",
    "address po box": "pobox",
    "po box": "pobox",
    "extended address": "extended",
    "formatted": "formatted",
}


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    kind: str  # simple field name, or "phone", "address", "numbered"
    arg: str = ""  # phone label / address group+part / numbered kind
    number: str = ""
    part: str = ""


@dataclass
class CsvLayout:
    delimiter: str
    header_row: int  # 0-based row index of the header
    columns: list[Column]
    unknown: list[str]
    has_job_title: bool
    hits: int


@dataclass
class CsvFile:
    records: list[ContactRecord]
    issues: list[RecordIssue]
    encoding: str
    delimiter: str
    layout: str
    rows: int
    empty_rows: int
    unknown_columns: list[str] = field(default_factory=list)


def normalise_header(text: str) -> str:
    text = text.strip().strip('"').strip().lower().replace("e-mail", "email")
    return " ".join(text.split())


def read_csv(data: bytes, source: str) -> CsvFile:
    text, encoding = decode_file(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    layout = _detect_layout(text)
    if layout is None:
        issue = RecordIssue(
            source,
            1,
            "",
            "no contact columns found (expected a header such as 'First Name', 'E-mail "
            "Address'); export contacts as Google CSV, Outlook CSV or vCard",
            True,
        )
        return CsvFile([], [issue], encoding, "", "unknown", 0, 0)
    records: list[ContactRecord] = []
    issues: list[RecordIssue] = []
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
    rows = empty = 0
    previous_end = 0
    width = max(c.index for c in layout.columns) + 1
    header_width = 0
    try:
        for row_index, cells in enumerate(reader):
            start, previous_end = previous_end + 1, reader.line_num
            if row_index < layout.header_row:
                continue
            if row_index == layout.header_row:
                header_width = len(cells)
                continue
            if not any(cell.strip() for cell in cells):
                empty += 1
                continue
            rows += 1
            record = ContactRecord(source=source, line=start, ref=f"row {rows}")
            if len(cells) > max(header_width, width) and any(
                c.strip() for c in cells[header_width:]
            ):
                record.warn(
                    f"the row has {len(cells)} cells but the header has {header_width}; "
                    "the extra cells were ignored"
                )
            _fill(record, cells, layout)
            record.finish()
            if _runaway_quote(cells, layout):
                issues.append(
                    RecordIssue(
                        source,
                        start,
                        record.ref,
                        "a quotation mark is not closed, so this row ran into the lines after "
                        f"it (up to line {reader.line_num}); fix the quote and import again",
                        True,
                    )
                )
                continue
            if record.is_empty:
                issues.append(
                    RecordIssue(
                        source,
                        start,
                        record.ref,
                        "the row has no name, e-mail address or phone",
                        True,
                    )
                )
                continue
            records.append(record)
    except csv.Error as error:
        issues.append(
            RecordIssue(
                source,
                previous_end + 1,
                "",
                f"the file is not valid CSV from here on ({error}); the rows before it were read",
                True,
            )
        )
    return CsvFile(
        records,
        issues,
        encoding,
        layout.delimiter,
        _layout_name(layout),
        rows,
        empty,
        layout.unknown,
    )


def _runaway_quote(cells: list[str], layout: CsvLayout) -> bool:
    """A name or address cell holding several lines' worth of delimiters: broken quoting."""
    for column in layout.columns:
        if column.kind in ("given", "family", "full_name", "middle", "email", "company") and (
            column.index < len(cells)
        ):
            value = cells[column.index]
            if "\n" in value and layout.delimiter in value:
                return True
    return False


# ----------------------------------------------------------------------- layout


def _detect_layout(text: str) -> CsvLayout | None:
    head = text[:200_000]
    best: CsvLayout | None = None
    for delimiter in _DELIMITERS:
        try:
            rows = []
            for index, row in enumerate(csv.reader(io.StringIO(head), delimiter=delimiter)):
                rows.append(row)
                if index >= _HEADER_SEARCH_ROWS:
                    break
        except csv.Error:
            continue
        for row_index, row in enumerate(rows):
            layout = _map_header(row, delimiter, row_index)
            if layout is None:
                continue
            if best is None or layout.hits > best.hits:
                best = layout
            break
    return best


def _map_header(cells: list[str], delimiter: str, row_index: int) -> CsvLayout | None:
    names = [normalise_header(c) for c in cells]
    has_job_title = "job title" in names
    columns: list[Column] = []
    unknown: list[str] = []
    hits = 0
    for index, (raw, name) in enumerate(zip(cells, names, strict=True)):
        if not name:
            continue
        column = _column(index, raw.strip(), name, has_job_title)
        if column is None:
            if not _KNOWN_IGNORED.match(name):
                unknown.append(raw.strip())
            else:
                hits += 1
            continue
        hits += 1
        columns.append(column)
    kinds = {c.kind for c in columns} | {c.arg for c in columns if c.kind == "numbered"}
    identifying = kinds & {"full_name", "given", "family", "email", "file_as"}
    if hits < 2 or not identifying:
        return None
    return CsvLayout(delimiter, row_index, columns, unknown, has_job_title, hits)


def _column(index: int, raw: str, name: str, has_job_title: bool) -> Column | None:
    if name == "title":
        return Column(index, raw, "prefix" if has_job_title else "title")
    if name in _SIMPLE:
        return Column(index, raw, _SIMPLE[name])
    if name in _OUTLOOK_PHONES:
        return Column(index, raw, "phone", _OUTLOOK_PHONES[name])
    match = _OUTLOOK_ADDRESS.match(name)
    if match:
        group, part = match.groups()
        return Column(index, raw, "address", group, part=_ADDRESS_PART[part])
    match = _NUMBERED.match(name)
    if match:
        kind, number, part = match.groups()
        if kind in ("email", "phone", "address", "organization", "website"):
            return Column(index, raw, "numbered", kind, number, part.strip())
    return None


def _layout_name(layout: CsvLayout) -> str:
    headers = {normalise_header(c.header) for c in layout.columns}
    if "connected on" in headers:
        return "LinkedIn connections"
    if "group membership" in headers:
        return "Google Contacts (legacy)"
    if "labels" in headers and any(c.arg == "email" for c in layout.columns):
        return "Google Contacts"
    if "email address" in headers and "business phone" in headers:
        return "Outlook"
    return "contacts CSV"


# ----------------------------------------------------------------------- rows


def _fill(record: ContactRecord, cells: list[str], layout: CsvLayout) -> None:
    simple: dict[str, list[str]] = {}
    numbered: dict[tuple[str, str], dict[str, str]] = {}
    outlook_addresses: dict[str, dict[str, str]] = {}
    phones: list[tuple[str, str]] = []
    for column in layout.columns:
        value = _unguard(clean_text(cells[column.index])) if column.index < len(cells) else ""
        if not value.strip():
            continue
        if column.kind == "phone":
            phones.append((value, column.arg))
        elif column.kind == "address":
            outlook_addresses.setdefault(column.arg, {})[column.part] = value
        elif column.kind == "numbered":
            part = column.part.lower()
            numbered.setdefault((column.arg, column.number), {})[part] = value
        else:
            simple.setdefault(column.kind, []).append(value)

    _names(record, simple)
    record.uid = _get(simple, "uid")
    record.company = _get(simple, "company")
    record.department = _get(simple, "department")
    record.title = _get(simple, "title")
    for value in simple.get("email", []):
        for address in _MULTI.split(value):
            record.add_email(address)
    for value, label in phones:
        for number in _MULTI.split(value):
            record.add_phone(number, label)
    for (kind, _number), parts in sorted(numbered.items(), key=lambda kv: int(kv[0][1])):
        _numbered(record, kind, parts)
    for group, parts in outlook_addresses.items():
        street = "\n".join(
            p
            for p in (
                parts.get("pobox", ""),
                parts.get("street", ""),
                parts.get("street2", ""),
                parts.get("street3", ""),
            )
            if p
        )
        record.add_address(
            AddressEntry(
                "work" if group == "business" else group,
                street,
                parts.get("locality", ""),
                parts.get("region", ""),
                parts.get("postcode", ""),
                parts.get("country", ""),
            )
        )
    for value in simple.get("birthday", []):
        record.set_birthday(value)
    for value in simple.get("notes", []):
        record.add_note(value)
    for value in simple.get("tags", []):
        for tag in re.split(r"\s+:::\s+|;", value):
            record.add_tag(tag)
    for value in simple.get("website", []):
        if "linkedin.com/" in value.lower():
            record.add_extra(f"LinkedIn: {value.strip()}")
        else:
            record.add_extra(f"Website: {value.strip()}")
    for value in simple.get("connected_on", []):
        connected, problem = parse_plain_date(value)
        if problem:
            record.warn(f"'Connected On': {problem}")
        elif connected:
            record.add_extra(f"LinkedIn connection since {connected}")


def _unguard(value: str) -> str:
    """A spreadsheet's text marker in front of a formula character ('+1 202…, '=x), as
    our own export (defusedcsv) writes it, is not part of the value."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@|%\t\r":
        return value[1:].replace("\\|", "|")
    return value


def _get(simple: dict[str, list[str]], key: str) -> str:
    values = simple.get(key, [])
    return " ".join(values[0].split()) if values else ""


def _names(record: ContactRecord, simple: dict[str, list[str]]) -> None:
    given, nick_a = split_nickname(_get(simple, "given"))
    family, nick_b = split_nickname(_get(simple, "family"))
    middle, nick_c = split_nickname(_get(simple, "middle"))
    full, nick_d = split_nickname(_get(simple, "full_name") or _get(simple, "file_as"))
    nickname = _get(simple, "nickname").strip('"').strip() or nick_a or nick_b or nick_c or nick_d
    record.given_name, record.family_name = given, family
    if given or family:
        record.display_name = compose_name(given, family, nickname)
    elif full:
        record.display_name = full
    if middle:
        record.add_extra(f"Middle name: {middle}")
    if nickname and f'"{nickname}"' not in record.display_name:
        record.add_extra(f"Nickname: {nickname}")


def _numbered(record: ContactRecord, kind: str, parts: dict[str, str]) -> None:
    raw_type = parts.get("type", parts.get("label", ""))
    types = [t.strip() for t in _MULTI.split(raw_type)] if raw_type else []
    primary = any(t.startswith("*") for t in types)
    label = clean_label(types[0]) if types else ""
    if kind in ("email", "phone"):
        values = _MULTI.split(parts.get("value", ""))
        for position, value in enumerate(values):
            this_label = clean_label(types[position]) if len(types) == len(values) else label
            if kind == "email":
                record.add_email(value, this_label, primary=primary and position == 0)
            else:
                record.add_phone(value, this_label, primary=primary and position == 0)
    elif kind == "address":
        street_parts = [
            parts.get("po box", ""),
            parts.get("street", ""),
            parts.get("extended address", ""),
        ]
        street = "\n".join(p for p in street_parts if p)
        entry = AddressEntry(
            label,
            street,
            parts.get("city", ""),
            parts.get("region", ""),
            parts.get("postal code", ""),
            parts.get("country", ""),
        )
        if entry.is_empty() and parts.get("formatted"):
            entry.street = parts["formatted"]
        record.add_address(entry)
    elif kind == "organization":
        if not record.company:
            record.company = " ".join(parts.get("name", "").split())
        if not record.title:
            record.title = " ".join(parts.get("title", "").split())
        if not record.department:
            record.department = " ".join(parts.get("department", "").split())
    elif kind == "website":
        for value in _MULTI.split(parts.get("value", "")):
            if value.strip():
                record.add_extra(f"Website: {value.strip()}")
