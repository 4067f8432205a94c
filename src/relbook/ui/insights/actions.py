"""Keep-in-touch actions shared by the relationship card and the relationship lists:
set a cadence, snooze, wake, accept or dismiss a keep-warm proposal.

Every write runs on the writer thread through ``services.insight``; the lists refresh
from the change notification the write publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from relbook.ui.qt import QDialog, QHBoxLayout, QMenu, QSpinBox, QVBoxLayout, QWidget
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.insight.relationships import KeepWarmProposal
    from relbook.ui.context import UiContext

# (label, days) offered by every snooze menu.
SNOOZE_CHOICES = (("1 week", 7), ("2 weeks", 14), ("1 month", 30), ("3 months", 91))


def _names(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{len(names)} people"


def snooze(ctx: UiContext, person_ids: list[str], names: Sequence[str], days: int) -> None:
    """Hide people from the due, going-cold and next-contact lists for ``days``."""
    insight = ctx.services.insight
    until = ctx.services.clock.now() + timedelta(days=days)
    who = _names(names)

    def done(_: Any) -> None:
        ctx.undo.push(f"Snoozed {who}", lambda: insight.snooze(person_ids, None))
        ctx.status(f"Snoozed {who} until {until.astimezone():%d %b %Y}")

    ctx.write(lambda: insight.snooze(person_ids, until), done, label="snooze")


def wake(ctx: UiContext, person_ids: list[str], names: Sequence[str]) -> None:
    insight = ctx.services.insight
    ctx.write(
        lambda: insight.snooze(person_ids, None),
        lambda _r: ctx.status(f"{_names(names)} back on the lists"),
        label="wake",
    )


def snooze_menu(
    parent: QWidget,
    ctx: UiContext,
    chosen: Callable[[], tuple[list[str], list[str]]],
) -> QMenu:
    """A menu of snooze lengths (and "wake now") for the people ``chosen()`` returns."""
    menu = QMenu(parent)
    for text, days in SNOOZE_CHOICES:

        def act(_checked: bool = False, days: int = days) -> None:
            ids, names = chosen()
            if ids:
                snooze(ctx, ids, names, days)

        menu.addAction(f"Snooze {text}").triggered.connect(act)
    menu.addSeparator()

    def wake_now(_checked: bool = False) -> None:
        ids, names = chosen()
        if ids:
            wake(ctx, ids, names)

    menu.addAction("Wake now").triggered.connect(wake_now)
    return menu


class CadenceDialog(QDialog):
    """Keep in touch every N days with one or more people, or learn it from the rhythm."""

    def __init__(
        self,
        ctx: UiContext,
        person_ids: list[str],
        names: Sequence[str],
        current: int | None,
        proposed: int,
        parent: QWidget | None = None,
    ) -> None:
        """``current``: the cadence the rep set (None: learned); ``proposed``: the value
        offered when there is none (setting ``default_cadence_days``, read off the UI
        thread by the caller)."""
        super().__init__(parent)
        self.ctx = ctx
        self.person_ids = list(person_ids)
        self.setObjectName("cadenceDialog")
        self.setWindowTitle("Keep in touch")
        self.setMinimumWidth(400)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(8)
        layout.addWidget(label(f"Keep in touch with {_names(names)}", "h3"))
        row = QHBoxLayout()
        row.addWidget(label("Every"))
        self.days = QSpinBox()
        self.days.setRange(0, 3650)
        self.days.setSuffix(" days")
        self.days.setSpecialValueText("— learn it from the rhythm")
        self.days.setValue(current or proposed)
        self.days.setMinimumWidth(220)
        row.addWidget(self.days, 1)
        layout.addLayout(row)
        layout.addWidget(
            label(
                "They show as due once the silence reaches the cadence. At 0 the cadence is "
                "learned from your own rhythm with them (their typical gap, 7–365 days).",
                "small",
                wrap=True,
            )
        )
        self.error = label("", "error", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(button("Cancel", self.reject))
        self.save_button = button("Save", self.save, kind="primary")
        self.save_button.setDefault(True)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def save(self) -> None:
        insight = self.ctx.services.insight
        ids, days = self.person_ids, self.days.value() or None
        self.save_button.setEnabled(False)
        self.error.hide()

        def done(_: Any) -> None:
            self.ctx.status(
                f"Keep in touch every {days} days" if days else "Cadence learned from the rhythm"
            )
            self.accept()

        def failed(error: BaseException) -> bool:
            from relbook.domain.errors import UserError, ValidationError

            self.save_button.setEnabled(True)
            if isinstance(error, ValidationError):
                self.error.setText("; ".join(e.message for e in error.errors))
            elif isinstance(error, UserError):
                self.error.setText(error.message)
            else:
                return False
            self.error.show()
            return True

        self.ctx.write(lambda: insight.set_cadence(ids, days), done, failed, owner=self)


def accept_keep_warm(ctx: UiContext, proposals: Sequence[KeepWarmProposal]) -> None:
    insight, chosen = ctx.services.insight, list(proposals)
    if not chosen:
        return
    ctx.write(
        lambda: insight.accept_keep_warm(chosen),
        lambda _r: ctx.status(
            f"Keeping {_names([p.person.name for p in chosen])} warm every "
            f"{chosen[0].cadence_days} days"
        ),
        label="keep warm",
    )


def dismiss_keep_warm(ctx: UiContext, proposals: Sequence[KeepWarmProposal]) -> None:
    insight, chosen = ctx.services.insight, list(proposals)
    if not chosen:
        return
    ctx.write(
        lambda: insight.dismiss_keep_warm(chosen),
        lambda _r: ctx.status(f"No keep-warm for {_names([p.person.name for p in chosen])}"),
        label="dismiss keep warm",
    )
