"""vCard 2.1 / 3.0 / 4.0 files → contact records, card by card.

vobject does the lexing (line unfolding, quoted-printable soft line breaks, parameter
syntax); the mapping to a person is ours, property by property, because real exports
break the rules in ways that make vobject's component parser give up on the whole file:
an undecodable photo (Android), a ``PROFILE`` line (Lotus Notes), unescaped commas in
``FN`` (Gmail), raw Latin-1 bytes with no charset (old Outlook), a missing ``END:VCARD``.
A bad property costs that value (with a warning naming the line); a bad card costs that
card (with an error naming it); nothing costs the file.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import io
import quopri
import re
from dataclasses import dataclass, field

from vobject.base import ParseError, getLogicalLines, parseLine

from relbook.services.contacts.records import (
    ContactRecord,
    RecordIssue,
    clean_label,
    clean_text,
    label_from_types,
    split_nickname,
)
from relbook.services.people import AddressEntry

_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_STRUCT_SPLIT = re.compile(r"(?<!\\);")


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    raw: str
    group: str | None
    line: int

    @property
    def types(self) -> list[str]:
        return self.params.get("TYPE", [])

    @property
    def encoding(self) -> str:
        values = self.params.get("ENCODING", [])
        return values[0].upper() if values else ""

    @property
    def charset(self) -> str:
        values = self.params.get("CHARSET", [])
        return values[0] if values else ""

    @property
    def is_pref(self) -> bool:
        return "PREF" in self.params or any(t.lower() == "pref" for t in self.types)


@dataclass
class Card:
    start: int
    number: int
    properties: list[Property] = field(default_factory=list)
    closed: bool = False


@dataclass
class VCardFile:
    records: list[ContactRecord]
    issues: list[RecordIssue]  # file-level problems and skipped cards
    encoding: str
    cards: int


def read_vcards(data: bytes, source: str) -> VCardFile:
    text, default_charset = _transparent_text(data)
    cards, issues = _split_cards(text, source)
    records: list[ContactRecord] = []
    for card in cards:
        ref = f"card {card.number}"
        record = ContactRecord(source=source, line=card.start, ref=ref)
        if not card.closed:
            record.warn("the card is not closed (no END:VCARD); read up to the end of the file")
        try:
            _fill(record, card, default_charset)
        except Exception as error:  # a card we cannot read must not stop the others
            issues.append(
                RecordIssue(source, card.start, ref, f"cannot read this card ({error})", True)
            )
            continue
        record.finish()
        if record.is_empty:
            issues.append(
                RecordIssue(
                    source, card.start, ref, "the card has no name, e-mail address or phone", True
                )
            )
            continue
        records.append(record)
    if not cards and not issues:
        issues.append(RecordIssue(source, 0, "", "no vCard (BEGIN:VCARD) in this file", True))
    return VCardFile(records, issues, default_charset, len(cards))


# ----------------------------------------------------------------------- lexing


def _transparent_text(data: bytes) -> tuple[str, str]:
    """Text whose characters are the file's bytes (Latin-1), and the charset to assume.

    Values are decoded property by property (each may name its own CHARSET), so the file
    is not decoded as a whole. UTF-16 files are turned into UTF-8 bytes first.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16").encode("utf-8")
    try:
        data.decode("utf-8")
        charset = "utf-8"
    except UnicodeDecodeError:
        charset = "cp1252"
    # Some exporters end lines with CR CR LF (iPhone): one line end, not a blank line.
    text = data.decode("latin-1").replace("\r\r\n", "\n").replace("\r\n", "\n")
    text = text.replace("\r", "\n")
    return text, charset


