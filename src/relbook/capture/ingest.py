"""The ingest pipeline: idempotent upserts of what sources yield, with cursors and guards.

Entry points (``services.sync`` and ``services.file_import`` call them):

- ``sync_source(book, source, *, account_id, privacy, cancel, progress, confirm_guards)``
  syncs every scope of an account's source. Each page — its upserts, its deletes **and**
  its new cursor — commits in one transaction, so a crash replays at most one page.
  ``CursorInvalid`` starts a full re-list under a new *generation*; what the listing did
  not contain is swept only after its last page (``listing_complete``), never from a
  partial listing. ``SourceError`` propagates with its message; ``Cancelled`` propagates
  after the pages already committed.
- ``ingest_items(book, items, *, source_label, privacy, …)`` stores items that come from
  no account (file imports) in batches.

Idempotence: an interaction is found by its global natural key (Message-ID, iCalendar
UID[#RECURRENCE-ID], …) and by ``source_ref`` (account, scope, locator) — replays and two
sources delivering the same message store it once. An unchanged ``version_tag`` skips the
item. Review counts move only when an interaction is first stored.

Guards (nothing is deleted on a hunch): a page or sweep that would delete more than
``GUARD_SHARE`` of a scope's stored items (when it holds at least ``GUARD_MIN_ITEMS``),
or a full listing that comes back empty while ``GUARD_EMPTY_MIN`` or more are stored,
rolls the page back, stores ``account.pending_question`` and raises ``GuardTripped``;
``confirm_guards=True`` lets it proceed.

Writes are raw ``executemany`` on the book's write connection (``Book.raw_write``): the
interaction full-text index follows by triggers, touch statistics are refreshed once per
page for the people and companies whose links changed, and every stored, changed or
deleted interaction folds an outbox row (``storage.session.fold_outbox``) — captured
interactions travel to the team server like typed ones when the rep shares their
people/companies, so the team push must see them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relbook.capture import linking
from relbook.capture import privacy as privacy_rules
from relbook.capture.items import ItemProblem, ReadItem, clean_item
from relbook.capture.sources.base import (
    CancelToken,
    CapturedItem,
    CursorInvalid,
    Page,
    Party,
    Source,
    SourceChange,
    SourceError,
)
from relbook.domain.addresses import bulk_reason, domain_of, is_list_domain
from relbook.domain.clock import to_millis
from relbook.domain.errors import GuardTripped
from relbook.domain.ids import new_id
from relbook.domain.kinds import PrivacyLevel
from relbook.storage import sequence, touch
from relbook.storage.session import fold_outbox

if TYPE_CHECKING:
    from relbook.storage.book import Book

GUARD_SHARE = 0.5
GUARD_MIN_ITEMS = 20
GUARD_EMPTY_MIN = 5
FILE_BATCH = 500
_IN_BATCH = 500
_PRIVACY_RANK = {PrivacyLevel.HEADERS: 0, PrivacyLevel.EXCERPT: 1, PrivacyLevel.FULL: 2}


# ----------------------------------------------------------------------- reports


@dataclass(frozen=True)
class IngestProgress:
    """Handed to the ``progress`` callback after every committed page/batch."""

    scope: str
    done: int  # changes handled in this scope (or items in this import) so far
    total: int | None  # when the source knows
    stored: int  # interactions created or changed so far
    message: str = ""


ProgressFn = Callable[[IngestProgress], None]


@dataclass
class IngestReport:
    seen: int = 0  # items delivered (including those reported as problems)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    review_added: int = 0  # correspondents newly queued for review
    problems: list[ItemProblem] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Interactions created or changed."""
        return self.created + self.updated

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.skipped)

    def add(self, other: _PageResult) -> None:
        self.seen += other.seen
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.review_added += other.review_added
        self.problems.extend(other.problems)


@dataclass
class SyncReport(IngestReport):
    account_id: str = ""
    pages: int = 0
    scopes: list[str] = field(default_factory=list)
    relisted: list[str] = field(default_factory=list)  # scopes re-listed (cursor invalid)
    swept: int = 0  # deleted because a full listing no longer had them
    question: str = ""  # always "" on return: a tripped guard raises GuardTripped


