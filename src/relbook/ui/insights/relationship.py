"""The relationship card: every metric Relbook derives about a person or a company, the
strength score with each input and the points it earned, and how it was all computed
(the "Why?" behind a strength bar or a list entry).

The numbers come from ``services.insight.relationship(id)`` in one background read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from relbook.ui.context import Refresher
from relbook.ui.fmt import plural, when
from relbook.ui.insights.actions import CadenceDialog, snooze_menu, wake
from relbook.ui.insights.tables import Column, Table, TableModel, copy_table, table_view
from relbook.ui.qt import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import button, chip, label

if TYPE_CHECKING:
    from relbook.services.insight.relationships import Relationship
    from relbook.ui.context import UiContext

TREND_WORDS = {
    "warming": "warming ↑",
    "cooling": "cooling ↓",
    "steady": "steady",
    "new": "new — too early to tell",
    "none": "no touches yet",
}


@dataclass(frozen=True)
class CardData:
    relationship: Relationship
    default_cadence_days: int
    now: datetime  # the moment the numbers were computed for


def load_card(ctx: UiContext, entity_id: str) -> CardData:
    """Runs on a worker thread."""
    services = ctx.services
    return CardData(
        services.insight.relationship(entity_id),
        int(services.settings.get("default_cadence_days")),
        services.clock.now(),
    )


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} days"


def _moment(moment: datetime | None, now: datetime, never: str) -> str:
    if moment is None:
        return never
    days = max(0, round((now - moment).total_seconds() / 86_400))  # as the formulas round
    return f"{when(moment)} — " + ("today" if days == 0 else f"{plural(days, 'day')} ago")


def metric_rows(r: Relationship, now: datetime) -> list[tuple[str, str]]:
    """(caption, value) of every metric on the card, in reading order."""
    both_ways = max(0, r.touch_count - r.inbound_count - r.outbound_count)
    rows: list[tuple[str, str]] = [
        ("Last touch", _moment(r.last_touch_at, now, "never")),
        (
            "Last two-way touch",
            _moment(r.last_two_way_at, now, "they never wrote, met or spoke with you"),
        ),
        (
            "Touches",
            f"{r.touch_count} on {plural(r.touch_days, 'day')} · {r.inbound_count} from them, "
            f"{r.outbound_count} from you"
            + (f", {both_ways} both ways (meetings, calls)" if both_ways else ""),
        ),
        ("Frequency", f"{r.frequency_per_month:.1f} touch days a month"),
        (
            "Rhythm",
            f"usually every {r.rhythm_days:.0f} days"
            if r.rhythm_days is not None
            else "not known yet (needs three touch days)",
        ),
    ]
    if r.drift_days is not None:
        rows.append(
            (
                "Drift",
                f"{r.drift_days:+.0f} days — later than usual"
                if r.drift_days > 0
                else f"{r.drift_days:+.0f} days — within the rhythm",
            )
        )
    rows.append(
        (
            "Reciprocity",
            r.reciprocity_label
            if r.reciprocity is None
            else f"{r.reciprocity:.0%} of touches from them — {r.reciprocity_label}",
        )
    )
    rows.append(("Trend", TREND_WORDS.get(r.trend.value, r.trend.value)))
    if r.cold is not None:
        state = {
            "warm": "no",
            "going_cold": "yes — going cold",
            "dormant": "gone cold (dormant)",
        }[r.cold.state.value]
        rows.append(
            (
                "Going cold",
                f"{state}: silent {r.cold.silence_days:.0f} of {r.cold.threshold_days:.0f} days",
            )
        )
    if r.entity_type == "company":
        names = ", ".join(p.name for p in r.engaged[:6])
        more = f" and {r.breadth - 6} more" if r.breadth > 6 else ""
        rows.append(
            (
                "Breadth",
                f"{plural(r.breadth, 'person', 'people')} you really talk to"
                + (f": {names}{more}" if names else ""),
            )
        )
    if r.entity_type == "person":
        if r.due is None:
            rows.append(("Keep in touch", "no cadence yet (set one, or it is learned)"))
        else:
            state = (
                f"due for {r.due.overdue_days:.0f} days"
                if r.due.is_due
                else f"next due {when(r.due.due_at)}"
            )
            rows.append(("Keep in touch", f"{r.due.cadence.label} · {state}"))
        if r.snoozed_until is not None:
            rows.append(("Snoozed", f"until {when(r.snoozed_until)}"))
    rows.append(("At stake", r.value.describe()))
    return rows


def components_table(r: Relationship) -> Table:
    table = Table(
        [
            Column("Component"),
            Column("Input"),
            Column("Points", True),
            Column("Of", True),
            Column("How"),
        ]
    )
    for c in r.strength.components:
        # "35 × 0.5^(45 days / 30) — halves every 30 days": the arithmetic here, the words
        # in the explanation underneath.
        arithmetic = c.formula.split(" — ")[0]
        table.add(
            [c.label, c.detail, f"{c.points:.1f}", f"{c.max_points:.0f}", arithmetic],
            keys=[c.label, c.value, c.points, c.max_points, arithmetic],
        )
    return table


class RelationshipDialog(QDialog):
    """The relationship card of one person or company; ``why`` adds the explanation of a
    list entry (its reasons and score) on top."""

    def __init__(
        self, ctx: UiContext, entity_id: str, parent: QWidget | None = None, *, why: str = ""
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entity_id = entity_id
        self.why = why
        self.data: CardData | None = None
        self.setObjectName("relationshipCard")
        self.setWindowTitle("Relationship")
        self.resize(900, 760)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 14)
        outer.setSpacing(10)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = label("Loading…", "h2", wrap=True)
        self.subtitle = label("", "muted", wrap=True)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        score = QVBoxLayout()
        score.setSpacing(4)
        self.score = label("", "h2")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setFixedWidth(180)
        self.trend = chip("")
        score.addWidget(self.score)
        score.addWidget(self.bar)
        score.addWidget(self.trend)
        head.addLayout(score)
        outer.addLayout(head)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        body = QVBoxLayout(holder)
        body.setContentsMargins(0, 0, 6, 0)
        body.setSpacing(10)
        self.why_label = label("", "small", wrap=True, selectable=True)
        self.why_label.setProperty("role", "banner")
        self.why_label.setMargin(8)
        self.why_label.setVisible(bool(why))
        body.addWidget(self.why_label)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(5)
        self.grid.setColumnStretch(1, 1)
        body.addLayout(self.grid)
        body.addWidget(label("Strength: the sum of these components", "section"))
        self.model = TableModel()
        self.table = table_view(self.model)
        self.table.setSortingEnabled(False)
        self.table.setWordWrap(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().sectionResized.connect(self._fit_table)
        body.addWidget(self.table)
        body.addWidget(label("How each number is computed", "section"))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMinimumHeight(200)
        body.addWidget(self.text)
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)

        buttons = QHBoxLayout()
        self.cadence_button = button("Keep in touch…", self.edit_cadence, icon_name="clock")
        self.snooze_button = button("Snooze", icon_name="snooze")
        self.snooze_button.setMenu(snooze_menu(self.snooze_button, ctx, self._me))
        self.wake_button = button("Wake now", lambda: wake(ctx, *self._me()), icon_name="sync")
        for widget in (self.cadence_button, self.snooze_button, self.wake_button):
            widget.hide()
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(
            button("Copy", self.copy, icon_name="export", tip="Copy the explanation as text")
        )
        buttons.addWidget(button("Open", self.open_entity, icon_name="open"))
        close = button("Close", self.accept, kind="primary")
        close.setDefault(True)
        buttons.addWidget(close)
        outer.addLayout(buttons)
        Refresher(ctx, ("person", "company", "interaction", "deal", "setting"), self.load, self)
        self.load()

    # ----------------------------------------------------------------- data
    def load(self) -> None:
        ctx, entity_id = self.ctx, self.entity_id
        self.ctx.read(
            lambda: load_card(ctx, entity_id), self._show, owner=self, key=f"card-{id(self)}"
        )

    def is_loaded(self) -> bool:
        return self.data is not None

    def _me(self) -> tuple[list[str], list[str]]:
        if self.data is None or self.data.relationship.entity_type != "person":
            return [], []
        return [self.entity_id], [self.data.relationship.name]

    def _show(self, data: CardData) -> None:
        self.data = data
        r = data.relationship
        self.setWindowTitle(f"Relationship — {r.name}")
        self.title.setText(r.name)
        kind = "Company" if r.entity_type == "company" else "Person"
        self.subtitle.setText(f"{kind} · {r.company.name}" if r.company else kind)
        self.score.setText(f"Strength {r.strength.score:.0f} / 100")
        self.bar.setValue(round(r.strength.score))
        self.trend.setText(f"Trend: {TREND_WORDS.get(r.trend.value, r.trend.value)}")
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for row, (caption, value) in enumerate(metric_rows(r, data.now)):
            self.grid.addWidget(label(caption, "muted"), row, 0)
            self.grid.addWidget(label(value, wrap=True, selectable=True), row, 1)
        self.model.set_table(components_table(r))
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(1, min(300, self.table.columnWidth(1)))
        self._fit_table()
        self.why_label.setText(self.why)
        self.text.setPlainText(self.explanation())
        person = r.entity_type == "person"
        self.cadence_button.setVisible(person)
        self.snooze_button.setVisible(person and r.snoozed_until is None)
        self.wake_button.setVisible(person and r.snoozed_until is not None)

    def _fit_table(self, *_args: object) -> None:
        """Rows tall enough for their wrapped text, the table tall enough for its rows."""
        self.table.resizeRowsToContents()
        for row in range(self.model.rowCount()):  # the style sheet's cell padding
            self.table.setRowHeight(row, self.table.rowHeight(row) + 8)
        rows = sum(self.table.rowHeight(i) for i in range(self.model.rowCount()))
        self.table.setFixedHeight(rows + self.table.horizontalHeader().height() + 4)

    def explanation(self) -> str:
        if self.data is None:
            return ""
        text = self.data.relationship.explain()
        return f"{self.why}\n\n{text}" if self.why else text

    def metrics(self) -> dict[str, str]:
        """The metrics shown, by caption (tests read them)."""
        return dict(metric_rows(self.data.relationship, self.data.now)) if self.data else {}

    # -------------------------------------------------------------- actions
    def copy(self) -> None:
        from relbook.ui.qt import QGuiApplication

        QGuiApplication.clipboard().setText(self.explanation())

    def copy_components(self) -> None:
        copy_table(self.model.table)

    def open_entity(self) -> None:
        if self.data is not None:
            self.ctx.open_entity(self.data.relationship.entity_type, self.entity_id)
            self.accept()

    def edit_cadence(self) -> CadenceDialog | None:
        if self.data is None or self.data.relationship.entity_type != "person":
            return None
        r = self.data.relationship
        current = r.cadence.days if r.cadence and r.cadence.source == "set" else None
        dialog = CadenceDialog(
            self.ctx, [self.entity_id], [r.name], current, self.data.default_cadence_days, self
        )
        dialog.open()
        return dialog


def show_relationship(
    ctx: UiContext, entity_id: str, parent: QWidget | None = None, *, why: str = ""
) -> RelationshipDialog:
    dialog = RelationshipDialog(ctx, entity_id, parent, why=why)
    dialog.open()
    return dialog


__all__ = ["RelationshipDialog", "metric_rows", "show_relationship"]
