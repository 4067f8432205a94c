"""Field validation shared by the editors' services. Errors name the field and say why."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from urllib.parse import urlparse

import phonenumbers

from relbook.domain.addresses import is_valid_address, normalise_address
from relbook.domain.errors import FieldError

_BIRTHDAY_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class Problems:
    """Collects field errors so one save reports all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        if self.errors:
            from relbook.domain.errors import ValidationError

            raise ValidationError(self.errors)


def email(value: str, field: str, problems: Problems) -> str | None:
    address = normalise_address(value)
    if not address:
        return None
    if not is_valid_address(address):
        problems.add(field, f"'{value.strip()}' is not an e-mail address")
        return None
    return address


def phone(value: str, region: str, field: str, problems: Problems) -> str | None:
    """E.164 when the number parses; as typed when it is plausible but not parseable."""
    text = value.strip()
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        problems.add(field, f"'{text}' is not a phone number")
        return None
    try:
        parsed = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return text
    if phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return text


def birthday(value: str | None, field: str, problems: Problems) -> str | None:
    """ISO date, or --MM-DD when the year is unknown (as vCard writes it)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    match = _BIRTHDAY_NO_YEAR.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2000, month, day)  # a leap year accepts 29 Feb
        except ValueError:
            problems.add(field, f"'{text}' is not a day of the year")
            return None
        return f"--{month:02d}-{day:02d}"
    return iso_date(text, field, problems)


def iso_date(value: str | None, field: str, problems: Problems) -> str | None:
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        problems.add(field, f"'{text}' is not a date (use YYYY-MM-DD)")
        return None


def url(value: str, field: str, problems: Problems) -> str:
    text = value.strip()
    if not text:
        return ""
    candidate = text if "://" in text else f"https://{text}"
    parsed = urlparse(candidate)
    if parsed.scheme not in ("http", "https") or "." not in parsed.netloc:
        problems.add(field, f"'{text}' is not a web address")
        return text
    return candidate


def domain(value: str, field: str, problems: Problems) -> str | None:
    text = value.strip().lower().removeprefix("@")
    if "://" in text:
        text = urlparse(text).netloc
    text = text.removeprefix("www.").rstrip(".")
    if not text:
        return None
    if not _DOMAIN.match(text):
        problems.add(field, f"'{value.strip()}' is not a domain name")
        return None
    return text


def required_text(value: str, field: str, problems: Problems, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        problems.add(field, "is required")
    elif len(text) > limit:
        problems.add(field, f"is longer than {limit} characters")
    return text


def optional_text(value: str, field: str, problems: Problems, limit: int) -> str:
    text = value.strip()
    if len(text) > limit:
        problems.add(field, f"is longer than {limit} characters")
    return text


def stored(db: sqlite3.Connection, table: str, row_id: str | None, column: str) -> str | None:
    """The value a saved row holds now (None for a new row)."""
    if not row_id:
        return None
    row = db.execute(f"SELECT {column} FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else row[0]


# Tables a draft may point at, and how an error names them.
_REFERABLE = {
    "person": "person",
    "company": "company",
    "deal": "deal",
    "interaction": "interaction",
    "note": "note",
    "task": "task",
}


def reference(
    db: sqlite3.Connection,
    kind: str,
    ident: str | None,
    field: str,
    problems: Problems,
    *,
    kept: str | None = None,
) -> None:
    """A draft's link to another record must point at a live one of the right kind.

    ``kept`` is the link the saved row has now: an unchanged link stays valid even when
    its record was deleted since (editing a note must not fail because its person was
    deleted — and restoring the person must find the note still theirs).
    """
    if not ident or ident == kept:
        return
    table = _REFERABLE[kind]
    found = db.execute(
        f"SELECT 1 FROM {table} WHERE id = ? AND deleted_at IS NULL", (ident,)
    ).fetchone()
    if found is None:
        article = "an" if kind[0] in "aeiou" else "a"
        problems.add(field, f"is not {article} {kind} in this book (it may have been deleted)")
