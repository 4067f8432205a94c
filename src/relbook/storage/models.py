"""The book's schema as SQLAlchemy 2 models — the source of truth for migrations.

Shareable rows (mixin ``Shareable``) have a UUIDv7 text key, created/updated moments, a
version counter bumped on every change and a soft-delete tombstone; the unit of work in
``storage.session`` writes an outbox row for each of their changes in the same
transaction. Child rows (a person's e-mails, phones, addresses; a deal's people) travel
with their parent and carry no version of their own.

Moments are UTC integer milliseconds (``UtcMillis``); calendar dates are ISO text
(``YYYY-MM-DD``; a birthday may be ``--MM-DD`` when the year is unknown); money is integer
minor units next to an ISO currency code.

Hot read paths (search, timelines, lists, insight) query SQLite directly through
``storage.reader``: the columns marked *denormalised* exist for them and are kept in step
by the storage layer (``storage.touch``), never typed by the rep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from relbook.domain.ids import new_id
from relbook.storage.types import UtcMillis

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcMillis(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Shareable:
    """Columns every row that may travel to the team server carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id, sort_order=-10)
    created_at: Mapped[datetime] = mapped_column(sort_order=90)
    updated_at: Mapped[datetime] = mapped_column(sort_order=91)
    version: Mapped[int] = mapped_column(
        Integer, default=1, server_default=text("1"), sort_order=92
    )
    deleted_at: Mapped[datetime | None] = mapped_column(sort_order=93)


class TouchStats:
    """Denormalised interaction statistics (storage.touch keeps them in step)."""

    last_touch_at: Mapped[datetime | None]  # latest past interaction, any direction
    last_inbound_at: Mapped[datetime | None]  # latest time they reached out
    last_outbound_at: Mapped[datetime | None]  # latest time we reached out
    first_touch_at: Mapped[datetime | None]
    touch_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    inbound_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    outbound_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Typical gap between touches in days (median of recent gaps); None until known.
    rhythm_days: Mapped[float | None]
    # 0–100 relationship strength (domain.scoring documents the formula); recomputed on
    # every refresh and by the daily rescore (it decays with time), see ``scored_at``.
    strength: Mapped[float | None]
    # Latest touch that went both ways: they wrote to us, or we met or spoke.
    last_two_way_at: Mapped[datetime | None]
    # Distinct days with a touch (a thread of five replies on one day is one touch day).
    touch_days: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Touch days weighted by exp(-age / 30 days) and exp(-age / 180 days), the age measured
    # at the day of last_touch_at: recent and half-year frequency without a window that
    # goes stale (domain.scoring decays them to "now").
    touch_weight_30: Mapped[float] = mapped_column(default=0.0, server_default=text("0"))
    touch_weight_180: Mapped[float] = mapped_column(default=0.0, server_default=text("0"))
    scored_at: Mapped[datetime | None]  # when strength was last computed


# --------------------------------------------------------------------------- people


class Person(Shareable, TouchStats, Base):
    __tablename__ = "person"

    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(400), default="")
    name_key: Mapped[str] = mapped_column(String(400), default="", index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    birthday: Mapped[str | None] = mapped_column(String(10))
    about: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # The company of the current primary affiliation (kept by services.affiliations).
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Keep-in-touch: days the rep set (None = learned from rhythm), and a snooze.
    cadence_days: Mapped[int | None]
    snoozed_until: Mapped[datetime | None]
    # How the person came into the book: manual, import, review (accepted), demo…
    origin: Mapped[str] = mapped_column(String(40), default="manual")
    # Denormalised value at stake (README "Value at stake"), kept by triggers (migration
    # 0002) on every write path: open deals of the live company plus the person's own
    # open deals elsewhere (``stake_deals_minor``), plus that company's value.
    stake_minor: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    stake_deals_minor: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    emails: Mapped[list[PersonEmail]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonEmail.position"
    )
    phones: Mapped[list[PersonPhone]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonPhone.position"
    )
    addresses: Mapped[list[PostalAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PostalAddress.position"
    )

    __table_args__ = (
        Index("ix_person_live_name", "deleted_at", "display_name"),
        Index("ix_person_last_touch", "last_touch_at"),
        # Going cold and next contacts walk people by value, reading no table rows.
        Index(
            "ix_person_stake",
            "stake_minor",
            "deleted_at",
            "snoozed_until",
            "last_touch_at",
            "rhythm_days",
            "cadence_days",
            "created_at",
            "display_name",
        ),
    )


class PersonEmail(Base):
    __tablename__ = "person_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320), index=True)  # normalised lower-case
    label: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="emails")
    __table_args__ = (Index("ix_person_email_person", "person_id"),)


class PersonPhone(Base):
    __tablename__ = "person_phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))  # E.164 when it parses, else as typed
    label: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="phones")
    __table_args__ = (
        Index("ix_person_phone_person", "person_id"),
        Index("ix_person_phone_number", "number"),
    )


