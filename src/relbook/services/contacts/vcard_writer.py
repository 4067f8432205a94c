"""People → vCard 3.0 (default) or 4.0 text, built and serialised with vobject; or 2.1
for old address books (phones, car kits, old Outlook), written by hand.

What a person holds maps to standard properties, so other address books read it back:
names (N/FN), every e-mail and phone with its label as TYPE, ORG (company; department),
TITLE, ADR, BDAY (``--MMDD`` when the year is unknown), NOTE (the person's "about"),
CATEGORIES (tags), PHOTO (embedded) and UID (the person's id, so re-importing the file
into the same book finds the same people).
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable
from typing import Any

import vobject

_PHONE_TYPES = {
    "mobile": ["CELL"],
    "work": ["WORK"],
    "home": ["HOME"],
    "fax": ["FAX"],
    "work fax": ["WORK", "FAX"],
    "home fax": ["HOME", "FAX"],
    "pager": ["PAGER"],
    "main": ["MAIN"],
}
_SIMPLE_TYPES = {"work": "WORK", "home": "HOME", "other": "OTHER"}


def photo_mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"GIF8"):
        return "GIF"
    return "JPEG"


VERSIONS = ("2.1", "3.0", "4.0")


def write_vcards(db: sqlite3.Connection, person_ids: Iterable[str], version: str = "3.0") -> str:
    if version not in VERSIONS:
        from relbook.domain.errors import UserError

        raise UserError(f"vCard version {version} cannot be written.", "Use 2.1, 3.0 or 4.0.")
    render = _card_21 if version == "2.1" else _card
    cards = [render(db, person_id, version) for person_id in person_ids]
    return "".join(card for card in cards if card)


def _person_row(db: sqlite3.Connection, person_id: str) -> tuple[Any, ...] | None:
    """What a card shows of a live person: names, title, birthday, about, photo, the live
    company's name and the department of the current job there."""
    row: tuple[Any, ...] | None = db.execute(
        """SELECT p.given_name, p.family_name, p.display_name, p.title, p.birthday, p.about,
                  p.photo, coalesce(c.name, ''),
                  (SELECT a.department FROM affiliation a WHERE a.person_id = p.id
                     AND a.company_id = p.company_id AND a.end_date IS NULL
                     AND a.deleted_at IS NULL LIMIT 1)
           FROM person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
           WHERE p.id = ? AND p.deleted_at IS NULL""",
        (person_id,),
    ).fetchone()
    return row


def _card(db: sqlite3.Connection, person_id: str, version: str) -> str:
    row = _person_row(db, person_id)
    if row is None:
        return ""
    given, family, display, title, birthday, about, photo, company, department = row
    card = vobject.vCard()
    card.add("version").value = version
    card.add("uid").value = person_id
    card.add("n").value = vobject.vcard.Name(family=family or "", given=given or "")
    card.add("fn").value = display or " ".join(p for p in (given, family) if p) or person_id
    for address, label in db.execute(
        "SELECT address, label FROM person_email WHERE person_id = ? ORDER BY position",
        (person_id,),
    ):
        prop = card.add("email")
        prop.value = address
        kind = _SIMPLE_TYPES.get(label.lower())
        types = [kind] if kind else (["INTERNET"] if version == "3.0" else [])
        if types:
            prop.params["TYPE"] = types
        if label and not kind:
            prop.params["X-LABEL"] = [label]
    for number, label in db.execute(
        "SELECT number, label FROM person_phone WHERE person_id = ? ORDER BY position",
        (person_id,),
    ):
        prop = card.add("tel")
        prop.value = number
        phone_types = _PHONE_TYPES.get(label.lower(), [])
        if phone_types:
            prop.params["TYPE"] = phone_types
        elif label:
            prop.params["X-LABEL"] = [label]
    for label, street, locality, region, postcode, country in db.execute(
        """SELECT label, street, locality, region, postcode, country FROM person_address
           WHERE person_id = ? ORDER BY position""",
        (person_id,),
    ):
        prop = card.add("adr")
        prop.value = vobject.vcard.Address(
            street=street, city=locality, region=region, code=postcode, country=country
        )
        kind = _SIMPLE_TYPES.get(label.lower())
        if kind:
            prop.params["TYPE"] = [kind]
        elif label:
            prop.params["X-LABEL"] = [label]
    if company:
        card.add("org").value = [company, department] if department else [company]
    if title:
        card.add("title").value = title
    if birthday:
        card.add("bday").value = _birthday(birthday, version)
    if about:
        card.add("note").value = about
    tags = [
        r[0]
        for r in db.execute(
            """SELECT t.name FROM tag t JOIN entity_tag et ON et.tag_id = t.id
               WHERE et.entity_id = ? ORDER BY t.name_key""",
            (person_id,),
        )
    ]
    if tags:
        card.add("categories").value = tags
    if photo:
        prop = card.add("photo")
        mime = photo_mime(photo)
        if version == "4.0":
            encoded = base64.b64encode(photo).decode("ascii")
            prop.value = f"data:image/{mime.lower()};base64,{encoded}"
            prop.encoded = True  # a URI: not escaped as text
        else:
            prop.value = photo
            prop.encoding_param = "b"
            prop.type_param = mime
    text: str = card.serialize()
    return text


