"""The one contract every capture source passes (DESIGN.md "Capture").

How a backend plugs in (IMAP, CalDAV, EWS, …)::

    from tests.capture.contract import CursorStateContract

    class TestImapSourceContract(CursorStateContract):
        @pytest.fixture
        def harness(self, dovecot) -> Iterator[CursorHarness]:
            yield ImapHarness(dovecot)      # implements CursorHarness below

Every ``test_*`` method of ``SourceContract`` then runs against that backend: the raw
source behaviour (full listing, incremental pages after a cursor, deletes, cursors that
survive a restart, per-item errors) and the same source driven through
``capture.ingest.sync_source`` into a real book (stored once, replays idempotent, deletes
followed). ``CursorStateContract`` adds what a server with sync state owes: a refused
cursor raises ``CursorInvalid`` and the re-list sweeps only after it is complete. The
tests only use the harness and the ``services`` fixture of ``tests/conftest.py``; nothing
in the contract skips.

Sources that can only resend everything (an .ics URL) may answer an incremental request
with a complete re-listing (``restarts_listing=True`` … ``listing_complete=True``)
instead of single changes; the contract accepts both, and the ingest tests check that
the book ends up the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import pytest

from relbook.capture.ingest import sync_source
from relbook.capture.sources.base import CancelToken, CursorInvalid, Page, Source, SourceChange
from relbook.services.context import Services


class SourceHarness(Protocol):
    """A backend's test server, seen through what the contract needs of it."""

    scope: str  # the scope (folder/calendar) the harness writes into, as scopes() names it
    privacy: str  # what the account keeps: "full" lets the contract read subjects back

    def add(self, subject: str) -> str:
        """Create an item with this subject on the server; return its natural key."""
        ...

    def modify(self, natural_key: str, subject: str) -> None:
        """Change the item's subject (or replace the item by one with the same key)."""
        ...

    def delete(self, natural_key: str) -> None:
        """Remove the item from the server."""
        ...

    def add_broken(self) -> None:
        """Put an item the source cannot read on the server."""
        ...

    def build(self) -> Source:
        """A new source object for the server (as after an app restart)."""
        ...


class CursorHarness(SourceHarness, Protocol):
    """A backend whose server keeps sync state (UIDVALIDITY, sync tokens, sync states)."""

    def invalidate_cursor(self) -> None:
        """Make the server refuse every cursor issued so far (it lost its sync state)."""
        ...


@dataclass
class Drained:
    pages: list[Page] = field(default_factory=list)
    cursor: str | None = None

    @property
    def changes(self) -> list[SourceChange]:
        return [c for p in self.pages for c in p.changes]

    @property
    def upserted(self) -> dict[str, SourceChange]:
        return {c.item.natural_key: c for c in self.changes if c.op == "upsert" and c.item}

    @property
    def deleted_locators(self) -> set[str]:
        return {c.locator for c in self.changes if c.op == "delete"}

    @property
    def errors(self) -> list[SourceChange]:
        return [c for c in self.changes if c.error is not None]

    @property
    def complete(self) -> bool:
        return bool(self.pages) and self.pages[-1].listing_complete

    @property
    def relisting(self) -> bool:
        return bool(self.pages) and self.pages[0].restarts_listing and self.complete


def drain(source: Source, scope: str, cursor: str | None) -> Drained:
    result = Drained(cursor=cursor)
    for page in source.pages(scope, cursor, CancelToken()):
        result.pages.append(page)
        result.cursor = page.cursor
    return result


def ensure_account(services: Services, account_id: str, privacy: str) -> None:
    with services.book.raw_write() as connection:
        connection.execute(
            """INSERT OR IGNORE INTO account(id, kind, name, settings, privacy, enabled,
                   interval_minutes, created_at, last_error, items_seen, items_stored,
                   pending_question)
               VALUES (?, 'imap', 'Contract account', '{}', ?, 1, 15, 0, '', 0, 0, '')""",
            (account_id, privacy),
        )


def live_subjects(services: Services) -> dict[str, str]:
    return dict(
        services.book.reader().execute(
            "SELECT natural_key, subject FROM interaction WHERE deleted_at IS NULL"
        )
    )


def interaction_count(services: Services) -> int:
    return int(services.book.reader().execute("SELECT count(*) FROM interaction").fetchone()[0])