class PostalAddress(Base):
    __tablename__ = "person_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(40), default="")
    street: Mapped[str] = mapped_column(String(400), default="")
    locality: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="addresses")
    __table_args__ = (Index("ix_person_address_person", "person_id"),)


# ------------------------------------------------------------------------- companies


class Company(Shareable, TouchStats, Base):
    __tablename__ = "company"

    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(200), default="")
    employees: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    current_value_minor: Mapped[int | None]  # yearly revenue with us now
    potential_value_minor: Mapped[int | None]  # what it could be worth
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    about: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(40), default="manual")
    # Denormalised: live people with an open affiliation here.
    people_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Denormalised breadth: live people here with a two-way touch in the last 180 days.
    engaged_people: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    domains: Mapped[list[CompanyDomain]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="CompanyDomain.position"
    )
    __table_args__ = (
        Index("ix_company_live_name", "deleted_at", "name"),
        Index("ix_company_last_touch", "last_touch_at"),
    )


class CompanyDomain(Base):
    __tablename__ = "company_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), index=True)  # registrable, lower-case
    position: Mapped[int] = mapped_column(default=0)

    company: Mapped[Company] = relationship(back_populates="domains")
    __table_args__ = (Index("ix_company_domain_company", "company_id"),)


class Affiliation(Shareable, Base):
    """A person's role at a company over a period; people change jobs."""

    __tablename__ = "affiliation"

    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"))
    role: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))  # None = still there
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("ix_affiliation_person", "person_id"),
        Index("ix_affiliation_company", "company_id"),
    )


# ---------------------------------------------------------------------- pipelines


class Pipeline(Shareable, Base):
    __tablename__ = "pipeline"

    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="pipeline", order_by="Stage.position", viewonly=True
    )


class Stage(Shareable, Base):
    __tablename__ = "stage"

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipeline.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10), default="open")  # StageKind
    probability: Mapped[int] = mapped_column(default=10)  # percent, deal default
    # A deal sitting here longer than this many days is "stuck" (None = never).
    stale_after_days: Mapped[int | None]

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages", viewonly=True)


class Deal(Shareable, Base):
    __tablename__ = "deal"

    title: Mapped[str] = mapped_column(String(300))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipeline.id"))
    stage_id: Mapped[str] = mapped_column(ForeignKey("stage.id"), index=True)
    amount_minor: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    probability: Mapped[int | None]  # None = the stage's probability
    expected_close: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")  # DealStatus
    lost_reason: Mapped[str] = mapped_column(String(300), default="")
    won_reason: Mapped[str] = mapped_column(String(300), default="")
    competitors: Mapped[list[Any]] = mapped_column(default=list)
    closed_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Denormalised, kept by triggers (migration 0002): the live person on the deal touched
    # last, whom a stuck deal is listed under in next contacts.
    contact_person_id: Mapped[str | None] = mapped_column(String(36))

    people: Mapped[list[DealPerson]] = relationship(
        back_populates="deal", cascade="all, delete-orphan"
    )
    __table_args__ = (
        Index("ix_deal_status_stage", "status", "stage_id"),
        # Stuck deals: open deals per stage by the moment they entered it.
        Index(
            "ix_deal_open_stage",
            "stage_id",
            "stage_entered_at",
            "company_id",
            "contact_person_id",
            sqlite_where=text("status = 'open' AND deleted_at IS NULL"),
        ),
        # Keep-warm proposals: recently lost deals, newest first.
        Index(
            "ix_deal_lost", "closed_at", sqlite_where=text("status = 'lost' AND deleted_at IS NULL")
        ),
    )


