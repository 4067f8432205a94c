"""The page registry: the sidebar, Ctrl+digit shortcuts and the palette read it.

Plugging in a page is one line in ``PAGES``. ``factory`` is "module:Class"; the module is
imported the first time the page is shown (start-up imports none of them). A page whose
module is not installed yet is left out of the sidebar (engineers add pages in parallel).

A page is a ``Page`` (a QWidget) built as ``Class(ctx)`` with the ``UiContext``. It may
override:
- ``activated()``          — shown (refresh what may be stale);
- ``commands()``           — extra command-palette entries while it is shown; their
                             shortcuts are bound while the page is shown;
- ``context_entity()``     — (kind, id) the page is about (quick log pre-fills it);
- ``is_loaded()``          — its data is on screen (screenshots and tests wait for it);
- ``first_screen_shown()`` — what the window shows first has its data (the start-up
                             signal ``MainWindow.ready``); the rest may follow (My Day
                             makes the cards below the fold after the first paint);
- ``open_entity(kind, id)``— for the hidden "customer" page.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relbook.ui.qt import QWidget

if TYPE_CHECKING:
    from relbook.ui.context import UiContext


@dataclass(frozen=True)
class Command:
    """One action of the command palette (and usually a shortcut)."""

    id: str
    title: str
    run: Callable[[], object]
    shortcut: str = ""
    icon: str = ""
    group: str = "Actions"
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # False when a widget handles the keys itself (Del and Ctrl+A in a list's table):
    # the palette shows the shortcut, but no window-wide action takes the keys.
    bind: bool = True


@dataclass(frozen=True)
class PageSpec:
    id: str
    title: str
    icon: str
    shortcut: str
    factory: str  # "package.module:Class"
    sidebar: bool = True
    section: str = ""  # sidebar group heading shown above the page

    @property
    def module(self) -> str:
        return self.factory.split(":", 1)[0]

    def available(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            return False

    def build(self, ctx: UiContext) -> Page:
        module_name, _, class_name = self.factory.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls(ctx)


class Page(QWidget):
    """Base of every page (see the module docstring)."""

    spec_id = ""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx

    def activated(self) -> None:
        pass

    def commands(self) -> list[Command]:
        return []

    def context_entity(self) -> tuple[str, str] | None:
        return None

    def is_loaded(self) -> bool:
        return True

    def first_screen_shown(self) -> bool:
        return self.is_loaded()


PAGES: list[PageSpec] = [
    PageSpec("myday", "My Day", "myday", "Ctrl+1", "relbook.ui.views.myday:MyDayPage"),
    PageSpec("people", "People", "people", "Ctrl+2", "relbook.ui.views.lists:PeoplePage"),
    PageSpec(
        "companies", "Companies", "companies", "Ctrl+3", "relbook.ui.views.lists:CompaniesPage"
    ),
    PageSpec("deals", "Deals", "deals", "Ctrl+4", "relbook.ui.views.lists:DealsPage"),
    PageSpec("pipeline", "Pipeline", "pipeline", "Ctrl+5", "relbook.ui.views.pipeline:BoardPage"),
    PageSpec("tasks", "Tasks", "tasks", "Ctrl+6", "relbook.ui.views.lists:TasksPage"),
    PageSpec("insights", "Insights", "insights", "Ctrl+7", "relbook.ui.insights.page:InsightsPage"),
    PageSpec("review", "Review queue", "review", "Ctrl+8", "relbook.ui.views.review:ReviewPage"),
    PageSpec("sync", "Sync status", "sync", "Ctrl+9", "relbook.ui.views.sync:SyncPage"),
    PageSpec("team", "Team", "team", "Ctrl+0", "relbook.ui.team.page:TeamPage"),
    PageSpec(
        "customer",
        "Customer",
        "person",
        "",
        "relbook.ui.views.customer:CustomerPage",
        sidebar=False,
    ),
]


def page_spec(page_id: str) -> PageSpec:
    return next(p for p in PAGES if p.id == page_id)


def sidebar_pages() -> list[PageSpec]:
    return [p for p in PAGES if p.sidebar and p.available()]
