"""What a contact file yields before it touches the book: records, issues, and the small
normalisations every reader shares (names, labels, dates, text decoding).

A reader never raises for a bad card or row: it reports a ``RecordIssue`` naming the file
and line, keeps what it could read, and goes on with the next one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from relbook.domain.addresses import is_valid_address, normalise_address
from relbook.domain.names import comparison_key, name_from_address, split_full_name
from relbook.services.people import PHOTO_LIMIT, AddressEntry, Labeled, PersonDraft

# Google's built-in groups: every contact has them, they say nothing about the person.
SYSTEM_GROUPS = frozenset({"mycontacts", "my contacts", "all contacts", "starred in android"})


@dataclass(frozen=True)
class RecordIssue:
    """A problem with one card/row (or a whole file): where it is and what happened.

    ``skipped`` says whether the record was left out (True) or imported without the bad
    value (False).
    """

    source: str
    line: int
    ref: str
    message: str
    skipped: bool = False

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        what = "not imported" if self.skipped else "the rest was imported"
        ref = f" ({self.ref})" if self.ref else ""
        return f"{where}{ref}: {self.message} — {what}"


@dataclass
class ContactRecord:
    """One person as a file describes them, normalised but not yet in the book."""

    source: str
    line: int
    ref: str  # "card 3", "row 5"
    given_name: str = ""
    family_name: str = ""
    display_name: str = ""
    title: str = ""
    company: str = ""
    department: str = ""
    birthday: str | None = None
    note: str = ""
    emails: list[Labeled] = field(default_factory=list)
    phones: list[Labeled] = field(default_factory=list)
    addresses: list[AddressEntry] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    photo: bytes | None = None
    extras: list[str] = field(default_factory=list)  # kept in "about": nickname, websites…
    uid: str = ""  # vCard UID / Relbook ID column: finds the same person on re-import
    issues: list[RecordIssue] = field(default_factory=list)

    # ---------------------------------------------------------------- building
    def warn(self, message: str, line: int | None = None) -> None:
        self.issues.append(RecordIssue(self.source, line or self.line, self.ref, message))

    def add_email(
        self, raw: str, label: str = "", *, primary: bool = False, line: int | None = None
    ) -> None:
        address = normalise_address(raw)
        if not address:
            return
        if not is_valid_address(address):
            self.warn(f"'{raw.strip()}' is not an e-mail address", line)
            return
        if any(e.value == address for e in self.emails):
            return
        entry = Labeled(address, label[:40])
        if primary:
            self.emails.insert(0, entry)
        else:
            self.emails.append(entry)

    def add_phone(
        self, raw: str, label: str = "", *, primary: bool = False, line: int | None = None
    ) -> None:
        text = " ".join(raw.split())
        if not text:
            return
        if len(re.sub(r"\D", "", text)) < 3:
            self.warn(f"'{text}' is not a phone number", line)
            return
        if any(p.value == text for p in self.phones):
            return
        entry = Labeled(text, label[:40])
        if primary:
            self.phones.insert(0, entry)
        else:
            self.phones.append(entry)

    def add_address(self, entry: AddressEntry) -> None:
        if entry.is_empty():
            return
        if entry not in self.addresses:
            self.addresses.append(entry)

    def add_tag(self, raw: str) -> None:
        name = " ".join(raw.strip().lstrip("*").strip().split())
        if not name or name.lower() in SYSTEM_GROUPS:
            return
        if comparison_key(name) not in {comparison_key(t) for t in self.tags}:
            self.tags.append(name)

    def set_birthday(self, raw: str, line: int | None = None) -> None:
        text = raw.strip()
        if not text:
            return
        value, problem = parse_birthday(text)
        if problem:
            self.warn(problem, line)
        self.birthday = value or self.birthday

    def set_photo(self, data: bytes) -> None:
        if len(data) > PHOTO_LIMIT:
            self.warn(f"the photo is larger than {PHOTO_LIMIT // 1024} KB")
            return
        self.photo = data

    def add_note(self, text: str) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if text and text not in self.note:
            self.note = f"{self.note}\n\n{text}" if self.note else text

    def add_extra(self, text: str) -> None:
        text = text.strip()
        if text and text not in self.extras:
            self.extras.append(text)

    # ---------------------------------------------------------------- finishing
    def finish(self) -> None:
        """Compose the display name; guess one from the address when there is none."""
        self.given_name = " ".join(self.given_name.split())
        self.family_name = " ".join(self.family_name.split())
        self.display_name = " ".join(self.display_name.split())
        if not self.given_name and not self.family_name and self.display_name:
            self.given_name, self.family_name = split_full_name(strip_nickname(self.display_name))
        if not self.display_name:
            self.display_name = compose_name(self.given_name, self.family_name)
        if not self.display_name and self.emails:
            given, family = name_from_address(self.emails[0].value)
            self.given_name, self.family_name = given, family
            self.display_name = compose_name(given, family) or self.emails[0].value
        if not self.display_name and self.company:
            self.display_name = self.company
        # Numbers one calls first, fax and pager last (exports list them in column order).
        self.phones.sort(key=lambda p: p.label.endswith(("fax", "pager")))

    def draft(self) -> PersonDraft:
        """The record as the person editor would show it."""
        return PersonDraft(
            given_name=self.given_name,
            family_name=self.family_name,
            display_name=self.display_name,
            title=self.title,
            birthday=self.birthday,
            about=self.about,
            emails=list(self.emails),
            phones=list(self.phones),
            addresses=list(self.addresses),
            company_name=self.company,
            tags=list(self.tags),
            origin="import",
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.display_name
            or self.given_name
            or self.family_name
            or self.emails
            or self.phones
            or self.company
        )

    @property
    def name_key(self) -> str:
        return comparison_key(self.display_name)

    @property
    def company_key(self) -> str:
        return comparison_key(self.company)

    @property
    def about(self) -> str:
        parts = [self.note] if self.note else []
        if self.extras:
            parts.append("\n".join(self.extras))
        return "\n\n".join(parts)


# ----------------------------------------------------------------------- names

_CJK_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # CJK Extension B and on
)


def is_cjk(text: str) -> bool:
    letters = [ch for ch in text if not ch.isspace()]
    return bool(letters) and all(
        any(lo <= ord(ch) <= hi for lo, hi in _CJK_RANGES) for ch in letters
    )


def compose_name(given: str, family: str, nickname: str = "") -> str:
    """'Jürgen' + 'Müller' → 'Jürgen Müller'; CJK names family first, no space: 王伟."""
    given, family = given.strip(), family.strip()
    if given and family and is_cjk(given) and is_cjk(family):
        return family + given
    parts = [given, f'"{nickname}"' if nickname else "", family]
    return " ".join(p for p in parts if p)


_QUOTED = re.compile(r'\s*"([^"]+)"\s*')


def split_nickname(text: str) -> tuple[str, str]:
    """A quoted part of a name is a nickname: 'O'Neil "DJ"' → ("O'Neil", 'DJ')."""
    match = _QUOTED.search(text)
    if not match:
        return text.strip(), ""
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    return " ".join(rest.split()), match.group(1).strip()