@dataclass
class _PageResult:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    review_added: int = 0
    problems: list[ItemProblem] = field(default_factory=list)
    entities: set[str] = field(default_factory=set)


class _GuardTrip(Exception):
    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


# ------------------------------------------------------------------- sync_source


def sync_source(
    book: Book,
    source: Source,
    *,
    account_id: str,
    privacy: str,
    cancel: CancelToken,
    progress: ProgressFn | None = None,
    confirm_guards: bool = False,
) -> SyncReport:
    """Sync every scope of ``source`` into the book for the account ``account_id``.

    Raises ``SourceError`` (the source failed; its message is for the rep),
    ``GuardTripped`` (a data-loss guard stopped the sync; ``account.pending_question``
    holds the question) and ``Cancelled``. The caller closes the source.
    """
    privacy_rules.check_level(privacy)
    report = SyncReport(account_id=account_id)
    now_ms = to_millis(book.clock.now())
    _account_update(book, account_id, "last_attempt_at = ?", (now_ms,))
    try:
        for scope in source.scopes():
            cancel.check()
            report.scopes.append(scope)
            _sync_scope(
                book, source, scope, account_id, privacy, cancel, progress, confirm_guards, report
            )
    except _GuardTrip as trip:
        _account_update(
            book,
            account_id,
            "pending_question = ?, last_error = ?, last_error_at = ?",
            (trip.question, trip.question, to_millis(book.clock.now())),
        )
        raise GuardTripped(
            trip.question,
            "Nothing was deleted. If the change is real, confirm it and sync again; "
            "otherwise check the account's settings and the server.",
        ) from None
    except SourceError as error:
        _account_update(
            book,
            account_id,
            "last_error = ?, last_error_at = ?",
            (error.message, to_millis(book.clock.now())),
        )
        raise
    summary = ""
    if report.problems:
        skipped = report.skipped
        first = report.problems[0]
        summary = f"{skipped} item(s) could not be read (first: {first})"[:1000] if skipped else ""
    done_ms = to_millis(book.clock.now())
    _account_update(
        book,
        account_id,
        "last_success_at = ?, last_error = ?, last_error_at = ?, pending_question = ''",
        (done_ms, summary, done_ms if summary else None),
    )
    return report


def _account_update(
    book: Book, account_id: str, assignments: str, params: tuple[object, ...]
) -> None:
    with book.raw_write() as connection:
        connection.execute(f"UPDATE account SET {assignments} WHERE id = ?", (*params, account_id))


def _sync_scope(
    book: Book,
    source: Source,
    scope: str,
    account_id: str,
    privacy: str,
    cancel: CancelToken,
    progress: ProgressFn | None,
    confirm_guards: bool,
    report: SyncReport,
) -> None:
    row = (
        book.reader()
        .execute(
            "SELECT cursor, generation FROM sync_cursor WHERE account_id = ? AND scope = ?",
            (account_id, scope),
        )
        .fetchone()
    )
    cursor: str | None = row[0] if row else None
    # The generation only grows: a lost or reset cursor row must not restart it below
    # the marks already on the scope's items (or a re-list could never sweep them).
    marked = (
        book.reader()
        .execute(
            "SELECT max(generation) FROM source_ref WHERE account_id = ? AND scope = ?",
            (account_id, scope),
        )
        .fetchone()[0]
    )
    generation: int = max(row[1] if row else 0, marked or 0)
    relisted = False
    done = 0
    while True:
        listing = cursor is None
        if listing:
            generation += 1  # a new full listing: what it does not contain goes at its end
        restarted = False
        try:
            for page in source.pages(scope, cursor, cancel):
                if page.restarts_listing and not listing and not restarted:
                    generation += 1
                    restarted = True
                result = _commit_page(
                    book, page, account_id, scope, generation, privacy, confirm_guards, report
                )
                cursor = page.cursor
                report.pages += 1
                report.add(result)
                done += len(page.changes)
                if progress is not None:
                    total = page.progress[1] if page.progress else None
                    progress(IngestProgress(scope, done, total, report.stored))
                cancel.check()
            return
        except CursorInvalid:
            if relisted:
                raise SourceError(
                    f"The server refused even a full listing of {scope!r} "
                    "(its sync state was invalid twice in a row).",
                    "Try again later; if it persists, remove and re-add the account.",
                ) from None
            relisted = True
            report.relisted.append(scope)
            cursor = None


