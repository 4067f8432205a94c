"""Stored value at stake per person, each deal's contact, and indexes for the insight lists.

- ``person.stake_minor`` / ``person.stake_deals_minor``: the person's value at stake
  (README "Value at stake": open deals of their live company, plus their own open deals
  elsewhere, plus that company's value — the larger of current and potential) and its
  open-deal part. ``deal.contact_person_id``: the live person on the deal touched last
  (whom a stuck deal is listed under).
- Triggers keep both in step with every write path (ORM, raw bulk paths, team pulls,
  merges and their undo): deal amount/status/company/deletion, deal people, a company's
  values or deletion, a person's company, last touch or deletion.
- ``ix_person_stake`` lets the going-cold and next-contact lists walk people by value
  (a covering index: the walk reads no table rows); ``ix_deal_open_stage`` finds stuck
  deals per stage; ``ix_deal_lost`` the recently lost deals behind keep-warm proposals.

Existing books are backfilled here. The SQL is a frozen copy (later revisions that
change the rules drop and recreate the triggers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The live company of the person row being updated (none when unset or deleted).
_LIVE_COMPANY = (
    "EXISTS (SELECT 1 FROM company c WHERE c.id = person.company_id AND c.deleted_at IS NULL)"
)


def _stake(where: str) -> str:
    """Recompute the value at stake of the people matching ``where`` (two statements:
    the open-deal part first, then the total from it)."""
    return f"""
        UPDATE person SET stake_deals_minor =
              coalesce((SELECT sum(d.amount_minor) FROM company c
                        JOIN deal d ON d.company_id = c.id
                        WHERE c.id = person.company_id AND c.deleted_at IS NULL
                          AND +d.status = 'open' AND d.deleted_at IS NULL), 0)
            + coalesce((SELECT sum(d.amount_minor) FROM deal_person dp
                        JOIN deal d ON d.id = dp.deal_id
                        WHERE dp.person_id = person.id
                          AND +d.status = 'open' AND d.deleted_at IS NULL
                          AND (d.company_id IS NULL OR d.company_id IS NOT person.company_id
                               OR NOT {_LIVE_COMPANY})), 0)
        WHERE {where};
        UPDATE person SET stake_minor = stake_deals_minor
            + coalesce((SELECT max(coalesce(c.current_value_minor, 0),
                                   coalesce(c.potential_value_minor, 0))
                        FROM company c
                        WHERE c.id = person.company_id AND c.deleted_at IS NULL), 0)
        WHERE {where};"""


def _contact(where: str) -> str:
    """Recompute the contact of the deals matching ``where``: the live person on the deal
    with the latest touch (never touched counts as oldest; ties: the smallest id)."""
    return f"""
        UPDATE deal SET contact_person_id = (
            SELECT dp.person_id FROM deal_person dp JOIN person p ON p.id = dp.person_id
            WHERE dp.deal_id = deal.id AND p.deleted_at IS NULL
            ORDER BY coalesce(p.last_touch_at, 0) DESC, dp.person_id LIMIT 1)
        WHERE {where};"""


_LIVENESS_CHANGED = "(OLD.deleted_at IS NULL) != (NEW.deleted_at IS NULL)"


_PEOPLE_OF_DEAL = "id IN (SELECT person_id FROM deal_person WHERE deal_id = {0}.id)"

TRIGGERS: dict[str, str] = {
    "trg_rank_person_insert": f"""AFTER INSERT ON person BEGIN
        {_stake("id = NEW.id")}
    END""",
    "trg_rank_person_company": f"""AFTER UPDATE OF company_id ON person
        WHEN OLD.company_id IS NOT NEW.company_id BEGIN
        {_stake("id = NEW.id")}
    END""",
    "trg_rank_person_touch": f"""AFTER UPDATE OF last_touch_at, deleted_at ON person
        WHEN OLD.last_touch_at IS NOT NEW.last_touch_at OR {_LIVENESS_CHANGED} BEGIN
        {_contact("id IN (SELECT deal_id FROM deal_person WHERE person_id = NEW.id)")}
    END""",
    "trg_rank_company_update": f"""AFTER UPDATE OF current_value_minor, potential_value_minor,
        deleted_at ON company
        WHEN OLD.current_value_minor IS NOT NEW.current_value_minor
          OR OLD.potential_value_minor IS NOT NEW.potential_value_minor
          OR {_LIVENESS_CHANGED} BEGIN
        {_stake("company_id = NEW.id")}
    END""",
    "trg_rank_deal_insert": f"""AFTER INSERT ON deal BEGIN
        {_stake("company_id = NEW.company_id OR " + _PEOPLE_OF_DEAL.format("NEW"))}
        {_contact("id = NEW.id")}
    END""",
    "trg_rank_deal_update": f"""AFTER UPDATE OF amount_minor, status, company_id, deleted_at
        ON deal
        WHEN OLD.amount_minor IS NOT NEW.amount_minor OR OLD.status IS NOT NEW.status
          OR OLD.company_id IS NOT NEW.company_id OR {_LIVENESS_CHANGED} BEGIN
        {_stake("company_id IN (OLD.company_id, NEW.company_id) OR " + _PEOPLE_OF_DEAL.format("NEW"))}
    END""",
    "trg_rank_deal_delete": f"""AFTER DELETE ON deal BEGIN
        {_stake("company_id = OLD.company_id OR " + _PEOPLE_OF_DEAL.format("OLD"))}
    END""",
    "trg_rank_deal_person_insert": f"""AFTER INSERT ON deal_person BEGIN
        {_stake("id = NEW.person_id")}
        {_contact("id = NEW.deal_id")}
    END""",
    "trg_rank_deal_person_delete": f"""AFTER DELETE ON deal_person BEGIN
        {_stake("id = OLD.person_id")}
        {_contact("id = OLD.deal_id")}
    END""",
    "trg_rank_deal_person_update": f"""AFTER UPDATE ON deal_person BEGIN
        {_stake("id IN (OLD.person_id, NEW.person_id)")}
        {_contact("id IN (OLD.deal_id, NEW.deal_id)")}
    END""",
}


def upgrade() -> None:
    op.add_column(
        "person",
        sa.Column("stake_minor", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "person",
        sa.Column("stake_deals_minor", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("deal", sa.Column("contact_person_id", sa.String(length=36), nullable=True))
    # Backfill (a book of 50,000 people and 20,000 deals: a few seconds).
    for statement in (_stake("1"), _contact("1")):
        for part in statement.split(";"):
            if part.strip():
                op.execute(part)
    op.create_index(
        "ix_person_stake",
        "person",
        [
            "stake_minor",
            "deleted_at",
            "snoozed_until",
            "last_touch_at",
            "rhythm_days",
            "cadence_days",
            "created_at",
            "display_name",
        ],
        unique=False,
    )
    op.create_index(
        "ix_deal_open_stage",
        "deal",
        ["stage_id", "stage_entered_at", "company_id", "contact_person_id"],
        unique=False,
        sqlite_where=sa.text("status = 'open' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_deal_lost",
        "deal",
        ["closed_at"],
        unique=False,
        sqlite_where=sa.text("status = 'lost' AND deleted_at IS NULL"),
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_deal_lost", table_name="deal")
    op.drop_index("ix_deal_open_stage", table_name="deal")
    op.drop_index("ix_person_stake", table_name="person")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_column("contact_person_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("stake_deals_minor")
        batch_op.drop_column("stake_minor")
