"""The Team page: the team's shared picture, read from what was shared.

- status: which server, as whom, TLS, last sync, pending changes, the last error, and
  *Sync now* (on the network pool: the UI never waits); a mass-delete guard shows its
  question here with *Sync anyway*;
- shared accounts across the team, and for the selected one who knows whom there;
- the pipeline by rep and stage; the team's feedback themes;
- conflicts to resolve; what I share (preview, change the level, stop sharing);
- when the book is not connected: the form to connect (the password goes to the keyring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import ago, money, plural, when
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    Qt,
    QTabWidget,
    QTimer,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.style import icon
from relbook.ui.team.conflicts import ConflictsPanel
from relbook.ui.team.sharing import SHORT, SharingDialog
from relbook.ui.widgets import Card, EmptyState, button, chip, clear_layout, label

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

AUTO_SYNC_MS = 5 * 60_000
FIRST_SYNC_MS = 3_000  # after the app started: what waited offline goes out
ID_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_KINDS = ("team", "share", "company", "person", "deal", "interaction", "feedback")


@dataclass
class TeamData:
    status: Any
    accounts: list[Any] = field(default_factory=list)
    pipeline: list[Any] = field(default_factory=list)
    themes: list[Any] = field(default_factory=list)
    conflicts: list[Any] = field(default_factory=list)
    shared: list[Any] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)


def load_team_data(services: Any) -> TeamData:
    team = services.team
    status = team.status()
    data = TeamData(status, shared=services.sharing.shared())
    if status.connected:
        data.accounts = team.shared_accounts()
        data.pipeline = team.pipeline_by_rep()
        data.themes = team.feedback_themes()
        data.conflicts = team.conflicts()
        data.members = team.members()
    return data


def _amounts(amounts: dict[str, int]) -> str:
    return ", ".join(money(v, c) for c, v in sorted(amounts.items())) or "—"


def _tree(columns: list[str], name: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(name)
    tree.setColumnCount(len(columns))
    tree.setHeaderLabels(columns)
    tree.setRootIsDecorated(False)
    tree.setAlternatingRowColors(True)
    tree.setUniformRowHeights(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return tree


def _fit(tree: QTreeWidget) -> None:
    for column in range(tree.columnCount()):
        tree.resizeColumnToContents(column)
        tree.setColumnWidth(column, min(tree.columnWidth(column) + 12, 320))


class TeamPage(Page):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.data: TeamData | None = None
        self.syncing = False
        self._loaded = False
        self._account_id = ""
        self._sync_when_loaded = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 14, 24, 16)
        outer.setSpacing(10)

        # -------------------------------------------------------------- status
        self.status_card = Card("Team server", icon_name="team")
        self.status_card.setObjectName("teamStatus")
        self.status_chip = chip("", "chip")
        self.status_card.header.addWidget(self.status_chip)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedSize(90, 8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status_card.header.addWidget(self.busy)
        self.sync_button = button("Sync now", self.sync_now, kind="primary", icon_name="sync")
        self.sync_button.setObjectName("syncNow")
        self.status_card.header.addWidget(self.sync_button)
        self.status_text = label("", "muted", wrap=True, selectable=True)
        self.status_text.setObjectName("teamStatusText")
        self.status_card.body.addWidget(self.status_text)
        self.error_text = label("", "error", wrap=True, selectable=True)
        self.error_text.setObjectName("teamError")
        self.error_text.hide()
        self.status_card.body.addWidget(self.error_text)
        self.question = QFrame()
        self.question.setProperty("role", "banner")
        self.question.setObjectName("guardQuestion")
        q = QHBoxLayout(self.question)
        q.setContentsMargins(12, 8, 12, 8)
        texts = QVBoxLayout()
        self.question_text = label("", wrap=True)
        self.question_text.setObjectName("guardQuestionText")
        texts.addWidget(self.question_text)
        texts.addWidget(
            label(
                "Nothing has been sent or removed yet. “Sync anyway” goes ahead; until you "
                "choose, automatic syncs wait.",
                "muted",
                wrap=True,
            )
        )
        q.addLayout(texts, 1)
        self.anyway = button("Sync anyway", lambda: self.sync_now(confirm=True), kind="primary")
        self.anyway.setObjectName("syncAnyway")
        q.addWidget(self.anyway)
        self.question.hide()
        self.status_card.body.addWidget(self.question)
        outer.addWidget(self.status_card)

        # ------------------------------------------------------------- connect
        self.connect_card = Card("Connect this book to your team server", icon_name="link")
        self.connect_card.setObjectName("teamConnect")
        self.connect_card.body.addWidget(
            label(
                "Your team's PostgreSQL server. Ask your team admin for the address and your "
                "role (relbook team add-rep). The password is kept in the system keyring, "
                "never in the book. Add ?sslmode=verify-full to check the server's "
                "certificate and name.",
                "muted",
                wrap=True,
            )
        )
        self.dsn = QLineEdit()
        self.dsn.setObjectName("teamDsn")
        self.dsn.setPlaceholderText("postgresql://you@team.example.com/relbook?sslmode=verify-full")
        self.read_dsn = QLineEdit()
        self.read_dsn.setObjectName("teamReadDsn")
        self.read_dsn.setPlaceholderText("optional: a read replica to receive from")
        self.password = QLineEdit()
        self.password.setObjectName("teamPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("your role's password (goes to the keyring)")
        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setHorizontalSpacing(12)
        form.addRow("Server address", self.dsn)
        form.addRow("Read replica", self.read_dsn)
        form.addRow("Password", self.password)
        self.connect_card.body.addLayout(form)
        row = QHBoxLayout()
        connect = button("Connect", self.connect_server, kind="primary", icon_name="link")
        connect.setObjectName("teamConnectButton")
        row.addWidget(connect)
        self.connect_result = label("", "error", wrap=True)
        self.connect_result.setObjectName("teamConnectResult")
        row.addWidget(self.connect_result, 1)
        self.connect_card.body.addLayout(row)
        self.connect_card.hide()
        outer.addWidget(self.connect_card)

        # ---------------------------------------------------------------- tabs
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        accounts = QWidget()
        a = QVBoxLayout(accounts)
        a.setContentsMargins(0, 8, 0, 0)
        self.accounts = _tree(
            [
                "Account",
                "People",
                "Open deals",
                "Open amount",
                "Interactions",
                "Last contact",
                "Shared by",
            ],
            "teamAccounts",
        )
        self.accounts.currentItemChanged.connect(self._account_selected)
        self.accounts.itemDoubleClicked.connect(
            lambda item, _c: self.ctx.open_entity("company", item.data(0, ID_ROLE))
        )
        a.addWidget(self.accounts, 3)
        self.knows_title = label("Who knows whom", "h3")
        a.addWidget(self.knows_title)
        self.knows = _tree(["Person", "Title", "Who on the team talks to them"], "teamKnows")
        self.knows.itemDoubleClicked.connect(
            lambda item, _c: self.ctx.open_entity("person", item.data(0, ID_ROLE))
        )
        a.addWidget(self.knows, 2)
        self.tabs.addTab(accounts, icon("companies", "muted"), "Shared accounts")
        self.pipeline = _tree(["Rep"], "teamPipeline")
        self.tabs.addTab(self.pipeline, icon("pipeline", "muted"), "Pipeline by rep")
        self.themes = _tree(
            ["Topic", "Subject", "Mentions", "Mood", "Reps", "Accounts", "Latest"],
            "teamThemes",
        )
        self.tabs.addTab(self.themes, icon("feedback", "muted"), "Feedback themes")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.conflicts = ConflictsPanel(ctx)
        scroll.setWidget(self.conflicts)
        self.conflicts_index = self.tabs.addTab(scroll, icon("warning", "muted"), "Conflicts")
        mine = QWidget()
        m = QVBoxLayout(mine)
        m.setContentsMargins(0, 8, 0, 0)
        self.shared_with = label("", "muted", wrap=True)
        self.shared_with.setObjectName("sharedWith")
        m.addWidget(self.shared_with)
        self.shared = _tree(["Item", "Kind", "Interactions", "Shared", "State"], "teamShared")
        self.shared.itemDoubleClicked.connect(lambda item, _c: self.preview_selected())
        m.addWidget(self.shared, 1)
        row = QHBoxLayout()
        preview = button("What does my team see?", self.preview_selected, icon_name="search")
        preview.setObjectName("previewShared")
        row.addWidget(preview)
        stop = button("Stop sharing", self.unshare_selected, kind="danger", icon_name="close")
        stop.setObjectName("unshareSelected")
        row.addWidget(stop)
        row.addStretch(1)
        m.addLayout(row)
        self.tabs.addTab(mine, icon("team", "muted"), "What I share")
        self.empty = QWidget()
        self.empty_layout = QVBoxLayout(self.empty)
        outer.addWidget(self.tabs, 1)
        outer.addWidget(self.empty, 1)
        self.empty.hide()

        Refresher(ctx, REFRESH_KINDS, self.load, self)
        self.timer = QTimer(self)
        self.timer.setInterval(AUTO_SYNC_MS)
        self.timer.timeout.connect(self._auto_sync)
        self.timer.start()
        self.load()

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        services = self.ctx.services
        self.ctx.read(
            lambda: load_team_data(services), self._show, owner=self, key=f"team-{id(self)}"
        )

    def _show(self, data: TeamData) -> None:
        self.data = data
        self._show_status(data)
        connected = data.status.connected
        self.connect_card.setVisible(not connected)
        self.tabs.setVisible(connected)
        self.empty.setVisible(not connected)
        if not connected:
            clear_layout(self.empty_layout)
            self.empty_layout.addWidget(
                EmptyState(
                    "team",
                    "No team server yet",
                    f"You share {plural(data.status.shared_roots, 'item')}. Nothing leaves "
                    "this laptop until the book is connected, and then only what you share.",
                )
            )
            self.empty_layout.addStretch(1)
        else:
            self._fill_accounts(data)
            self._fill_pipeline(data)
            self._fill_themes(data)
            self.conflicts.show_conflicts(data.conflicts, data.members)
            count = len(data.conflicts)
            self.tabs.setTabText(
                self.conflicts_index, f"Conflicts ({count})" if count else "Conflicts"
            )
            self._fill_shared(data)
        self._loaded = True
        if self._sync_when_loaded:
            self._sync_when_loaded = False
            self._auto_sync()

    def _show_status(self, data: TeamData) -> None:
        s = data.status
        self.sync_button.setVisible(s.connected)
        self.sync_button.setEnabled(not self.syncing)
        self.busy.setVisible(self.syncing)
        if not s.connected:
            self._chip("not connected", warn=True)
            self.status_text.setText("This book is not connected to a team server.")
            self.error_text.hide()
            self.question.hide()
            return
        if self.syncing:
            state = "syncing…"
        elif s.pending_question:
            state = "waiting for you"
        else:
            state = "error" if s.last_error else "connected"
        self._chip(state, warn=bool(s.last_error or s.pending_question) and not self.syncing)
        last = (
            f"last sync {ago(s.last_sync_at)} (sent {s.last_pushed}, received {s.last_pulled})"
            if s.last_sync_at
            else "never synced"
        )
        lines = [
            f"Team “{s.team_name}” on {s.server} as {s.role}",
            f"Connection: {s.tls} · password in: {s.password_where}",
            f"{last.capitalize()} · {plural(s.pending_changes, 'change')} waiting to be sent · "
            f"you share {plural(s.shared_roots, 'item')} · "
            f"{plural(s.team_rows, 'team row')} in your book",
        ]
        if s.open_conflicts:
            lines.append(f"{plural(s.open_conflicts, 'conflict')} to resolve (Conflicts tab).")
        self.status_text.setText("\n".join(lines))
        # While a sync runs, the error and the guard's question belong to the attempt being
        # made: they show again (or not) once it has finished.
        if s.last_error and not s.pending_question and not self.syncing:
            self.error_text.setText(f"Last error ({when(s.last_error_at)}): {s.last_error}")
            self.error_text.show()
        else:
            self.error_text.hide()
        self.question_text.setText(s.pending_question)
        self.question.setVisible(bool(s.pending_question) and not self.syncing)

    def _chip(self, text: str, *, warn: bool) -> None:
        self.status_chip.setText(text)
        self.status_chip.setProperty("role", "warnchip" if warn else "chip")
        self.status_chip.style().unpolish(self.status_chip)
        self.status_chip.style().polish(self.status_chip)
        self.status_chip.adjustSize()

    def _fill_accounts(self, data: TeamData) -> None:
        self.accounts.blockSignals(True)
        self.accounts.clear()
        current = None
        for a in data.accounts:
            item = QTreeWidgetItem(
                [
                    a.name,
                    str(a.people),
                    str(a.open_deals),
                    _amounts(a.open_amount),
                    str(a.interactions),
                    ago(a.last_interaction_at) if a.last_interaction_at else "—",
                    ", ".join(a.shared_by) or "—",
                ]
            )
            item.setData(0, ID_ROLE, a.company_id)
            self.accounts.addTopLevelItem(item)
            if current is None or a.company_id == self._account_id:
                current = item
        self.accounts.blockSignals(False)
        _fit(self.accounts)
        if current is not None:
            self.accounts.setCurrentItem(current)
            self._account_selected(current, None)
        else:
            self.knows.clear()
            self.knows_title.setText("Who knows whom")

    def _account_selected(self, item: QTreeWidgetItem | None, _previous: Any) -> None:
        if item is None:
            return
        company_id = str(item.data(0, ID_ROLE))
        self._account_id = company_id
        self.knows_title.setText(f"Who knows whom at {item.text(0)}")
        team = self.ctx.services.team
        self.ctx.read(
            lambda: team.who_knows_whom(company_id),
            self._fill_knows,
            owner=self,
            key=f"team-knows-{id(self)}",
        )

    def _fill_knows(self, people: list[Any]) -> None:
        self.knows.clear()
        for person in people:
            reps = "; ".join(
                f"{c.rep_name} ({plural(c.interactions, 'interaction')}"
                + (f", last {ago(c.last_at)}" if c.last_at else "")
                + (", shared them" if c.shared_person else "")
                + ")"
                for c in person.reps
            )
            item = QTreeWidgetItem([person.name, person.title or "—", reps or "nobody yet"])
            item.setData(0, ID_ROLE, person.person_id)
            self.knows.addTopLevelItem(item)
        _fit(self.knows)

    def _fill_pipeline(self, data: TeamData) -> None:
        stages: list[tuple[str, int, str]] = []
        for cell in data.pipeline:
            key = (cell.pipeline, cell.stage_position, cell.stage)
            if key not in stages:
                stages.append(key)
        stages.sort()
        several = len({s[0] for s in stages}) > 1  # then a stage says which pipeline
        columns = ["Rep", *[f"{s[0]} · {s[2]}" if several else s[2] for s in stages], "Total"]
        self.pipeline.clear()
        self.pipeline.setColumnCount(len(columns))
        self.pipeline.setHeaderLabels(columns)
        reps: dict[str, dict[tuple[str, int, str], Any]] = {}
        for cell in data.pipeline:
            reps.setdefault(cell.rep_name, {})[(cell.pipeline, cell.stage_position, cell.stage)] = (
                cell
            )
        for rep in sorted(reps, key=str.lower):
            cells = reps[rep]
            total_deals = 0
            total: dict[str, int] = {}
            texts = [rep]
            for stage in stages:
                cell = cells.get(stage)
                if cell is None:
                    texts.append("")
                    continue
                total_deals += cell.deals
                for currency, amount in cell.amounts.items():
                    total[currency] = total.get(currency, 0) + amount
                texts.append(f"{cell.deals} · {_amounts(cell.amounts)}")
            texts.append(f"{total_deals} · {_amounts(total)}")
            self.pipeline.addTopLevelItem(QTreeWidgetItem(texts))
        if not reps:
            self.pipeline.addTopLevelItem(QTreeWidgetItem(["No shared deals yet"]))
        _fit(self.pipeline)

    def _fill_themes(self, data: TeamData) -> None:
        self.themes.clear()
        for t in data.themes:
            mood = ", ".join(f"{k} {v}" for k, v in sorted(t.sentiments.items()))
            self.themes.addTopLevelItem(
                QTreeWidgetItem(
                    [
                        t.topic,
                        t.subject or "—",
                        str(t.mentions),
                        mood,
                        ", ".join(t.reps),
                        ", ".join(t.companies) or "—",
                        f"“{t.latest_quote}”" if t.latest_quote else "—",
                    ]
                )
            )
        if not data.themes:
            self.themes.addTopLevelItem(QTreeWidgetItem(["No shared feedback yet"]))
        _fit(self.themes)

    def _fill_shared(self, data: TeamData) -> None:
        names = ", ".join(sorted(data.members.values())) or "no one yet"
        self.shared_with.setText(
            f"Shared with team “{data.status.team_name}” — {names}. Everything else in your "
            "book is private. Double-click an item to see what your team sees of it."
        )
        self.shared.clear()
        for s in data.shared:
            item = QTreeWidgetItem(
                [
                    s.label,
                    s.entity_type,
                    SHORT.get(s.level, s.level),
                    ago(s.shared_at),
                    "on the team server" if s.on_server else "goes out at the next sync",
                ]
            )
            item.setData(0, ID_ROLE, (s.entity_type, s.entity_id))
            self.shared.addTopLevelItem(item)
        if data.shared:
            self.shared.setCurrentItem(self.shared.topLevelItem(0))
        else:
            empty = QTreeWidgetItem(
                ["You share nothing yet: use Share on a company, person or deal (its 360° view)"]
            )
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.shared.addTopLevelItem(empty)
        _fit(self.shared)

    # ------------------------------------------------------------------ actions
    def sync_now(self, *, confirm: bool = False) -> None:
        if self.syncing or self.data is None or not self.data.status.connected:
            return
        self.syncing = True
        self.sync_button.setEnabled(False)
        self.busy.show()
        self._chip("syncing…", warn=False)
        self.question.hide()
        team = self.ctx.services.team
        self.ctx.network(
            lambda: team.sync(confirm=confirm),
            self._synced,
            self._sync_failed,
            owner=self,
            label="team sync",
        )

    def _synced(self, report: Any) -> None:
        self.syncing = False
        text = f"Team sync: sent {report.pushed}, received {report.pulled}"
        if report.conflicts:
            text += f"; {plural(report.conflicts, 'conflict')} to resolve"
        self.ctx.status(text + ".")
        self.load()

    def _sync_failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError

        self.syncing = False
        self.load()  # the status card shows the error or the guard's question
        return isinstance(error, UserError)

    def start_background(self, first_sync_ms: int = FIRST_SYNC_MS) -> None:
        """Sync soon after the app started (edits made offline go out), then every few
        minutes — whether or not the rep opens this page (the window calls this)."""
        self.timer.start()
        QTimer.singleShot(first_sync_ms, self, self._first_sync)  # dropped with the page

    def _first_sync(self) -> None:
        if self.data is None:
            self._sync_when_loaded = True  # still loading: _show starts it
            return
        self._auto_sync()

    def _auto_sync(self) -> None:
        status = self.data.status if self.data is not None else None
        if status is not None and status.connected and not status.pending_question:
            self.sync_now()  # a guard's question waits for the rep: no automatic retry

    def connect_server(self) -> None:
        dsn, read_dsn = self.dsn.text().strip(), self.read_dsn.text().strip()
        password = self.password.text() or None
        if not dsn:
            self.connect_result.setText("Enter the team server's address.")
            return
        self.connect_result.setText("Connecting…")
        team = self.ctx.services.team
        self.ctx.network(
            lambda: team.connect(dsn, password, read_dsn=read_dsn),
            self._connected,
            self._connect_failed,
            owner=self,
            label="team connect",
        )

    def _connected(self, _status: Any) -> None:
        self.password.clear()
        self.connect_result.setText("")
        self.load()

    def _connect_failed(self, error: BaseException) -> bool:
        from relbook.domain.errors import UserError

        if isinstance(error, UserError):
            remedy = getattr(error, "remedy", "")
            self.connect_result.setText(f"{error.message} {remedy}".strip())
            return True
        return False

    def _selected_share(self) -> tuple[str, str] | None:
        item = self.shared.currentItem()
        if item is None:
            return None
        value = item.data(0, ID_ROLE)
        return (str(value[0]), str(value[1])) if value else None

    def preview_selected(self) -> SharingDialog | None:
        chosen = self._selected_share()
        if chosen is None:
            return None
        dialog = SharingDialog(self.ctx, chosen[0], chosen[1], self)
        dialog.open()
        return dialog

    def unshare_selected(self) -> None:
        chosen = self._selected_share()
        if chosen is None:
            return
        sharing = self.ctx.services.sharing
        self.ctx.write(lambda: sharing.unshare(*chosen), None, label="unshare")

    # ------------------------------------------------------------------- page
    def is_loaded(self) -> bool:
        return self._loaded

    def activated(self) -> None:
        if self._loaded:
            self.load()

    def commands(self) -> list[Command]:
        return [
            Command("team.sync", "Sync with the team now", self.sync_now, "", "sync", "Team"),
        ]
