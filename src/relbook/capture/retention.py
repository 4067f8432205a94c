"""A stricter privacy level for an account also applies to what it already brought in.

When the rep lowers an account's level (full → excerpt → headers), the messages the
book holds from that account are trimmed to the new level: ``headers`` drops the body
and the HTML, ``excerpt`` keeps the excerpt of the kept text (``privacy.excerpt``) and
drops the HTML. A message another account also delivered keeps what the most generous of
those accounts allows (ingest keeps the more complete copy for the same reason); messages
the rep logged or imported from files are not the account's and are left alone.

The full-text index follows by its triggers; each trimmed interaction gets a new version
and an outbox row (a shared one travels to the team server trimmed). SQLite may keep the
old text in free pages until the book is vacuumed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from relbook.capture import privacy as privacy_rules
from relbook.domain.kinds import PrivacyLevel
from relbook.storage.session import fold_outbox

RANK = {PrivacyLevel.HEADERS.value: 0, PrivacyLevel.EXCERPT.value: 1, PrivacyLevel.FULL.value: 2}
_CHUNK = 500


def is_stricter(new: str, old: str) -> bool:
    return RANK.get(new, 2) < RANK.get(old, 2)


def trim_account(connection: sqlite3.Connection, account_id: str, level: str, now_ms: int) -> int:
    """Trim the interactions this account delivered to ``level``; how many were trimmed."""
    privacy_rules.check_level(level)
    ids = [
        row[0]
        for row in connection.execute(
            "SELECT DISTINCT interaction_id FROM source_ref WHERE account_id = ?", (account_id,)
        )
    ]
    trimmed = 0
    for start in range(0, len(ids), _CHUNK):
        trimmed += _trim(connection, ids[start : start + _CHUNK], account_id, level, now_ms)
    return trimmed


def _trim(
    connection: sqlite3.Connection,
    ids: Sequence[str],
    account_id: str,
    level: str,
    now_ms: int,
) -> int:
    marks = ",".join("?" * len(ids))
    # The most generous level among the other accounts that also hold each message.
    others: dict[str, int] = {}
    for interaction_id, other in connection.execute(
        f"""SELECT r.interaction_id, a.privacy FROM source_ref r
            JOIN account a ON a.id = r.account_id
            WHERE r.interaction_id IN ({marks}) AND r.account_id != ?""",
        [*ids, account_id],
    ):
        others[interaction_id] = max(others.get(interaction_id, 0), RANK.get(other, 2))
    trimmed = 0
    rows = connection.execute(
        f"""SELECT id, privacy, body, body_html IS NOT NULL, version FROM interaction
            WHERE id IN ({marks}) AND deleted_at IS NULL AND source NOT IN ('manual', 'file')""",
        list(ids),
    ).fetchall()
    for interaction_id, kept, body, has_html, version in rows:
        target = max(RANK[level], others.get(interaction_id, 0))
        if RANK.get(kept, 2) <= target:
            continue
        new_level = next(name for name, rank in RANK.items() if rank == target)
        new_body = "" if target == 0 else privacy_rules.excerpt(body or "")
        connection.execute(
            """UPDATE interaction SET body = ?, body_html = NULL, privacy = ?,
                   version = version + 1, updated_at = ? WHERE id = ?""",
            (new_body, new_level, now_ms, interaction_id),
        )
        fields = ["body", "privacy"] + (["body_html"] if has_html else [])
        fold_outbox(connection, "interaction", interaction_id, "upsert", version, fields, now_ms)
        trimmed += 1
    return trimmed