class DealPerson(Base):
    __tablename__ = "deal_person"

    deal_id: Mapped[str] = mapped_column(
        ForeignKey("deal.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), default="")  # decision maker, champion…

    deal: Mapped[Deal] = relationship(back_populates="people")
    __table_args__ = (Index("ix_deal_person_person", "person_id"),)


class DealStageChange(Base):
    """Every stage move of a deal: the board's history and the source of conversion rates."""

    __tablename__ = "deal_stage_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[str] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    from_stage_id: Mapped[str | None] = mapped_column(String(36))
    to_stage_id: Mapped[str] = mapped_column(String(36))
    changed_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (Index("ix_deal_stage_change_deal", "deal_id", "changed_at"),)


# ---------------------------------------------------------------------- interactions


class Interaction(Shareable, Base):
    __tablename__ = "interaction"

    # Time-ordered integer key: the FTS rowid, so newest-first search is an index walk.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # InteractionKind
    direction: Mapped[str] = mapped_column(String(10), default="none")  # Direction
    status: Mapped[str] = mapped_column(String(10), default="done")  # InteractionStatus
    occurred_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_minutes: Mapped[int | None]
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # as much as the privacy level keeps
    body_html: Mapped[str | None] = mapped_column(Text, deferred=True)  # sanitised; full only
    privacy: Mapped[str] = mapped_column(String(10), default="full")  # PrivacyLevel
    location: Mapped[str] = mapped_column(String(300), default="")
    # Where it came from: 'manual', 'file', or an account id; natural key is global so two
    # sources delivering the same message store it once.
    source: Mapped[str] = mapped_column(String(64), default="manual")
    natural_key: Mapped[str | None] = mapped_column(String(500), unique=True)
    thread_key: Mapped[str | None] = mapped_column(String(500), index=True)
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # names and sizes only
    size_bytes: Mapped[int | None]
    # Why the linker treats it as bulk/automated mail ("mailing list (…)"); "" = personal.
    bulk_reason: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))

    participants: Mapped[list[Participant]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan"
    )
    links: Mapped[list[InteractionLink]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan"
    )
    __table_args__ = (Index("ix_interaction_kind_time", "kind", "occurred_at"),)


class Participant(Base):
    __tablename__ = "interaction_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interaction.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))  # ParticipantRole
    address: Mapped[str] = mapped_column(String(320), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    person_id: Mapped[str | None] = mapped_column(String(36))

    interaction: Mapped[Interaction] = relationship(back_populates="participants")
    __table_args__ = (
        Index("ix_participant_interaction", "interaction_id"),
        Index("ix_participant_address", "address"),
    )


class InteractionLink(Base):
    """An interaction belongs to a person, company or deal — with the reason why.

    ``occurred_at``, ``kind`` and ``direction`` repeat the interaction's so timelines and
    touch statistics read one index. An ``excluded`` row records the rep's "not this one"
    so the linker never adds it again.
    """

    __tablename__ = "interaction_link"

    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(10))  # person / company / deal
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(10))
    direction: Mapped[str] = mapped_column(String(10), default="none")
    origin: Mapped[str] = mapped_column(String(10), default="auto")  # LinkOrigin
    reason: Mapped[str] = mapped_column(String(300), default="")
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    # Counts for touch statistics (not a cancelled meeting, not a note to self).
    is_touch: Mapped[bool] = mapped_column(Boolean, default=True)

    interaction: Mapped[Interaction] = relationship(back_populates="links")
    __table_args__ = (Index("ix_link_entity_time", "entity_id", "occurred_at"),)


class CompanyMonth(Base):
    """Touches with a company per calendar month (UTC), by kind and direction, with the
    minutes of its meetings and calls: effort and the account heat map read this table
    (storage.touch keeps it in step with the company's interaction links)."""

    __tablename__ = "company_month"

    company_id: Mapped[str] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # yyyymm
    touches: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    outbound: Mapped[int] = mapped_column(Integer, default=0)
    emails: Mapped[int] = mapped_column(Integer, default=0)
    meetings: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    other: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)  # meetings and calls
    __table_args__ = (Index("ix_company_month_month", "month"),)


# ---------------------------------------------------------------- tasks, notes, tags


class Task(Shareable, Base):
    __tablename__ = "task"

    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(Boolean, default=True)
    reminder_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=0)  # 0 normal, 1 high
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    deal_id: Mapped[str | None] = mapped_column(ForeignKey("deal.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_task_open_due", "done_at", "due_at"),)


