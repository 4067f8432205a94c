"""People → vCard 3.0 (default) or 4.0 text, built and serialised with vobject.

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


def write_vcards(db: sqlite3.Connection, person_ids: Iterable[str], version: str = "3.0") -> str:
    if version not in ("3.0", "4.0"):
        from relbook.domain.errors import UserError

        raise UserError(f"vCard version {version} cannot be written.", "Use 3.0 or 4.0.")
    cards = [_card(db, person_id, version) for person_id in person_ids]
    return "".join(card for card in cards if card)


def _card(db: sqlite3.Connection, person_id: str, version: str) -> str:
    row = db.execute(
        """SELECT p.given_name, p.family_name, p.display_name, p.title, p.birthday, p.about,
                  p.photo, coalesce(c.name, ''),
                  (SELECT a.department FROM affiliation a WHERE a.person_id = p.id
                     AND a.company_id = p.company_id AND a.end_date IS NULL
                     AND a.deleted_at IS NULL LIMIT 1)
           FROM person p LEFT JOIN company c ON c.id = p.company_id
           WHERE p.id = ? AND p.deleted_at IS NULL""",
        (person_id,),
    ).fetchone()
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
