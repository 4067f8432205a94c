"""A read started before its page exists reaches the page once, whenever it asks; a
failed one makes the page read (and report) itself."""

from __future__ import annotations

import threading
from typing import Any

from tests.ui.conftest import idle


def test_a_prefetched_result_goes_to_whoever_asks_first(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    ctx.prefetch("answer", lambda: 42)
    idle(qtbot, window)  # arrived before anyone asked
    got: list[int] = []
    assert ctx.take_prefetched("answer", got.append, lambda: got.append(-1))
    assert got == [42]
    assert not ctx.take_prefetched("answer", got.append, lambda: None)  # once only


def test_asking_before_the_result_arrives_waits_for_it(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    release = threading.Event()
    ctx.prefetch("slow", lambda: release.wait(10) and "done")
    got: list[str] = []
    assert ctx.take_prefetched("slow", got.append, lambda: got.append("fallback"))
    assert got == []
    release.set()
    qtbot.waitUntil(lambda: got == ["done"])


def test_a_failed_prefetch_hands_over_to_the_fallback(qtbot: Any, window: Any) -> None:
    ctx = window.ctx

    def broken() -> None:
        raise OSError("disk gone")

    ctx.prefetch("broken", broken)
    got: list[str] = []
    assert ctx.take_prefetched("broken", got.append, lambda: got.append("fallback"))
    qtbot.waitUntil(lambda: got == ["fallback"])


def test_my_day_paints_its_first_screen_then_briefs_the_rest(qtbot: Any, window: Any) -> None:
    """Start-up: the window prefetches My Day's first meetings; the page shows them and
    reads the other briefings after."""
    from tests.ui.conftest import settle

    page = window.show_page("myday")
    settle(qtbot, window)
    data = page.data
    assert data.complete and len(data.meetings_today) == data.meetings_today_count > 3


def test_start_up_objects_are_kept_out_of_the_collectors_way_while_a_book_is_open(
    qtbot: Any, window: Any
) -> None:
    """A full garbage collection on a sync's thread holds the interpreter (and so the
    window) for as long as it walks every object: what start-up made is frozen once the
    first page is done, and thawed when the book closes."""
    import gc

    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=20_000)
    window.close_book()
    assert gc.get_freeze_count() == 0