def _split_cards(text: str, source: str) -> tuple[list[Card], list[RecordIssue]]:
    cards: list[Card] = []
    issues: list[RecordIssue] = []
    current: Card | None = None
    depth = 0
    junk_reported = False
    for line, start in getLogicalLines(io.StringIO(text), allowQP=True):
        number = max(start, 1)  # vobject counts the very first line as 0
        stripped = line.strip()
        if not stripped:
            continue
        upper = stripped.upper()
        if upper.startswith("BEGIN:") and upper[6:].strip() == "VCARD":
            depth += 1
            if depth == 1:
                current = Card(start=number, number=len(cards) + 1)
                cards.append(current)
            continue
        if upper.startswith("END:") and upper[4:].strip() == "VCARD":
            if depth == 1 and current is not None:
                current.closed = True
                current = None
            depth = max(depth - 1, 0)
            continue
        if current is None:
            if not junk_reported:
                issues.append(
                    RecordIssue(source, number, "", "text outside a vCard was ignored", False)
                )
                junk_reported = True
            continue
        if depth > 1:
            continue  # an embedded vCard (2.1 AGENT): not a person of this book
        try:
            name, params, value, group = parseLine(line, number)
        except ParseError:
            current.properties.append(Property("", {}, line, None, number))
            continue
        current.properties.append(Property(name.upper(), _params(params), value, group, number))
    return cards, issues


def _params(raw: list[list[str]]) -> dict[str, list[str]]:
    """vobject's [[name, values…]] → {NAME: [values]}; 2.1 bare words are TYPEs/encodings."""
    params: dict[str, list[str]] = {}
    for entry in raw:
        name, values = entry[0].upper(), [v for v in entry[1:] if v is not None]
        if not values:
            if name in _ENCODINGS or name == "QUOTED-PRINTABLE":
                params.setdefault("ENCODING", []).append(name)
            elif name != "PREF":
                params.setdefault("TYPE", []).append(name)
            else:
                params.setdefault("PREF", []).append("1")
            continue
        for value in values:
            params.setdefault(name, []).extend(v for v in value.split(",") if v)
    return params


# ----------------------------------------------------------------------- decoding


def _bytes_of(prop: Property) -> bytes:
    raw = prop.raw.encode("latin-1", errors="replace")
    if prop.encoding in ("QUOTED-PRINTABLE",):
        return quopri.decodestring(raw)
    return raw


def _text(prop: Property, default_charset: str, record: ContactRecord) -> str:
    data = _bytes_of(prop)
    if prop.encoding in ("B", "BASE64"):
        data = _b64(prop.raw) or b""
    charset = prop.charset or ""
    try:
        if charset:
            codecs.lookup(charset)
    except LookupError:
        record.warn(f"unknown character set '{charset}' on {prop.name}", prop.line)
        charset = ""
    if charset:
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            text = data.decode(charset, errors="replace")
            record.warn(
                f"{prop.name} is not valid {charset}; unreadable characters were replaced",
                prop.line,
            )
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode(
                default_charset if default_charset != "utf-8" else "cp1252", errors="replace"
            )
    return clean_text(text)


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        return "\n" if char in "nN" else char

    return _UNESCAPE.sub(replace, text)


def _components(text: str) -> list[str]:
    return [_unescape(part).strip() for part in _STRUCT_SPLIT.split(text)]


def _b64(raw: str) -> bytes | None:
    compact = re.sub(r"\s+", "", raw)
    if compact.lower().startswith("data:"):
        _, _, compact = compact.partition(",")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


# ----------------------------------------------------------------------- mapping