class SourceContract:
    """Subclass it with a ``harness`` fixture; pytest collects the subclass (Test…)."""

    # ----------------------------------------------------------- the raw source
    def test_a_full_listing_yields_every_item_and_completes(self, harness: SourceHarness) -> None:
        keys = {harness.add(f"Item {n}") for n in range(5)}
        listed = drain(harness.build(), harness.scope, None)
        assert set(listed.upserted) == keys
        assert listed.complete, "the last page of a full listing has listing_complete=True"
        assert listed.cursor is not None
        assert all(c.locator for c in listed.changes)

    def test_an_empty_scope_still_completes_its_listing(self, harness: SourceHarness) -> None:
        listed = drain(harness.build(), harness.scope, None)
        assert listed.upserted == {}
        assert listed.complete, "an empty listing must end with listing_complete=True"

    def test_after_a_cursor_only_changes_come(self, harness: SourceHarness) -> None:
        old = {harness.add("Old one"), harness.add("Old two")}
        first = drain(harness.build(), harness.scope, None)
        new = harness.add("New one")
        later = drain(harness.build(), harness.scope, first.cursor)
        assert new in later.upserted
        if not later.relisting:
            assert not old & set(later.upserted), "unchanged items came again"

    def test_nothing_new_means_no_changes(self, harness: SourceHarness) -> None:
        harness.add("Quiet")
        first = drain(harness.build(), harness.scope, None)
        again = drain(harness.build(), harness.scope, first.cursor)
        assert again.upserted == {}
        assert again.deleted_locators == set()

    def test_a_modified_item_comes_again_with_its_new_content(self, harness: SourceHarness) -> None:
        key = harness.add("Before")
        first = drain(harness.build(), harness.scope, None)
        harness.modify(key, "After")
        later = drain(harness.build(), harness.scope, first.cursor)
        assert key in later.upserted
        item = later.upserted[key].item
        assert item is not None and item.subject == "After"

    def test_a_deleted_item_comes_as_a_delete_of_its_locator(self, harness: SourceHarness) -> None:
        gone = harness.add("Going")
        kept = harness.add("Staying")
        first = drain(harness.build(), harness.scope, None)
        locator = first.upserted[gone].locator
        harness.delete(gone)
        later = drain(harness.build(), harness.scope, first.cursor)
        assert gone not in later.upserted
        if later.relisting:
            assert kept in later.upserted  # a complete re-list no longer holding it
        else:
            assert locator in later.deleted_locators

    def test_a_stored_cursor_works_in_a_new_source_object(self, harness: SourceHarness) -> None:
        harness.add("Before restart")
        first = drain(harness.build(), harness.scope, None)
        new = harness.add("After restart")
        resumed = drain(harness.build(), harness.scope, first.cursor)
        assert new in resumed.upserted

    def test_an_unreadable_item_is_reported_and_the_rest_goes_on(
        self, harness: SourceHarness
    ) -> None:
        good = harness.add("Readable")
        harness.add_broken()
        listed = drain(harness.build(), harness.scope, None)
        assert good in listed.upserted
        assert len(listed.errors) == 1
        assert listed.errors[0].item is None and listed.errors[0].error

    # ------------------------------------------------------ through ingest
    def _sync(self, services: Services, harness: SourceHarness, **kwargs: object) -> object:
        source = harness.build()
        ensure_account(services, source.account_id, harness.privacy)
        try:
            return sync_source(
                services.book,
                source,
                account_id=source.account_id,
                privacy=harness.privacy,
                cancel=CancelToken(),
                **kwargs,  # type: ignore[arg-type]
            )
        finally:
            source.close()

    def test_sync_stores_each_item_once_and_a_second_sync_changes_nothing(
        self, harness: SourceHarness, services: Services
    ) -> None:
        keys = {harness.add(f"Stored {n}") for n in range(4)}
        self._sync(services, harness)
        self._sync(services, harness)
        assert set(live_subjects(services)) == keys
        assert interaction_count(services) == len(keys)

    def test_replaying_from_an_old_cursor_never_duplicates(
        self, harness: SourceHarness, services: Services
    ) -> None:
        harness.add("First")
        self._sync(services, harness)
        saved = services.book.reader().execute("SELECT scope, cursor FROM sync_cursor").fetchall()
        harness.add("Second")
        self._sync(services, harness)
        with services.book.raw_write() as connection:  # a crash lost the last commit
            connection.executemany(
                "UPDATE sync_cursor SET cursor = ? WHERE scope = ?",
                [(cursor, scope) for scope, cursor in saved],
            )
        self._sync(services, harness)
        assert sorted(live_subjects(services).values()) == ["First", "Second"]
        assert interaction_count(services) == 2

    def test_sync_follows_modifications_in_place(
        self, harness: SourceHarness, services: Services
    ) -> None:
        key = harness.add("Draft title")
        self._sync(services, harness)
        harness.modify(key, "Final title")
        self._sync(services, harness)
        assert live_subjects(services) == {key: "Final title"}

    def test_sync_follows_deletes(self, harness: SourceHarness, services: Services) -> None:
        gone = harness.add("Going")
        kept = harness.add("Staying")
        self._sync(services, harness)
        harness.delete(gone)
        self._sync(services, harness)
        assert set(live_subjects(services)) == {kept}

    def test_sync_reports_unreadable_items_and_stores_the_rest(
        self, harness: SourceHarness, services: Services
    ) -> None:
        good = harness.add("Fine")
        harness.add_broken()
        report = self._sync(services, harness)
        assert set(live_subjects(services)) == {good}
        problems = getattr(report, "problems", [])
        assert len(problems) == 1 and str(problems[0])


class CursorStateContract(SourceContract):
    """What a source whose server keeps sync state adds to the contract: a refused cursor
    raises ``CursorInvalid``, and ingest answers it with a full re-list that sweeps only
    after it is complete. Sources without server state (an .ics URL re-sends the whole
    calendar each time) pass ``SourceContract`` alone."""

    def test_an_invalidated_cursor_raises_cursor_invalid(self, harness: CursorHarness) -> None:
        keys = {harness.add("One"), harness.add("Two")}
        first = drain(harness.build(), harness.scope, None)
        harness.invalidate_cursor()
        with pytest.raises(CursorInvalid):
            drain(harness.build(), harness.scope, first.cursor)
        relisted = drain(harness.build(), harness.scope, None)
        assert set(relisted.upserted) == keys
        assert relisted.complete

    def test_an_invalid_cursor_relists_and_sweeps_only_what_the_listing_lacked(
        self, harness: CursorHarness, services: Services
    ) -> None:
        keys = [harness.add(f"Series {n}") for n in range(3)]
        self._sync(services, harness)
        harness.delete(keys[1])
        harness.invalidate_cursor()
        report = self._sync(services, harness)
        assert getattr(report, "relisted", None)
        assert set(live_subjects(services)) == {keys[0], keys[2]}
        assert interaction_count(services) == 3  # the swept one is a tombstone, not a copy
