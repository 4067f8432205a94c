"""The review queue: correspondents who are not in the book yet, most active first.

Capture never creates people by itself. Each unknown address waits here with how many
messages it exchanged with the rep and the last subject; the rep accepts it (a person,
and the company owning its domain — created from the domain unless it is free mail),
ignores it, or always ignores the address or its whole domain (a rule for the future).
Several rows can be selected and handled at once. Everything goes through
``services.review`` on the writer thread; the sidebar shows the pending count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import plural, when
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    isValid,
)
from relbook.ui.widgets import EmptyState, button, label

if TYPE_CHECKING:
    from relbook.services.review import ReviewEntry
    from relbook.services.review import ReviewPage as QueuePage
    from relbook.ui.context import UiContext

PAGE_SIZE = 500
COLUMNS = ("Name", "Address", "Company", "Messages", "Last seen", "Last subject")
ADDRESS_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class BulkOutcome:
    """What a bulk action did: how many went through, and each one that did not."""

    done: int = 0
    people: int = 0
    companies: int = 0
    linked: int = 0
    unlinked: int = 0
    problems: list[str] | None = None
    noun: str = "correspondent"

    def text(self, verb: str) -> str:
        parts = [f"{verb} {plural(self.done, self.noun)}"]
        if self.people:
            parts.append(f"{plural(self.people, 'person', 'people')} added")
        if self.companies:
            parts.append(f"{plural(self.companies, 'company', 'companies')} created")
        if self.linked:
            parts.append(f"{plural(self.linked, 'interaction')} linked")
        if self.unlinked:
            parts.append(f"{plural(self.unlinked, 'interaction')} no longer linked")
        return ", ".join(parts) + "."


def company_text(entry: ReviewEntry) -> str:
    """What accepting does about the company, in the rep's words."""
    if entry.company_id:
        return entry.company_name
    if entry.free_mail or not entry.domain:
        return "— (free mail: no company)"
    from relbook.capture.domains import company_name_from_domain

    return f"{company_name_from_domain(entry.domain)} (new)"


def _company_tip(entry: ReviewEntry) -> str:
    if entry.company_id:
        return f"Accepting puts them at {entry.company_name}, which owns {entry.domain}."
    if entry.free_mail or not entry.domain:
        return "A free-mail or list address: accepting creates no company."
    return f"Accepting creates this company with the domain {entry.domain}."


def _run_each(
    addresses: list[str], action: Callable[[str], Any], count: Callable[[BulkOutcome, Any], None]
) -> BulkOutcome:
    """Apply ``action`` to each address; one failure is reported and the rest go on."""
    from relbook.domain.errors import UserError

    outcome = BulkOutcome(problems=[])
    for address in addresses:
        try:
            result = action(address)
        except UserError as error:
            assert outcome.problems is not None
            outcome.problems.append(f"{address}: {error.message}")
            continue
        outcome.done += 1
        count(outcome, result)
    return outcome


