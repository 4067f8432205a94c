"""My Day: meetings today and tomorrow with their briefings, follow-ups due and
overdue, people going cold, the review queue — with inline done, snooze, log, open.

The data is one background read of ``services.myday.load()`` (sqlite3 only: this page is
the first paint at start-up).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import ago, day_label, local, money, plural, time_of_day, when
from relbook.ui.keyed import KeyedColumn, Wanted
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    isValid,
)
from relbook.ui.widgets import (
    SIDEBAR_WIDTH,
    Card,
    ElidedLabel,
    EmptyState,
    avatar,
    button,
    label,
    tool,
)

if TYPE_CHECKING:
    from relbook.services.insight.briefing import MeetingBriefing
    from relbook.services.myday import FollowUp, MyDay
    from relbook.ui.context import UiContext

SNOOZE_COLD_DAYS = 14
PREFETCH_KEY = "myday"
# At most one My Day read per this interval: a sync lands a page of mail every second or
# so, and My Day reads a hundred milliseconds' worth each time (a quiet change: at once).
REFRESH_MS = 3000
# Meetings briefed before the first paint (the rest are read after it), and the left-column
# cards the first paint makes at once: today's heading and those meetings.
FIRST_SCREEN_MEETINGS = 3
FIRST_SCREEN_CARDS = FIRST_SCREEN_MEETINGS + 1
POINT_LABELS = {"promise": "Promised", "todo": "To do", "question": "Open question"}


def _link(text: str, on_click: Any, role: str = "") -> QLabel:
    widget = label(f'<a href="x" style="text-decoration:none">{_esc(text)}</a>', role)
    widget.setTextFormat(Qt.TextFormat.RichText)
    widget.linkActivated.connect(lambda _h: on_click())
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    return widget


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def prefetch(ctx: UiContext) -> None:
    """My Day's first screen, read while the window builds its shell (start-up): the
    first meetings' briefings only; the page reads the rest after its first paint."""
    services = ctx.services
    ctx.prefetch(PREFETCH_KEY, lambda: services.myday.load(briefings=FIRST_SCREEN_MEETINGS))


