"""Whom to contact and why: next contacts, the keep-in-touch due list, people and
companies going cold, and keep-warm proposals after lost deals — one table each, every
row with its reason, a "Why?" that shows the arithmetic, and the actions that go with it
(set a cadence, snooze, wake, accept or dismiss keep-warm).

The lists come from ``services.insight`` in one background read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import money, when
from relbook.ui.insights.actions import (
    CadenceDialog,
    accept_keep_warm,
    dismiss_keep_warm,
    snooze_menu,
)
from relbook.ui.insights.relationship import RelationshipDialog
from relbook.ui.insights.tables import Column, Table, TableModel, copy_table, table_view
from relbook.ui.qt import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QModelIndex,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import EmptyState, button, label

if TYPE_CHECKING:
    from relbook.services.context import Services
    from relbook.services.insight.relationships import (
        ColdEntry,
        DueEntry,
        KeepWarmProposal,
        NextContact,
    )
    from relbook.ui.context import UiContext

DUE_HORIZON_DAYS = 7
LIMIT = 200

NEXT, DUE, COLD_PEOPLE, COLD_COMPANIES, KEEP_WARM = range(5)
LIST_TITLES = (
    "Next contacts",
    "Keep in touch",
    "Going cold: people",
    "Going cold: companies",
    "Keep warm",
)
NOTES = (
    "One ranked list: cadences due, relationships going cold and deals stuck in their "
    "stage. Score = the sum of the reasons' urgencies (1–3 each) × the value weight "
    "1 + log10(1 + value at stake / 1,000). Snoozed people and people you meet in the next "
    "14 days are left out.",
    f"People whose keep-in-touch cadence (yours, else learned from the rhythm) is due now or "
    f"in the next {DUE_HORIZON_DAYS} days, most overdue first. Set a cadence or snooze "
    "with the buttons above.",
    "People silent for longer than going-cold factor × their own rhythm (a fortnightly "
    "contact after 28 days, a quarterly one after 180), the most urgent and valuable "
    "first: min(3, silence / threshold) × value weight.",
    "Companies silent for longer than going-cold factor × their own rhythm, weighted by "
    "open deals and the account's value.",
    "People on deals lost in the last 180 days, with no cadence and no open deal: keep "
    "them warm with the proposed cadence instead of dropping them, or dismiss it.",
)


EMPTY = (
    (
        "Nobody to contact right now",
        "People show here when their keep-in-touch cadence is due, when they go quiet for "
        "longer than their own rhythm, or when a deal of theirs sits in its stage too long.",
    ),
    (
        "Nobody is due",
        "Give a person a keep-in-touch cadence (in their editor), or let Relbook learn one "
        "from your rhythm with them once you have been in touch on three days.",
    ),
    ("Nobody is going cold", "Everyone you are in touch with is within their own rhythm."),
    ("No company is going cold", "Every account is within its own rhythm."),
    (
        "No lost deals to follow up",
        "When a deal is lost, its people are proposed a keep-warm cadence here instead of "
        "being dropped.",
    ),
)


@dataclass(frozen=True)
class ListsData:
    next_contacts: list[NextContact]
    due: list[DueEntry]
    cold_people: list[ColdEntry]
    cold_companies: list[ColdEntry]
    keep_warm: list[KeepWarmProposal]
    default_cadence_days: int
    currency: str


def compute(services: Services) -> ListsData:
    """Runs on a worker thread."""
    insight = services.insight
    return ListsData(
        next_contacts=insight.next_contacts(limit=LIMIT),
        due=insight.due(horizon_days=DUE_HORIZON_DAYS, limit=LIMIT),
        cold_people=insight.going_cold(limit=LIMIT),
        cold_companies=insight.going_cold(entity_type="company", limit=LIMIT),
        keep_warm=insight.keep_warm_proposals(),
        default_cadence_days=int(services.settings.get("default_cadence_days")),
        currency=insight.currency,
    )


def _stake(minor: int, currency: str) -> str:
    return money(minor, currency) if minor else ""


def _due_text(entry: DueEntry) -> str:
    days = entry.check.overdue_days
    if days >= 1:
        return f"{days:.0f} days overdue"
    if days >= 0:
        return "due today"
    return f"in {-days:.0f} days" if -days >= 1 else "due today"


class RelationshipsPanel(QWidget):
    """The Relationships tab of the Insights page."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.data: ListsData | None = None
        self._loaded = False
        self.rows: list[Any] = []  # the entry behind each table row (before sorting)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 10, 4, 4)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        self.summary = label("", "h3", wrap=True)
        bar.addWidget(self.summary, 1)
        layout.addLayout(bar)

        chooser = QHBoxLayout()
        chooser.setSpacing(6)
        self.group = QButtonGroup(self)
        self.list_buttons: list[QPushButton] = []
        for index, title in enumerate(LIST_TITLES):
            toggle = QPushButton(title)
            toggle.setCheckable(True)
            toggle.setProperty("kind", "chip")
            self.group.addButton(toggle, index)
            self.list_buttons.append(toggle)
            chooser.addWidget(toggle)
        self.list_buttons[0].setChecked(True)
        self.group.idClicked.connect(self.show_list)
        chooser.addStretch(1)
        layout.addLayout(chooser)

        actions = QHBoxLayout()
        actions.setSpacing(6)
        self.why_button = button("Why?", self.explain, icon_name="sparkle")
        self.open_button = button("Open", self.open_selected, icon_name="open")
        self.cadence_button = button("Keep in touch…", self.edit_cadence, icon_name="clock")
        self.snooze_button = button("Snooze", icon_name="snooze")
        self.snooze_button.setMenu(snooze_menu(self.snooze_button, ctx, self.selected_people))
        self.accept_button = button(
            "Keep warm", self.accept_selected, icon_name="check", kind="primary"
        )
        self.dismiss_button = button("Dismiss", self.dismiss_selected, icon_name="close")
        self.action_buttons = (
            self.why_button,
            self.open_button,
            self.cadence_button,
            self.snooze_button,
            self.accept_button,
            self.dismiss_button,
        )
        for widget in self.action_buttons:
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(
            button(
                "Copy",
                lambda: copy_table(self.model.table),
                icon_name="export",
                tip="Copy the list (tab-separated) to paste in a spreadsheet",
            )
        )
        layout.addLayout(actions)

        self.model = TableModel()
        self.table = table_view(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.stack = QStackedWidget()  # the list, or what it would hold
        self.stack.addWidget(self.table)
        self.empty: EmptyState | None = None
        layout.addWidget(self.stack, 1)
        self.detail = label("", wrap=True, selectable=True)
        self.detail.setObjectName("entryDetail")
        layout.addWidget(self.detail)
        self.note = label(NOTES[0], "small", wrap=True)
        layout.addWidget(self.note)
        self.current = NEXT
        Refresher(
            ctx,
            ("person", "company", "interaction", "deal", "stage", "setting"),
            self.load,
            self,
        )

    # ----------------------------------------------------------------- data
    def load(self) -> None:
        services = self.ctx.services
        self.ctx.read(lambda: compute(services), self._show, owner=self, key=f"lists-{id(self)}")

    def is_loaded(self) -> bool:
        return self._loaded

    def _show(self, data: ListsData) -> None:
        self.data = data
        counts = (
            len(data.next_contacts),
            sum(1 for d in data.due if d.check.is_due),
            len(data.cold_people),
            len(data.cold_companies),
            len(data.keep_warm),
        )
        for toggle, title, count in zip(self.list_buttons, LIST_TITLES, counts, strict=True):
            toggle.setText(f"{title} ({count})")
        parts = [f"{counts[DUE]} due to keep in touch", f"{counts[COLD_PEOPLE]} people"]
        parts[-1] += f" and {counts[COLD_COMPANIES]} companies going cold"
        if counts[KEEP_WARM]:
            parts.append(f"{counts[KEEP_WARM]} to keep warm after lost deals")
        self.summary.setText(" · ".join(parts))
        self.show_list(self.current)
        self._loaded = True

    def show_list(self, index: int) -> None:
        self.current = index
        self.list_buttons[index].setChecked(True)
        self.note.setText(NOTES[index])
        data = self.data
        self.cadence_button.setVisible(index in (NEXT, DUE, COLD_PEOPLE))
        self.snooze_button.setVisible(index in (NEXT, DUE, COLD_PEOPLE))
        self.accept_button.setVisible(index == KEEP_WARM)
        self.dismiss_button.setVisible(index == KEEP_WARM)
        if data is None:
            return
        builders: tuple[Callable[[ListsData], tuple[Table, list[Any]]], ...] = (
            self._next_table,
            self._due_table,
            self._cold_people_table,
            self._cold_companies_table,
            self._keep_warm_table,
        )
        table, rows = builders[index](data)
        for row in range(len(rows)):
            table.sort_keys[row].append(row)  # hidden: the entry behind the row
        self.rows = rows
        self.model.set_table(table)
        self.detail.setText("Select an entry to read its reasons; Why? shows the arithmetic.")
        self.detail.setVisible(bool(rows))
        for widget in self.action_buttons:
            widget.setEnabled(bool(rows))
        if self.empty is not None:
            self.stack.removeWidget(self.empty)
            self.empty.deleteLater()
            self.empty = None
        if not rows:
            self.empty = EmptyState("sparkle", *EMPTY[index])
            self.stack.addWidget(self.empty)
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.table)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()
        for column in range(len(table.columns)):  # long reasons: the tooltip has them all
            self.table.setColumnWidth(column, min(420, self.table.columnWidth(column)))

    # ------------------------------------------------------------- tables
    def _next_table(self, data: ListsData) -> tuple[Table, list[Any]]:
        table = Table(
            [
                Column("Name"),
                Column("Company"),
                Column("Score", True, "Σ urgencies × value weight — Why? shows the sums"),
                Column("At stake", True),
                Column("Last touch"),
                Column("Reason"),
            ]
        )
        for n in data.next_contacts:
            reason = "; ".join(r.text for r in n.reasons)
            table.add(
                [
                    n.name,
                    n.company.name if n.company else "",
                    f"{n.score:.2f}",
                    _stake(n.value.total_minor, data.currency),
                    when(n.last_touch_at) if n.last_touch_at else "",
                    reason,
                ],
                keys=[
                    n.name,
                    n.company.name if n.company else "",
                    n.score,
                    n.value.total_minor,
                    n.last_touch_at.timestamp() if n.last_touch_at else None,
                    reason,
                ],
                entity=(n.entity_type, n.id),
            )
        return table, list(data.next_contacts)

    def _due_table(self, data: ListsData) -> tuple[Table, list[Any]]:
        table = Table(
            [
                Column("Name"),
                Column("Company"),
                Column("Cadence"),
                Column("Last touch"),
                Column("Due", True),
                Column("At stake", True),
                Column("Score", True),
            ]
        )
        for d in data.due:
            table.add(
                [
                    d.name,
                    d.company.name if d.company else "",
                    f"{d.check.cadence.days} days ("
                    + ("you set" if d.check.cadence.source == "set" else "learned")
                    + ")",
                    when(d.last_touch_at) if d.last_touch_at else "never",
                    _due_text(d),
                    _stake(d.value.total_minor, data.currency),
                    f"{d.score:.2f}",
                ],
                keys=[
                    d.name,
                    d.company.name if d.company else "",
                    d.check.cadence.days,
                    d.last_touch_at.timestamp() if d.last_touch_at else None,
                    d.check.overdue_days,
                    d.value.total_minor,
                    d.score,
                ],
                entity=("person", d.id),
            )
        return table, list(data.due)

    def _cold_table(
        self, entries: list[ColdEntry], currency: str, people: bool
    ) -> tuple[Table, list[Any]]:
        columns = [Column("Name")]
        if people:
            columns.append(Column("Company"))
        columns += [
            Column("Rhythm", True, "Their typical gap between touch days"),
            Column("Silent", True, "Days since the last touch"),
            Column("Threshold", True, "Going-cold factor × rhythm"),
            Column("At stake", True),
            Column("Score", True, "min(3, silence / threshold) × value weight"),
        ]
        table = Table(columns)
        for e in entries:
            cells: list[Any] = [e.name]
            keys: list[Any] = [e.name]
            if people:
                cells.append(e.company.name if e.company else "")
                keys.append(cells[-1])
            cells += [
                f"{e.check.rhythm_days:.0f} days",
                f"{e.check.silence_days:.0f} days",
                f"{e.check.threshold_days:.0f} days",
                _stake(e.value.total_minor, currency),
                f"{e.score:.2f}",
            ]
            keys += [
                e.check.rhythm_days,
                e.check.silence_days,
                e.check.threshold_days,
                e.value.total_minor,
                e.score,
            ]
            table.add(cells, keys=keys, entity=(e.entity_type, e.id))
        return table, list(entries)

    def _cold_people_table(self, data: ListsData) -> tuple[Table, list[Any]]:
        return self._cold_table(data.cold_people, data.currency, True)

    def _cold_companies_table(self, data: ListsData) -> tuple[Table, list[Any]]:
        return self._cold_table(data.cold_companies, data.currency, False)

    def _keep_warm_table(self, data: ListsData) -> tuple[Table, list[Any]]:
        table = Table(
            [
                Column("Person"),
                Column("Company"),
                Column("Lost deal"),
                Column("Lost on"),
                Column("Why it was lost"),
                Column("Proposed cadence", True),
            ]
        )
        for p in data.keep_warm:
            table.add(
                [
                    p.person.name,
                    p.company.name if p.company else "",
                    p.deal.name,
                    when(p.lost_at),
                    p.lost_reason,
                    f"every {p.cadence_days} days",
                ],
                keys=[
                    p.person.name,
                    p.company.name if p.company else "",
                    p.deal.name,
                    p.lost_at.timestamp(),
                    p.lost_reason,
                    p.cadence_days,
                ],
                entity=("person", p.person.id),
            )
        return table, list(data.keep_warm)

    # ------------------------------------------------------------ selection
    def selected_entries(self) -> list[Any]:
        """The entries behind the selected rows (the current row if none is selected)."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        table = self.model.table
        return [self.rows[table.sort_keys[row][-1]] for row in rows if row < len(table.rows)]

    def select_rows(self, rows: list[int]) -> None:
        """Select table rows (tests and keyboard users)."""
        self.table.clearSelection()
        selection = self.table.selectionModel()
        from relbook.ui.qt import QItemSelectionModel

        for row in rows:
            selection.select(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
        if rows:
            self.table.setCurrentIndex(self.model.index(rows[0], 0))

    def selected_people(self) -> tuple[list[str], list[str]]:
        ids: list[str] = []
        names: list[str] = []
        for entry in self.selected_entries():
            person = getattr(entry, "person", None)
            pid, name = (person.id, person.name) if person else (entry.id, entry.name)
            kind = getattr(entry, "entity_type", "person")
            if kind == "person" and pid not in ids:
                ids.append(pid)
                names.append(name)
        if not ids:
            self.ctx.status("Select one or more people first.")
        return ids, names

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        table = self.model.table
        if not current.isValid() or current.row() >= len(table.rows):
            self.detail.setText("")
            return
        entry = self.rows[table.sort_keys[current.row()][-1]]
        name = entry.person.name if hasattr(entry, "person") else entry.name
        self.detail.setText(f"{name}: {entry.reason}")

    # -------------------------------------------------------------- actions
    def _double_clicked(self, index: QModelIndex) -> None:
        self.open_selected()

    def open_selected(self) -> None:
        entries = self.selected_entries()
        if not entries:
            return
        entry = entries[0]
        person = getattr(entry, "person", None)
        if person is not None:
            self.ctx.open_entity("person", person.id)
        else:
            self.ctx.open_entity(
                entry.entity_type if hasattr(entry, "entity_type") else "person", entry.id
            )

    def explain(self) -> QDialog | None:
        entries = self.selected_entries()
        if not entries:
            self.ctx.status("Select an entry to see why it is on the list.")
            return None
        entry = entries[0]
        kind = getattr(entry, "entity_type", "person")
        why = entry.explain() if hasattr(entry, "explain") else entry.reason
        if hasattr(entry, "person"):
            dialog: QDialog = RelationshipDialog(self.ctx, entry.person.id, self, why=entry.reason)
        elif kind in ("person", "company"):
            dialog = RelationshipDialog(self.ctx, entry.id, self, why=why)
        else:
            dialog = TextDialog(f"Why: {entry.name}", why, self)
        dialog.open()
        return dialog

    def edit_cadence(self) -> CadenceDialog | None:
        ids, names = self.selected_people()
        if not ids or self.data is None:
            return None
        current = None
        if self.current == DUE:
            chosen = [e for e in self.selected_entries() if e.check.cadence.source == "set"]
            current = chosen[0].check.cadence.days if chosen else None
        dialog = CadenceDialog(self.ctx, ids, names, current, self.data.default_cadence_days, self)
        dialog.open()
        return dialog

    def accept_selected(self) -> None:
        accept_keep_warm(self.ctx, [e for e in self.selected_entries() if hasattr(e, "person")])

    def dismiss_selected(self) -> None:
        dismiss_keep_warm(self.ctx, [e for e in self.selected_entries() if hasattr(e, "person")])


class TextDialog(QDialog):
    """A read-only explanation (an entry with no person or company behind it)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 320)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addWidget(label(title, "h3"))
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        close = button("Close", self.accept, kind="primary")
        row.addWidget(close)
        layout.addLayout(row)