def _commit_page(
    book: Book,
    page: Page,
    account_id: str,
    scope: str,
    generation: int,
    privacy: str,
    confirm_guards: bool,
    report: SyncReport,
) -> _PageResult:
    now_ms = to_millis(book.clock.now())
    with book.raw_write() as connection:
        result = _PageResult()
        upserts: list[tuple[str, CapturedItem, str]] = []
        deletes: list[str] = []
        for change in page.changes:
            if change.op == "delete":
                deletes.append(change.locator)
                continue
            result.seen += 1
            if change.error is not None or change.item is None:
                where = f"{scope} {change.locator}"
                result.problems.append(
                    ItemProblem(where, change.error or "the source sent no content")
                )
                continue
            upserts.append((change.locator, change.item, change.version_tag))
        writer = _Writer(connection, now_ms, privacy, source_label=account_id)
        writer.upsert(result, upserts, account_id=account_id, scope=scope, generation=generation)

        doomed = _refs_of(connection, account_id, scope, deletes)
        swept: list[tuple[str, str]] = []
        if page.listing_complete:
            swept = [
                (loc, iid)
                for loc, iid in connection.execute(
                    """SELECT locator, interaction_id FROM source_ref
                       WHERE account_id = ? AND scope = ? AND generation < ?""",
                    (account_id, scope, generation),
                )
            ]
        if (doomed or swept) and not confirm_guards:
            question = _guard_question(
                connection, account_id, scope, len(doomed), len(swept), page.listing_complete
            )
            if question:
                raise _GuardTrip(question)
        writer.delete_refs(result, account_id, scope, doomed + swept)
        report.swept += len(swept)

        connection.execute(
            """INSERT INTO sync_cursor(account_id, scope, cursor, generation, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(account_id, scope) DO UPDATE SET cursor = excluded.cursor,
                   generation = excluded.generation, updated_at = excluded.updated_at""",
            (account_id, scope, page.cursor, generation, now_ms),
        )
        stored = result.created + result.updated + result.unchanged
        connection.execute(
            """UPDATE account SET items_seen = items_seen + ?, items_stored = items_stored + ?
               WHERE id = ?""",
            (result.seen, stored, account_id),
        )
        writer.finish(result)
    return result


def _guard_question(
    connection: sqlite3.Connection,
    account_id: str,
    scope: str,
    deleting: int,
    sweeping: int,
    listing_complete: bool,
) -> str:
    total = connection.execute(
        "SELECT count(*) FROM source_ref WHERE account_id = ? AND scope = ?",
        (account_id, scope),
    ).fetchone()[0]
    name_row = connection.execute("SELECT name FROM account WHERE id = ?", (account_id,)).fetchone()
    name = name_row[0] if name_row else account_id
    removing = deleting + sweeping
    if listing_complete and sweeping and total - sweeping == 0 and sweeping >= GUARD_EMPTY_MIN:
        return (
            f"{name} › {scope} suddenly looks empty: the server listed none of the "
            f"{sweeping} items the book holds from it. Remove them from the book?"
        )
    if total >= GUARD_MIN_ITEMS and removing > total * GUARD_SHARE:
        return (
            f"{name} › {scope} would delete {removing} of the {total} items the book holds "
            "from it in one go. Remove them from the book?"
        )
    return ""