def _fill(record: ContactRecord, card: Card, default_charset: str) -> None:
    labels = {
        (p.group or "").lower(): clean_label(_text(p, default_charset, record))
        for p in card.properties
        if p.name == "X-ABLABEL" and p.group
    }
    organisations: list[list[str]] = []
    titles: list[str] = []
    roles: list[str] = []
    nickname = ""
    unreadable = [p for p in card.properties if not p.name]
    if unreadable:
        more = f" (and {len(unreadable) - 1} more lines)" if len(unreadable) > 1 else ""
        record.warn(f"not a vCard property: '{unreadable[0].raw[:40]}'{more}", unreadable[0].line)
    for prop in card.properties:
        if not prop.name:
            continue
        label = (
            labels.get((prop.group or "").lower())
            or clean_label(" ".join(prop.params.get("X-LABEL", [])))
            or label_from_types(prop.types)
        )
        name = prop.name
        if name == "PHOTO":
            _photo(record, prop)
            continue
        if name == "UID":
            record.uid = _unescape(prop.raw).strip()[:64]
            continue
        if name in (
            "FN",
            "N",
            "NICKNAME",
            "EMAIL",
            "TEL",
            "ADR",
            "ORG",
            "TITLE",
            "ROLE",
            "BDAY",
            "NOTE",
            "CATEGORIES",
            "URL",
        ):
            value = _text(prop, default_charset, record)
        else:
            continue
        if name == "FN":
            record.display_name = record.display_name or " ".join(_unescape(value).split())
        elif name == "N":
            parts = [*_components(value), "", "", "", "", ""]
            family, given, additional = parts[0], parts[1], parts[2]
            record.family_name = record.family_name or " ".join(family.split())
            record.given_name = record.given_name or " ".join(given.split())
            if additional and not nickname:
                additional_name, quoted = split_nickname(additional)
                nickname = quoted or nickname
                if additional_name:
                    middle = " ".join(additional_name.replace(",", " ").split())
                    record.add_extra(f"Middle name: {middle}")
        elif name == "NICKNAME":
            nickname = nickname or _unescape(value).strip()
        elif name == "EMAIL":
            record.add_email(_unescape(value), label, primary=prop.is_pref, line=prop.line)
        elif name == "TEL":
            record.add_phone(
                _phone_value(_unescape(value)), label, primary=prop.is_pref, line=prop.line
            )
        elif name == "ADR":
            parts = [*_components(value), "", "", "", "", "", "", ""]
            street = "\n".join(p for p in (parts[0], parts[1], parts[2]) if p)
            record.add_address(AddressEntry(label, street, parts[3], parts[4], parts[5], parts[6]))
        elif name == "ORG":
            parts = [p for p in _components(value) if p]
            if parts:
                organisations.append(parts)
        elif name == "TITLE":
            titles.append(_unescape(value).strip())
        elif name == "ROLE":
            roles.append(_unescape(value).strip())
        elif name == "BDAY":
            if "TEXT" in {v.upper() for v in prop.params.get("VALUE", [])} and record.birthday:
                continue
            if record.birthday is None:
                record.set_birthday(_unescape(value), line=prop.line)
        elif name == "NOTE":
            record.add_note(_unescape(value))
        elif name == "CATEGORIES":
            for tag in re.split(r"\\?,", value):
                record.add_tag(_unescape(tag))
        elif name == "URL":
            url = _unescape(value).strip()
            if url:
                record.add_extra(f"Website: {url}")
    if organisations:
        first = organisations[0]
        record.company = first[0]
        record.department = ", ".join(first[1:])
        for other in organisations[1:]:
            record.add_extra("Also at: " + ", ".join(other))
    titles = [t for t in titles if t]
    roles = [r for r in roles if r]
    if titles:
        record.title = titles[0]
        for extra_title in titles[1:]:
            record.add_extra(f"Also titled: {extra_title}")
    for role in roles:
        if not record.title:
            record.title = role
        elif role != record.title:
            record.add_extra(f"Role: {role}")
    if nickname:
        record.add_extra(f"Nickname: {nickname}")


def _phone_value(text: str) -> str:
    """'tel:+1-418-656-9254;ext=102' → '+1-418-656-9254 ext. 102'."""
    value = text.strip()
    if value.lower().startswith("tel:"):
        value = value[4:]
        number, _, rest = value.partition(";")
        ext = re.search(r"(?:^|;)ext=([^;]+)", rest)
        value = number + (f" ext. {ext.group(1)}" if ext else "")
    return value


def _photo(record: ContactRecord, prop: Property) -> None:
    raw = prop.raw.strip()
    if raw.lower().startswith("data:"):
        raw = _unescape(raw)  # some writers escape the URI's ';' and ',' as text
    if not raw:
        return
    values = {v.upper() for v in prop.params.get("VALUE", [])}
    if raw.lower().startswith("data:"):
        data = _b64(raw) if ";base64," in raw[:80].lower() else None
    elif prop.encoding in ("B", "BASE64") or (not values and not re.match(r"^[a-z]+:", raw)):
        data = _b64(raw)
    else:
        return  # a link to a photo on the web: not fetched
    if data is None:
        record.warn("the photo could not be decoded", prop.line)
        return
    if data:
        record.set_photo(data)