def strip_nickname(text: str) -> str:
    return split_nickname(text)[0]


# ----------------------------------------------------------------------- labels

_LABELS = {
    "cell": "mobile",
    "mobile": "mobile",
    "iphone": "mobile",
    "work": "work",
    "business": "work",
    "office": "work",
    "home": "home",
    "private": "home",
    "personal": "home",
    "fax": "fax",
    "pager": "pager",
    "main": "main",
    "other": "other",
    "school": "school",
    "car": "car",
    "assistant": "assistant",
    "assistantphone": "assistant",
    "homepage": "homepage",
    "grand_central": "google voice",
    "grandcentral": "google voice",
}
_IGNORED_TYPES = frozenset(
    {
        "pref",
        "internet",
        "voice",
        "x400",
        "msg",
        "text",
        "video",
        "postal",
        "parcel",
        "dom",
        "intl",
        "smtp",
        "unspecified",
        "textphone",
        "uri",
    }
)


def clean_label(raw: str) -> str:
    """'_$!<HomePage>!$_' → 'homepage'; 'CustomEmailCategory' stays as typed (shortened)."""
    text = raw.strip()
    apple = re.fullmatch(r"_\$!<(.+)>!\$_", text)
    if apple:
        text = apple.group(1)
    text = text.lstrip("*").strip()
    known = _LABELS.get(text.lower().replace(" ", ""))
    return known or text.lower()[:40]


