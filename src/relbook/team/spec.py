"""What of the book travels to the team server, field by field.

Only the fields listed here ever leave the laptop. Not listed, so never sent: tasks, tags,
saved views, custom field definitions, the rep's keep-in-touch cadence and snoozes, photos,
where an item came from (origin, source, natural keys), derived statistics
(``storage.session.DERIVED_FIELDS``), private notes, and everything of a private item.

Interactions travel at the share's interaction level:

- ``nothing``: not at all;
- ``metadata``: kind, direction, status, when, how long, participants, what it belongs to;
- ``subject``: also the subject and location;
- ``full``: also the text (the body the book kept) and attachment names.

References to other rows (``ref``) travel only when the referenced row is itself on the
team server; otherwise they travel as empty, so no id of a private row leaves the laptop.
"""

from __future__ import annotations

from dataclasses import dataclass

from relbook.domain.kinds import ShareLevel

LEVELS: tuple[str, ...] = tuple(level.value for level in ShareLevel)
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}

VALUE = "value"
BOOL = "bool"
JSON = "json"
REF = "ref"
CHILDREN = "children"  # a list kept in child rows (e-mails, domains, participants…)
REF_LIST = "ref_list"  # a list of [entity_type or role, id] pairs of other rows


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str = VALUE
    ref: str | None = None  # the referenced entity type of a REF
    required: bool = False  # a NOT NULL reference: the row cannot exist without it
    level: str = ShareLevel.METADATA.value  # interactions: the lowest level it travels at


@dataclass(frozen=True)
class EntitySpec:
    entity_type: str
    table: str
    fields: tuple[FieldSpec, ...]
    label_sql: str  # an SQL expression naming the row (for conflicts and previews)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def names_at(self, level: str) -> tuple[str, ...]:
        rank = LEVEL_RANK[level]
        return tuple(f.name for f in self.fields if LEVEL_RANK[f.level] <= rank)


def _ref(name: str, target: str, *, required: bool = False, level: str = "metadata") -> FieldSpec:
    return FieldSpec(name, REF, target, required, level)


SPECS: dict[str, EntitySpec] = {
    spec.entity_type: spec
    for spec in (
        EntitySpec(
            "company",
            "company",
            (
                FieldSpec("name"),
                FieldSpec("website"),
                FieldSpec("industry"),
                FieldSpec("employees"),
                FieldSpec("currency"),
                FieldSpec("current_value_minor"),
                FieldSpec("potential_value_minor"),
                _ref("parent_id", "company"),
                FieldSpec("about"),
                FieldSpec("custom", JSON),
                FieldSpec("domains", CHILDREN),
            ),
            "name",
        ),
        EntitySpec(
            "person",
            "person",
            (
                FieldSpec("given_name"),
                FieldSpec("family_name"),
                FieldSpec("display_name"),
                FieldSpec("title"),
                FieldSpec("birthday"),
                FieldSpec("about"),
                _ref("company_id", "company"),
                FieldSpec("custom", JSON),
                FieldSpec("emails", CHILDREN),
                FieldSpec("phones", CHILDREN),
                FieldSpec("addresses", CHILDREN),
            ),
            "display_name",
        ),
        EntitySpec(
            "affiliation",
            "affiliation",
            (
                _ref("person_id", "person", required=True),
                _ref("company_id", "company", required=True),
                FieldSpec("role"),
                FieldSpec("department"),
                FieldSpec("start_date"),
                FieldSpec("end_date"),
                FieldSpec("is_primary", BOOL),
            ),
            "role",
        ),
        EntitySpec("pipeline", "pipeline", (FieldSpec("name"), FieldSpec("position")), "name"),
        EntitySpec(
            "stage",
            "stage",
            (
                _ref("pipeline_id", "pipeline", required=True),
                FieldSpec("name"),
                FieldSpec("position"),
                FieldSpec("kind"),
                FieldSpec("probability"),
                FieldSpec("stale_after_days"),
            ),
            "name",
        ),
        EntitySpec(
            "deal",
            "deal",
            (
                FieldSpec("title"),
                _ref("company_id", "company"),
                _ref("pipeline_id", "pipeline", required=True),
                _ref("stage_id", "stage", required=True),
                FieldSpec("amount_minor"),
                FieldSpec("currency"),
                FieldSpec("probability"),
                FieldSpec("expected_close"),
                FieldSpec("status"),
                FieldSpec("lost_reason"),
                FieldSpec("won_reason"),
                FieldSpec("competitors", JSON),
                FieldSpec("closed_at"),
                FieldSpec("stage_entered_at"),
                FieldSpec("description"),
                FieldSpec("custom", JSON),
                FieldSpec("people", REF_LIST),
            ),
            "title",
        ),
        EntitySpec(
            "interaction",
            "interaction",
            (
                FieldSpec("kind"),
                FieldSpec("direction"),
                FieldSpec("status"),
                FieldSpec("occurred_at"),
                FieldSpec("ends_at"),
                FieldSpec("all_day", BOOL),
                FieldSpec("duration_minutes"),
                FieldSpec("participants", CHILDREN),
                FieldSpec("links", REF_LIST),
                FieldSpec("subject", level="subject"),
                FieldSpec("location", level="subject"),
                FieldSpec("body", level="full"),
                FieldSpec("attachments", JSON, level="full"),
            ),
            "CASE WHEN subject <> '' THEN subject ELSE kind END",
        ),
        EntitySpec(
            "note",
            "note",
            (
                FieldSpec("body"),
                FieldSpec("pinned", BOOL),
                FieldSpec("occurred_at"),
                _ref("person_id", "person"),
                _ref("company_id", "company"),
                _ref("deal_id", "deal"),
                _ref("interaction_id", "interaction"),
            ),
            "substr(body, 1, 80)",
        ),
        EntitySpec(
            "feedback",
            "feedback",
            (
                FieldSpec("topic"),
                FieldSpec("subject"),
                FieldSpec("sentiment"),
                FieldSpec("quote"),
                FieldSpec("occurred_at"),
                _ref("person_id", "person"),
                _ref("company_id", "company"),
                _ref("deal_id", "deal"),
                _ref("interaction_id", "interaction"),
                _ref("note_id", "note"),
            ),
            "CASE WHEN subject <> '' THEN subject ELSE topic END",
        ),
    )
}

# Apply order within a pull: referenced rows before the rows that refer to them.
APPLY_ORDER: tuple[str, ...] = (
    "company",
    "pipeline",
    "stage",
    "person",
    "affiliation",
    "deal",
    "interaction",
    "note",
    "feedback",
)
TRAVELLING_TYPES = frozenset(SPECS)
# What a rep can share explicitly (the roots of what travels).
SHAREABLE_ROOTS: tuple[str, ...] = ("company", "person", "deal")


def max_level(a: str, b: str) -> str:
    return a if LEVEL_RANK[a] >= LEVEL_RANK[b] else b
