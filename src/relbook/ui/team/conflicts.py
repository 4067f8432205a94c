"""Values that lost to a teammate's, shown to the rep to resolve.

The rule (README "Sharing with your team"): where two reps changed the same field, the change that
reached the team server first wins everywhere; the other value is not dropped but kept
here. "Keep mine" makes it an ordinary edit that goes out at the next sync (and then wins);
"Keep theirs" closes the record. A row a teammate deleted (or stopped sharing) while this
book had unsent changes is kept the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relbook.ui.fmt import ago
from relbook.ui.qt import QFrame, QHBoxLayout, QVBoxLayout, QWidget
from relbook.ui.team.sharing import field_label, noun, show_value
from relbook.ui.widgets import EmptyState, button, chip, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.team import Conflict
    from relbook.ui.context import UiContext


def _value(value: Any, entity_type: str = "", name: str = "") -> str:
    if value is None or value == "":
        return "(empty)"
    if entity_type and name:
        return show_value(entity_type, name, value)
    if isinstance(value, dict):
        parts = [f"{field_label(k)}: {_value(v, entity_type, k)}" for k, v in sorted(value.items())]
        return ", ".join(parts) or "(nothing)"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:119] + "…"


KIND_CHIPS = {"deleted": "deleted by a teammate", "withdrawn": "no longer shared"}


class ConflictsPanel(QWidget):
    """One card per open conflict with the two values and the ways to resolve it."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conflicts: list[Conflict] = []
        self.cards: dict[str, QFrame] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        outer.addWidget(
            label(
                "When you and a teammate change the same field, the change that reached the "
                "team server first is kept everywhere; your value is kept here, for you to "
                "choose.",
                "muted",
                wrap=True,
            )
        )
        self.list = QVBoxLayout()
        self.list.setSpacing(8)
        outer.addLayout(self.list)
        outer.addStretch(1)

    def show_conflicts(self, conflicts: list[Conflict], members: dict[str, str]) -> None:
        self.conflicts = conflicts
        clear_layout(self.list)
        self.cards = {}
        if not conflicts:
            self.list.addWidget(
                EmptyState("check", "No conflicts", "Nothing of yours lost to a teammate's edit.")
            )
            return
        for conflict in conflicts:
            card = self._card(conflict, members.get(conflict.their_rep) or conflict.their_rep)
            self.cards[conflict.id] = card
            self.list.addWidget(card)

    def _card(self, c: Conflict, who: str) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        card.setObjectName(f"conflict:{c.id}")
        body = QVBoxLayout(card)
        body.setContentsMargins(14, 10, 14, 10)
        head = QHBoxLayout()
        head.addWidget(label(f"{noun(c.entity_type).capitalize()} “{c.label}”", "h3"))
        text = field_label(c.field) if c.kind == "field" else KIND_CHIPS.get(c.kind, c.kind)
        head.addWidget(chip(text, "warnchip"))
        head.addStretch(1)
        head.addWidget(label(ago(_moment(c.created_at)), "small"))
        body.addLayout(head)
        who = who or "a teammate"
        actions: list[tuple[str, str, Callable[[], None]]] = []
        if c.kind == "field":
            theirs, mine = (_value(v, c.entity_type, c.field) for v in (c.theirs, c.mine))
            body.addWidget(label(f"Kept (from {who}): {theirs}", wrap=True))
            body.addWidget(label(f"Yours: {mine}", "muted", wrap=True))
            actions = [
                ("Keep mine", "keepMine", lambda: self.resolve(c.id, "mine")),
                (f"Keep {who}'s", "keepTheirs", lambda: self.resolve(c.id, "theirs")),
            ]
        elif c.kind == "deleted":
            body.addWidget(
                label(
                    f"{who} deleted it while you had changes: {_value(c.mine, c.entity_type)}",
                    wrap=True,
                )
            )
            actions = [
                ("Restore with my changes", "keepMine", lambda: self.resolve(c.id, "mine")),
                ("Leave it deleted", "keepTheirs", lambda: self.resolve(c.id, "theirs")),
            ]
        else:
            body.addWidget(
                label(
                    "Nobody shares it any more; your changes are kept as your private copy: "
                    f"{_value(c.mine, c.entity_type)}",
                    wrap=True,
                )
            )
            actions = [
                ("Keep my private copy", "keepMine", lambda: self.resolve(c.id, "mine")),
                ("Discard my copy", "discard", lambda: self.discard(c.id)),
            ]
        row = QHBoxLayout()
        for text, name, run in actions:
            widget = button(text, run, kind="primary" if name == "keepMine" else "")
            widget.setObjectName(name)
            row.addWidget(widget)
        row.addStretch(1)
        body.addLayout(row)
        return card

    def resolve(self, conflict_id: str, keep: str) -> None:
        team = self.ctx.services.team
        self.ctx.write(lambda: team.resolve(conflict_id, keep), None, label="resolve conflict")

    def discard(self, conflict_id: str) -> None:
        team = self.ctx.services.team
        self.ctx.write(lambda: team.discard_copy(conflict_id), None, label="discard copy")


def _moment(millis: int) -> Any:
    from relbook.domain.clock import from_millis

    return from_millis(int(millis))
