"""The rep corrects a link once, and the correction sticks.

- ``link``: link an interaction to a person/company/deal by hand (origin ``manual``);
  optionally *always* link mail with the same counterpart address, domain or thread
  (a ``link_rule`` applied to past and future items).
- ``unlink``: "not this one" — the link becomes an excluded row the linker never adds
  again; optionally *never* link the counterpart's address/domain/thread to it.
- ``addresses_changed`` / ``domains_changed``: a person gained (or lost) an address or an
  employer, a company a domain — past interactions are linked again (the people and
  company services call these after every save).
- ``internal_changed`` / ``run_pending``: the rep's own addresses or internal domains
  changed: the job is noted with the setting, then colleagues leave the review queue and
  their mail is linked again, in chunks (resumable: the note stays until it is done).

Every call is one transaction; touch statistics of the affected people and companies are
refreshed in it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from relbook.capture import linking
from relbook.capture.domains import registrable_domain
from relbook.domain.addresses import domain_of
from relbook.domain.clock import from_millis, to_millis
from relbook.domain.errors import FieldError, NotFoundError, UserError, ValidationError
from relbook.domain.ids import new_id
from relbook.services.base import Service
from relbook.storage import touch
from relbook.storage.session import fold_outbox

ENTITY_TABLES = {"person": ("person", "display_name"), "company": ("company", "name"),
                 "deal": ("deal", "title")}  # fmt: skip
RULE_SCOPES = ("address", "domain", "thread")
_RELINK_CHUNK = 2_000
PENDING_KEY = "relink_pending"  # a setting row: the colleague relink still to do

CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class RelinkJob:
    """Own addresses and internal domains whose mail is still to be linked again."""

    domains: tuple[str, ...]
    addresses: tuple[str, ...]


def _pending_job(connection: sqlite3.Connection) -> RelinkJob | None:
    row = connection.execute("SELECT value FROM setting WHERE key = ?", (PENDING_KEY,)).fetchone()
    if row is None:
        return None
    try:
        value = json.loads(row[0])
        return RelinkJob(tuple(value["domains"]), tuple(value["addresses"]))
    except (TypeError, ValueError, KeyError):
        # unreadable: relink everything with the current own addresses and domains
        return RelinkJob(
            tuple(_setting_list(connection, "internal_domains")),
            tuple(_setting_list(connection, "my_addresses")),
        )


def _setting_list(connection: sqlite3.Connection, key: str) -> list[str]:
    row = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    try:
        value = json.loads(row[0]) if row else []
    except (TypeError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def merged_job(
    pending: object, *, domains: Iterable[str], addresses: Iterable[str]
) -> dict[str, list[str]]:
    """The pending colleague relink (its stored value, or None) with these added: the
    settings service writes it in the same transaction as the setting itself."""
    current: dict[str, list[str]] = {"domains": [], "addresses": []}
    if isinstance(pending, str):
        try:
            pending = json.loads(pending)
        except ValueError:
            pending = None
    if isinstance(pending, dict):
        for key in current:
            value = pending.get(key)
            if isinstance(value, list):
                current[key] = [str(v) for v in value]
    return {
        "domains": sorted(set(current["domains"]) | _clean(domains)),
        "addresses": sorted(set(current["addresses"]) | _clean(addresses)),
    }


def _clean(values: Iterable[str]) -> set[str]:
    return {v.strip().lower() for v in values if v.strip()}


@dataclass(frozen=True)
class RuleView:
    id: str
    match_kind: str  # address / domain / thread
    pattern: str
    action: str  # ignore / always / never
    entity_type: str | None
    entity_id: str | None
    entity_name: str
    created_at: datetime

    def describe(self) -> str:
        what = {"address": "mail with", "domain": "mail from anyone at", "thread": "the thread"}
        subject = f"{what.get(self.match_kind, self.match_kind)} {self.pattern}"
        if self.action == "ignore":
            return f"ignore {subject}"
        verb = "always link" if self.action == "always" else "never link"
        return f"{verb} {subject} to {self.entity_name}"


@dataclass(frozen=True)
class RelinkResult:
    interactions: int  # interactions whose links changed
    rule_id: str | None = None


class RelinkService(Service):
    KINDS = ("interaction", "person", "company", "deal")

    @contextmanager
    def _raw(self, reason: str) -> Iterator[sqlite3.Connection]:
        with self.book.raw_write() as connection:
            yield connection
        self.services.changes.publish(self.KINDS, reason=reason)

    # ------------------------------------------------------------ by hand
    def link(
        self, interaction_id: str, entity_type: str, entity_id: str, *, always: str | None = None
    ) -> RelinkResult:
        """Link by hand; ``always`` ("address", "domain" or "thread") teaches a rule."""
        self._check_scope(always)
        now_ms = to_millis(self.clock.now())
        with self._raw("link") as connection:
            row = _interaction(connection, interaction_id)
            _entity_name(connection, entity_type, entity_id)  # it exists and is live
            connection.execute(
                """INSERT INTO interaction_link(interaction_id, entity_id, entity_type,
                       occurred_at, kind, direction, origin, reason, excluded, is_touch)
                   VALUES (?, ?, ?, ?, ?, ?, 'manual', 'linked by you', 0, ?)
                   ON CONFLICT(interaction_id, entity_id) DO UPDATE SET origin = 'manual',
                       reason = 'linked by you', excluded = 0""",
                (interaction_id, entity_id, entity_type, row["occurred_at"], row["kind"],
                 row["direction"], int(row["status"] != "cancelled")),
            )  # fmt: skip
            _bump(connection, interaction_id, row["version"], now_ms)
            entities = {entity_id}
            rule_id = None
            changed = 1
            if always:
                pattern = _pattern(connection, interaction_id, always, row["thread_key"])
                rule_id = _add_rule(connection, always, pattern, "always", entity_type, entity_id,
                                    now_ms)  # fmt: skip
                outcome = linking.relink(connection, _matching(connection, always, pattern))
                entities |= outcome.entities
                changed += outcome.interactions
            if entity_type == "deal" and row["thread_key"]:
                # The rest of the thread inherits the deal (DESIGN "Linking").
                others = linking.interactions_in_thread(connection, str(row["thread_key"]))
                outcome = linking.relink(connection, [i for i in others if i != interaction_id])
                entities |= outcome.entities
                changed += outcome.interactions
            touch.refresh(connection, entities, now_ms)
        return RelinkResult(changed, rule_id)

    def unlink(
        self, interaction_id: str, entity_type: str, entity_id: str, *, never: str | None = None
    ) -> RelinkResult:
        """ "Not this one": the link is excluded for good; ``never`` teaches a rule."""
        self._check_scope(never)
        now_ms = to_millis(self.clock.now())
        with self._raw("unlink") as connection:
            row = _interaction(connection, interaction_id)
            if entity_type not in ENTITY_TABLES:
                raise ValidationError(FieldError("entity_type", "must be person, company or deal"))
            connection.execute(
                """INSERT INTO interaction_link(interaction_id, entity_id, entity_type,
                       occurred_at, kind, direction, origin, reason, excluded, is_touch)
                   VALUES (?, ?, ?, ?, ?, ?, 'manual', 'removed by you', 1, 0)
                   ON CONFLICT(interaction_id, entity_id) DO UPDATE SET origin = 'manual',
                       reason = 'removed by you', excluded = 1""",
                (interaction_id, entity_id, entity_type, row["occurred_at"], row["kind"],
                 row["direction"]),
            )  # fmt: skip
            _bump(connection, interaction_id, row["version"], now_ms)
            # What was derived from the removed entity (its company) is decided again.
            entities = {entity_id} | linking.relink(connection, [interaction_id]).entities
            rule_id = None
            changed = 1
            if never:
                pattern = _pattern(connection, interaction_id, never, row["thread_key"])
                rule_id = _add_rule(connection, never, pattern, "never", entity_type, entity_id,
                                    now_ms)  # fmt: skip
                outcome = linking.relink(connection, _matching(connection, never, pattern))
                entities |= outcome.entities
                changed += outcome.interactions
            touch.refresh(connection, entities, now_ms)
        return RelinkResult(changed, rule_id)

    def restore(self, interaction_id: str, entity_id: str) -> RelinkResult:
        """Undo a "not this one": the linker decides again."""
        now_ms = to_millis(self.clock.now())
        with self._raw("restore link") as connection:
            row = _interaction(connection, interaction_id)
            connection.execute(
                "DELETE FROM interaction_link WHERE interaction_id = ? AND entity_id = ?",
                (interaction_id, entity_id),
            )
            outcome = linking.relink(connection, [interaction_id])
            _bump(connection, interaction_id, row["version"], now_ms)
            touch.refresh(connection, outcome.entities | {entity_id}, now_ms)
        return RelinkResult(outcome.interactions)

    # ------------------------------------------------------------ rules
    def rules(self) -> list[RuleView]:
        rows = self.db.execute(
            """SELECT r.id, r.match_kind, r.pattern, r.action, r.entity_type, r.entity_id,
                      coalesce(p.display_name, c.name, d.title, '')
                      || CASE WHEN coalesce(p.deleted_at, c.deleted_at, d.deleted_at) IS NOT NULL
                              THEN ' (deleted: the rule rests until it is restored)'
                              ELSE '' END,
                      r.created_at
               FROM link_rule r
               LEFT JOIN person p ON r.entity_type = 'person' AND p.id = r.entity_id
               LEFT JOIN company c ON r.entity_type = 'company' AND c.id = r.entity_id
               LEFT JOIN deal d ON r.entity_type = 'deal' AND d.id = r.entity_id
               ORDER BY r.created_at DESC"""
        )
        return [RuleView(r[0], r[1], r[2], r[3], r[4], r[5], r[6], from_millis(r[7])) for r in rows]

    def delete_rule(self, rule_id: str) -> RelinkResult:
        """Forget a rule; the interactions it matched are linked again without it, and
        the addresses an *ignore* rule kept out go back to the review queue."""
        now_ms = to_millis(self.clock.now())
        with self._raw("rule deleted") as connection:
            row = connection.execute(
                "SELECT match_kind, pattern, action FROM link_rule WHERE id = ?", (rule_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError("rule", rule_id)
            connection.execute("DELETE FROM link_rule WHERE id = ?", (rule_id,))
            if row[2] == "ignore" and row[0] in ("address", "domain"):
                _reopen_review(connection, row[0], row[1])
            outcome = linking.relink(connection, _matching(connection, row[0], row[1]))
            touch.refresh(connection, outcome.entities, now_ms)
        return RelinkResult(outcome.interactions)

    def add_rule(
        self,
        match_kind: str,
        pattern: str,
        action: str,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ) -> RelinkResult:
        """Teach a rule directly (settings screen, review queue's "always ignore")."""
        if match_kind not in RULE_SCOPES:
            raise ValidationError(FieldError("match_kind", "must be address, domain or thread"))
        if action not in ("ignore", "always", "never"):
            raise ValidationError(FieldError("action", "must be ignore, always or never"))
        pattern = pattern.strip().lower() if match_kind != "thread" else pattern.strip()
        if not pattern:
            raise ValidationError(FieldError("pattern", "cannot be empty"))
        now_ms = to_millis(self.clock.now())
        with self._raw("rule added") as connection:
            if action != "ignore":
                if entity_type is None or entity_id is None:
                    raise ValidationError(FieldError("entity_id", "choose who it links to"))
                _entity_name(connection, entity_type, entity_id)
            rule_id = _add_rule(
                connection, match_kind, pattern, action, entity_type, entity_id, now_ms
            )
            outcome = linking.relink(connection, _matching(connection, match_kind, pattern))
            touch.refresh(connection, outcome.entities, now_ms)
        return RelinkResult(outcome.interactions, rule_id)

    # ----------------------------------------------- the book learned something
    def addresses_changed(self, addresses: Iterable[str]) -> RelinkResult:
        """A person gained (or lost) these addresses: link their past interactions."""
        now_ms = to_millis(self.clock.now())
        with self._raw("relink") as connection:
            wanted = [a.strip().lower() for a in addresses if a.strip()]
            outcome = linking.relink(
                connection, linking.interactions_with_addresses(connection, wanted)
            )
            _resolve_review(connection, wanted)
            touch.refresh(connection, outcome.entities, now_ms)
        return RelinkResult(outcome.interactions)

    def domains_changed(self, domains: Iterable[str]) -> RelinkResult:
        """A company gained (or lost) these domains: link past interactions from them."""
        now_ms = to_millis(self.clock.now())
        with self._raw("relink") as connection:
            outcome = linking.relink(
                connection, linking.interactions_with_domains(connection, domains)
            )
            touch.refresh(connection, outcome.entities, now_ms)
        return RelinkResult(outcome.interactions)

    def internal_changed(self, *, domains: Iterable[str], addresses: Iterable[str]) -> RelinkResult:
        """The rep's own addresses or internal domains changed: note the job and run it now
        (the app notes it with the setting and runs it in the background instead)."""
        with self._raw("relink pending") as connection:
            row = connection.execute(
                "SELECT value FROM setting WHERE key = ?", (PENDING_KEY,)
            ).fetchone()
            job = merged_job(row[0] if row else None, domains=domains, addresses=addresses)
            connection.execute(
                """INSERT INTO setting(key, value) VALUES (?, ?)
                   ON CONFLICT(key) DO UPDATE SET value = excluded.value""",
                (PENDING_KEY, json.dumps(job)),
            )
        return self.run_pending()

    def pending(self) -> RelinkJob | None:
        """The colleague relink still to do (after a settings change, or cut off by a
        crash or by closing the app): ``run_pending`` finishes it."""
        return _pending_job(self.db)

    def run_pending(
        self,
        *,
        cancel: CancelCheck | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> RelinkResult:
        """Relink the mail with the changed own addresses / internal domains — colleagues
        are not customers, directions follow — and take colleagues off the review queue.

        A long history goes in chunks, each its own transaction, so a sync or an edit is
        never held up for long. The job stays noted until its last chunk is done: a
        cancelled or interrupted run starts again later (relinking is idempotent), and a
        change made while it ran is picked up by the next run, never dropped."""
        job = _pending_job(self.db)
        if job is None:
            return RelinkResult(0)
        reader = self.db
        ids = set(linking.interactions_with_addresses(reader, job.addresses))
        ids |= set(linking.interactions_with_domains(reader, job.domains))
        ordered = sorted(ids)
        changed = 0
        for start in range(0, len(ordered), _RELINK_CHUNK):
            if cancel is not None and cancel():
                return RelinkResult(changed)
            if progress is not None:
                progress(start, len(ordered))
            changed += self.interactions(ordered[start : start + _RELINK_CHUNK]).interactions
        with self._raw("review") as connection:
            context = linking.LinkContext(connection)
            colleagues = [
                (address,)
                for (address,) in connection.execute(
                    "SELECT address FROM review_item WHERE status = 'pending'"
                )
                if context.is_internal(address)
            ]
            connection.executemany("DELETE FROM review_item WHERE address = ?", colleagues)
            if _pending_job(connection) == job:  # nothing new arrived while this ran
                connection.execute("DELETE FROM setting WHERE key = ?", (PENDING_KEY,))
        if progress is not None:
            progress(len(ordered), len(ordered))
        return RelinkResult(changed)

    def interactions(self, interaction_ids: Iterable[str]) -> RelinkResult:
        """Link these interactions again (after a settings change, say)."""
        now_ms = to_millis(self.clock.now())
        with self._raw("relink") as connection:
            outcome = linking.relink(connection, interaction_ids)
            touch.refresh(connection, outcome.entities, now_ms)
        return RelinkResult(outcome.interactions)

    @staticmethod
    def _check_scope(scope: str | None) -> None:
        if scope is not None and scope not in RULE_SCOPES:
            raise ValidationError(FieldError("rule", "must be address, domain or thread"))


# ----------------------------------------------------------------- helpers


def _interaction(connection: sqlite3.Connection, interaction_id: str) -> dict[str, object]:
    row = connection.execute(
        """SELECT occurred_at, kind, direction, status, version, thread_key
           FROM interaction WHERE id = ? AND deleted_at IS NULL""",
        (interaction_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError("interaction", interaction_id)
    names = ("occurred_at", "kind", "direction", "status", "version", "thread_key")
    return dict(zip(names, row, strict=True))


def _entity_name(connection: sqlite3.Connection, entity_type: str, entity_id: str) -> str:
    if entity_type not in ENTITY_TABLES:
        raise ValidationError(FieldError("entity_type", "must be person, company or deal"))
    table, column = ENTITY_TABLES[entity_type]
    row = connection.execute(
        f"SELECT {column} FROM {table} WHERE id = ? AND deleted_at IS NULL", (entity_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(entity_type, entity_id)
    return str(row[0])


def _bump(
    connection: sqlite3.Connection, interaction_id: str, version: object, now_ms: int
) -> None:
    """A link change is an edit of the interaction (the team push sees it)."""
    base = int(version)  # type: ignore[call-overload]
    connection.execute(
        "UPDATE interaction SET version = ?, updated_at = ? WHERE id = ?",
        (base + 1, now_ms, interaction_id),
    )
    fold_outbox(connection, "interaction", interaction_id, "upsert", base, ["links"], now_ms)


def _pattern(
    connection: sqlite3.Connection, interaction_id: str, scope: str, thread_key: object
) -> str:
    """The counterpart of an interaction a rule is about: address, domain, or thread."""
    if scope == "thread":
        if not thread_key:
            raise UserError("This interaction belongs to no thread.", "Choose address or domain.")
        return str(thread_key)
    context = linking.LinkContext(connection)
    for role, address in connection.execute(
        """SELECT role, address FROM interaction_participant WHERE interaction_id = ?
           ORDER BY CASE role WHEN 'from' THEN 0 WHEN 'organizer' THEN 0 WHEN 'to' THEN 1
                    ELSE 2 END, id""",
        (interaction_id,),
    ):
        del role
        if address and not context.is_internal(address):
            return address if scope == "address" else registrable_domain(domain_of(address))
    raise UserError(
        "This interaction has no outside address to base a rule on.",
        "Link it by hand without 'always'.",
    )


def _add_rule(
    connection: sqlite3.Connection,
    match_kind: str,
    pattern: str,
    action: str,
    entity_type: str | None,
    entity_id: str | None,
    now_ms: int,
) -> str:
    existing = connection.execute(
        """SELECT id FROM link_rule WHERE match_kind = ? AND pattern = ? AND action = ?
           AND coalesce(entity_id, '') = ?""",
        (match_kind, pattern, action, entity_id or ""),
    ).fetchone()
    if existing:
        return str(existing[0])
    if action in ("always", "never"):  # the opposite rule for the same pair goes
        connection.execute(
            """DELETE FROM link_rule WHERE match_kind = ? AND pattern = ?
               AND entity_id = ? AND action IN ('always', 'never')""",
            (match_kind, pattern, entity_id),
        )
    rule_id = new_id()
    connection.execute(
        """INSERT INTO link_rule(id, match_kind, pattern, action, entity_type, entity_id,
               created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (rule_id, match_kind, pattern, action, entity_type, entity_id, now_ms),
    )
    return rule_id


def _matching(connection: sqlite3.Connection, match_kind: str, pattern: str) -> list[str]:
    if match_kind == "address":
        return linking.interactions_with_addresses(connection, [pattern])
    if match_kind == "domain":
        return linking.interactions_with_domains(connection, [pattern])
    return linking.interactions_in_thread(connection, pattern)


def _reopen_review(connection: sqlite3.Connection, match_kind: str, pattern: str) -> None:
    """Ignored queue entries matching a forgotten ignore rule wait for review again
    (unless another ignore rule still covers them)."""
    if match_kind == "address":
        where, params = "address = ?", [pattern]
    else:
        where, params = "(address LIKE ? OR address LIKE ?)", [f"%@{pattern}", f"%@%.{pattern}"]
    candidates = [
        r[0]
        for r in connection.execute(
            f"SELECT address FROM review_item WHERE status = 'ignored' AND {where}", params
        )
    ]
    context = linking.LinkContext(connection)  # the rules without the forgotten one
    connection.executemany(
        "UPDATE review_item SET status = 'pending' WHERE address = ?",
        [(a,) for a in candidates if not context.is_ignored(a)],
    )


def _resolve_review(connection: sqlite3.Connection, addresses: list[str]) -> None:
    """Addresses that now belong to a person leave the review queue."""
    for address in addresses:
        connection.execute(
            """UPDATE review_item SET status = 'accepted' WHERE address = ? AND status = 'pending'
               AND EXISTS (SELECT 1 FROM person_email e JOIN person p ON p.id = e.person_id
                           WHERE e.address = review_item.address AND p.deleted_at IS NULL)""",
            (address,),
        )
