"""The closed vocabularies of the book. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class EntityType(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    DEAL = "deal"
    TASK = "task"
    NOTE = "note"
    INTERACTION = "interaction"
    FEEDBACK = "feedback"
    PIPELINE = "pipeline"
    STAGE = "stage"
    TAG = "tag"
    AFFILIATION = "affiliation"
    FIELD_DEF = "field_def"
    SAVED_VIEW = "saved_view"


class InteractionKind(StrEnum):
    EMAIL = "email"
    MEETING = "meeting"
    CALL = "call"
    NOTE = "note"
    OFFER = "offer"
    MESSAGE = "message"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"  # they reached out to us
    OUTBOUND = "outbound"  # we reached out to them
    INTERNAL = "internal"  # colleagues only
    NONE = "none"  # meetings, notes: no single initiator


class ParticipantRole(StrEnum):
    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ATTENDEE = "attendee"
    ORGANIZER = "organizer"


class InteractionStatus(StrEnum):
    DONE = "done"
    PLANNED = "planned"
    CANCELLED = "cancelled"


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class StageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class FeedbackTopic(StrEnum):
    PRODUCT = "product"
    COMPETITOR = "competitor"
    PRICE = "price"
    SERVICE = "service"
    OTHER = "other"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    URL = "url"
    PERSON_REF = "person_ref"


class LinkOrigin(StrEnum):
    AUTO = "auto"  # derived by the linker; the reason says from what
    MANUAL = "manual"  # the rep linked it by hand; the linker never undoes it
    RULE = "rule"  # an always/never rule the rep taught


class PrivacyLevel(StrEnum):
    """How much of a captured message the book keeps (per account)."""

    HEADERS = "headers"
    EXCERPT = "excerpt"
    FULL = "full"


class ShareLevel(StrEnum):
    """How much of a shared item's interactions travels to the team server."""

    NOTHING = "nothing"
    METADATA = "metadata"
    SUBJECT = "subject"
    FULL = "full"


SHAREABLE_ENTITIES: frozenset[EntityType] = frozenset(
    {
        EntityType.PERSON,
        EntityType.COMPANY,
        EntityType.DEAL,
        EntityType.TASK,
        EntityType.NOTE,
        EntityType.INTERACTION,
        EntityType.FEEDBACK,
        EntityType.PIPELINE,
        EntityType.STAGE,
        EntityType.AFFILIATION,
        EntityType.TAG,
        EntityType.FIELD_DEF,
    }
)
