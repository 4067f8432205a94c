"""Custom fields: the rep's own typed fields on people, companies and deals.

Values live in the entity's ``custom`` JSON under the field's key, normalised by type:
text/url/choice → str, number → float, money → integer minor units, date → ISO text,
multi-choice → sorted list of str, person ref → person id.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relbook.domain.errors import FieldError, ValidationError
from relbook.domain.kinds import FieldType
from relbook.domain.money import parse_money_text, to_minor
from relbook.services import validate
from relbook.services.base import Service, live
from relbook.storage import search_index
from relbook.storage.models import CustomFieldDef
from relbook.storage.session import driver_connection

FIELD_OWNERS = ("person", "company", "deal")
# Filter words that already mean something; a custom field may not take them.
RESERVED_KEYS = frozenset(
    {
        "tag",
        "tags",
        "stage",
        "pipeline",
        "amount",
        "status",
        "company",
        "person",
        "name",
        "title",
        "email",
        "phone",
        "domain",
        "industry",
        "last-touch",
        "created",
        "updated",
        "owner",
        "value",
        "potential",
        "probability",
        "close",
        "due",
        "done",
        "kind",
        "strength",
        "rhythm",
        "cadence",
        "competitor",
        "has",
        "is",
        "id",
        "currency",
        "touches",
        "people",
    }
)


@dataclass
class FieldDefDraft:
    entity_type: str
    label: str
    field_type: str
    key: str = ""
    choices: list[str] = field(default_factory=list)
    currency: str = ""
    required: bool = False
    id: str | None = None


@dataclass(frozen=True)
class FieldDef:
    id: str
    entity_type: str
    key: str
    label: str
    field_type: str
    choices: tuple[str, ...]
    currency: str
    required: bool
    position: int


def slug(label: str) -> str:
    """The key a filter uses: lower-case letters and digits joined by '-', starting with a
    letter ('Größe' → 'grosse', '预算' stays '预算', '2nd contact' → 'f-2nd-contact')."""
    folded = unicodedata.normalize("NFKD", label.lower().replace("ß", "ss"))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    text = re.sub(r"[\W_]+", "-", plain).strip("-")[:60].strip("-")
    if text and not text[0].isalpha():
        text = f"f-{text}"[:60]
    return text or "field"


def custom_value_sql(column: str, key: str) -> str:
    """SQL for the stored value of custom field ``key`` in the JSON ``column``.

    ASCII keys use json_extract (an indexable expression, the fast path). Other keys are
    looked up with json_each, which compares decoded keys: JSON written with escapes
    ("\\u9884\\u7b97", by older writers or a teammate's book) matches '预算' too.
    """
    if key.isascii():
        return f"json_extract({column}, '$.\"{key}\"')"
    quoted = key.replace("'", "''")
    return f"(SELECT value FROM json_each({column}) WHERE key = '{quoted}')"


def normalise_value(
    definition: FieldDef, raw: Any, problems: validate.Problems, default_currency: str
) -> Any:
    """The stored form of ``raw`` for this field, or None for empty."""
    name = f"custom.{definition.key}"
    if raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
        if definition.required:
            problems.add(name, f"{definition.label} is required")
        return None
    kind = definition.field_type
    if kind == FieldType.TEXT:
        return str(raw).strip()
    if kind == FieldType.URL:
        return validate.url(str(raw), name, problems)
    if kind == FieldType.NUMBER:
        try:
            number = float(str(raw).replace(",", "").strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            problems.add(name, f"'{raw}' is not a number")
            return None
        return number
    if kind == FieldType.MONEY:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        amount = parse_money_text(str(raw)) if not isinstance(raw, Decimal) else raw
        if amount is None:
            problems.add(name, f"'{raw}' is not an amount")
            return None
        return to_minor(amount, definition.currency or default_currency)
    if kind == FieldType.DATE:
        return validate.iso_date(str(raw), name, problems)
    if kind == FieldType.CHOICE:
        text = str(raw).strip()
        match = next((c for c in definition.choices if c.lower() == text.lower()), None)
        if match is None:
            problems.add(name, f"'{text}' is not one of {', '.join(definition.choices)}")
        return match
    if kind == FieldType.MULTI_CHOICE:
        values = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        chosen = []
        for value in values:
            text = str(value).strip()
            if not text:
                continue
            match = next((c for c in definition.choices if c.lower() == text.lower()), None)
            if match is None:
                problems.add(name, f"'{text}' is not one of {', '.join(definition.choices)}")
            else:
                chosen.append(match)
        return sorted(set(chosen)) or None
    if kind == FieldType.PERSON_REF:
        return str(raw).strip()
    problems.add(name, f"unknown field type {kind}")
    return None


def _reindex_values(session: Session, entity_type: str, key: str, field_type: str) -> None:
    """Text-like values are searchable while their field exists: refresh the documents
    holding a value of this field after it is retired or brought back."""
    if field_type not in search_index.SEARCHED_FIELD_TYPES:
        return
    session.flush()
    raw = driver_connection(session)
    ids = [
        row[0]
        for row in raw.execute(
            f"SELECT id FROM {entity_type} WHERE deleted_at IS NULL "
            f"AND {custom_value_sql('custom', key)} IS NOT NULL"
        )
    ]
    search_index.refresh(raw, entity_type, ids)


def _built_in_filter_words(draft: FieldDefDraft) -> frozenset[str]:
    """The filter fields of the list this field would join (a custom field must not hide
    one of them, nor be hidden by one)."""
    from relbook.services.filtering import HANDLERS

    return frozenset(HANDLERS.get(draft.entity_type, {}))


class FieldService(Service):
    def definitions(self, entity_type: str | None = None) -> list[FieldDef]:
        sql = """SELECT id, entity_type, key, label, field_type, choices, currency, required,
                        position FROM custom_field_def WHERE deleted_at IS NULL"""
        params: tuple[str, ...] = ()
        if entity_type:
            sql += " AND entity_type = ?"
            params = (entity_type,)
        return [
            FieldDef(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                tuple(json.loads(row[5])),
                row[6],
                bool(row[7]),
                row[8],
            )
            for row in self.db.execute(sql + " ORDER BY entity_type, position, label", params)
        ]

    def by_key(self, entity_type: str) -> dict[str, FieldDef]:
        return {d.key: d for d in self.definitions(entity_type)}

    def clean_values(
        self, entity_type: str, values: dict[str, Any], problems: validate.Problems
    ) -> dict[str, Any]:
        definitions = self.by_key(entity_type)
        currency = self.services.settings.currency
        clean: dict[str, Any] = {}
        for key, raw in values.items():
            definition = definitions.get(key)
            if definition is None:
                problems.add(f"custom.{key}", "is not a field of this book")
                continue
            value = normalise_value(definition, raw, problems, currency)
            if value is not None:
                clean[key] = value
        for key, definition in definitions.items():
            if definition.required and key not in values:
                problems.add(f"custom.{key}", f"{definition.label} is required")
        if entity_type and any(d.field_type == FieldType.PERSON_REF for d in definitions.values()):
            for key, value in clean.items():
                if definitions[key].field_type == FieldType.PERSON_REF:
                    exists = self.db.execute(
                        "SELECT 1 FROM person WHERE id = ? AND deleted_at IS NULL", (value,)
                    ).fetchone()
                    if not exists:
                        problems.add(f"custom.{key}", "refers to a person not in the book")
        return clean

    def save(self, draft: FieldDefDraft) -> str:
        problems = validate.Problems()
        if draft.entity_type not in FIELD_OWNERS:
            problems.add("entity_type", "must be person, company or deal")
        label = validate.required_text(draft.label, "label", problems, 200)
        if draft.field_type not in {t.value for t in FieldType}:
            problems.add("field_type", f"'{draft.field_type}' is not a field type")
        choices = [c.strip() for c in draft.choices if c.strip()]
        if draft.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not choices:
            problems.add("choices", "a choice field needs at least one choice")
        if len({c.lower() for c in choices}) != len(choices):
            problems.add("choices", "choices must differ")
        currency = draft.currency.strip().upper()
        if currency and not (len(currency) == 3 and currency.isalpha()):
            problems.add("currency", f"'{draft.currency}' is not a three-letter currency code")
        key = slug(draft.key or label)
        if not draft.id and (key in RESERVED_KEYS or key in _built_in_filter_words(draft)):
            problems.add("label", f"'{key}' is a built-in filter word; choose another name")
        problems.raise_if_any()
        with self.write(("field_def",)) as session:
            if draft.id:
                # Editing keeps the key (saved filters and stored values use it).
                definition = live(session, CustomFieldDef, draft.id, "custom field")
                if definition.field_type != draft.field_type:
                    raise ValidationError(
                        FieldError("field_type", "the type of an existing field cannot change")
                    )
                definition.label = label
                definition.choices = choices
                definition.currency = currency
                definition.required = draft.required
                return definition.id
            clash = session.scalar(
                select(CustomFieldDef).where(
                    CustomFieldDef.entity_type == draft.entity_type,
                    CustomFieldDef.key == key,
                )
            )
            if clash is not None and clash.deleted_at is None:
                raise ValidationError(FieldError("label", f"a field '{clash.label}' exists"))
            position = len(self.definitions(draft.entity_type))
            if clash is not None:
                # Re-creating a retired field brings its stored values back.
                clash.deleted_at = None
                clash.label, clash.field_type, clash.choices = label, draft.field_type, choices
                clash.currency, clash.required = currency, draft.required
                clash.position = position
                _reindex_values(session, clash.entity_type, clash.key, clash.field_type)
                return clash.id
            definition = CustomFieldDef(
                entity_type=draft.entity_type,
                key=key,
                label=label,
                field_type=draft.field_type,
                choices=choices,
                currency=currency,
                required=draft.required,
                position=position,
            )
            session.add(definition)
            session.flush()
            return definition.id

    def delete(self, field_id: str) -> None:
        """Retire a field definition. Values stay in the rows (nothing is lost) but are
        hidden; re-creating the field with the same key shows them again."""
        with self.write(("field_def",)) as session:
            definition = live(session, CustomFieldDef, field_id, "custom field")
            definition.deleted_at = self.clock.now()
            _reindex_values(session, definition.entity_type, definition.key, definition.field_type)

    def reorder(self, entity_type: str, ordered_ids: list[str]) -> None:
        with self.write(("field_def",)) as session:
            for position, field_id in enumerate(ordered_ids):
                definition = session.get_one(CustomFieldDef, field_id)
                if definition.entity_type == entity_type:
                    definition.position = position