class MyDayPage(Page):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.data: MyDay | None = None
        self._loaded = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        self._scroll = scroll
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        holder = QWidget()
        scroll.setWidget(holder)
        page = QVBoxLayout(holder)
        page.setContentsMargins(28, 20, 28, 28)
        page.setSpacing(16)
        self.greeting = label("", "h1")
        self.summary = label("", "muted", wrap=True)
        page.addWidget(self.greeting)
        page.addWidget(self.summary)
        columns = QHBoxLayout()
        columns.setSpacing(18)
        self.left = QVBoxLayout()
        self.left.setSpacing(14)
        self.right = QVBoxLayout()
        self.right.setSpacing(14)
        left_box = QWidget()
        left_box.setLayout(self.left)
        self._left_box = left_box
        right_box = QWidget()
        right_box.setLayout(self.right)
        right_box.setMinimumWidth(330)
        right_box.setMaximumWidth(470)
        # The columns' widths come from the window, not from their cards: a card added
        # or remade changes only the heights below it, never re-flows every label on the
        # page (hundreds of moves and resizes per card at a busy day's size).
        for box in (left_box, right_box):
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        columns.addWidget(left_box, 3)
        columns.addWidget(right_box, 2)
        page.addLayout(columns)
        page.addStretch(1)
        self._shown_width = 0
        self._resized = QTimer(self)
        self._resized.setSingleShot(True)
        self._resized.setInterval(100)
        self._resized.timeout.connect(self._reflow)
        self._left = KeyedColumn(self.left, self)
        self._right = KeyedColumn(self.right, self)
        self.greeting.setText("My Day")
        Refresher(
            ctx,
            (
                "interaction",
                "task",
                "person",
                "company",
                "deal",
                "note",
                "feedback",
                "review",
                "setting",
            ),
            self.load,
            self,
            min_interval_ms=REFRESH_MS,
        )
        self.load()

    def load(self) -> None:
        # Start-up: the window asked for the first screen's data while it built its shell.
        if self.data is None and self.ctx.take_prefetched(
            PREFETCH_KEY, self._show_if_alive, self._read
        ):
            return
        self._read()

    def _read(self) -> None:
        services = self.ctx.services
        briefings = FIRST_SCREEN_MEETINGS if self.data is None else None

        # The service is reached on the worker: its first use imports the insight
        # package (~0.2 s), which must not hold up the UI thread at start-up.
        def work() -> MyDay:
            return services.myday.load(briefings=briefings)

        self.ctx.read(work, self._show, owner=self, key=f"myday-{id(self)}")

    def _show_if_alive(self, data: MyDay) -> None:
        if isValid(self):
            self._show(data)

    def activated(self) -> None:
        if self._loaded:
            self.load()

    def is_loaded(self) -> bool:
        complete = self.data is not None and self.data.complete
        busy = self._left.busy() or self._right.busy() or self._resized.isActive()
        return self._loaded and complete and not busy

    def first_screen_shown(self) -> bool:
        return self._loaded

    # ---------------------------------------------------------------- render
    def _show(self, data: MyDay) -> None:
        first = self.data is None
        self.data = data
        hour = local(data.generated_at).hour
        part = "morning" if hour < 12 else ("afternoon" if hour < 18 else "evening")
        self.greeting.setText(f"Good {part}")
        facts = [
            f"{data.today:%A} {data.today.day} {data.today:%B}",
            plural(data.meetings_today_count, "meeting") + " today",
        ]
        if data.overdue_count:
            facts.append(f"{data.overdue_count:,} overdue")
        if data.due_today_count:
            facts.append(f"{data.due_today_count:,} due today")
        if data.going_cold:
            facts.append(f"{len(data.going_cold)} going cold")
        self.summary.setText(" · ".join(facts))

        # Each card is kept while its data (and the day its relative dates count from)
        # stays the same: a sync landing mail rebuilds only the cards it changed.
        left: list[Wanted] = []
        line_width = self._shown_width = self._line_width()
        for name, day, meetings, count in (
            ("today", data.today, data.meetings_today, data.meetings_today_count),
            (
                "tomorrow",
                data.today + timedelta(days=1),
                data.meetings_tomorrow,
                data.meetings_tomorrow_count,
            ),
        ):
            heading = f"{day_label(day, data.today)} — {plural(count, 'meeting')}"
            left.append(Wanted(f"heading-{name}", heading, lambda h=heading: label(h, "h2")))
            if not count:
                left.append(Wanted(f"empty-{name}", None, self._no_meetings))
            for meeting in meetings:
                left.append(
                    Wanted(
                        f"meeting-{name}-{meeting.interaction_id}-{meeting.starts_at}",
                        (data.today, meeting, line_width),
                        lambda m=meeting: self._briefing(m, line_width),
                    )
                )
        right = [
            Wanted(
                "follow-ups",
                (
                    data.today,
                    data.overdue,
                    data.due_today,
                    data.overdue_count,
                    data.due_today_count,
                ),
                lambda: self._follow_ups(data),
            ),
            Wanted("going-cold", (data.today, data.going_cold), lambda: self._going_cold(data)),
            Wanted("review", data.review_count, lambda: self._review(data)),
        ]
        if data.next_contacts:
            right.append(Wanted("next", data.next_contacts, lambda: self._next_contacts(data)))
        if data.keep_warm:
            right.append(Wanted("keep-warm", data.keep_warm, lambda: self._keep_warm(data)))
        # The first paint shows the first screen at once (the right column and today's
        # first meetings); the cards below the fold follow a slice of the event loop each.
        self._left.show(left, now=FIRST_SCREEN_CARDS if first else 0)
        self._right.show(right, now=len(right) if first else 0)
        self._loaded = True
        if not data.complete:
            self.load()  # the other meetings' briefings

    def _no_meetings(self) -> QWidget:
        card = Card()
        card.body.addWidget(
            EmptyState(
                "meeting",
                "No meetings",
                "A calm day: a good moment for the people going cold.",
            )
        )
        return card

    def _line_width(self) -> int:
        """How wide a briefing line may be: half a meeting card, in steps of 40 px down (a
        resize that changes it remakes the cards)."""
        if self.isVisible() and self._left_box.width() > 100:
            left = self._left_box.width()
        else:  # not laid out yet (start-up): from the window, as the columns will share it
            sidebar = SIDEBAR_WIDTH if self.window() is not self else 0
            avail = (self.window().width() - sidebar - 16) - 2 * 28 - 18
            right = min(470, max(330, avail * 2 // 5))
            left = avail - right
        line = (left - 2 * 16 - 18) // 2  # the card's padding, its two columns
        return max(120, line // 40 * 40)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.data is not None and self._line_width() != self._shown_width:
            self._resized.start()  # once the resizing stops

    def _reflow(self) -> None:
        if self.data is not None:
            self._show(self.data)

    def _sections(self, sections: list[tuple[str, list[str]]], width: int) -> QLabel:
        """A briefing's sections (a title, a few lines each) as one label, each line cut
        with … to ``width`` (the lines cut are the tooltip).

        One widget, not one per line, and none word-wrapped: a busy day's thousand labels
        made every layout pass measure all their text again, and each widget's every
        event crossed into Python — with a sync working on another thread, each crossing
        waits its turn for the interpreter (the window froze ~0.5 s per card added)."""
        from relbook.ui.style import theme

        widget = QLabel()
        widget.setTextFormat(Qt.TextFormat.RichText)
        widget.ensurePolished()  # the style sheet's font, which the lines are measured in
        metrics = widget.fontMetrics()
        muted = theme().muted
        parts: list[str] = []
        cut: list[str] = []
        for title, lines in sections:
            parts.append(
                f'<div style="color:{muted}; font-size:8.5pt; font-weight:700;'
                f' margin-top:4px">{_esc(title)}</div>'
            )
            for line in lines:
                shown = metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
                if shown != line:
                    cut.append(line)
                parts.append(f"<div>{_esc(shown)}</div>")
        widget.setText("".join(parts))
        if cut:
            widget.setToolTip("\n".join(cut))
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return widget

    def _briefing(self, m: MeetingBriefing, line_width: int = 300) -> QWidget:
        card = Card()
        card.setObjectName("briefing")
        top = QHBoxLayout()
        top.setSpacing(12)
        times = label(
            "all day"
            if m.all_day
            else f"{time_of_day(m.starts_at)}"
            + (f"–{time_of_day(m.ends_at)}" if m.ends_at else ""),
            "h3",
        )
        times.setMinimumWidth(92)
        top.addWidget(times, 0, Qt.AlignmentFlag.AlignTop)
        head = QVBoxLayout()
        head.setSpacing(2)
        head.addWidget(
            _link(
                m.subject or "(no subject)",
                lambda: self.ctx.open_entity("interaction", m.interaction_id),
                "h3",
            )
        )
        where = [m.location] if m.location else []
        if m.status == "cancelled":
            where.append("cancelled")
        if m.companies:
            where.append(", ".join(c.name for c in m.companies))
        if where:
            head.addWidget(label(" · ".join(where), "muted"))
        top.addLayout(head, 1)
        top.addWidget(tool("note", "Log notes from this meeting", lambda: self._log("meeting", m)))
        card.body.addLayout(top)

        people = QHBoxLayout()
        people.setSpacing(14)
        for attendee in m.attendees[:6]:
            if attendee.status == "colleague":
                continue
            box = QHBoxLayout()
            box.setSpacing(6)
            name = attendee.name or attendee.address
            box.addWidget(avatar(name, 28, attendee.person_id or attendee.address))
            text = QVBoxLayout()
            text.setSpacing(0)
            if attendee.person_id:
                text.addWidget(
                    _link(name, lambda pid=attendee.person_id: self.ctx.open_entity("person", pid))
                )
            else:
                text.addWidget(label(name + (" · new" if attendee.status == "unknown" else "")))
            sub = attendee.title or (attendee.company.name if attendee.company else "")
            if attendee.strength is not None:
                sub = (
                    f"{sub} · strength {attendee.strength:.0f}"
                    if sub
                    else f"strength {attendee.strength:.0f}"
                )
            if sub:
                text.addWidget(label(sub, "small"))
            box.addLayout(text)
            people.addLayout(box)
        people.addStretch(1)
        card.body.addLayout(people)

        sections: list[tuple[str, list[str]]] = []
        if m.last_interactions:
            sections.append(
                (
                    "Last contact",
                    [
                        f"{when(i.occurred_at)} · {i.kind} · {i.subject}"
                        for i in m.last_interactions[:3]
                    ],
                )
            )
        if m.deals:
            sections.append(
                (
                    "Open deals",
                    [
                        f"{d.title} — {d.stage_name}"
                        + (
                            f", {d.days_in_stage} days in stage"
                            if d.days_in_stage is not None
                            else ""
                        )
                        + (
                            " (stuck)"
                            if d.stale_after_days and (d.days_in_stage or 0) > d.stale_after_days
                            else ""
                        )
                        + (
                            f" · {money(d.amount_minor, d.currency, compact=True)}"
                            if d.amount_minor
                            else ""
                        )
                        for d in m.deals[:4]
                    ],
                )
            )
        if m.tasks:
            sections.append(
                (
                    "Open tasks",
                    [
                        f"{t.title}"
                        + (
                            " — overdue"
                            if t.overdue
                            else (f" — due {when(t.due_at)}" if t.due_at else "")
                        )
                        for t in m.tasks[:4]
                    ],
                )
            )
        if m.open_points:
            points: list[str] = []
            for point in m.open_points:
                line = f"{POINT_LABELS.get(point.kind, point.kind)}: {_short(point.text, 130)}"
                if line not in points:
                    points.append(line)
            sections.append(("Open points", points[:3]))
        if m.notes:
            sections.append(
                (
                    "Notes",
                    [
                        ("Pinned · " if n.pinned else "") + _short(n.snippet, 130)
                        for n in m.notes[:3]
                    ],
                )
            )
        if m.feedback:
            sections.append(
                (
                    "Feedback",
                    [f"{f.who}: {f.topic} {f.subject} ({f.sentiment})" for f in m.feedback[:3]],
                )
            )
        if sections:
            grid = QHBoxLayout()
            grid.setSpacing(18)
            grid.addWidget(self._sections(sections[0::2], line_width), 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(self._sections(sections[1::2], line_width), 1, Qt.AlignmentFlag.AlignTop)
            card.body.addLayout(grid)
        elif not m.attendees:
            card.body.addWidget(label("No attendees known for this meeting.", "muted"))
        return card

    def _follow_ups(self, data: MyDay) -> QWidget:
        items = list(data.overdue) + list(data.due_today)
        total = data.overdue_count + data.due_today_count
        card = Card(f"Follow-ups ({total:,})", icon_name="tasks")
        card.setObjectName("followUps")
        if not items:
            card.body.addWidget(label("Nothing due. Ctrl+T adds a follow-up.", "muted"))
        for item in items[:12]:
            card.body.addWidget(self._follow_up_row(item))
        if total > 12:
            card.body.addWidget(
                _link(f"All {total:,} follow-ups…", lambda: self.ctx.show_page("tasks"), "small")
            )
        return card

    def _follow_up_row(self, item: FollowUp) -> QWidget:
        from relbook.ui.style import icon

        row = QWidget()
        row.setObjectName("followUp")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(6)
        done = QPushButton()
        done.setObjectName("doneButton")
        done.setProperty("kind", "flat")
        done.setIcon(icon("check", "muted"))
        done.setToolTip("Mark done (Ctrl+Z undoes)")
        done.setCursor(Qt.CursorShape.PointingHandCursor)
        done.clicked.connect(lambda: self.complete(item.task_id, item.title))
        layout.addWidget(done)
        text = QVBoxLayout()
        text.setSpacing(0)
        title = ElidedLabel(item.title, clickable=True)
        title.clicked.connect(lambda: self._open_task(item.task_id))
        text.addWidget(title)
        about = item.person or item.company or item.deal
        due = "overdue since " + when(item.due_at) if item.overdue else "due today"
        sub = f"{about.name} · {due}" if about else due
        text.addWidget(ElidedLabel(sub, "overdue" if item.overdue else "small"))
        layout.addLayout(text, 1)
        layout.addWidget(
            tool("snooze", "Snooze until tomorrow", lambda: self.snooze_task(item.task_id))
        )
        if about is not None:
            layout.addWidget(
                tool(
                    "open",
                    f"Open {about.name}",
                    lambda: self.ctx.open_entity(about.entity_type, about.id),
                )
            )
        return row

    def _going_cold(self, data: MyDay) -> QWidget:
        card = Card(f"Going cold ({len(data.going_cold)})", icon_name="cold")
        card.setObjectName("goingCold")
        if not data.going_cold:
            card.body.addWidget(label("Everyone is within their usual rhythm.", "muted"))
        for entry in data.going_cold:
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 2, 0, 2)
            layout.setSpacing(8)
            layout.addWidget(avatar(entry.name, 28, entry.id))
            text = QVBoxLayout()
            text.setSpacing(0)
            name = ElidedLabel(entry.name, clickable=True)
            name.clicked.connect(lambda e=entry: self.ctx.open_entity(e.entity_type, e.id))
            text.addWidget(name)
            detail = f"last touch {ago(entry.last_touch_at)}"
            if entry.company and entry.entity_type == "person":
                detail = f"{entry.company.name} · {detail}"
            sub = ElidedLabel(detail, "small")
            text.addWidget(sub)
            row.setToolTip(entry.reason)
            layout.addLayout(text, 1)
            layout.addWidget(
                tool(
                    "call",
                    "Log a call",
                    lambda e=entry: self._log_with("call", e.entity_type, e.id),
                )
            )
            if entry.entity_type == "person":
                layout.addWidget(
                    tool(
                        "snooze",
                        f"Snooze {SNOOZE_COLD_DAYS} days",
                        lambda e=entry: self.snooze_person(e.id, e.name),
                    )
                )
            card.body.addWidget(row)
        return card

    def _review(self, data: MyDay) -> QWidget:
        card = Card("Review queue", icon_name="review")
        card.setObjectName("reviewCard")
        row = QHBoxLayout()
        count = label(str(data.review_count), "big")
        row.addWidget(count)
        row.addWidget(
            label(
                "new correspondents wait for you"
                if data.review_count != 1
                else "new correspondent waits for you",
                "muted",
                wrap=True,
            ),
            1,
        )
        if data.review_count:
            row.addWidget(button("Review", lambda: self.ctx.show_page("review"), kind="primary"))
        card.body.addLayout(row)
        return card

    def _next_contacts(self, data: MyDay) -> QWidget:
        card = Card("Contact next", icon_name="sparkle")
        for entry in data.next_contacts[:5]:
            row = QWidget()
            row.setToolTip(entry.reason)  # the whole why; one line of it shows
            column = QVBoxLayout(row)
            column.setContentsMargins(0, 2, 0, 2)
            column.setSpacing(0)
            name = ElidedLabel(entry.name, clickable=True)
            name.clicked.connect(lambda e=entry: self.ctx.open_entity(e.entity_type, e.id))
            column.addWidget(name)
            column.addWidget(ElidedLabel(entry.reason, "small"))
            card.body.addWidget(row)
        card.body.addWidget(
            _link(
                "All of them, with why, in Insights…",
                lambda: self.ctx.show_page("insights"),
                "small",
            )
        )
        return card

    def _keep_warm(self, data: MyDay) -> QWidget:
        """People of lost deals: keep them warm with a cadence instead of dropping them."""
        from relbook.ui.insights.actions import accept_keep_warm, dismiss_keep_warm

        card = Card(f"Keep warm ({len(data.keep_warm)})", icon_name="lost")
        card.setObjectName("keepWarm")
        for proposal in data.keep_warm[:5]:
            row = QWidget()
            row.setToolTip(proposal.reason)
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 2, 0, 2)
            layout.setSpacing(8)
            text = QVBoxLayout()
            text.setSpacing(0)
            name = ElidedLabel(proposal.person.name, clickable=True)
            name.clicked.connect(lambda p=proposal: self.ctx.open_entity("person", p.person.id))
            text.addWidget(name)
            text.addWidget(
                ElidedLabel(
                    f"'{proposal.deal.name}' lost · every {proposal.cadence_days} days?", "small"
                )
            )
            layout.addLayout(text, 1)
            layout.addWidget(
                tool(
                    "check",
                    f"Keep in touch every {proposal.cadence_days} days",
                    lambda p=proposal: accept_keep_warm(self.ctx, [p]),
                )
            )
            layout.addWidget(
                tool("close", "No, thanks", lambda p=proposal: dismiss_keep_warm(self.ctx, [p]))
            )
            card.body.addWidget(row)
        if len(data.keep_warm) > 5:
            card.body.addWidget(
                _link(
                    f"All {len(data.keep_warm)} in Insights…",
                    lambda: self.ctx.show_page("insights"),
                    "small",
                )
            )
        return card

    # ---------------------------------------------------------------- actions
    def complete(self, task_id: str, title: str) -> None:
        tasks = self.ctx.services.tasks

        def done(_r: object) -> None:
            self.ctx.undo.push(f"Done: {title}", lambda: tasks.reopen([task_id]))

        self.ctx.write(lambda: tasks.complete([task_id]), done, label="complete task")

    def snooze_task(self, task_id: str) -> None:
        tasks = self.ctx.services.tasks
        tomorrow = (
            datetime.combine(datetime.now().date() + timedelta(days=1), time(8, 0))
            .astimezone()
            .astimezone(UTC)
        )
        self.ctx.write(
            lambda: tasks.snooze(task_id, tomorrow),
            lambda _r: self.ctx.status("Snoozed until tomorrow"),
            label="snooze task",
        )

    def snooze_person(self, person_id: str, name: str) -> None:
        people = self.ctx.services.people
        until = datetime.now(UTC) + timedelta(days=SNOOZE_COLD_DAYS)

        def done(_r: object) -> None:
            self.ctx.undo.push(
                f"Snoozed {name} for {SNOOZE_COLD_DAYS} days",
                lambda: people.snooze(person_id, None),
            )

        self.ctx.write(lambda: people.snooze(person_id, until), done, label="snooze person")

    def _open_task(self, task_id: str) -> None:
        self.ctx.open_entity("task", task_id)

    def _log(self, kind: str, meeting: MeetingBriefing) -> None:
        person = next((a.person_id for a in meeting.attendees if a.person_id), None)
        if person:
            self._log_with(kind, "person", person)
        elif meeting.companies:
            self._log_with(kind, "company", meeting.companies[0].id)
        else:
            self._log_with(kind, "", "")

    def _log_with(self, kind: str, entity_type: str, entity_id: str) -> None:
        from relbook.ui.dialogs.quicklog import QuickLogDialog

        target = (entity_type, entity_id) if entity_id else None
        QuickLogDialog(self.ctx, kind, target, self).open()

    def commands(self) -> list[Command]:
        return [Command("myday.refresh", "Refresh My Day", self.load, "F5", "myday", "My Day")]
