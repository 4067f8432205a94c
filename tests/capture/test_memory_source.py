"""The in-memory source passes the source contract (and so do the network sources)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.capture.contract import CursorStateContract
from tests.conftest import NOW

from relbook.capture.sources.base import CapturedItem, Party
from relbook.capture.sources.memory import MemorySource


class MemoryHarness:
    scope = "INBOX"
    privacy = "full"

    def __init__(self) -> None:
        # Page size 2: every listing in the contract spans several pages.
        self.server = MemorySource("acct-memory", page_size=2)
        self.server.add_scope(self.scope)
        self._count = 0
        self._locator: dict[str, str] = {}

    def _item(self, key: str, subject: str) -> CapturedItem:
        return CapturedItem(
            natural_key=key,
            kind="email",
            occurred_at=NOW - timedelta(hours=self._count),
            subject=subject,
            text=f"About {subject}.",
            sender=Party("buyer@customer.example", "Buyer"),
            participants=[("to", Party("rep@seller.example", "Rep"))],
        )

    def add(self, subject: str) -> str:
        self._count += 1
        key = f"msgid:contract-{self._count}@test.example"
        self._locator[key] = f"uid-{self._count:04d}"
        self.server.put(self.scope, self._locator[key], self._item(key, subject))
        return key

    def modify(self, natural_key: str, subject: str) -> None:
        self.server.put(self.scope, self._locator[natural_key], self._item(natural_key, subject))

    def delete(self, natural_key: str) -> None:
        self.server.delete(self.scope, self._locator[natural_key])

    def add_broken(self) -> None:
        self.server.break_item(
            self.scope, "uid-broken", "message 99: the MIME structure is cut off"
        )

    def build(self) -> MemorySource:
        return self.server

    def invalidate_cursor(self) -> None:
        self.server.invalidate_cursors()


class TestMemorySourceContract(CursorStateContract):
    @pytest.fixture
    def harness(self) -> MemoryHarness:
        return MemoryHarness()