class AcceptDialog(QDialog):
    """Accept one address with the name and company the rep types (prefilled)."""

    def __init__(self, parent: QWidget | None, entry: ReviewEntry) -> None:
        super().__init__(parent)
        from relbook.domain.names import name_from_address, split_full_name

        self.setObjectName("acceptDialog")
        self.setWindowTitle("Add to the book")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(label(entry.address, "h2"))
        layout.addWidget(
            label(
                f"{plural(entry.message_count, 'message')}, last “{entry.last_subject}”",
                "muted",
                wrap=True,
            )
        )
        name = entry.name.strip()
        given, family = (
            split_full_name(name) if name and "@" not in name else name_from_address(entry.address)
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        self.given = QLineEdit(given)
        self.family = QLineEdit(family)
        self.company = QLineEdit(entry.company_name or "")
        if not entry.company_id and not entry.free_mail and entry.domain:
            from relbook.capture.domains import company_name_from_domain

            self.company.setText(company_name_from_domain(entry.domain))
        self.company.setPlaceholderText("no company")
        for row, (caption, widget) in enumerate(
            (("First name", self.given), ("Last name", self.family), ("Company", self.company))
        ):
            grid.addWidget(label(caption, "muted"), row, 0)
            grid.addWidget(widget, row, 1)
        layout.addLayout(grid)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(button("Cancel", self.reject))
        ok = button("Add person", self.accept, kind="primary")
        ok.setDefault(True)
        buttons.addWidget(ok)
        layout.addLayout(buttons)

    def values(self) -> dict[str, str | None]:
        company = self.company.text().strip()
        return {
            "given_name": self.given.text().strip(),
            "family_name": self.family.text().strip(),
            "company_name": company or None,
        }


class ReviewPage(Page):
    """The queue as a table with bulk actions (see the module docstring)."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.entries: list[ReviewEntry] = []
        self.total = 0
        self._limit = PAGE_SIZE
        self._loaded = False
        self._busy = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 14, 24, 16)
        outer.setSpacing(10)
        outer.addWidget(
            label(
                "People you exchanged mail or meetings with who are not in your book. "
                "Accept adds them (and their company, from the e-mail domain) and links "
                "their past messages; ignored addresses stay unlinked.",
                "muted",
                wrap=True,
            )
        )
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.search = QLineEdit()
        self.search.setObjectName("reviewSearch")
        self.search.setPlaceholderText("Filter by name or address…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(300)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self.load)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        bar.addWidget(self.search)
        self.count_label = label("", "muted")
        bar.addWidget(self.count_label, 1)
        self.accept_button = button(
            "Accept", self.accept_selected, kind="primary", icon_name="check",
            tip="Add the selected correspondents to the book (Enter)",
        )  # fmt: skip
        self.accept_as_button = button(
            "Accept as…", self.accept_one, icon_name="edit", tip="Choose the name and company"
        )
        self.ignore_button = button(
            "Ignore", self.ignore_selected, icon_name="close", tip="Off the queue (Delete)"
        )
        self.always_button = button("Always ignore", None, icon_name="more")
        menu = QMenu(self.always_button)
        menu.addAction("These addresses", self.always_ignore_addresses)
        menu.addAction("Everyone at these domains", self.always_ignore_domains)
        self.always_button.setMenu(menu)
        self.rules_button = button(
            "Rules…", self.show_rules, icon_name="edit",
            tip="What you told Relbook to always ignore or always/never link — and undo it",
        )  # fmt: skip
        for widget in (
            self.accept_button,
            self.accept_as_button,
            self.ignore_button,
            self.always_button,
            self.rules_button,
        ):
            bar.addWidget(widget)
        outer.addLayout(bar)

        self.stack = QStackedWidget()
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView()
        self.table.setObjectName("reviewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        for column, width in enumerate((170, 250, 190, 90, 110)):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _index: self.accept_one())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.stack.addWidget(self.table)
        self.empty = EmptyState(
            "review",
            "Nobody waiting for review",
            "New correspondents found in your mail and calendars appear here.",
        )
        self.stack.addWidget(self.empty)
        outer.addWidget(self.stack, 1)
        self.more_button = button("Show more", self._more, kind="flat")
        self.more_button.hide()
        outer.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.status_label = label("", "small", wrap=True)
        self.status_label.setObjectName("reviewStatus")
        outer.addWidget(self.status_label)
        Refresher(ctx, ("review", "person"), self.load, self)
        self._update_buttons()
        self.load()

    # ---------------------------------------------------------------- loading
    def load(self) -> None:
        review = self.ctx.services.review
        text, limit = self.search.text(), self._limit
        self.ctx.read(
            lambda: review.pending(limit=limit, search=text),
            self._show,
            owner=self,
            key=f"review-{id(self)}",
            label="review queue",
        )

    def _show(self, page: QueuePage) -> None:
        selected = set(self.selected_addresses())
        self.entries = list(page.entries)
        self.total = page.total
        self.model.removeRows(0, self.model.rowCount())
        for entry in self.entries:
            self.model.appendRow(self._row(entry))
        selection = self.table.selectionModel()
        for row, entry in enumerate(self.entries):
            if entry.address in selected:
                selection.select(
                    self.model.index(row, 0),
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )
        pending = page.counts.pending
        if self.search.text().strip():
            self.count_label.setText(f"{self.total:,} of {plural(pending, 'correspondent')}")
        else:
            self.count_label.setText(f"{plural(pending, 'correspondent')} to review")
        self.stack.setCurrentWidget(self.table if self.entries else self.empty)
        self.more_button.setVisible(len(self.entries) < self.total)
        self._loaded = True
        self._update_buttons()

    def _row(self, entry: ReviewEntry) -> list[QStandardItem]:
        name = entry.name if entry.name and "@" not in entry.name else ""
        values = (
            name,
            entry.address,
            company_text(entry),
            f"{entry.message_count:,}",
            when(entry.last_seen_at),
            entry.last_subject,
        )
        items = []
        for column, value in enumerate(values):
            item = QStandardItem(value)
            item.setEditable(False)
            item.setData(entry.address, ADDRESS_ROLE)
            if column == 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column == 5:
                item.setToolTip(value)
            if column == 2:
                item.setToolTip(_company_tip(entry))
            items.append(item)
        return items

    def _more(self) -> None:
        self._limit += PAGE_SIZE
        self.load()

    # ---------------------------------------------------------------- selection
    def selected_entries(self) -> list[ReviewEntry]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.entries[r] for r in rows if r < len(self.entries)]

    def selected_addresses(self) -> list[str]:
        return [e.address for e in self.selected_entries()]

    def select_addresses(self, addresses: list[str]) -> None:
        """Select these rows (tests and the palette use it)."""
        wanted = set(addresses)
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row, entry in enumerate(self.entries):
            if entry.address in wanted:
                selection.select(
                    self.model.index(row, 0),
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )

    def _update_buttons(self) -> None:
        count = len(self.selected_entries())
        enabled = count > 0 and not self._busy
        for widget in (self.accept_button, self.ignore_button, self.always_button):
            widget.setEnabled(enabled)
        self.accept_as_button.setEnabled(count == 1 and not self._busy)
        self.accept_button.setText(f"Accept {count}" if count > 1 else "Accept")
        self.ignore_button.setText(f"Ignore {count}" if count > 1 else "Ignore")

    def _context_menu(self, point: Any) -> None:
        if not self.selected_entries():
            return
        menu = QMenu(self)
        menu.addAction("Accept", self.accept_selected)
        if len(self.selected_entries()) == 1:
            menu.addAction("Accept as…", self.accept_one)
        menu.addAction("Ignore", self.ignore_selected)
        menu.addSeparator()
        menu.addAction("Always ignore these addresses", self.always_ignore_addresses)
        menu.addAction("Always ignore everyone at these domains", self.always_ignore_domains)
        menu.popup(self.table.viewport().mapToGlobal(point))

    # ---------------------------------------------------------------- actions
    def _run(self, verb: str, work: Callable[[], BulkOutcome], then: Any = None) -> None:
        self._busy = True
        self._update_buttons()
        self.status_label.setText(f"{verb}…")

        def done(outcome: BulkOutcome) -> None:
            self._busy = False
            text = outcome.text(verb)
            if outcome.problems:
                text += " Not done: " + "; ".join(outcome.problems[:5])
                if len(outcome.problems) > 5:
                    text += f" (and {len(outcome.problems) - 5} more)"
            self.status_label.setText(text)
            self.ctx.status(outcome.text(verb))
            if then is not None:
                then(outcome)
            self._update_buttons()

        def failed(_error: BaseException) -> bool:
            self._busy = False
            self.status_label.setText("")
            self._update_buttons()
            return False  # the error reporter shows it

        self.ctx.write(work, done, failed, owner=self, label=f"review: {verb.lower()}")

    def show_rules(self) -> None:
        from relbook.ui.dialogs.relink import LinkRulesDialog

        dialog = LinkRulesDialog(self.ctx, self)
        dialog.finished.connect(lambda _r: self.load())
        dialog.open()

    def accept_selected(self) -> None:
        addresses = self.selected_addresses()
        if not addresses or self._busy:
            return
        review = self.ctx.services.review

        def count(outcome: BulkOutcome, result: Any) -> None:
            outcome.people += 1
            outcome.companies += int(result.company_created)
            outcome.linked += result.linked_interactions

        self._run("Accepted", lambda: _run_each(addresses, review.accept, count))

    def accept_one(self) -> None:
        entries = self.selected_entries()
        if len(entries) != 1 or self._busy:
            return
        entry = entries[0]
        dialog = AcceptDialog(self, entry)

        def chosen() -> None:
            values = dialog.values()
            review = self.ctx.services.review

            def count(outcome: BulkOutcome, result: Any) -> None:
                outcome.people += 1
                outcome.companies += int(result.company_created)
                outcome.linked += result.linked_interactions

            self._run(
                "Accepted",
                lambda: _run_each([entry.address], lambda a: review.accept(a, **values), count),
            )

        dialog.accepted.connect(chosen)
        dialog.open()

    def ignore_selected(self) -> None:
        addresses = self.selected_addresses()
        if not addresses or self._busy:
            return
        review = self.ctx.services.review

        def undo() -> None:
            for address in addresses:
                review.reopen(address)

        def pushed(outcome: BulkOutcome) -> None:
            if outcome.done:
                self.ctx.undo.push(f"Ignored {plural(outcome.done, 'correspondent')}", undo)

        self._run(
            "Ignored", lambda: _run_each(addresses, review.ignore, lambda _o, _r: None), pushed
        )

    def always_ignore_addresses(self) -> None:
        addresses = self.selected_addresses()
        if not addresses or self._busy:
            return
        review = self.ctx.services.review

        def count(outcome: BulkOutcome, result: Any) -> None:
            outcome.unlinked += int(result or 0)

        self._run(
            "Always ignoring",
            lambda: _run_each(addresses, review.always_ignore_address, count),
        )

    def always_ignore_domains(self) -> None:
        entries = self.selected_entries()
        if not entries or self._busy:
            return
        domains = sorted({e.domain or e.address.rpartition("@")[2] for e in entries})
        free = [d for d in domains if any(e.free_mail and e.domain == d for e in entries)]
        text = (
            f"Never treat anyone at {', '.join(domains)} as a relationship? Their mail stays "
            "unlinked, now and in future, and they leave the queue."
        )
        if free:
            text += f"\n\n{', '.join(free)} is a free-mail service: this ignores everyone using it."
        answer = QMessageBox.question(self, "Always ignore domains", text)
        if answer != QMessageBox.StandardButton.Yes:
            return
        review = self.ctx.services.review

        def count(outcome: BulkOutcome, result: Any) -> None:
            outcome.unlinked += int(result or 0)

        def work() -> BulkOutcome:
            outcome = _run_each(domains, review.always_ignore_domain, count)
            outcome.noun = "domain"
            return outcome

        self._run("Always ignoring", work)

    # ---------------------------------------------------------------- page API
    def is_loaded(self) -> bool:
        return self._loaded

    def activated(self) -> None:
        if self._loaded:
            self.load()
        self.table.setFocus()

    def keyPressEvent(self, event: Any) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self.accept_selected()
        elif key == Qt.Key.Key_Delete and self.table.hasFocus():
            self.ignore_selected()
        else:
            super().keyPressEvent(event)

    def commands(self) -> list[Command]:
        return [
            Command("review.accept", "Accept selected correspondents", self.accept_selected,
                    "", "check", "Review"),
            Command("review.ignore", "Ignore selected correspondents", self.ignore_selected,
                    "", "close", "Review"),
            Command("review.all", "Select every correspondent shown", self.table.selectAll,
                    "", "review", "Review"),
        ]  # fmt: skip


class SidebarCount:
    """Keeps the "Review queue" sidebar entry's text showing the pending count."""

    def __init__(self, ctx: UiContext, item: QListWidgetItem, title: str, owner: QWidget) -> None:
        self.ctx = ctx
        self.item = item
        self.title = title
        self.owner = owner
        self.count: int | None = None
        Refresher(ctx, ("review",), self.refresh, owner)
        QTimer.singleShot(0, self.refresh)  # a count on the worker (sqlite3 only): at once

    def refresh(self) -> None:
        if not isValid(self.owner) or self.ctx.window is None or self.ctx.runner.closed:
            return  # the book closed before the first count
        services = self.ctx.services

        # Through My Day's service (sqlite3 only), reached on the worker: the review
        # service imports SQLAlchemy (~1 s), which at start-up held the interpreter while
        # My Day was being painted.
        def pending() -> int:
            return services.myday.review_count()

        self.ctx.read(
            pending,
            self._show,
            owner=self.owner,
            key=f"review-count-{id(self)}",
        )

    def _show(self, pending: int) -> None:
        self.count = pending
        self.item.setText(f"  {self.title}" + (f"   {pending:,}" if pending else ""))
        self.item.setToolTip(
            f"{self.title}: {plural(pending, 'correspondent')} waiting" if pending else self.title
        )


__all__ = ["AcceptDialog", "ReviewPage", "SidebarCount", "company_text"]
