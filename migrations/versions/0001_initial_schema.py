"""Initial schema: people, companies, deals, interactions, capture state, outbox.

Moments are integer UTC milliseconds (BigInteger here; UtcMillis in the models).

Revision ID: 0001
Revises:
Create Date: 2026-11-22 15:02:02.424264
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# Frozen copy of the full-text objects as of this revision (storage.search_ddl is live).
_TOKENIZE = "unicode61 remove_diacritics 2"
_FTS = (
    f"""CREATE VIRTUAL TABLE fts_person USING fts5(name, emails, company, title, extra,
        tokenize='{_TOKENIZE}', prefix='2 3')""",
    f"""CREATE VIRTUAL TABLE fts_company USING fts5(name, domains, extra,
        tokenize='{_TOKENIZE}', prefix='2 3')""",
    f"""CREATE VIRTUAL TABLE fts_deal USING fts5(title, company, extra,
        tokenize='{_TOKENIZE}', prefix='2 3')""",
    f"""CREATE VIRTUAL TABLE fts_note USING fts5(body, tokenize='{_TOKENIZE}', prefix='2 3')""",
    f"""CREATE VIRTUAL TABLE fts_interaction USING fts5(subject, body,
        content='interaction', content_rowid='seq', tokenize='{_TOKENIZE}', prefix='2 3')""",
    """CREATE TRIGGER trg_interaction_fts_insert AFTER INSERT ON interaction
        WHEN new.deleted_at IS NULL BEGIN
        INSERT INTO fts_interaction(rowid, subject, body) VALUES (new.seq, new.subject, new.body);
    END""",
    """CREATE TRIGGER trg_interaction_fts_delete AFTER DELETE ON interaction
        WHEN old.deleted_at IS NULL BEGIN
        INSERT INTO fts_interaction(fts_interaction, rowid, subject, body)
        VALUES ('delete', old.seq, old.subject, old.body);
    END""",
    """CREATE TRIGGER trg_interaction_fts_update_old
        AFTER UPDATE OF subject, body, deleted_at, seq ON interaction
        WHEN old.deleted_at IS NULL BEGIN
        INSERT INTO fts_interaction(fts_interaction, rowid, subject, body)
        VALUES ('delete', old.seq, old.subject, old.body);
    END""",
    """CREATE TRIGGER trg_interaction_fts_update_new
        AFTER UPDATE OF subject, body, deleted_at, seq ON interaction
        WHEN new.deleted_at IS NULL BEGIN
        INSERT INTO fts_interaction(rowid, subject, body) VALUES (new.seq, new.subject, new.body);
    END""",
)
_FTS_DROP = (
    "DROP TRIGGER IF EXISTS trg_interaction_fts_insert",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_delete",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_update_old",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_update_new",
    "DROP TABLE IF EXISTS fts_interaction",
    "DROP TABLE IF EXISTS fts_note",
    "DROP TABLE IF EXISTS fts_deal",
    "DROP TABLE IF EXISTS fts_company",
    "DROP TABLE IF EXISTS fts_person",
)


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("privacy", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("last_success_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.Column("items_stored", sa.Integer(), nullable=False),
        sa.Column("pending_question", sa.Text(), nullable=False),
        sa.Column("offline_since", sa.BigInteger(), nullable=True),
        sa.Column("retry_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("industry", sa.String(length=200), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("current_value_minor", sa.Integer(), nullable=True),
        sa.Column("potential_value_minor", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.Column("people_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("engaged_people", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_touch_at", sa.BigInteger(), nullable=True),
        sa.Column("last_inbound_at", sa.BigInteger(), nullable=True),
        sa.Column("last_outbound_at", sa.BigInteger(), nullable=True),
        sa.Column("first_touch_at", sa.BigInteger(), nullable=True),
        sa.Column("touch_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("inbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("outbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rhythm_days", sa.Double(), nullable=True),
        sa.Column("strength", sa.Double(), nullable=True),
        sa.Column("last_two_way_at", sa.BigInteger(), nullable=True),
        sa.Column("touch_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("touch_weight_30", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("touch_weight_180", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("scored_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["company.id"], name=op.f("fk_company_parent_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.create_index("ix_company_last_touch", ["last_touch_at"], unique=False)
        batch_op.create_index("ix_company_live_name", ["deleted_at", "name"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "company_month",
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("touches", sa.Integer(), nullable=False),
        sa.Column("inbound", sa.Integer(), nullable=False),
        sa.Column("outbound", sa.Integer(), nullable=False),
        sa.Column("emails", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_company_month_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "month", name=op.f("pk_company_month")),
    )
    with op.batch_alter_table("company_month", schema=None) as batch_op:
        batch_op.create_index("ix_company_month_month", ["month"], unique=False)

    op.create_table(
        "custom_field_def",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("field_type", sa.String(length=20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_def")),
        sa.UniqueConstraint("entity_type", "key", name=op.f("uq_custom_field_def_entity_type_key")),
    )
    op.create_table(
        "interaction",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("privacy", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("natural_key", sa.String(length=500), nullable=True),
        sa.Column("thread_key", sa.String(length=500), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column(
            "bulk_reason", sa.String(length=200), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction")),
        sa.UniqueConstraint("natural_key", name=op.f("uq_interaction_natural_key")),
        sa.UniqueConstraint("seq", name=op.f("uq_interaction_seq")),
    )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_kind_time", ["kind", "occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_interaction_thread_key"), ["thread_key"], unique=False)

    op.create_table(
        "link_rule",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("match_kind", sa.String(length=10), nullable=False),
        sa.Column("pattern", sa.String(length=500), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=True),
        sa.Column("entity_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_rule")),
    )
    with op.batch_alter_table("link_rule", schema=None) as batch_op:
        batch_op.create_index("ix_link_rule_pattern", ["match_kind", "pattern"], unique=False)

    op.create_table(
        "merge_record",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.Column("survivor_id", sa.String(length=36), nullable=False),
        sa.Column("merged_id", sa.String(length=36), nullable=False),
        sa.Column("journal", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("undone_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_record")),
    )
    op.create_table(
        "outbox",
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mutation_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("queued_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_seq"), ["seq"], unique=False)

    op.create_table(
        "pipeline",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline")),
    )
    op.create_table(
        "review_item",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("first_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("last_subject", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_review_item")),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index("ix_review_item_status", ["status", "last_seen_at"], unique=False)

    op.create_table(
        "saved_view",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filter_text", sa.Text(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("sort", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "share",
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("interaction_level", sa.String(length=10), nullable=False),
        sa.Column("shared_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", name=op.f("pk_share")),
    )
    op.create_table(
        "team_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dsn", sa.Text(), nullable=False),
        sa.Column("read_dsn", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("team_name", sa.String(length=200), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.String(length=24), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("connected_at", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("last_sync_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("pending_question", sa.Text(), nullable=False),
        sa.Column("last_pushed", sa.Integer(), nullable=False),
        sa.Column("last_pulled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_link")),
    )
    op.create_table(
        "team_row",
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("server_version", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=63), nullable=False),
        sa.Column("editor", sa.String(length=63), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", name=op.f("pk_team_row")),
    )
    with op.batch_alter_table("team_row", schema=None) as batch_op:
        batch_op.create_index("ix_team_row_state", ["state", "entity_type"], unique=False)
    op.create_table(
        "team_journal",
        sa.Column("mutation_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mutation_id", name=op.f("pk_team_journal")),
    )
    op.create_table(
        "team_conflict",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("mine", sa.JSON(), nullable=True),
        sa.Column("theirs", sa.JSON(), nullable=True),
        sa.Column("their_rep", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_conflict")),
    )
    with op.batch_alter_table("team_conflict", schema=None) as batch_op:
        batch_op.create_index("ix_team_conflict_open", ["resolved_at", "created_at"], unique=False)
    op.create_table(
        "tag",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=9), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("name_key", name=op.f("uq_tag_name_key")),
    )
    op.create_table(
        "company_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_company_domain_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_domain")),
    )
    with op.batch_alter_table("company_domain", schema=None) as batch_op:
        batch_op.create_index("ix_company_domain_company", ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_domain_domain"), ["domain"], unique=False)

    op.create_table(
        "entity_tag",
        sa.Column("tag_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_entity_tag_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "entity_id", name=op.f("pk_entity_tag")),
    )
    with op.batch_alter_table("entity_tag", schema=None) as batch_op:
        batch_op.create_index("ix_entity_tag_entity", ["entity_id"], unique=False)

    op.create_table(
        "interaction_link",
        sa.Column("interaction_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("is_touch", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_link_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interaction_id", "entity_id", name=op.f("pk_interaction_link")),
    )
    with op.batch_alter_table("interaction_link", schema=None) as batch_op:
        batch_op.create_index("ix_link_entity_time", ["entity_id", "occurred_at"], unique=False)

    op.create_table(
        "interaction_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_participant_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_participant")),
    )
    with op.batch_alter_table("interaction_participant", schema=None) as batch_op:
        batch_op.create_index("ix_participant_address", ["address"], unique=False)
        batch_op.create_index("ix_participant_interaction", ["interaction_id"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=400), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("birthday", sa.String(length=10), nullable=True),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column("snoozed_until", sa.BigInteger(), nullable=True),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.Column("last_touch_at", sa.BigInteger(), nullable=True),
        sa.Column("last_inbound_at", sa.BigInteger(), nullable=True),
        sa.Column("last_outbound_at", sa.BigInteger(), nullable=True),
        sa.Column("first_touch_at", sa.BigInteger(), nullable=True),
        sa.Column("touch_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("inbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("outbound_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rhythm_days", sa.Double(), nullable=True),
        sa.Column("strength", sa.Double(), nullable=True),
        sa.Column("last_two_way_at", sa.BigInteger(), nullable=True),
        sa.Column("touch_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("touch_weight_30", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("touch_weight_180", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("scored_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_person_company_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_person_last_touch", ["last_touch_at"], unique=False)
        batch_op.create_index("ix_person_live_name", ["deleted_at", "display_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_name_key"), ["name_key"], unique=False)

    op.create_table(
        "source_ref",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("locator", sa.String(length=500), nullable=False),
        sa.Column("interaction_id", sa.String(length=36), nullable=False),
        sa.Column("version_tag", sa.String(length=200), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_source_ref_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_source_ref_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "scope", "locator", name=op.f("pk_source_ref")),
    )
    with op.batch_alter_table("source_ref", schema=None) as batch_op:
        batch_op.create_index("ix_source_ref_interaction", ["interaction_id"], unique=False)

    op.create_table(
        "stage",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pipeline_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("stale_after_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"], ["pipeline.id"], name=op.f("fk_stage_pipeline_id_pipeline")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage")),
    )
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_pipeline_id"), ["pipeline_id"], unique=False)

    op.create_table(
        "sync_cursor",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_sync_cursor_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "scope", name=op.f("pk_sync_cursor")),
    )
    op.create_table(
        "affiliation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_affiliation_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_affiliation_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliation")),
    )
    with op.batch_alter_table("affiliation", schema=None) as batch_op:
        batch_op.create_index("ix_affiliation_company", ["company_id"], unique=False)
        batch_op.create_index("ix_affiliation_person", ["person_id"], unique=False)

    op.create_table(
        "deal",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("pipeline_id", sa.String(length=36), nullable=False),
        sa.Column("stage_id", sa.String(length=36), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("expected_close", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lost_reason", sa.String(length=300), nullable=False),
        sa.Column("won_reason", sa.String(length=300), nullable=False),
        sa.Column("competitors", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("stage_entered_at", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_deal_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"], ["pipeline.id"], name=op.f("fk_deal_pipeline_id_pipeline")
        ),
        sa.ForeignKeyConstraint(["stage_id"], ["stage.id"], name=op.f("fk_deal_stage_id_stage")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal")),
    )
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_stage_id"), ["stage_id"], unique=False)
        batch_op.create_index("ix_deal_status_stage", ["status", "stage_id"], unique=False)

    op.create_table(
        "person_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("street", sa.String(length=400), nullable=False),
        sa.Column("locality", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_address_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_address")),
    )
    with op.batch_alter_table("person_address", schema=None) as batch_op:
        batch_op.create_index("ix_person_address_person", ["person_id"], unique=False)

    op.create_table(
        "person_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_email_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_email")),
    )
    with op.batch_alter_table("person_email", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_email_address"), ["address"], unique=False)
        batch_op.create_index("ix_person_email_person", ["person_id"], unique=False)

    op.create_table(
        "person_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_phone_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_phone")),
    )
    with op.batch_alter_table("person_phone", schema=None) as batch_op:
        batch_op.create_index("ix_person_phone_number", ["number"], unique=False)
        batch_op.create_index("ix_person_phone_person", ["person_id"], unique=False)

    op.create_table(
        "deal_person",
        sa.Column("deal_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_deal_person_deal_id_deal"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_deal_person_person_id_person")
        ),
        sa.PrimaryKeyConstraint("deal_id", "person_id", name=op.f("pk_deal_person")),
    )
    with op.batch_alter_table("deal_person", schema=None) as batch_op:
        batch_op.create_index("ix_deal_person_person", ["person_id"], unique=False)

    op.create_table(
        "deal_stage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.String(length=36), nullable=False),
        sa.Column("from_stage_id", sa.String(length=36), nullable=True),
        sa.Column("to_stage_id", sa.String(length=36), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deal.id"],
            name=op.f("fk_deal_stage_change_deal_id_deal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_stage_change")),
    )
    with op.batch_alter_table("deal_stage_change", schema=None) as batch_op:
        batch_op.create_index("ix_deal_stage_change_deal", ["deal_id", "changed_at"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=12), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("deal_id", sa.String(length=36), nullable=True),
        sa.Column("interaction_id", sa.String(length=36), nullable=True),
        sa.Column("note_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_feedback_company_id_company")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"], name=op.f("fk_feedback_deal_id_deal")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_feedback_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_interaction_id"), ["interaction_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feedback_person_id"), ["person_id"], unique=False)

    op.create_table(
        "note",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("deal_id", sa.String(length=36), nullable=True),
        sa.Column("interaction_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_note_company_id_company")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"], name=op.f("fk_note_deal_id_deal")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_note_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_note_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_note_person_id"), ["person_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("reminder_at", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.BigInteger(), nullable=True),
        sa.Column("snoozed_until", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("deal_id", sa.String(length=36), nullable=True),
        sa.Column("interaction_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_task_company_id_company")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"], name=op.f("fk_task_deal_id_deal")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_task_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index("ix_task_open_due", ["done_at", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_person_id"), ["person_id"], unique=False)

    for statement in _FTS:
        op.execute(statement)


def downgrade() -> None:
    for statement in _FTS_DROP:
        op.execute(statement)
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_person_id"))
        batch_op.drop_index("ix_task_open_due")
        batch_op.drop_index(batch_op.f("ix_task_deal_id"))
        batch_op.drop_index(batch_op.f("ix_task_company_id"))

    op.drop_table("task")
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_person_id"))
        batch_op.drop_index(batch_op.f("ix_note_deal_id"))
        batch_op.drop_index(batch_op.f("ix_note_company_id"))

    op.drop_table("note")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_person_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_interaction_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_deal_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_company_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("deal_stage_change", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_stage_change_deal")

    op.drop_table("deal_stage_change")
    with op.batch_alter_table("deal_person", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_person_person")

    op.drop_table("deal_person")
    with op.batch_alter_table("person_phone", schema=None) as batch_op:
        batch_op.drop_index("ix_person_phone_person")
        batch_op.drop_index("ix_person_phone_number")

    op.drop_table("person_phone")
    with op.batch_alter_table("person_email", schema=None) as batch_op:
        batch_op.drop_index("ix_person_email_person")
        batch_op.drop_index(batch_op.f("ix_person_email_address"))

    op.drop_table("person_email")
    with op.batch_alter_table("person_address", schema=None) as batch_op:
        batch_op.drop_index("ix_person_address_person")

    op.drop_table("person_address")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_status_stage")
        batch_op.drop_index(batch_op.f("ix_deal_stage_id"))
        batch_op.drop_index(batch_op.f("ix_deal_company_id"))

    op.drop_table("deal")
    with op.batch_alter_table("affiliation", schema=None) as batch_op:
        batch_op.drop_index("ix_affiliation_person")
        batch_op.drop_index("ix_affiliation_company")

    op.drop_table("affiliation")
    op.drop_table("sync_cursor")
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_pipeline_id"))

    op.drop_table("stage")
    with op.batch_alter_table("source_ref", schema=None) as batch_op:
        batch_op.drop_index("ix_source_ref_interaction")

    op.drop_table("source_ref")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_name_key"))
        batch_op.drop_index("ix_person_live_name")
        batch_op.drop_index("ix_person_last_touch")
        batch_op.drop_index(batch_op.f("ix_person_company_id"))

    op.drop_table("person")
    with op.batch_alter_table("interaction_participant", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_interaction")
        batch_op.drop_index("ix_participant_address")

    op.drop_table("interaction_participant")
    with op.batch_alter_table("interaction_link", schema=None) as batch_op:
        batch_op.drop_index("ix_link_entity_time")

    op.drop_table("interaction_link")
    with op.batch_alter_table("entity_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_tag_entity")

    op.drop_table("entity_tag")
    with op.batch_alter_table("company_domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_domain_domain"))
        batch_op.drop_index("ix_company_domain_company")

    op.drop_table("company_domain")
    op.drop_table("tag")
    with op.batch_alter_table("team_conflict", schema=None) as batch_op:
        batch_op.drop_index("ix_team_conflict_open")
    op.drop_table("team_conflict")
    op.drop_table("team_journal")
    with op.batch_alter_table("team_row", schema=None) as batch_op:
        batch_op.drop_index("ix_team_row_state")
    op.drop_table("team_row")
    op.drop_table("team_link")
    op.drop_table("share")
    op.drop_table("setting")
    op.drop_table("saved_view")
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_status")

    op.drop_table("review_item")
    op.drop_table("pipeline")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_seq"))

    op.drop_table("outbox")
    op.drop_table("merge_record")
    with op.batch_alter_table("link_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_link_rule_pattern")

    op.drop_table("link_rule")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_thread_key"))
        batch_op.drop_index("ix_interaction_kind_time")

    op.drop_table("interaction")
    op.drop_table("custom_field_def")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_parent_id"))
        batch_op.drop_index(batch_op.f("ix_company_name_key"))
        batch_op.drop_index("ix_company_live_name")
        batch_op.drop_index("ix_company_last_touch")

    with op.batch_alter_table("company_month", schema=None) as batch_op:
        batch_op.drop_index("ix_company_month_month")

    op.drop_table("company_month")
    op.drop_table("company")
    op.drop_table("account")