def _refs_of(
    connection: sqlite3.Connection, account_id: str, scope: str, locators: Sequence[str]
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    unique = sorted(set(locators))
    for start in range(0, len(unique), _IN_BATCH):
        chunk = unique[start : start + _IN_BATCH]
        marks = ",".join("?" * len(chunk))
        found += list(
            connection.execute(
                f"""SELECT locator, interaction_id FROM source_ref
                    WHERE account_id = ? AND scope = ? AND locator IN ({marks})""",
                (account_id, scope, *chunk),
            )
        )
    return found


# ------------------------------------------------------------------ ingest_items


def ingest_items(
    book: Book,
    items: Iterable[CapturedItem | ReadItem],
    *,
    source_label: str,
    privacy: str,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> IngestReport:
    """Store items that come from no account (file imports), ``FILE_BATCH`` per transaction.

    ``ReadItem`` problems are reported; replays never duplicate (natural keys). With a
    cancelled token the batches already committed stay and ``Cancelled`` is raised.
    """
    privacy_rules.check_level(privacy)
    report = IngestReport()
    batch: list[CapturedItem] = []
    pending_problems: list[ItemProblem] = []
    done = 0

    def flush() -> None:
        nonlocal batch, pending_problems
        result = _PageResult(seen=0, problems=pending_problems)
        if batch:
            now_ms = to_millis(book.clock.now())
            with book.raw_write() as connection:
                writer = _Writer(connection, now_ms, privacy, source_label=source_label)
                writer.upsert(result, [(None, item, "") for item in batch])
                writer.finish(result)
        result.seen += len(batch)
        report.add(result)
        batch, pending_problems = [], []
        if progress is not None:
            progress(IngestProgress(source_label, done, None, report.stored))

    for entry in items:
        if cancel is not None and cancel.cancelled:
            flush()
            cancel.check()
        done += 1
        if isinstance(entry, ReadItem):
            if entry.problem is not None:
                pending_problems.append(entry.problem)
                if entry.problem.skipped and entry.item is None:
                    report.seen += 1
            if entry.item is not None:
                batch.append(entry.item)
        else:
            batch.append(entry)
        if len(batch) >= FILE_BATCH:
            flush()
    flush()
    return report


# ------------------------------------------------------------------------ writer


@dataclass
class _Prepared:
    item: CapturedItem
    locators: list[str]
    version_tag: str
    body: str
    html: str | None
    bulk: str
    subject: linking.LinkSubject
    linked: linking.Linked | None = None


_ROW_COLUMNS = (
    "id, seq, natural_key, kind, status, occurred_at, ends_at, all_day, subject, body, "
    "body_html, privacy, location, thread_key, attachments, size_bytes, deleted_at, source, "
    "direction, bulk_reason, version, duration_minutes"
)


class _Writer:
    """One transaction's worth of upserts and deletes (a page, or a file batch)."""

    def __init__(
        self, connection: sqlite3.Connection, now_ms: int, privacy: str, *, source_label: str
    ) -> None:
        self.connection = connection
        self.now_ms = now_ms
        self.privacy = privacy
        self.source_label = source_label
        self.entities: set[str] = set()
        # Entities that only gained links of interactions inserted here: their touch
        # statistics are brought forward instead of recomputed (storage.touch).
        self.added: set[str] = set()
        self.new_interactions: list[str] = []

    # ------------------------------------------------------------ upserts
    def upsert(
        self,
        result: _PageResult,
        changes: Sequence[tuple[str | None, CapturedItem, str]],
        *,
        account_id: str | None = None,
        scope: str = "",
        generation: int = 0,
    ) -> None:
        if not changes:
            return
        connection = self.connection
        refs: dict[str, tuple[str, str]] = {}  # locator → (interaction id, version tag)
        if account_id is not None:
            locators = [loc for loc, _item, _tag in changes if loc is not None]
            refs = self._refs(account_id, scope, locators)

        # 1. unchanged version tags: nothing to do but mark the generation
        prepared: dict[str, _Prepared] = {}
        unchanged_locators: list[str] = []
        for locator, item, tag in changes:
            ref = refs.get(locator) if locator is not None else None
            if ref is not None and tag and ref[1] == tag:
                unchanged_locators.append(locator)  # type: ignore[arg-type]
                result.unchanged += 1
                continue
            key = item.natural_key
            if key in prepared:  # the same message twice in one page (two folders)
                if locator is not None:
                    prepared[key].locators.append(locator)
                result.unchanged += 1
                continue
            prepared[key] = self._prepare(item, locator, tag)
        if account_id is not None and unchanged_locators:
            connection.executemany(
                """UPDATE source_ref SET generation = ?
                   WHERE account_id = ? AND scope = ? AND locator = ? AND generation != ?""",
                [(generation, account_id, scope, loc, generation) for loc in unchanged_locators],
            )
        if not prepared:
            return

        # 2. what the book already has, by natural key and by locator
        existing = self._existing_by_key(list(prepared))
        by_id = {row["id"]: row for row in existing.values()}
        ref_ids = {refs[loc][0] for p in prepared.values() for loc in p.locators if loc in refs}
        for moved in self._rows_by_id(sorted(ref_ids - set(by_id))):
            by_id[moved["id"]] = moved

        # 3. linking for everything that will be written. Stored rows are known first so
        # the context loads their exclusions ("not this one" must survive a replay).
        rows: dict[str, dict[str, object] | None] = {}
        for key, entry in prepared.items():
            row: dict[str, object] | None = existing.get(key)
            if row is None:
                for loc in entry.locators:
                    if loc in refs and refs[loc][0] in by_id:
                        row = by_id[refs[loc][0]]  # the source renamed its item (moved event)
                        break
            if row is not None:
                entry.subject = _with_id(entry.subject, str(row["id"]))
            rows[key] = row
        context = linking.LinkContext(connection)
        context.prepare([p.subject for p in prepared.values()])

        new_rows: list[tuple[object, ...]] = []
        new_prepared: list[tuple[str, _Prepared]] = []
        # Oldest first: a reply sees the deal its parent inherited earlier in this batch.
        for key, entry in sorted(prepared.items(), key=lambda pair: pair[1].item.occurred_at):
            row = rows[key]
            entry.linked = context.decide(entry.subject)
            if row is None:
                interaction_id = new_id()
                new_prepared.append((interaction_id, entry))
                new_rows.append(self._insert_values(interaction_id, entry))
                result.created += 1
            else:
                interaction_id = str(row["id"])
                outcome = self._update(row, entry)
                if outcome == "updated":
                    result.updated += 1
                elif outcome == "unchanged":
                    result.unchanged += 1
                else:  # kept deleted: the rep deleted it
                    result.unchanged += 1
            if account_id is not None:
                for loc in entry.locators:
                    refs[loc] = (interaction_id, entry.version_tag)

        if new_rows:
            self._insert_new(new_rows, new_prepared, result)

        if account_id is not None:
            connection.executemany(
                """INSERT INTO source_ref(account_id, scope, locator, interaction_id, version_tag,
                                          generation)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT(account_id, scope, locator) DO UPDATE SET
                       interaction_id = excluded.interaction_id,
                       version_tag = excluded.version_tag, generation = excluded.generation""",
                [
                    (account_id, scope, loc, refs[loc][0], entry.version_tag, generation)
                    for entry in prepared.values()
                    for loc in entry.locators
                ],
            )

    def _prepare(self, item: CapturedItem, locator: str | None, tag: str) -> _Prepared:
        item = clean_item(item)
        body, html = privacy_rules.body_for(item, self.privacy)
        bulk = ""
        if item.kind not in ("meeting",):
            bulk = bulk_reason(item.headers) or ""
            if not bulk and item.sender and is_list_domain(domain_of(item.sender.address)):
                bulk = f"sent from a mailing-list host ({domain_of(item.sender.address)})"
        subject = linking.LinkSubject(
            kind=item.kind,
            status=item.status,
            subject=item.subject,
            sender=item.sender,
            participants=list(item.participants),
            thread_key=item.thread_key,
            natural_key=item.natural_key,
            references=[*item.references, *([item.in_reply_to] if item.in_reply_to else [])],
            bulk_reason=bulk[:200],
        )
        return _Prepared(
            item=item,
            locators=[locator] if locator is not None else [],
            version_tag=tag,
            body=body,
            html=html,
            bulk=bulk[:200],
            subject=subject,
        )

    def _refs(
        self, account_id: str, scope: str, locators: Sequence[str]
    ) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        unique = sorted(set(locators))
        for start in range(0, len(unique), _IN_BATCH):
            chunk = unique[start : start + _IN_BATCH]
            marks = ",".join("?" * len(chunk))
            for loc, iid, tag in self.connection.execute(
                f"""SELECT locator, interaction_id, version_tag FROM source_ref
                    WHERE account_id = ? AND scope = ? AND locator IN ({marks})""",
                (account_id, scope, *chunk),
            ):
                found[loc] = (iid, tag)
        return found

    def _existing_by_key(self, keys: Sequence[str]) -> dict[str, dict[str, object]]:
        found: dict[str, dict[str, object]] = {}
        for start in range(0, len(keys), _IN_BATCH):
            chunk = keys[start : start + _IN_BATCH]
            marks = ",".join("?" * len(chunk))
            for row in self._select(f"natural_key IN ({marks})", chunk):
                found[str(row["natural_key"])] = row
        return found

    def _rows_by_id(self, ids: Sequence[str]) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for start in range(0, len(ids), _IN_BATCH):
            chunk = ids[start : start + _IN_BATCH]
            marks = ",".join("?" * len(chunk))
            rows += self._select(f"id IN ({marks})", chunk)
        return rows

    def _select(self, where: str, params: Sequence[object]) -> list[dict[str, object]]:
        names = [c.strip() for c in _ROW_COLUMNS.split(",")]
        cursor = self.connection.execute(
            f"SELECT {_ROW_COLUMNS} FROM interaction WHERE {where}", tuple(params)
        )
        return [dict(zip(names, row, strict=True)) for row in cursor]

    # --------------------------------------------------------------- insert
    def _columns(self, entry: _Prepared) -> dict[str, object]:
        item = entry.item
        assert entry.linked is not None
        occurred = to_millis(item.occurred_at)
        ends = to_millis(item.ends_at) if item.ends_at else None
        duration = (ends - occurred) // 60_000 if ends is not None and ends >= occurred else None
        return {
            "kind": item.kind,
            "status": item.status,
            "occurred_at": occurred,
            "ends_at": ends,
            "all_day": int(item.all_day),
            "subject": item.subject[:2000],
            "body": entry.body,
            "body_html": entry.html,
            "privacy": self.privacy,
            "location": item.location[:300],
            "thread_key": (item.thread_key or "")[:500] or None,
            "attachments": json.dumps(item.attachments[:200], ensure_ascii=False),
            "size_bytes": item.size_bytes,
            "direction": entry.linked.direction,
            "bulk_reason": entry.bulk,
            "duration_minutes": duration,
        }

    def _insert_values(self, interaction_id: str, entry: _Prepared) -> tuple[object, ...]:
        c = self._columns(entry)
        return (
            interaction_id, None, entry.item.natural_key[:500], c["kind"], c["direction"],
            c["status"], c["occurred_at"], c["ends_at"], c["all_day"], c["duration_minutes"],
            c["subject"], c["body"], c["body_html"], c["privacy"], c["location"],
            self.source_label[:64], c["thread_key"], c["attachments"], c["size_bytes"],
            c["bulk_reason"], self.now_ms, self.now_ms,
        )  # fmt: skip

    def _insert_new(
        self,
        rows: list[tuple[object, ...]],
        prepared: list[tuple[str, _Prepared]],
        result: _PageResult,
    ) -> None:
        connection = self.connection
        wanted = [
            sequence.base_seq(to_millis(entry.item.occurred_at), entry.item.natural_key)
            for _id, entry in prepared
        ]
        seqs = sequence.assign(connection, wanted)
        connection.executemany(
            """INSERT INTO interaction(id, seq, natural_key, kind, direction, status, occurred_at,
                   ends_at, all_day, duration_minutes, subject, body, body_html, privacy,
                   location, source, thread_key, attachments, size_bytes, bulk_reason,
                   created_at, updated_at, version)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
            [(row[0], seq, *row[2:]) for row, seq in zip(rows, seqs, strict=True)],
        )
        participants: list[tuple[object, ...]] = []
        links: list[tuple[object, ...]] = []
        for interaction_id, entry in prepared:
            assert entry.linked is not None
            participants += _participant_rows(interaction_id, entry.item, entry.linked)
            occurred = to_millis(entry.item.occurred_at)
            links += [
                (
                    interaction_id, d.entity_id, d.entity_type, occurred, entry.item.kind,
                    entry.linked.direction, d.origin, d.reason[:300], int(entry.linked.is_touch),
                )
                for d in entry.linked.links
            ]  # fmt: skip
            self.added.update(d.entity_id for d in entry.linked.links)
            self.new_interactions.append(interaction_id)
            result.review_added += self._queue_unknown(entry)
            fold_outbox(connection, "interaction", interaction_id, "upsert", 0, ["*"], self.now_ms)
        connection.executemany(
            """INSERT INTO interaction_participant(interaction_id, role, address, name, person_id)
               VALUES (?, ?, ?, ?, ?)""",
            participants,
        )
        connection.executemany(
            """INSERT INTO interaction_link(interaction_id, entity_id, entity_type, occurred_at,
                   kind, direction, origin, reason, excluded, is_touch)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)""",
            links,
        )

    def _queue_unknown(self, entry: _Prepared) -> int:
        assert entry.linked is not None
        added = 0
        occurred = to_millis(entry.item.occurred_at)
        for unknown in entry.linked.unknown:
            cursor = self.connection.execute(
                """INSERT INTO review_item(address, name, domain, status, first_seen_at,
                       last_seen_at, message_count, last_subject)
                   VALUES (?, ?, ?, 'pending', ?, ?, 1, ?)
                   ON CONFLICT(address) DO NOTHING""",
                (unknown.address, unknown.name, unknown.domain, occurred, occurred,
                 entry.item.subject[:500]),
            )  # fmt: skip
            if cursor.rowcount:
                added += 1
                continue
            self.connection.execute(
                """UPDATE review_item SET message_count = message_count + 1,
                       first_seen_at = min(first_seen_at, ?),
                       last_subject = CASE WHEN ? >= last_seen_at THEN ? ELSE last_subject END,
                       last_seen_at = max(last_seen_at, ?),
                       name = CASE WHEN name = '' THEN ? ELSE name END
                   WHERE address = ?""",
                (occurred, occurred, entry.item.subject[:500], occurred, unknown.name,
                 unknown.address),
            )  # fmt: skip
        return added

    # --------------------------------------------------------------- update
    def _update(self, row: dict[str, object], entry: _Prepared) -> str:
        """Bring a stored interaction in line with the item: updated / unchanged / kept."""
        connection = self.connection
        interaction_id = str(row["id"])
        assert entry.linked is not None
        if row["deleted_at"] is not None:
            still_referenced = connection.execute(
                "SELECT 1 FROM source_ref WHERE interaction_id = ? LIMIT 1", (interaction_id,)
            ).fetchone()
            if still_referenced or row["source"] in ("file", "manual"):
                return "kept"  # the rep deleted it: a replay must not bring it back
        wanted = self._columns(entry)
        stored_rank = _PRIVACY_RANK.get(PrivacyLevel(str(row["privacy"])), 0)
        if stored_rank > _PRIVACY_RANK[PrivacyLevel(self.privacy)]:
            # Another source (or an earlier setting) kept more: do not throw it away.
            for name in ("body", "body_html", "privacy"):
                wanted[name] = row[name]
        changed = [name for name, value in wanted.items() if row.get(name) != value]
        if entry.item.natural_key != row["natural_key"]:
            clash = connection.execute(
                "SELECT 1 FROM interaction WHERE natural_key = ? AND id != ?",
                (entry.item.natural_key, interaction_id),
            ).fetchone()
            if clash is None:
                wanted["natural_key"] = entry.item.natural_key[:500]
                changed.append("natural_key")
        revived = row["deleted_at"] is not None
        participants_changed = self._replace_participants(interaction_id, entry)
        occurred = int(wanted["occurred_at"])  # type: ignore[call-overload]
        touched, links_changed = linking.apply(
            connection,
            interaction_id,
            occurred_ms=occurred,
            kind=entry.item.kind,
            linked=entry.linked,
        )
        self.entities |= touched
        if not (changed or revived or participants_changed or links_changed):
            return "unchanged"
        assignments = {name: wanted[name] for name in changed}
        if "occurred_at" in changed:
            base = sequence.base_seq(occurred, entry.item.natural_key)
            assignments["seq"] = sequence.assign(connection, [base])[0]
        if revived:
            assignments["deleted_at"] = None
        version = int(row["version"])  # type: ignore[call-overload]
        if assignments:
            columns = ", ".join(f"{name} = ?" for name in assignments)
            connection.execute(
                f"UPDATE interaction SET {columns}, version = ?, updated_at = ? WHERE id = ?",
                (*assignments.values(), version + 1, self.now_ms, interaction_id),
            )
        fields = sorted(set(changed) | ({"deleted_at"} if revived else set()))
        if participants_changed:
            fields.append("participants")
        if links_changed:
            fields.append("links")
        fold_outbox(
            connection, "interaction", interaction_id, "upsert", version, fields, self.now_ms
        )
        return "updated"

    def _replace_participants(self, interaction_id: str, entry: _Prepared) -> bool:
        assert entry.linked is not None
        wanted = _participant_rows(interaction_id, entry.item, entry.linked)
        current = list(
            self.connection.execute(
                """SELECT interaction_id, role, address, name, person_id
                   FROM interaction_participant WHERE interaction_id = ? ORDER BY id""",
                (interaction_id,),
            )
        )
        if [tuple(r) for r in current] == wanted:
            return False
        self.connection.execute(
            "DELETE FROM interaction_participant WHERE interaction_id = ?", (interaction_id,)
        )
        self.connection.executemany(
            """INSERT INTO interaction_participant(interaction_id, role, address, name, person_id)
               VALUES (?, ?, ?, ?, ?)""",
            wanted,
        )
        return True

    # --------------------------------------------------------------- delete
    def delete_refs(
        self, result: _PageResult, account_id: str, scope: str, refs: Sequence[tuple[str, str]]
    ) -> None:
        """Forget these source locations; an interaction no source holds any more is
        tombstoned — unless the rep linked it by hand (then it stays)."""
        if not refs:
            return
        connection = self.connection
        connection.executemany(
            "DELETE FROM source_ref WHERE account_id = ? AND scope = ? AND locator = ?",
            [(account_id, scope, loc) for loc, _iid in refs],
        )
        for interaction_id in sorted({iid for _loc, iid in refs}):
            if connection.execute(
                "SELECT 1 FROM source_ref WHERE interaction_id = ? LIMIT 1", (interaction_id,)
            ).fetchone():
                continue  # another folder or account still has it
            row = connection.execute(
                "SELECT version, deleted_at FROM interaction WHERE id = ?", (interaction_id,)
            ).fetchone()
            if row is None or row[1] is not None:
                continue
            if connection.execute(
                """SELECT 1 FROM interaction_link WHERE interaction_id = ? AND origin = 'manual'
                   AND excluded = 0 LIMIT 1""",
                (interaction_id,),
            ).fetchone():
                continue  # the rep linked it by hand: keep it
            linked = [
                r[0]
                for r in connection.execute(
                    "SELECT entity_id FROM interaction_link WHERE interaction_id = ? AND excluded = 0",
                    (interaction_id,),
                )
            ]
            connection.execute(
                "DELETE FROM interaction_link WHERE interaction_id = ? AND excluded = 0",
                (interaction_id,),
            )
            connection.execute(
                """UPDATE interaction SET deleted_at = ?, version = version + 1, updated_at = ?
                   WHERE id = ?""",
                (self.now_ms, self.now_ms, interaction_id),
            )
            fold_outbox(
                connection, "interaction", interaction_id, "delete", row[0], ["deleted_at"],
                self.now_ms,
            )  # fmt: skip
            self.entities.update(linked)
            result.deleted += 1

    # --------------------------------------------------------------- finish
    def finish(self, result: _PageResult) -> None:
        """Touch statistics of every person/company whose links changed (once per page)."""
        changed = self.entities | self.added
        if changed:
            touch.refresh(
                self.connection,
                changed,
                self.now_ms,
                new_interactions=self.new_interactions,
                added_only=self.added - self.entities,
            )
        result.entities |= changed


def _with_id(subject: linking.LinkSubject, interaction_id: str) -> linking.LinkSubject:
    from dataclasses import replace

    return replace(subject, interaction_id=interaction_id)


def _participant_rows(
    interaction_id: str, item: CapturedItem, linked: linking.Linked
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    if item.sender is not None:
        role = "organizer" if item.kind == "meeting" else "from"
        rows.append(_participant(interaction_id, role, item.sender, linked))
    for role, party in item.participants[:500]:
        rows.append(_participant(interaction_id, role, party, linked))
    return rows


def _participant(
    interaction_id: str, role: str, party: Party, linked: linking.Linked
) -> tuple[object, ...]:
    return (
        interaction_id,
        role[:10],
        party.address[:320],
        party.name[:300],
        linked.person_of.get(party.address),
    )


def changes_of(items: Iterable[tuple[str, CapturedItem]]) -> list[SourceChange]:
    """Upserts for (locator, item) pairs — a convenience for sources and tests."""
    return [SourceChange("upsert", locator, item) for locator, item in items]