class Note(Shareable, Base):
    __tablename__ = "note"

    body: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # never leaves the laptop
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime]
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    deal_id: Mapped[str | None] = mapped_column(ForeignKey("deal.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(String(36))


class Tag(Shareable, Base):
    __tablename__ = "tag"

    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    color: Mapped[str] = mapped_column(String(9), default="")


class EntityTag(Base):
    __tablename__ = "entity_tag"

    tag_id: Mapped[str] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(10))
    __table_args__ = (Index("ix_entity_tag_entity", "entity_id"),)


class CustomFieldDef(Shareable, Base):
    __tablename__ = "custom_field_def"

    entity_type: Mapped[str] = mapped_column(String(10))  # person / company / deal
    key: Mapped[str] = mapped_column(String(60))  # slug used in filters and storage
    label: Mapped[str] = mapped_column(String(200))
    field_type: Mapped[str] = mapped_column(String(20))  # FieldType
    choices: Mapped[list[Any]] = mapped_column(default=list)
    currency: Mapped[str] = mapped_column(String(3), default="")  # for money fields
    position: Mapped[int] = mapped_column(default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("entity_type", "key"),)


class Feedback(Shareable, Base):
    __tablename__ = "feedback"

    topic: Mapped[str] = mapped_column(String(12))  # FeedbackTopic
    subject: Mapped[str] = mapped_column(String(200), default="")  # product or competitor
    sentiment: Mapped[str] = mapped_column(String(10), default="neutral")  # Sentiment
    quote: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    deal_id: Mapped[str | None] = mapped_column(ForeignKey("deal.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(String(36), index=True)
    note_id: Mapped[str | None] = mapped_column(String(36))


class SavedView(Shareable, Base):
    __tablename__ = "saved_view"

    entity_type: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    filter_text: Mapped[str] = mapped_column(Text, default="")
    columns: Mapped[list[Any]] = mapped_column(default=list)
    sort: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)


class Setting(Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# ------------------------------------------------------------------- history & sync


class Outbox(Base):
    """Changes not yet pushed to the team server: one row per entity (changes fold).

    ``base_version`` is the version the server last saw (the first pending change's
    predecessor); ``fields`` accumulates the names of the fields changed since then so the
    server can merge field by field. ``mutation_id`` changes with every fold, making each
    push of an entity state idempotent.
    """

    __tablename__ = "outbox"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    mutation_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(10))  # upsert / delete
    base_version: Mapped[int]
    fields: Mapped[list[Any]] = mapped_column(default=list)
    queued_at: Mapped[datetime]


class Share(Base):
    """What the rep chose to share with the team (absent = private)."""

    __tablename__ = "share"

    entity_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    interaction_level: Mapped[str] = mapped_column(String(10), default="metadata")
    shared_at: Mapped[datetime]


class TeamLink(Base):
    """The book's team server connection (one row, id 1; the password is in the keyring)."""

    __tablename__ = "team_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    dsn: Mapped[str] = mapped_column(Text)  # libpq DSN, never with a password
    read_dsn: Mapped[str] = mapped_column(Text, default="")  # a replica for pulls, optional
    role: Mapped[str] = mapped_column(String(63))
    team_id: Mapped[str] = mapped_column(String(36))
    team_name: Mapped[str] = mapped_column(String(200), default="")
    members: Mapped[dict[str, Any]] = mapped_column(default=dict)  # role -> display name
    cursor: Mapped[str] = mapped_column(String(24), default="0")  # pull horizon (xid8)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")  # team set last pushed
    connected_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None]
    # A guard tripped (mass delete) and waits for the rep; sync pauses until confirmed.
    pending_question: Mapped[str] = mapped_column(Text, default="")
    last_pushed: Mapped[int] = mapped_column(default=0)
    last_pulled: Mapped[int] = mapped_column(default=0)


class TeamRow(Base):
    """An entity the team server holds, as far as this book knows: how it is held
    (``state``: shared by me / received / detached / deleted / withdrawn), the server's
    version, and the travelling fields last agreed with the server (the base of the
    three-way merge and of each push's compare-and-set)."""

    __tablename__ = "team_row"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    server_version: Mapped[int] = mapped_column(default=0)
    level: Mapped[str] = mapped_column(String(10), default="")  # my share mark's level
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author: Mapped[str] = mapped_column(String(63), default="")  # role that first shared it
    editor: Mapped[str] = mapped_column(String(63), default="")  # role of the last change
    updated_at: Mapped[datetime]
    __table_args__ = (Index("ix_team_row_state", "state", "entity_type"),)


class TeamJournal(Base):
    """Mutations prepared for the team server and not yet acknowledged (replayed first)."""

    __tablename__ = "team_journal"

    mutation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int]
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(10))
    base_version: Mapped[int]
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class TeamConflict(Base):
    """A value that lost to a teammate's (or a row deleted/withdrawn under an edit): kept
    for the rep to resolve, never silently dropped."""

    __tablename__ = "team_conflict"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(36))
    label: Mapped[str] = mapped_column(String(400), default="")
    kind: Mapped[str] = mapped_column(String(10))  # field / deleted / withdrawn
    field: Mapped[str] = mapped_column(String(60), default="")
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    their_rep: Mapped[str] = mapped_column(String(63), default="")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(String(10), default="")
    __table_args__ = (Index("ix_team_conflict_open", "resolved_at", "created_at"),)


