"""Customer 360°: one person, company or deal — header, timeline, deals, tasks, notes,
custom fields, feedback, and for a company its people and their affiliations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import KIND_ICONS, ago, money, plural, when
from relbook.ui.pages import Command, Page
from relbook.ui.popups import BADGE, PAYLOAD, RIGHT, SUBTITLE, TwoLineDelegate
from relbook.ui.qt import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    Qt,
    QTabWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.style import icon
from relbook.ui.widgets import (
    ElidedLabel,
    EmptyState,
    avatar,
    button,
    chips,
    clear_layout,
    label,
)

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

TIMELINE_KINDS = (
    ("All", None),
    ("E-mail", ("email",)),
    ("Meetings", ("meeting",)),
    ("Calls", ("call",)),
    ("Notes", ("note",)),
    ("Offers", ("offer",)),
    ("Stages", ("stage",)),
    ("Tasks", ("task",)),
)
PAGE_SIZE = 200


@dataclass
class Snapshot:
    """Everything the 360° view shows except the timeline (loaded in one background read)."""

    kind: str
    detail: Any
    deals: list[Any] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    feedback: list[Any] = field(default_factory=list)
    fields: list[Any] = field(default_factory=list)
    people: list[Any] = field(default_factory=list)  # affiliations (company) / deal people
    affiliations: list[Any] = field(default_factory=list)  # a person's job history


def load_snapshot(services: Any, kind: str, entity_id: str) -> Snapshot:
    if kind == "person":
        detail = services.people.detail(entity_id)
        return Snapshot(
            kind,
            detail,
            deals=services.deals.for_person(entity_id),
            tasks=services.tasks.for_entity(entity_id),
            notes=services.notes.for_entity(entity_id),
            feedback=services.feedback.for_entity(entity_id),
            fields=services.fields.definitions("person"),
            affiliations=services.affiliations.of_person(entity_id),
        )
    if kind == "company":
        detail = services.companies.detail(entity_id)
        return Snapshot(
            kind,
            detail,
            deals=services.deals.for_company(entity_id),
            tasks=services.tasks.for_entity(entity_id),
            notes=services.notes.for_entity(entity_id),
            feedback=services.feedback.for_entity(entity_id),
            fields=services.fields.definitions("company"),
            people=services.affiliations.of_company(entity_id),
        )
    detail = services.deals.detail(entity_id)
    return Snapshot(
        kind,
        detail,
        tasks=services.tasks.for_entity(entity_id),
        notes=services.notes.for_entity(entity_id),
        feedback=services.feedback.for_entity(entity_id),
        fields=services.fields.definitions("deal"),
        people=list(detail.people),
    )


class TimelineView(QWidget):
    """Every interaction, note, stage move and finished task, newest first."""

    loaded = Signal(int)

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.entity_id: str | None = None
        self.kinds: tuple[str, ...] | None = None
        self.entries: list[Any] = []
        self.exhausted = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.kind_buttons: list[QPushButton] = []
        for title, kinds in TIMELINE_KINDS:
            chip = QPushButton(title)
            chip.setProperty("kind", "chip")
            chip.setCheckable(True)
            chip.setChecked(kinds is None)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.clicked.connect(lambda _=False, k=kinds, c=chip: self._choose_kind(k, c))
            self.kind_buttons.append(chip)
            bar.addWidget(chip)
        bar.addStretch(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search this timeline…")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search", "muted"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMaximumWidth(280)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        bar.addWidget(self.search)
        layout.addLayout(bar)
        self.list = QListWidget()
        self.list.setObjectName("timeline")
        self.list.setItemDelegate(TwoLineDelegate(self.list))
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._open)
        self.list.itemDoubleClicked.connect(self._open)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.verticalScrollBar().valueChanged.connect(self._maybe_more)
        layout.addWidget(self.list, 1)

    def show_entity(self, entity_id: str) -> None:
        self.entity_id = entity_id
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._choose_kind(None, self.kind_buttons[0], reload=False)
        self.reload()

    def _choose_kind(
        self, kinds: tuple[str, ...] | None, chip: QPushButton, *, reload: bool = True
    ) -> None:
        self.kinds = kinds
        for other in self.kind_buttons:
            other.setChecked(other is chip)
        if reload:
            self.reload()

    def reload(self) -> None:
        self._load(before=None)

    def _load(self, before: Any) -> None:
        if self.entity_id is None:
            return
        timeline = self.ctx.services.timeline
        entity_id, kinds, text = self.entity_id, self.kinds, self.search.text().strip() or None
        self.ctx.read(
            lambda: timeline.for_entity(
                entity_id, kinds=kinds, text=text, before=before, limit=PAGE_SIZE
            ),
            lambda entries: self._show(entries, append=before is not None),
            owner=self,
            key=f"timeline-{id(self)}-{'more' if before else 'first'}",
        )

    def _show(self, entries: list[Any], *, append: bool) -> None:
        if not append:
            self.list.clear()
            self.entries = []
        self.exhausted = len(entries) < PAGE_SIZE
        self.entries += entries
        for entry in entries:
            item = QListWidgetItem(entry.title)
            subtitle = entry.snippet
            if entry.duration_minutes:
                subtitle = f"{entry.duration_minutes} min · {subtitle}"
            if entry.direction in ("inbound", "outbound") and entry.entry_type == "interaction":
                arrow = "← from them" if entry.direction == "inbound" else "→ from you"
                subtitle = f"{arrow} · {subtitle}" if subtitle else arrow
            item.setData(SUBTITLE, subtitle or " ")
            item.setData(RIGHT, when(entry.occurred_at))
            item.setData(PAYLOAD, entry)
            if entry.reason:
                item.setData(BADGE, entry.reason)
                item.setToolTip(f"Linked because: {entry.reason} ({entry.origin or 'auto'})")
            item.setIcon(icon(KIND_ICONS.get(entry.kind, "sparkle"), "accent"))
            self.list.addItem(item)
        if not self.entries:
            item = QListWidgetItem("Nothing here yet — log a call or a meeting with Ctrl+L")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        self.loaded.emit(len(self.entries))

    def _maybe_more(self, value: int) -> None:
        bar = self.list.verticalScrollBar()
        if not self.exhausted and self.entries and value >= bar.maximum() - 40:
            self.exhausted = True  # until the page arrives
            self._load(before=self.entries[-1].occurred_at)

    def _open(self, item: QListWidgetItem) -> None:
        entry = item.data(PAYLOAD)
        if entry is None:
            return
        if entry.entry_type == "interaction":
            self.ctx.open_entity("interaction", entry.id)
        elif entry.entry_type == "note":
            self.ctx.open_entity("note", entry.id)
        elif entry.entry_type == "task":
            self.ctx.open_entity("task", entry.id)

    def _menu(self, pos: Any) -> None:
        item = self.list.itemAt(pos)
        entry = item.data(PAYLOAD) if item is not None else None
        if entry is None:
            return
        menu = QMenu(self)
        menu.addAction(icon("open"), "Open").triggered.connect(lambda: self._open(item))
        if entry.entry_type == "interaction":
            why = menu.addAction(icon("link"), f"Why here: {entry.reason or 'linked'}")
            why.setEnabled(False)
            menu.addAction(icon("link"), "Re-link…").triggered.connect(
                lambda: self.relink(entry.id)
            )
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def relink(self, interaction_id: str) -> None:
        from relbook.ui.dialogs.relink import RelinkDialog

        RelinkDialog(self.ctx, interaction_id, self).open()


class CustomerPage(Page):
    """The 360° of whatever ``open_entity`` was given."""

    snapshot_loaded = Signal()

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.kind = ""
        self.entity_id = ""
        self.snapshot: Snapshot | None = None
        self._loaded = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        outer.setSpacing(14)
        self.header = QFrame()
        self.header.setProperty("role", "card")
        self.header_layout = QHBoxLayout(self.header)
        self.header_layout.setContentsMargins(20, 16, 20, 16)
        self.header_layout.setSpacing(16)
        outer.addWidget(self.header)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.timeline = TimelineView(ctx)
        self.tabs.addTab(self.timeline, icon("clock", "muted"), "Timeline")
        self.deals_tab = self._list_tab()
        self.tasks_tab = self._list_tab()
        self.notes_tab = self._list_tab()
        self.fields_tab = QWidget()
        self.fields_grid = QGridLayout(self.fields_tab)
        self.fields_grid.setContentsMargins(6, 14, 6, 6)
        self.fields_grid.setHorizontalSpacing(24)
        self.fields_grid.setVerticalSpacing(10)
        self.feedback_tab = self._list_tab()
        self.people_tab = self._list_tab()
        outer.addWidget(self.tabs, 1)
        Refresher(
            ctx,
            (
                "person",
                "company",
                "deal",
                "task",
                "note",
                "feedback",
                "interaction",
                "affiliation",
                "field_def",
                "tag",
                "stage",
            ),
            self.refresh,
            self,
        )

    def _list_tab(self) -> QListWidget:
        widget = QListWidget()
        widget.setItemDelegate(TwoLineDelegate(widget))
        widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        widget.itemActivated.connect(self._open_item)
        widget.itemDoubleClicked.connect(self._open_item)
        return widget

    # ---------------------------------------------------------------- loading
    def open_entity(self, kind: str, entity_id: str) -> None:
        same = (kind, entity_id) == (self.kind, self.entity_id)
        self.kind, self.entity_id = kind, entity_id
        self._loaded = False
        if not same:
            self.tabs.setCurrentIndex(0)
        self.timeline.show_entity(entity_id)
        self.refresh()

    def refresh(self) -> None:
        if not self.entity_id:
            return
        services = self.ctx.services
        kind, entity_id = self.kind, self.entity_id
        self.ctx.read(
            lambda: load_snapshot(services, kind, entity_id),
            self._show,
            self._gone,
            owner=self,
            key=f"customer-{id(self)}",
        )
        if self._loaded:
            self.timeline.reload()

    def _gone(self, error: BaseException) -> bool:
        from relbook.domain.errors import NotFoundError

        if isinstance(error, NotFoundError):
            clear_layout(self.header_layout)
            self.header_layout.addWidget(
                EmptyState("warning", "This item was deleted", "Press Ctrl+Z to bring it back.")
            )
            self._loaded = True
            return True
        return False

    def _show(self, snapshot: Snapshot) -> None:
        if snapshot.detail.id != self.entity_id:
            return
        self.snapshot = snapshot
        self._build_header(snapshot)
        self._fill_tabs(snapshot)
        self._loaded = True
        self.snapshot_loaded.emit()

    # ---------------------------------------------------------------- header
    def _build_header(self, s: Snapshot) -> None:
        clear_layout(self.header_layout)
        d = s.detail
        if s.kind == "person":
            name, seed = d.display_name, d.id
        elif s.kind == "company":
            name, seed = d.name, d.id
        else:
            name, seed = d.title, d.id
        self.header_layout.addWidget(avatar(name, 64, seed), 0, Qt.AlignmentFlag.AlignTop)
        info = QVBoxLayout()
        info.setSpacing(4)
        title = label(name, "h1", selectable=True)
        title.setObjectName("customerName")
        info.addWidget(title)
        if s.kind == "person":
            role = " · ".join(x for x in (d.title, d.company_name) if x)
            if d.company_id:
                link = label(
                    f'{d.title + " at " if d.title else ""}<a href="company">{d.company_name}</a>',
                    "muted",
                )
                link.setTextFormat(Qt.TextFormat.RichText)
                link.linkActivated.connect(
                    lambda _h, cid=d.company_id: self.ctx.open_entity("company", cid)
                )
                info.addWidget(link)
            elif role:
                info.addWidget(label(role, "muted"))
            contact = "   ".join([e.value for e in d.emails[:2]] + [p.value for p in d.phones[:2]])
            if contact:
                info.addWidget(label(contact, "muted", selectable=True))
        elif s.kind == "company":
            facts = [x for x in (d.industry, ", ".join(d.domains[:3]), d.website) if x]
            if d.parent_name:
                facts.append(f"part of {d.parent_name}")
            if facts:
                info.addWidget(label(" · ".join(facts), "muted", wrap=True, selectable=True))
            values = []
            if d.current_value_minor is not None:
                values.append(f"value {money(d.current_value_minor, d.currency)}")
            if d.potential_value_minor is not None:
                values.append(f"potential {money(d.potential_value_minor, d.currency)}")
            values.append(plural(d.people_count, "person", "people"))
            info.addWidget(label(" · ".join(values), "muted"))
        else:
            link = label(
                f'<a href="company">{d.company_name}</a> · ' if d.company_id else "", "muted"
            )
            link.setTextFormat(Qt.TextFormat.RichText)
            link.linkActivated.connect(
                lambda _h, cid=d.company_id: self.ctx.open_entity("company", cid)
            )
            row = QHBoxLayout()
            row.setSpacing(6)
            if d.company_id:
                row.addWidget(link)
            row.addWidget(
                label(
                    f"{d.pipeline_name} → <b>{d.stage_name}</b> for {plural(d.days_in_stage, 'day')}"
                    + (" · stuck" if d.stale else ""),
                    "muted",
                )
            )
            row.addStretch(1)
            info.addLayout(row)
            amount = (
                money(d.amount_minor, d.currency) if d.amount_minor is not None else "no amount"
            )
            weighted = money(d.weighted_minor, d.currency) if d.weighted_minor is not None else ""
            info.addWidget(
                label(
                    f"{amount} · {d.probability}%"
                    + (f" · weighted {weighted}" if weighted else "")
                    + (f" · closes {d.expected_close}" if d.expected_close else ""),
                    "muted",
                )
            )
        if getattr(d, "tags", ()):
            info.addSpacing(2)
            info.addWidget(chips(d.tags))
        info.addStretch(1)
        self.header_layout.addLayout(info, 1)
        right = QVBoxLayout()
        right.setSpacing(12)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        edit = button("Edit", self.edit, icon_name="edit", tip="Edit (Ctrl+E)")
        edit.setObjectName("editButton")
        actions.addWidget(edit)
        log_button = button("Log", icon_name="call")
        menu = QMenu(log_button)
        for kind_name, title in (
            ("call", "Call"),
            ("meeting", "Meeting"),
            ("note", "Note"),
            ("offer", "Offer"),
        ):
            menu.addAction(icon(KIND_ICONS[kind_name]), title).triggered.connect(
                lambda _=False, k=kind_name: self._quick_log(k)
            )
        log_button.setMenu(menu)
        actions.addWidget(log_button)
        more = button("More", icon_name="more")
        more_menu = QMenu(more)
        more_menu.addAction(icon("tasks"), "New task").triggered.connect(lambda: self._new("task"))
        more_menu.addAction(icon("note"), "New note").triggered.connect(lambda: self._new("note"))
        if s.kind != "deal":
            more_menu.addAction(icon("deals"), "New deal").triggered.connect(
                lambda: self._new("deal")
            )
        if s.kind == "company":
            more_menu.addAction(icon("person"), "New person here").triggered.connect(
                lambda: self._new("person")
            )
        more_menu.addAction(icon("feedback"), "Record feedback").triggered.connect(self.feedback)
        more_menu.addSeparator()
        more_menu.addAction(icon("trash"), "Delete").triggered.connect(self.delete)
        more.setMenu(more_menu)
        actions.addWidget(more)
        from relbook.ui.team.sharing import SharingButton  # sharing with the team (issue 6)

        actions.addWidget(SharingButton(self.ctx, s.kind, d.id))
        right.addLayout(actions)
        if s.kind in ("person", "company"):
            strength_row = QHBoxLayout()
            strength_row.addStretch(1)
            strength_row.addWidget(self._strength_box(d))
            right.addLayout(strength_row)
        right.addStretch(1)
        self.header_layout.addLayout(right)

    def _strength_box(self, d: Any) -> QWidget:
        box = QWidget()
        box.setObjectName("strengthBox")
        box.setFixedWidth(260)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        strength = d.strength
        head = QHBoxLayout()
        head.addWidget(label("Relationship", "section"))
        head.addStretch(1)
        score = label(f"{strength:.0f}/100" if strength is not None else "not known yet", "h3")
        score.setObjectName("strengthScore")
        head.addWidget(score)
        why = label('<a href="why" style="text-decoration:none">Why?</a>', "small")
        why.setObjectName("strengthWhy")
        why.setTextFormat(Qt.TextFormat.RichText)
        why.setToolTip("Every relationship metric, and how the score is computed")
        why.linkActivated.connect(lambda _href: self._why(d.id))
        head.addWidget(why)
        layout.addLayout(head)
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setValue(int(strength or 0))
        bar.setTextVisible(False)
        bar.setFixedHeight(8)
        bar.setToolTip("Relationship strength: recency, frequency and reciprocity of your contact")
        layout.addWidget(bar)
        facts = f"last touch {ago(d.last_touch_at)} · " + plural(d.touch_count, "touch", "touches")
        layout.addWidget(ElidedLabel(facts, "small"))
        if d.rhythm_days:
            layout.addWidget(ElidedLabel(f"usually every {d.rhythm_days:.0f} days", "small"))
        return box

    def _why(self, entity_id: str) -> None:
        """The relationship card: last (two-way) touch, rhythm, drift, reciprocity, trend,
        breadth, cadence and the strength score's components (insight, issue 5)."""
        from relbook.ui.insights.relationship import show_relationship

        show_relationship(self.ctx, entity_id, self)

    # ---------------------------------------------------------------- tabs
    def _set_tab(
        self, widget: QWidget, title: str, icon_name: str, count: int | None, show: bool = True
    ) -> None:
        index = self.tabs.indexOf(widget)
        text = f"{title} ({count})" if count else title
        if show and index < 0:
            self.tabs.addTab(widget, icon(icon_name, "muted"), text)
        elif not show and index >= 0:
            self.tabs.removeTab(index)
        elif index >= 0:
            self.tabs.setTabText(index, text)

    def _fill_tabs(self, s: Snapshot) -> None:
        for widget in (
            self.deals_tab,
            self.tasks_tab,
            self.notes_tab,
            self.feedback_tab,
            self.people_tab,
            self.fields_tab,
        ):
            index = self.tabs.indexOf(widget)
            if index >= 0:
                self.tabs.removeTab(index)
        if s.kind == "company":
            self._fill_people(s)
            self._set_tab(self.people_tab, "People", "people", len(s.people))
        if s.kind == "deal":
            self._fill_deal_people(s)
            self._set_tab(self.people_tab, "People", "people", len(s.people))
        if s.kind != "deal":
            self._fill_deals(s)
            self._set_tab(self.deals_tab, "Deals", "deals", len(s.deals))
        self._fill_tasks(s)
        self._set_tab(
            self.tasks_tab, "Tasks", "tasks", sum(1 for t in s.tasks if t.done_at is None)
        )
        self._fill_notes(s)
        self._set_tab(self.notes_tab, "Notes", "note", len(s.notes))
        self._fill_feedback(s)
        self._set_tab(self.feedback_tab, "Feedback", "feedback", len(s.feedback))
        self._fill_fields(s)
        self._set_tab(self.fields_tab, "Fields", "edit", None)
        if s.kind == "person" and s.affiliations:
            self._fill_affiliations(s)

    def _row(
        self,
        widget: QListWidget,
        title: str,
        subtitle: str,
        icon_name: str,
        payload: Any,
        right: str = "",
    ) -> None:
        item = QListWidgetItem(title)
        item.setData(SUBTITLE, subtitle or " ")
        item.setData(PAYLOAD, payload)
        item.setData(RIGHT, right)
        item.setIcon(icon(icon_name, "accent"))
        widget.addItem(item)

    def _empty(self, widget: QListWidget, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        widget.addItem(item)

    def _fill_deals(self, s: Snapshot) -> None:
        self.deals_tab.clear()
        for deal in s.deals:
            amount = (
                money(deal.amount_minor, deal.currency) if deal.amount_minor is not None else ""
            )
            subtitle = f"{deal.stage_name} · {deal.days_in_stage} days in stage" + (
                " · stuck" if deal.stale else ""
            )
            if deal.status != "open":
                subtitle = f"{deal.status} · {deal.lost_reason or deal.won_reason}"
            self._row(self.deals_tab, deal.title, subtitle, "deals", ("deal", deal.id), amount)
        if not s.deals:
            self._empty(self.deals_tab, "No deals yet — More ▸ New deal")

    def _fill_tasks(self, s: Snapshot) -> None:
        self.tasks_tab.clear()
        for task in s.tasks:
            status = "done" if task.done_at else ("overdue" if task.overdue else "")
            subtitle = " · ".join(x for x in (status, task.details.split("\n")[0]) if x)
            self._row(
                self.tasks_tab,
                task.title,
                subtitle,
                "check" if task.done_at else "tasks",
                ("task", task.id),
                when(task.due_at) if task.due_at else "",
            )
        if not s.tasks:
            self._empty(self.tasks_tab, "No tasks — Ctrl+T adds one")

    def _fill_notes(self, s: Snapshot) -> None:
        self.notes_tab.clear()
        for note in s.notes:
            lines = note.body.strip().splitlines() or [""]
            title = lines[0][:120]
            subtitle = " ".join(" ".join(lines[1:]).split())[:200]
            if note.private:
                subtitle = "private · " + subtitle
            if note.pinned:  # an emoji pin would need a colour-emoji font: a star icon instead
                subtitle = "pinned · " + subtitle
            self._row(
                self.notes_tab,
                title,
                subtitle,
                "star" if note.pinned else "note",
                ("note", note.id),
                when(note.occurred_at),
            )
        if not s.notes:
            self._empty(self.notes_tab, "No notes — Ctrl+L, N writes one")

    def _fill_feedback(self, s: Snapshot) -> None:
        self.feedback_tab.clear()
        for fb in s.feedback:
            title = f"{fb.topic}: {fb.subject}" if fb.subject else fb.topic
            subtitle = (
                f"{fb.sentiment} · “{' '.join(fb.quote.split())}”" if fb.quote else fb.sentiment
            )
            self._row(
                self.feedback_tab,
                title,
                subtitle,
                "feedback",
                ("feedback", fb.id),
                when(fb.occurred_at),
            )
        if not s.feedback:
            self._empty(self.feedback_tab, "No feedback recorded — More ▸ Record feedback")

    def _fill_people(self, s: Snapshot) -> None:
        self.people_tab.clear()
        for a in s.people:
            period = (
                f"since {a.start_date}"
                if a.start_date and a.current
                else (f"{a.start_date or '?'} – {a.end_date}" if not a.current else "")
            )
            subtitle = " · ".join(
                x for x in (a.role, a.department, period, "" if a.current else "former") if x
            )
            self._row(self.people_tab, a.person_name, subtitle, "person", ("person", a.person_id))
        if not s.people:
            self._empty(self.people_tab, "Nobody here yet — More ▸ New person here")

    def _fill_deal_people(self, s: Snapshot) -> None:
        self.people_tab.clear()
        for person_id, name, role in s.people:
            self._row(self.people_tab, name, role, "person", ("person", person_id))
        if not s.people:
            self._empty(self.people_tab, "No people on this deal — Edit adds them")

    def _fill_affiliations(self, s: Snapshot) -> None:
        # A person's job history goes under their fields.
        row = self.fields_grid.rowCount()
        self.fields_grid.addWidget(label("Work history", "section"), row, 0, 1, 2)
        for a in s.affiliations:
            row += 1
            period = f"{a.start_date or '?'} – {a.end_date or 'now'}"
            text = f'<a href="x">{a.company_name}</a>' + (f" · {a.role}" if a.role else "")
            link = label(text)
            link.setTextFormat(Qt.TextFormat.RichText)
            link.linkActivated.connect(
                lambda _h, cid=a.company_id: self.ctx.open_entity("company", cid)
            )
            self.fields_grid.addWidget(label(period, "muted"), row, 0)
            self.fields_grid.addWidget(link, row, 1)

    def _fill_fields(self, s: Snapshot) -> None:
        clear_layout(self.fields_grid)
        d = s.detail
        rows: list[tuple[str, str]] = []
        if s.kind == "person":
            rows += [
                ("E-mail", ", ".join(e.value for e in d.emails)),
                ("Phone", ", ".join(p.value for p in d.phones)),
                ("Birthday", d.birthday or ""),
                ("Keep in touch", f"every {d.cadence_days} days" if d.cadence_days else "learned"),
                ("Added", when(d.created_at)),
            ]
            if d.addresses:
                a = d.addresses[0]
                rows.append(
                    (
                        "Address",
                        ", ".join(x for x in (a.street, a.postcode, a.locality, a.country) if x),
                    )
                )
            if d.about:
                rows.append(("About", d.about))
        elif s.kind == "company":
            rows += [
                ("Domains", ", ".join(d.domains)),
                ("Website", d.website),
                ("Industry", d.industry),
                ("Employees", f"{d.employees:,}" if d.employees else ""),
            ]
            if d.about:
                rows.append(("About", d.about))
        else:
            rows += [("Competitors", ", ".join(d.competitors)), ("Description", d.description)]
            if d.lost_reason:
                rows.append(("Lost because", d.lost_reason))
            if d.won_reason:
                rows.append(("Won because", d.won_reason))
        for definition in s.fields:
            value = d.custom.get(definition.key)
            if isinstance(value, list):
                value = ", ".join(value)
            elif definition.field_type == "money" and isinstance(value, int):
                value = money(value, definition.currency or getattr(d, "currency", "") or "EUR")
            rows.append((definition.label, "" if value is None else str(value)))
        for index, (caption, value) in enumerate(rows):
            cap = label(caption, "muted")
            cap.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            self.fields_grid.addWidget(cap, index, 0)
            self.fields_grid.addWidget(label(value or "—", wrap=True, selectable=True), index, 1)
        self.fields_grid.setColumnStretch(1, 1)
        self.fields_grid.setRowStretch(len(rows) + 50, 1)

    def _open_item(self, item: QListWidgetItem) -> None:
        payload = item.data(PAYLOAD)
        if not payload:
            return
        kind, entity_id = payload
        if kind == "feedback":
            from relbook.ui.dialogs.feedback import edit_feedback

            edit_feedback(self.ctx, self, entity_id, None)
        else:
            self.ctx.open_entity(kind, entity_id)

    # ---------------------------------------------------------------- actions
    def edit(self) -> None:
        from relbook.ui.editors import open_editor

        if self.entity_id:
            open_editor(self.ctx, self, self.kind, self.entity_id)

    def _new(self, kind: str) -> None:
        from relbook.ui import editors

        editors.new(self.ctx, self, kind, (self.kind, self.entity_id))

    def _quick_log(self, kind: str) -> None:
        from relbook.ui.dialogs.quicklog import QuickLogDialog

        QuickLogDialog(self.ctx, kind, (self.kind, self.entity_id), self).open()

    def feedback(self) -> None:
        from relbook.ui.dialogs.feedback import edit_feedback

        edit_feedback(self.ctx, self, None, {f"{self.kind}_id": self.entity_id})

    def delete(self) -> None:
        from relbook.ui.views.lists import delete_entities

        if self.entity_id:
            delete_entities(self.ctx, self.kind, [self.entity_id])

    def context_entity(self) -> tuple[str, str] | None:
        return (self.kind, self.entity_id) if self.entity_id else None

    def is_loaded(self) -> bool:
        return self._loaded

    def commands(self) -> list[Command]:
        if not self.entity_id:
            return []
        noun = self.kind
        return [
            Command(
                "customer.edit", f"Edit this {noun}", self.edit, "Ctrl+E", "edit", noun.title()
            ),
            Command(
                "customer.task",
                f"New task for this {noun}",
                lambda: self._new("task"),
                "",
                "tasks",
                noun.title(),
            ),
            Command(
                "customer.feedback", "Record feedback", self.feedback, "", "feedback", noun.title()
            ),
            Command(
                "customer.timeline",
                "Search this timeline",
                self.timeline.search.setFocus,
                "",
                "search",
                noun.title(),
            ),
            Command(
                "customer.delete", f"Delete this {noun}", self.delete, "", "trash", noun.title()
            ),
        ]
