"""Sync status and accounts: each mailbox or calendar with its state, last success,
counts and last error; Sync now / Cancel, pause, edit, remove; the guard questions; and
a timer that syncs due accounts in the background (never on the UI thread)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.editors.base import EditorDialog
from relbook.ui.fmt import ago, when
from relbook.ui.pages import Command, Page
from relbook.ui.qt import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.widgets import Card, EmptyState, button, chip, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.accounts import AccountDraft, AccountStatus
    from relbook.ui.context import UiContext

SCHEDULE_MS = 60_000
STATE_ROLES = {"ok": "chip", "running": "chip", "never": "warnchip"}


class _Cancel:
    """A cancel token the sync service polls (``cancelled``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()


class AccountEditor(EditorDialog):
    noun = "account"

    def __init__(self, ctx: UiContext, parent: QWidget | None, draft: AccountDraft) -> None:
        super().__init__(
            ctx, parent, "Edit account" if draft.id else "Connect a mailbox or calendar"
        )
        from relbook.services.accounts import KIND_LABELS

        self.draft = draft
        self.kind = QComboBox()
        for key, text in KIND_LABELS.items():
            self.kind.addItem(text, key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(draft.kind)))
        self.kind.setEnabled(draft.id is None)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_field("kind", "Kind", self.kind)
        self.name = self.add_field("name", "Name", QLineEdit(draft.name))
        self.name.setPlaceholderText("e.g. Work mail")
        self.email = self.add_field("email", "E-mail address", QLineEdit(draft.email))
        self.host = self.add_field("host", "Server", QLineEdit(draft.host))
        self.host.setPlaceholderText("imap.example.com")
        port = QSpinBox()
        port.setRange(0, 65535)
        port.setSpecialValueText("default")
        port.setValue(draft.port or 0)
        self.port = self.add_field("port", "Port", port)
        self.security = QComboBox()
        for key, text in (
            ("tls", "TLS"),
            ("starttls", "STARTTLS"),
            ("plain", "None (this computer only)"),
        ):
            self.security.addItem(text, key)
        self.security.setCurrentIndex(max(0, self.security.findData(draft.security)))
        self.add_field("security", "Security", self.security)
        self.url = self.add_field(
            "url",
            "Address (URL)",
            QLineEdit(draft.url),
            hint="Exchange: empty = find it from the e-mail address.",
        )
        self.username = self.add_field("username", "User name", QLineEdit(draft.username))
        self.password = self.add_field("password", "Password", QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("unchanged" if draft.id else "")
        self.sent = self.add_field("include_sent", "", QCheckBox("Include sent mail"))
        self.sent.setChecked(draft.include_sent)
        self.calendar = self.add_field("include_calendar", "", QCheckBox("Include the calendar"))
        self.calendar.setChecked(draft.include_calendar)
        self.privacy = QComboBox()
        for key, text in (
            ("", "The book's default"),
            ("headers", "Headers only"),
            ("excerpt", "Headers and an excerpt"),
            ("full", "Full text"),
        ):
            self.privacy.addItem(text, key)
        self.privacy.setCurrentIndex(max(0, self.privacy.findData(draft.privacy)))
        self.add_field("privacy", "Keep of each message", self.privacy)
        interval = QSpinBox()
        interval.setRange(5, 1440)
        interval.setSuffix(" min")
        interval.setValue(draft.interval_minutes)
        self.interval = self.add_field("interval_minutes", "Sync every", interval)
        self.test_result = label("", "muted", wrap=True)
        test_row = QWidget()
        row = QHBoxLayout(test_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(button("Test connection", self.test, icon_name="sync"))
        row.addWidget(self.test_result, 1)
        self.add_field("test", "", test_row)
        self._trusted = draft.trusted_cert
        self._kind_changed()
        self.resize(600, 640)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        visible = {
            "imap": {"host", "port", "security", "username", "password", "include_sent"},
            "ews": {"email", "url", "username", "password", "include_sent", "include_calendar"},
            "caldav": {"url", "username", "password"},
            "ics": {"url"},
        }[kind]
        for name in (
            "email",
            "host",
            "port",
            "security",
            "url",
            "username",
            "password",
            "include_sent",
            "include_calendar",
        ):
            widget, error = self.fields[name]
            shown = name in visible
            widget.setVisible(shown)
            caption = self.grid.itemAtPosition(
                self.grid.getItemPosition(self.grid.indexOf(widget))[0], 0
            )
            if caption is not None and caption.widget() is not None:
                caption.widget().setVisible(shown)
            if not shown:
                error.hide()

    def build_draft(self) -> AccountDraft:
        from dataclasses import replace

        password = self.password.text()
        return replace(
            self.draft,
            kind=self.kind.currentData(),
            name=self.name.text(),
            host=self.host.text().strip(),
            port=self.port.value() or None,
            security=self.security.currentData(),
            allow_plaintext=self.security.currentData() == "plain",
            username=self.username.text().strip(),
            email=self.email.text().strip(),
            url=self.url.text().strip(),
            include_sent=self.sent.isChecked(),
            include_calendar=self.calendar.isChecked(),
            privacy=self.privacy.currentData(),
            interval_minutes=self.interval.value(),
            trusted_cert=self._trusted,
            password=password if password else None,
        )

    def test(self) -> None:
        from relbook.domain.errors import ValidationError

        try:
            draft = self.build_draft()
        except ValidationError as error:
            self.show_errors(error)
            return
        self.test_result.setText("Connecting…")
        accounts = self.ctx.services.accounts
        self.ctx.network(lambda: accounts.test_connection(draft), self._tested, owner=self)

    def _tested(self, result: Any) -> None:
        text = result.message + (f" {result.remedy}" if result.remedy else "")
        if result.ok and result.folders:
            text += f" Found: {', '.join(result.folders[:6])}" + (
                "…" if len(result.folders) > 6 else ""
            )
        self.test_result.setText(("✓ " if result.ok else "✗ ") + text)
        if result.outcome == "certificate" and result.certificate_pem:
            answer = QMessageBox.question(
                self,
                "Trust this certificate?",
                f"The server presented a certificate this computer does not trust.\n\n"
                f"Fingerprint: {result.fingerprint}\n\nTrust it for this account?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self._trusted = result.certificate_pem
                self.test_result.setText("Certificate trusted — test again.")

    def submit(self, draft: AccountDraft) -> Any:
        accounts = self.ctx.services.accounts
        if draft.id:

            def update() -> str:
                accounts.update(draft)
                return str(draft.id)

            return update
        return lambda: accounts.create(draft)


class SyncPage(Page):
    progress = Signal(object)  # SyncProgress, from the sync's thread (queued)

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.statuses: list[AccountStatus] = []
        self._loaded = False
        self._running: dict[str, _Cancel] = {}
        self._bars: dict[str, tuple[QProgressBar, Any]] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 14, 24, 16)
        outer.setSpacing(10)
        top = QHBoxLayout()
        self.where = label("", "muted", wrap=True)
        top.addWidget(self.where, 1)
        top.addWidget(button("Sync all now", self.sync_all, icon_name="sync"))
        top.addWidget(button("Add account", self.add_account, kind="primary", icon_name="plus"))
        outer.addLayout(top)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self.list = QVBoxLayout(holder)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.setSpacing(12)
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)
        self.progress.connect(self._on_progress)
        Refresher(ctx, ("account",), self.load, self)
        self.timer = QTimer(self)
        self.timer.setInterval(SCHEDULE_MS)
        self.timer.timeout.connect(self.sync_due)
        self.timer.start()
        self.load()

    def load(self) -> None:
        accounts = self.ctx.services.accounts
        self.ctx.read(
            lambda: (accounts.list(), accounts.secrets_where()),
            self._show,
            owner=self,
            key=f"accounts-{id(self)}",
        )

    def _show(self, loaded: tuple[list[AccountStatus], str]) -> None:
        statuses, where = loaded
        self.statuses = statuses
        self.where.setText(f"Passwords: {where}")
        clear_layout(self.list)
        self._bars = {}
        if not statuses:
            card = Card()
            card.body.addWidget(
                EmptyState(
                    "mailbox",
                    "No mailbox connected",
                    "Connect Exchange, an IMAP mailbox or a calendar: Relbook then logs every "
                    "mail and meeting with your customers by itself.",
                )
            )
            self.list.addWidget(card)
        for status in statuses:
            self.list.addWidget(self._card(status))
        self.list.addStretch(1)
        self._loaded = True

    def _card(self, s: AccountStatus) -> QWidget:
        card = Card()
        card.setObjectName(f"account:{s.name}")
        head = QHBoxLayout()
        head.addWidget(label(s.name, "h3"))
        head.addWidget(label(s.kind_label, "muted"))
        head.addStretch(1)
        running = s.id in self._running or s.state == "running"
        head.addWidget(chip(s.state_text or s.state, STATE_ROLES.get(s.state, "warnchip")))
        card.body.addLayout(head)
        facts = [f"last success {ago(s.last_success_at)}" if s.last_success_at else "never synced"]
        facts.append(f"{s.items_stored:,} stored of {s.items_seen:,} seen")
        if s.next_sync_at and s.enabled:
            facts.append(f"next {when(s.next_sync_at)}")
        facts.append(f"every {s.interval_minutes} min · keeps {s.privacy}")
        card.body.addWidget(label(" · ".join(facts), "muted", wrap=True))
        if s.last_error:
            card.body.addWidget(
                label(f"Last error ({when(s.last_error_at)}): {s.last_error}", "error", wrap=True)
            )
        if s.pending_question:
            question = QFrame()
            question.setProperty("role", "banner")
            q = QHBoxLayout(question)
            q.setContentsMargins(12, 8, 12, 8)
            q.addWidget(label(s.pending_question, wrap=True), 1)
            q.addWidget(
                button("Go on", lambda _=False, a=s.id: self.answer(a, True), kind="primary")
            )
            q.addWidget(
                button("Keep the book as it is", lambda _=False, a=s.id: self.answer(a, False))
            )
            card.body.addWidget(question)
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
        else:
            actions.addWidget(
                button("Sync now", lambda _=False, a=s.id: self.sync(a), icon_name="sync")
            )
        actions.addWidget(
            button("Edit", lambda _=False, a=s.id: self.edit(a), kind="flat", icon_name="edit")
        )
        actions.addWidget(
            button(
                "Pause" if s.enabled else "Resume",
                lambda _=False, a=s.id, e=s.enabled: self.set_enabled(a, not e),
                kind="flat",
            )
        )
        actions.addStretch(1)
        actions.addWidget(
            button("Remove", lambda _=False, a=s: self.remove(a), kind="danger", icon_name="trash")
        )
        card.body.addLayout(actions)
        return card

    # ---------------------------------------------------------------- syncing
    def sync(self, account_id: str, *, confirm: bool = False) -> None:
        if account_id in self._running:
            return
        sync = self.ctx.services.sync
        token = _Cancel()
        self._running[account_id] = token

        def work() -> Any:
            if confirm:
                return sync.answer(account_id, True, cancel=token, progress=self.progress.emit)
            return sync.run(account_id, cancel=token, progress=self.progress.emit)

        self.ctx.network(
            work,
            lambda outcome: self._finished(account_id, outcome),
            lambda error: self._failed(account_id, error),
            owner=self,
            label="sync",
        )
        self.load()

    def _finished(self, account_id: str, outcome: Any) -> None:
        self._running.pop(account_id, None)
        if outcome is not None and outcome.status not in ("done", "cancelled"):
            self.ctx.status(outcome.message or outcome.status)
        self.load()

    def _failed(self, account_id: str, _error: BaseException) -> bool:
        self._running.pop(account_id, None)
        self.load()
        return False

    def _on_progress(self, p: Any) -> None:
        found = self._bars.get(p.account_id)
        if found is None:
            return
        bar, text = found
        bar.show()
        text.show()
        if p.total:
            bar.setRange(0, p.total)
            bar.setValue(p.done)
        text.setText(
            f"{p.scope}: {p.done:,}"
            + (f" of {p.total:,}" if p.total else "")
            + f" · {p.stored:,} stored"
        )

    def sync_all(self) -> None:
        for status in self.statuses:
            if status.enabled:
                self.sync(status.id)

    def sync_due(self) -> None:
        sync = self.ctx.services.sync
        self.ctx.read(sync.due_accounts, lambda ids: [self.sync(a) for a in ids], owner=self)

    def cancel(self, account_id: str) -> None:
        token = self._running.get(account_id)
        if token is not None:
            token.cancel()
            self.ctx.status("Cancelling after the current page…")

    def answer(self, account_id: str, proceed: bool) -> None:
        if proceed:
            self.sync(account_id, confirm=True)
            return
        sync = self.ctx.services.sync
        self.ctx.write(lambda: sync.answer(account_id, False), None, label="answer guard")

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
            accounts = self.ctx.services.accounts
            self.ctx.write(lambda: accounts.remove(status.id), None, label="remove account")

    def add_account(self) -> None:
        from relbook.services.accounts import AccountDraft

        AccountEditor(self.ctx, self, AccountDraft()).open()

    def edit(self, account_id: str) -> None:
        accounts = self.ctx.services.accounts
        self.ctx.read(
            lambda: accounts.draft(account_id),
            lambda draft: AccountEditor(self.ctx, self, draft).open(),
            owner=self,
        )

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
        for token in self._running.values():
            token.cancel()
        self.timer.stop()
