"""Sync status and accounts: each mailbox or calendar with its state, last success, items
seen vs stored, last error, offline/retry and any question waiting for the rep (the
large-delete guard: Go on / Cancel); Sync now / Cancel with progress; add, edit, pause,
remove; and the scheduler that syncs due accounts in the background.

The scheduler (``SyncScheduler``) ticks on a QTimer and asks ``services.sync`` which
accounts are due (every account's own N minutes; an offline or throttled one only once
its ``retry_at`` has passed). Every sync runs on the task runner's network pool, never
on the UI thread. Automatic syncs are quiet: being offline is shown on the account's card
("offline — will retry"), not in a message each minute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import ago, plural, when
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QFrame,
    QHBoxLayout,
    QMessageBox,
    QObject,
    QProgressBar,
    QScrollArea,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.widgets import Card, EmptyState, button, chip, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.accounts import AccountStatus
    from relbook.services.sync import SyncOutcome, SyncProgress
    from relbook.ui.context import UiContext

SCHEDULE_MS = 60_000  # how often the scheduler looks for due accounts
FIRST_TICK_MS = 2_000  # the first look, shortly after the book opened
STATE_ROLES = {
    "ok": "chip",
    "running": "chip",
    "never": "warnchip",
    "offline": "warnchip",
    "question": "warnchip",
    "password": "warnchip",
    "disabled": "warnchip",
    "error": "warnchip",
}
QUIET = frozenset({"done", "cancelled", "offline", "busy", "disabled"})


class SyncScheduler(QObject):
    """Runs syncs in the background: due accounts on a timer, and on demand.

    One job per account (the service also locks across processes). Each job gets a
    ``CancelToken``; ``cancel`` stops it after the current page (what was committed stays).
    """

    progress = Signal(object)  # SyncProgress, emitted on the sync's thread (queued)
    started = Signal(str)  # account id
    finished = Signal(str, object)  # account id, SyncOutcome (or an exception)

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.running: dict[str, Any] = {}  # account id -> CancelToken
        self.manual: set[str] = set()  # runs the rep asked for (their outcome is told)
        self.last: dict[str, SyncOutcome] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(SCHEDULE_MS)
        self.timer.timeout.connect(self.sync_due)
        self._checking = False
        self._stopped = False

    def start(self, first_tick_ms: int = FIRST_TICK_MS) -> None:
        self._stopped = False
        self.timer.start()
        if first_tick_ms >= 0:
            QTimer.singleShot(first_tick_ms, self.sync_due)

    def stop(self) -> None:
        """Stop the timer and ask every running sync to stop."""
        self._stopped = True
        self.timer.stop()
        for token in self.running.values():
            token.cancel()

    def is_running(self, account_id: str) -> bool:
        return account_id in self.running

    def sync_due(self) -> None:
        """Start every due account (the timer's tick); the due check runs off the UI thread."""
        if self._stopped or self._checking or not self.timer.isActive():
            return  # stopped, already looking, or automatic sync switched off
        self._checking = True
        sync = self.ctx.services.sync

        def due(ids: list[str]) -> None:
            self._checking = False
            for account_id in ids:
                self.sync(account_id)

        def failed(_error: BaseException) -> bool:
            self._checking = False
            return False

        self.ctx.read(sync.due_accounts, due, failed, owner=self, label="due accounts")

    def sync(self, account_id: str, *, confirm: bool = False, manual: bool = False) -> bool:
        """Start syncing one account now; False when it is already running."""
        if self._stopped or account_id in self.running:
            return False
        from relbook.capture.sources.base import CancelToken

        sync = self.ctx.services.sync
        token = CancelToken()
        self.running[account_id] = token
        if manual:
            self.manual.add(account_id)
        emit = self.progress.emit

        def work() -> Any:
            if confirm:
                return sync.answer(account_id, True, cancel=token, progress=emit)
            return sync.run(account_id, cancel=token, progress=emit)

        self.ctx.network(
            work,
            lambda outcome: self._done(account_id, outcome),
            lambda error: self._failed(account_id, error),
            owner=self,
            label="sync",
        )
        self.started.emit(account_id)
        return True

    def cancel(self, account_id: str) -> bool:
        token = self.running.get(account_id)
        if token is None:
            return False
        token.cancel()
        return True

    def _done(self, account_id: str, outcome: SyncOutcome) -> None:
        self.running.pop(account_id, None)
        told = account_id in self.manual
        self.manual.discard(account_id)
        self.last[account_id] = outcome
        if told and outcome is not None and outcome.status not in QUIET:
            self.ctx.status(outcome.message or outcome.status)
        self.finished.emit(account_id, outcome)

    def _failed(self, account_id: str, error: BaseException) -> bool:
        self.running.pop(account_id, None)
        told = account_id in self.manual
        self.manual.discard(account_id)
        self.finished.emit(account_id, error)
        return not told  # a bug in an automatic run is logged, not shown in a dialog


class SyncPage(Page):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.statuses: list[AccountStatus] = []
        self._loaded = False
        self._bars: dict[str, tuple[QProgressBar, Any]] = {}
        self.persistent: bool | None = None
        self.scheduler = SyncScheduler(ctx, self)
        self.scheduler.progress.connect(self._on_progress)
        self.scheduler.started.connect(lambda _a: self.load())
        self.scheduler.finished.connect(lambda _a, _o: self.load())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 14, 24, 16)
        outer.setSpacing(10)
        top = QHBoxLayout()
        self.where = label("", "muted", wrap=True)
        self.where.setObjectName("passwordsWhere")
        top.addWidget(self.where, 1)
        top.addWidget(button("Sync all now", self.sync_all, icon_name="sync"))
        top.addWidget(button("Add account", self.add_account, kind="primary", icon_name="plus"))
        outer.addLayout(top)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self.list = QVBoxLayout(holder)
        self.list.setContentsMargins(0, 0, 8, 0)
        self.list.setSpacing(12)
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)
        Refresher(ctx, ("account",), self.load, self)
        self.scheduler.start()
        self.load()

    # back-compat names (the window stops pages with ``stop``; tests read ``timer``)
    @property
    def timer(self) -> QTimer:
        return self.scheduler.timer

    def load(self) -> None:
        accounts = self.ctx.services.accounts
        from relbook.ui.dialogs.account import keyring_state

        services = self.ctx.services
        self.ctx.read(
            lambda: (accounts.list(), keyring_state(services)),
            self._show,
            owner=self,
            key=f"accounts-{id(self)}",
            label="accounts",
        )

    def _show(self, loaded: tuple[list[AccountStatus], tuple[bool, str, str]]) -> None:
        statuses, (persistent, where, _why) = loaded
        self.statuses = statuses
        self.persistent = persistent
        self.where.setText(
            f"Passwords are kept in your {where}."
            if persistent
            else "No keyring on this computer: passwords are asked once each session and "
            "never written to disk."
        )
        clear_layout(self.list)
        self._bars = {}
        if not statuses:
            card = Card()
            card.body.addWidget(
                EmptyState(
                    "mailbox",
                    "No mailbox connected",
                    "Connect Exchange, an IMAP mailbox or a calendar: Relbook then logs every "
                    "mail and meeting with your customers by itself, in the background.",
                )
            )
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(button("Connect a mailbox or calendar", self.add_account, kind="primary"))
            row.addStretch(1)
            card.body.addLayout(row)
            self.list.addWidget(card)
        for status in statuses:
            self.list.addWidget(self._card(status))
        self.list.addStretch(1)
        self._loaded = True

    def card_texts(self, account_id: str) -> list[str]:
        """Every text on an account's card (tests read it)."""
        from relbook.ui.qt import QLabel

        for index in range(self.list.count()):
            widget = self.list.itemAt(index).widget()
            if widget is not None and widget.property("account") == account_id:
                return [w.text() for w in widget.findChildren(QLabel) if w.text()]
        return []

    def _card(self, s: AccountStatus) -> QWidget:
        card = Card()
        card.setObjectName(f"account:{s.name}")
        card.setProperty("account", s.id)
        running = self.scheduler.is_running(s.id) or s.state == "running"
        head = QHBoxLayout()
        head.addWidget(label(s.name, "h3"))
        head.addWidget(label(s.kind_label, "muted"))
        head.addStretch(1)
        state_text = "syncing…" if running else (s.state_text or s.state)
        if s.state == "error" and not running:
            state_text = "failed"
        head.addWidget(chip(state_text, "chip" if running else STATE_ROLES.get(s.state, "chip")))
        card.body.addLayout(head)
        facts = [f"last success {ago(s.last_success_at)}" if s.last_success_at else "never synced"]
        facts.append(f"{s.items_stored:,} stored of {s.items_seen:,} seen")
        if s.enabled and s.next_sync_at and not running:
            facts.append(f"next {when(s.next_sync_at)}")
        facts.append(f"every {s.interval_minutes} min · keeps {s.privacy}")
        card.body.addWidget(label(" · ".join(facts), "muted", wrap=True))
        if s.offline_since is not None and not running:
            retry = f"; next try {when(s.retry_at)}" if s.retry_at else ""
            card.body.addWidget(
                label(
                    f"Offline since {when(s.offline_since)}{retry}. Relbook waits quietly "
                    "and goes on where it stopped.",
                    "small",
                    wrap=True,
                )
            )
        elif s.retry_at is not None and not running:
            card.body.addWidget(
                label(f"The server asked to wait; next try {when(s.retry_at)}.", "small")
            )
        if s.last_error and s.state == "error":
            card.body.addWidget(
                label(f"Last error ({when(s.last_error_at)}): {s.last_error}", "error", wrap=True)
            )
        elif s.last_error:
            card.body.addWidget(
                label(f"Earlier ({when(s.last_error_at)}): {s.last_error}", "small", wrap=True)
            )
        if s.pending_question:
            card.body.addWidget(self._question(s))
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setFixedHeight(8)
        bar.setTextVisible(False)
        bar.setVisible(running)
        progress_text = label("", "small")
        progress_text.setVisible(running)
        card.body.addWidget(bar)
        card.body.addWidget(progress_text)
        self._bars[s.id] = (bar, progress_text)
        actions = QHBoxLayout()
        if running:
            actions.addWidget(
                button("Cancel", lambda _=False, a=s.id: self.cancel(a), icon_name="close")
            )
        elif s.state == "password":
            actions.addWidget(
                button(
                    "Enter password…",
                    lambda _=False, a=s: self.ask_password(a),
                    kind="primary",
                    icon_name="edit",
                )
            )
        else:
            sync_now = button("Sync now", lambda _=False, a=s.id: self.sync(a), icon_name="sync")
            sync_now.setEnabled(s.enabled and not s.pending_question)
            actions.addWidget(sync_now)
        actions.addWidget(
            button("Edit", lambda _=False, a=s.id: self.edit(a), kind="flat", icon_name="edit")
        )
        actions.addWidget(
            button(
                "Pause" if s.enabled else "Resume",
                lambda _=False, a=s.id, e=s.enabled: self.set_enabled(a, not e),
                kind="flat",
                icon_name="snooze" if s.enabled else "sync",
            )
        )
        actions.addStretch(1)
        actions.addWidget(
            button("Remove", lambda _=False, a=s: self.remove(a), kind="danger", icon_name="trash")
        )
        card.body.addLayout(actions)
        return card

    def _question(self, s: AccountStatus) -> QWidget:
        question = QFrame()
        question.setProperty("role", "banner")
        question.setObjectName("syncQuestion")
        q = QHBoxLayout(question)
        q.setContentsMargins(12, 8, 12, 8)
        q.addWidget(label(s.pending_question, wrap=True), 1)
        go_on = button(
            "Go on",
            lambda _=False, a=s.id: self.answer(a, True),
            kind="primary",
            tip="Apply the changes the server reports and go on syncing",
        )
        cancel = button(
            "Cancel",
            lambda _=False, a=s.id: self.answer(a, False),
            tip="Keep the book as it is; the account is paused until you resume it",
        )
        q.addWidget(go_on)
        q.addWidget(cancel)
        return question

    # ---------------------------------------------------------------- syncing
    def sync(self, account_id: str, *, confirm: bool = False) -> None:
        if self.scheduler.sync(account_id, confirm=confirm, manual=True):
            self.load()

    def _on_progress(self, p: SyncProgress) -> None:
        found = self._bars.get(p.account_id)
        if found is None:
            return
        bar, text = found
        bar.show()
        text.show()
        if p.total:
            bar.setRange(0, p.total)
            bar.setValue(min(p.done, p.total))
        else:
            bar.setRange(0, 0)
        text.setText(
            f"{p.scope}: {p.done:,}"
            + (f" of {p.total:,}" if p.total else "")
            + f" · {p.stored:,} stored"
        )

    def sync_all(self) -> None:
        started = 0
        for status in self.statuses:
            if status.enabled and status.state not in ("question", "password"):
                started += int(self.scheduler.sync(status.id, manual=True))
        if not started:
            self.ctx.status("Nothing to sync now")
        self.load()

    def sync_due(self) -> None:
        self.scheduler.sync_due()

    def cancel(self, account_id: str) -> None:
        if self.scheduler.cancel(account_id):
            self.ctx.status("Cancelling after the current page — what was synced stays")

    def answer(self, account_id: str, proceed: bool) -> None:
        if proceed:
            self.sync(account_id, confirm=True)
            return
        sync = self.ctx.services.sync
        self.ctx.write(
            lambda: sync.answer(account_id, False),
            lambda _r: self.ctx.status("Kept the book as it is; the account is paused"),
            label="answer guard",
        )

    def set_enabled(self, account_id: str, enabled: bool) -> None:
        accounts = self.ctx.services.accounts
        self.ctx.write(lambda: accounts.set_enabled(account_id, enabled), None)

    def remove(self, status: AccountStatus) -> None:
        answer = QMessageBox.question(
            self,
            "Remove account",
            f"Remove “{status.name}”? What it brought into the book stays; its password is "
            "forgotten. This cannot be undone.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.scheduler.cancel(status.id)
            accounts = self.ctx.services.accounts
            self.ctx.write(lambda: accounts.remove(status.id), None, label="remove account")

    def add_account(self) -> None:
        from relbook.services.accounts import AccountDraft
        from relbook.ui.dialogs.account import AccountEditor

        editor = AccountEditor(self.ctx, self, AccountDraft(kind="ews"))
        editor.saved.connect(self._added)
        editor.open()

    def _added(self, account_id: str) -> None:
        if account_id:
            self.ctx.status("Account added — the first sync starts now")
            self.sync(account_id)

    def edit(self, account_id: str) -> None:
        from relbook.ui.dialogs.account import AccountEditor

        accounts = self.ctx.services.accounts
        self.ctx.read(
            lambda: accounts.draft(account_id),
            lambda draft: AccountEditor(self.ctx, self, draft).open(),
            owner=self,
        )

    def ask_password(self, status: AccountStatus) -> None:
        from relbook.ui.dialogs.account import PasswordDialog

        dialog = PasswordDialog(self.ctx, status.id, status.name, self)
        dialog.saved.connect(self.sync)
        dialog.open()

    def is_loaded(self) -> bool:
        return self._loaded

    def activated(self) -> None:
        if self._loaded:
            self.load()

    def commands(self) -> list[Command]:
        return [
            Command("sync.all", "Sync all accounts now", self.sync_all, "", "sync", "Sync"),
            Command(
                "sync.add", "Connect a mailbox or calendar", self.add_account, "", "mailbox", "Sync"
            ),
        ]

    def stop(self) -> None:
        self.scheduler.stop()


def describe_outcome(outcome: SyncOutcome) -> str:
    """One line for a finished sync (the command palette and tests)."""
    if outcome.status == "done":
        return f"{plural(outcome.items_stored, 'item')} new or changed of {outcome.items_seen:,}"
    return outcome.message or outcome.status


__all__ = ["SyncPage", "SyncScheduler", "describe_outcome"]