class MergeRecord(Base):
    """What a merge changed, so it can be undone exactly."""

    __tablename__ = "merge_record"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity_type: Mapped[str] = mapped_column(String(10))
    survivor_id: Mapped[str] = mapped_column(String(36))
    merged_id: Mapped[str] = mapped_column(String(36))
    journal: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


# ------------------------------------------------------------------------- capture


class Account(Base):
    """A mailbox or calendar the book fills itself from (passwords live in the keyring)."""

    __tablename__ = "account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # ews / imap / caldav / ics
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    privacy: Mapped[str] = mapped_column(String(10), default="excerpt")  # PrivacyLevel
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_minutes: Mapped[int] = mapped_column(default=15)
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None]
    items_seen: Mapped[int] = mapped_column(default=0)
    items_stored: Mapped[int] = mapped_column(default=0)
    # A guard tripped and waits for the rep (e.g. "source looks empty"); sync pauses.
    pending_question: Mapped[str] = mapped_column(Text, default="")
    # The server could not be reached since then (shown as "offline — will retry").
    offline_since: Mapped[datetime | None]
    # Do not try before this moment (the server asked to back off, or offline retry).
    retry_at: Mapped[datetime | None]


class SyncCursor(Base):
    __tablename__ = "sync_cursor"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(300), primary_key=True)  # folder / calendar
    cursor: Mapped[str | None] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class SourceRef(Base):
    """Where a stored interaction sits in a source (IMAP UID, EWS ItemId, CalDAV href)."""

    __tablename__ = "source_ref"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    locator: Mapped[str] = mapped_column(String(500), primary_key=True)
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interaction.id", ondelete="CASCADE"))
    version_tag: Mapped[str] = mapped_column(String(200), default="")  # ChangeKey / ETag
    generation: Mapped[int] = mapped_column(default=0)
    __table_args__ = (Index("ix_source_ref_interaction", "interaction_id"),)


class ReviewItem(Base):
    """An unknown correspondent waiting for the rep: accept, ignore, or always ignore."""

    __tablename__ = "review_item"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    domain: Mapped[str] = mapped_column(String(253), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending/accepted/ignored
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    message_count: Mapped[int] = mapped_column(default=0)
    last_subject: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_review_item_status", "status", "last_seen_at"),)


class LinkRule(Base):
    """A correction the rep taught: always/never link an address or domain."""

    __tablename__ = "link_rule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    match_kind: Mapped[str] = mapped_column(String(10))  # address / domain / thread
    pattern: Mapped[str] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(10))  # ignore / always / never
    entity_type: Mapped[str | None] = mapped_column(String(10))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    __table_args__ = (Index("ix_link_rule_pattern", "match_kind", "pattern"),)


SHAREABLE_MODELS: dict[str, type[Shareable]] = {
    "person": Person,
    "company": Company,
    "affiliation": Affiliation,
    "pipeline": Pipeline,
    "stage": Stage,
    "deal": Deal,
    "interaction": Interaction,
    "task": Task,
    "note": Note,
    "tag": Tag,
    "field_def": CustomFieldDef,
    "feedback": Feedback,
    "saved_view": SavedView,
}