def label_from_types(types: list[str]) -> str:
    """vCard TYPE values → one label: ['WORK', 'FAX'] → 'work fax', ['CELL','VOICE'] → 'mobile'."""
    words: list[str] = []
    for raw in types:
        for part in raw.split(","):
            word = part.strip().strip('"').lower()
            if not word or word in _IGNORED_TYPES or word.startswith("x-"):
                continue
            label = _LABELS.get(word, word)
            if label not in words:
                words.append(label)
    if "fax" in words and len(words) > 1:
        words = [w for w in words if w != "fax"] + ["fax"]
    return " ".join(words)[:40]


# ----------------------------------------------------------------------- dates

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_PLACEHOLDER_DATES = frozenset({"0/0/00", "0/0/0000", "00/00/0000", "0000-00-00", "1/1/1601"})


def parse_birthday(text: str) -> tuple[str | None, str | None]:
    """(ISO date or --MM-DD, problem) from the date styles contact exports use.

    ISO (1980-03-22, 19800322, with a time part), no-year (--0203, --02-03), US
    (2/28/1971), European (28.02.1971) and '12 Mar 2024'. Outlook's 0/0/00 means empty.
    """
    text = text.strip()
    if not text or text in _PLACEHOLDER_DATES:
        return None, None
    bad = f"birthday '{text}' is not a real date"
    match = re.fullmatch(r"--(\d{2})-?(\d{2})", text)
    if match:
        return _checked(None, int(match.group(1)), int(match.group(2)), bad)
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        if year == 1604:  # Apple's "year unknown"
            return _checked(None, month, day, bad)
        return _checked(year, month, day, bad)
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", text)
    if match:
        month, day, year = (int(g) for g in match.groups())
        return _checked(_full_year(year, match.group(3)), month, day, bad)
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return _checked(_full_year(year, match.group(3)), month, day, bad)
    match = re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3})[a-z]*\.?[ -,]*(\d{4})", text)
    if match and match.group(2).lower() in _MONTHS:
        day, year = int(match.group(1)), int(match.group(3))
        return _checked(year, _MONTHS[match.group(2).lower()], day, bad)
    return None, f"'{text}' is not a date this import understands (use YYYY-MM-DD)"


def _full_year(year: int, digits: str) -> int:
    if len(digits) == 4:
        return year
    return 2000 + year if year < 30 else 1900 + year


def _checked(year: int | None, month: int, day: int, bad: str) -> tuple[str | None, str | None]:
    try:
        moment = date(year if year is not None else 2000, month, day)
    except ValueError:
        reason = ""
        if month == 2 and day == 29 and year is not None:
            reason = f" ({year} is not a leap year)"
        return None, bad + reason
    if year is None:
        return f"--{month:02d}-{day:02d}", None
    return moment.isoformat(), None


def parse_plain_date(text: str) -> tuple[str | None, str | None]:
    """Like ``parse_birthday`` but names the value as a date, not a birthday."""
    value, problem = parse_birthday(text)
    if problem:
        problem = problem.replace("birthday ", "date ")
    return value, problem


# ----------------------------------------------------------------------- text

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_file(data: bytes) -> tuple[str, str]:
    """(text, encoding name): a BOM decides; then UTF-8; then Windows-1252 (old exports)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    if len(data) > 1 and data[1:2] == b"\x00" and data[0:1] != b"\x00":
        try:
            return data.decode("utf-16-le"), "utf-16-le"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return b"\x00" in sample and not (len(sample) > 1 and sample[1:2] == b"\x00")


def clean_text(value: str) -> str:
    """Line endings to \\n, control characters (but tab/newline) removed, NFC."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", value)
