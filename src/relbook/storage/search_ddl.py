"""Full-text search objects (FTS5) — the DDL as of the newest schema.

Migrations carry their own frozen copy; this module is for ``rebuild`` and tests.

Interactions use an external-content index whose rowid is ``interaction.seq``, a
time-ordered key, so ``ORDER BY rowid DESC LIMIT k`` is a newest-first walk of the doclists
(no sort of all matches); triggers keep it in step with every write path, ORM or bulk.
People, companies, deals and notes are small; they keep their own content, composed by
``storage.search_index`` (a person's document includes their e-mails and company name).
``prefix='2 3'`` makes 2- and 3-character prefix queries index lookups.
"""

from __future__ import annotations

TOKENIZE = "unicode61 remove_diacritics 2"
PREFIX = "2 3"

FTS_TABLES: dict[str, str] = {
    "person": "fts_person",
    "company": "fts_company",
    "deal": "fts_deal",
    "note": "fts_note",
    "interaction": "fts_interaction",
}

CREATE_STATEMENTS: tuple[str, ...] = (
    f"""CREATE VIRTUAL TABLE fts_person USING fts5(
        name, emails, company, title, extra,
        tokenize='{TOKENIZE}', prefix='{PREFIX}')""",
    f"""CREATE VIRTUAL TABLE fts_company USING fts5(
        name, domains, extra,
        tokenize='{TOKENIZE}', prefix='{PREFIX}')""",
    f"""CREATE VIRTUAL TABLE fts_deal USING fts5(
        title, company, extra,
        tokenize='{TOKENIZE}', prefix='{PREFIX}')""",
    f"""CREATE VIRTUAL TABLE fts_note USING fts5(
        body,
        tokenize='{TOKENIZE}', prefix='{PREFIX}')""",
    f"""CREATE VIRTUAL TABLE fts_interaction USING fts5(
        subject, body,
        content='interaction', content_rowid='seq',
        tokenize='{TOKENIZE}', prefix='{PREFIX}')""",
    """CREATE TRIGGER trg_interaction_fts_insert AFTER INSERT ON interaction
        WHEN new.deleted_at IS NULL BEGIN
        INSERT INTO fts_interaction(rowid, subject, body)
        VALUES (new.seq, new.subject, new.body);
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
        INSERT INTO fts_interaction(rowid, subject, body)
        VALUES (new.seq, new.subject, new.body);
    END""",
)

DROP_STATEMENTS: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS trg_interaction_fts_insert",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_delete",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_update_old",
    "DROP TRIGGER IF EXISTS trg_interaction_fts_update_new",
    *(f"DROP TABLE IF EXISTS {table}" for table in FTS_TABLES.values()),
)
