"""Change notifications: services publish what a committed transaction changed.

Views subscribe and refresh; the UI bridges callbacks to Qt signals (they may fire on a
worker thread). Published only after a commit, so a listener never sees a rolled-back
change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    kinds: frozenset[str]  # entity types: person, company, deal, task, note, interaction…
    ids: frozenset[str] = frozenset()
    reason: str = ""

    def touches(self, *kinds: str) -> bool:
        return bool(self.kinds.intersection(kinds))


Listener = Callable[[Change], None]


class ChangeBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, kinds: Iterable[str], ids: Iterable[str] = (), reason: str = "") -> None:
        change = Change(frozenset(kinds), frozenset(ids), reason)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(change)
            except Exception:  # a broken view must not undo a committed write
                log.exception("change listener failed for %s", change)