def _birthday(value: str, version: str) -> str:
    if value.startswith("--"):
        month_day = value[2:].replace("-", "")
        return f"--{month_day}" if version == "4.0" else f"--{month_day[:2]}-{month_day[2:]}"
    return value.replace("-", "") if version == "4.0" else value


# ------------------------------------------------------------------- vCard 2.1
# vobject writes 3.0 only; 2.1 (old Outlook, phones, car kits) differs enough to be
# written by hand: bare TYPE words, quoted-printable UTF-8 for anything not plain ASCII,
# ';' (not ',') escaped in text, and a base64 photo ended by a blank line.


def _qp(text: str) -> str | None:
    """Quoted-printable UTF-8 of a 2.1 text value, or None when it can go as it is."""
    if text.isascii() and "\n" not in text and "\r" not in text:
        return None
    return "".join(
        chr(byte) if 33 <= byte <= 126 and byte != 61 else f"={byte:02X}"
        for byte in text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    )


def _soft_breaks(head: str, encoded: str) -> str:
    """QP lines under 76 characters (soft breaks never split an =XX escape)."""
    lines, line, budget = [], "", 75 - len(head)
    index = 0
    while index < len(encoded):
        step = 3 if encoded[index] == "=" else 1
        piece = encoded[index : index + step]
        if len(line) + len(piece) > budget - 1:
            lines.append(line + "=")
            line, budget = "", 75
        line += piece
        index += step
    lines.append(line)
    return head + "\r\n".join(lines)


def _esc21(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;")


def _line21(name: str, params: str, values: list[str] | str) -> str:
    raw = values if isinstance(values, str) else ";".join(_esc21(v) for v in values)
    encoded = _qp(raw)
    if encoded is None:
        return f"{name}{params}:{raw}\r\n"
    head = f"{name}{params};CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:"
    return _soft_breaks(head, encoded) + "\r\n"


def _card_21(db: sqlite3.Connection, person_id: str, _version: str) -> str:
    row = _person_row(db, person_id)
    if row is None:
        return ""
    given, family, display, title, birthday, about, photo, company, department = row
    out = ["BEGIN:VCARD\r\n", "VERSION:2.1\r\n"]
    out.append(_line21("N", "", [family or "", given or "", "", "", ""]))
    full = display or " ".join(p for p in (given, family) if p) or person_id
    out.append(_line21("FN", "", _esc21(full)))
    for address, label in db.execute(
        "SELECT address, label FROM person_email WHERE person_id = ? ORDER BY position",
        (person_id,),
    ):
        kind = _SIMPLE_TYPES.get(label.lower())
        out.append(_line21("EMAIL", f";INTERNET;{kind}" if kind else ";INTERNET", address))
    for number, label in db.execute(
        "SELECT number, label FROM person_phone WHERE person_id = ? ORDER BY position",
        (person_id,),
    ):
        words = _PHONE_TYPES.get(label.lower(), [])
        if words and "FAX" not in words and "PAGER" not in words:
            words = [*words, "VOICE"]
        out.append(_line21("TEL", "".join(f";{w}" for w in words), number))
    for label, street, locality, region, postcode, country in db.execute(
        """SELECT label, street, locality, region, postcode, country FROM person_address
           WHERE person_id = ? ORDER BY position""",
        (person_id,),
    ):
        kind = _SIMPLE_TYPES.get(label.lower())
        params = f";{kind}" if kind in ("WORK", "HOME") else ""
        out.append(_line21("ADR", params, ["", "", street, locality, region, postcode, country]))
    if company:
        out.append(_line21("ORG", "", [company, department] if department else [company]))
    if title:
        out.append(_line21("TITLE", "", _esc21(title)))
    if birthday and not birthday.startswith("--"):  # 2.1 has no birthday without a year
        out.append(f"BDAY:{birthday}\r\n")
    if about:
        out.append(_line21("NOTE", "", _esc21(about)))
    tags = [
        r[0]
        for r in db.execute(
            """SELECT t.name FROM tag t JOIN entity_tag et ON et.tag_id = t.id
               WHERE et.entity_id = ? ORDER BY t.name_key""",
            (person_id,),
        )
    ]
    if tags:
        out.append(_line21("CATEGORIES", "", ",".join(t.replace(",", " ") for t in tags)))
    if photo:
        encoded = base64.b64encode(photo).decode("ascii")
        folded = "".join(f"\r\n {encoded[i : i + 72]}" for i in range(0, len(encoded), 72))
        out.append(f"PHOTO;ENCODING=BASE64;TYPE={photo_mime(photo)}:{folded}\r\n\r\n")
    out.append(f"UID:{person_id}\r\n")
    out.append("END:VCARD\r\n")
    return "".join(out)
