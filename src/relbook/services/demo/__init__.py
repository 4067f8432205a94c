"""The demo book: a realistic, deterministic book for a first look and for benchmarks.

Public API:
- ``build_demo_book(path, clock=, seed=, scale=, progress=, cancel=, force=)`` — a new book
  file, all or nothing (the app's first-run "open the demo book" and ``relbook demo``);
- ``build_demo(book, seed=, scale=, progress=, cancel=)`` — fill an open, empty book;
- ``DemoService`` (``services.demo``) — the same for the book a ``Services`` holds;
- ``DemoCounts.for_scale(scale)`` — what a scale means (scale 200 = the benchmark book).

Progress callbacks get ``(fraction 0..1, phase label)``; ``cancel()`` returning True stops
the build with ``DemoCancelled`` and nothing is kept.
"""

from __future__ import annotations

from relbook.services.demo.build import (
    DEFAULT_SEED,
    CancelFn,
    DemoCancelled,
    DemoSummary,
    ProgressFn,
    build_demo,
    build_demo_book,
)
from relbook.services.demo.scale import BENCHMARK_SCALE, DemoCounts
from relbook.services.demo.service import DemoService

__all__ = [
    "BENCHMARK_SCALE",
    "DEFAULT_SEED",
    "CancelFn",
    "DemoCancelled",
    "DemoCounts",
    "DemoService",
    "DemoSummary",
    "ProgressFn",
    "build_demo",
    "build_demo_book",
]
