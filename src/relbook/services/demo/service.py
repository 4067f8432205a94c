"""``services.demo``: fill the open (empty) book with the demo book."""

from __future__ import annotations

from relbook.services.base import Service
from relbook.services.demo.build import (
    DEFAULT_SEED,
    CancelFn,
    DemoSummary,
    ProgressFn,
    build_demo,
)

# Everything a view might show changed.
CHANGED_KINDS = (
    "person", "company", "affiliation", "pipeline", "stage", "deal", "interaction", "task",
    "note", "tag", "field_def", "feedback", "saved_view", "setting", "review", "search",
)  # fmt: skip


class DemoService(Service):
    def fill(
        self,
        *,
        seed: int = DEFAULT_SEED,
        scale: float = 1.0,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> DemoSummary:
        """Write the demo into this book, which must be empty (one transaction)."""
        summary = build_demo(self.book, seed=seed, scale=scale, progress=progress, cancel=cancel)
        self.services.changes.publish(CHANGED_KINDS, reason="demo")
        return summary
