"""Connecting a mailbox or calendar: the account editor, and the password prompt.

Kinds: Exchange (EWS), IMAP, CalDAV and an .ics subscription URL (``services.accounts``).
"Test connection" logs in on the task runner's network pool and shows the service's
human message (and its way out). Passwords go to the operating system's keyring through
``services.secrets``; when this computer has none the editor says so: the password is
kept in memory for this session only and asked again next time — never written to disk.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog
from relbook.ui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    Signal,
)
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.accounts import AccountDraft, ConnectionTest
    from relbook.ui.context import UiContext

#: Which fields each kind uses (the rest are hidden).
KIND_FIELDS = {
    "imap": {"host", "port", "security", "username", "password", "include_sent"},
    "ews": {"email", "url", "username", "password", "include_sent", "include_calendar"},
    "caldav": {"url", "username", "password"},
    "ics": {"url"},
}
OPTIONAL_FIELDS = (
    "email",
    "host",
    "port",
    "security",
    "url",
    "username",
    "password",
    "include_sent",
    "include_calendar",
)
URL_HINTS = {
    "ews": "The EWS address, e.g. https://mail.example.com/EWS/Exchange.asmx — leave it "
    "empty to find it from the e-mail address (autodiscover).",
    "caldav": "The CalDAV server, e.g. https://cal.example.com/dav/",
    "ics": "The calendar's .ics address (https://… or webcal://…); it is refreshed every interval.",
}
NO_KEYRING_TEXT = (
    "This computer has no keyring{why}. Relbook never writes passwords to disk: it keeps "
    "this password only while Relbook runs and asks for it again each session."
)


def keyring_state(services: Any) -> tuple[bool, str, str]:
    """(persistent, where passwords live, why there is no keyring) — reads the keyring."""
    store = services.secrets
    return bool(store.persistent), store.where(), str(getattr(store, "reason", "") or "")


class AccountEditor(EditorDialog):
    """Add or edit an account (see the module docstring)."""

    noun = "account"
    tested = Signal(object)  # the ConnectionTest shown (tests wait for it)

    def __init__(self, ctx: UiContext, parent: QWidget | None, draft: AccountDraft) -> None:
        super().__init__(
            ctx, parent, "Edit account" if draft.id else "Connect a mailbox or calendar"
        )
        from relbook.services.accounts import KIND_LABELS

        self.setObjectName("accountEditor")
        self.draft = draft
        self.result: ConnectionTest | None = None
        self.persistent: bool | None = None
        self._hints: dict[str, QLabel] = {}
        self.kind = QComboBox()
        for key in ("ews", "imap", "caldav", "ics"):
            self.kind.addItem(KIND_LABELS[key], key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(draft.kind)))
        self.kind.setEnabled(draft.id is None)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_field("kind", "Kind", self.kind)
        self.name = self.add_field("name", "Name", QLineEdit(draft.name))
        self.name.setPlaceholderText("e.g. Work mail")
        self.email = self.add_field("email", "E-mail address", QLineEdit(draft.email))
        self.email.setPlaceholderText("you@example.com")
        self.host = self.add_field("host", "Server", QLineEdit(draft.host))
        self.host.setPlaceholderText("imap.example.com")
        port = QSpinBox()
        port.setRange(0, 65535)
        port.setSpecialValueText("default")
        port.setValue(draft.port or 0)
        self.port = self.add_field("port", "Port", port)
        self.security = QComboBox()
        for key, text in (
            ("tls", "TLS (port 993)"),
            ("starttls", "STARTTLS (port 143)"),
            ("plain", "None — a server on this computer only"),
        ):
            self.security.addItem(text, key)
        self.security.setCurrentIndex(max(0, self.security.findData(draft.security)))
        self.add_field("security", "Security", self.security)
        self.url = self._field_with_hint("url", "Address (URL)", QLineEdit(draft.url))
        self.username = self.add_field("username", "User name", QLineEdit(draft.username))
        self.password = self._field_with_hint("password", "Password", QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("unchanged" if draft.id else "")
        self.keyring_note = label("", "small", wrap=True)
        self.keyring_note.setObjectName("keyringNote")
        self.keyring_note.hide()
        self.grid.addWidget(self.keyring_note, self._row, 1)
        self._row += 1
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
        self.add_field(
            "privacy",
            "Keep of each message",
            self.privacy,
            hint="Choosing less later also removes the text already kept from this "
            "account's messages.",
        )
        interval = QSpinBox()
        interval.setRange(5, 1440)
        interval.setSuffix(" min")
        interval.setValue(draft.interval_minutes)
        self.interval = self.add_field("interval_minutes", "Sync every", interval)
        self.test_button = button("Test connection", self.test, icon_name="sync")
        self.test_button.setObjectName("testConnection")
        self.test_result = label("", "muted", wrap=True, selectable=True)
        self.test_result.setObjectName("testResult")
        test_row = QWidget()
        row = QHBoxLayout(test_row)
        row.setContentsMargins(0, 6, 0, 0)
        row.addWidget(self.test_button, 0)
        row.addWidget(self.test_result, 1)
        self.add_field("test", "", test_row)
        self.grid.setRowStretch(self._row, 1)  # spare height below the fields, not between
        self._trusted = draft.trusted_cert
        self._kind_changed()
        self.resize(620, 680)
        ctx.read(lambda: keyring_state(ctx.services), self._keyring, owner=self)

    def _field_with_hint(self, name: str, caption: str, widget: QWidget) -> Any:
        self.add_field(name, caption, widget, hint=" ")
        hint = self.grid.itemAtPosition(self._row - 1, 1).widget()
        assert isinstance(hint, QLabel)
        self._hints[name] = hint
        return widget

    def _keyring(self, state: tuple[bool, str, str]) -> None:
        persistent, where, why = state
        self.persistent = persistent
        if persistent:
            self._hints["password"].setText(f"Saved in your {where}, never in the book.")
            self.keyring_note.hide()
        else:
            self._hints["password"].setText("Asked each session (no keyring on this computer).")
            self.keyring_note.setText("⚠ " + NO_KEYRING_TEXT.format(why=f" ({why})" if why else ""))
            self.keyring_note.setVisible(self.kind.currentData() in ("imap", "ews", "caldav"))

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        visible = KIND_FIELDS[kind]
        for name in OPTIONAL_FIELDS:
            widget, error = self.fields[name]
            shown = name in visible
            widget.setVisible(shown)
            index = self.grid.indexOf(widget)
            row = self.grid.getItemPosition(index)[0]
            caption = self.grid.itemAtPosition(row, 0)
            if caption is not None and caption.widget() is not None:
                caption.widget().setVisible(shown)
            if name in self._hints:
                self._hints[name].setVisible(shown)
            if not shown:
                error.hide()
        self._hints["url"].setText(URL_HINTS.get(kind, ""))
        if self.persistent is False:
            self.keyring_note.setVisible(kind in ("imap", "ews", "caldav"))

    # ------------------------------------------------------------- draft
    def build_draft(self) -> AccountDraft:
        password = self.password.text()
        security = self.security.currentData()
        return replace(
            self.draft,
            kind=self.kind.currentData(),
            name=self.name.text(),
            host=self.host.text().strip(),
            port=self.port.value() or None,
            security=security,
            allow_plaintext=security == "plain",
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

    # ------------------------------------------------------------- testing
    def test(self) -> None:
        draft = self.build_draft()
        self.clear_errors()
        self.test_button.setEnabled(False)
        self.test_result.setProperty("role", "muted")
        self._repolish(self.test_result)
        self.test_result.setText("Connecting…")
        accounts = self.ctx.services.accounts
        self.ctx.network(
            lambda: accounts.test_connection(draft),
            self._tested,
            self._test_failed,
            owner=self,
            label="connection test",
        )

    def _test_failed(self, error: BaseException) -> bool:
        self.test_button.setEnabled(True)
        self.test_result.setText("The test could not run: " + getattr(error, "message", str(error)))
        return False

    def _tested(self, result: ConnectionTest) -> None:
        self.result = result
        self.test_button.setEnabled(True)
        text = result.message + (f" {result.remedy}" if result.remedy else "")
        self.test_result.setText(("✓ " if result.ok else "✗ ") + text)
        self.test_result.setProperty("role", "muted" if result.ok else "error")
        self._repolish(self.test_result)
        self.tested.emit(result)
        if result.outcome == "certificate" and result.certificate_pem:
            answer = QMessageBox.question(
                self,
                "Trust this certificate?",
                "The server presented a certificate this computer does not trust.\n\n"
                f"Fingerprint (SHA-256): {result.fingerprint}\n\nCompare it with the one your "
                "administrator gives you. Trust it for this account?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self._trusted = result.certificate_pem
                self.test_result.setText("Certificate trusted for this account — test again.")

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    # ------------------------------------------------------------- saving
    def submit(self, draft: AccountDraft) -> Any:
        accounts = self.ctx.services.accounts
        if draft.id:

            def update() -> str:
                accounts.update(draft)
                return str(draft.id)

            return update
        return lambda: accounts.create(draft)


class PasswordDialog(QDialog):
    """Ask for an account's password (no keyring, or the stored one was refused)."""

    saved = Signal(str)  # account id

    def __init__(
        self, ctx: UiContext, account_id: str, name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account_id = account_id
        self.setObjectName("passwordDialog")
        self.setWindowTitle("Password")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(label(f"Password for “{name}”", "h2", wrap=True))
        self.where = label("", "muted", wrap=True)
        layout.addWidget(self.where)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password)
        self.error = label("", "error", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button("Cancel", self.reject))
        ok = button("Save", self.save, kind="primary")
        ok.setDefault(True)
        row.addWidget(ok)
        layout.addLayout(row)
        ctx.read(lambda: keyring_state(ctx.services), self._keyring, owner=self)

    def _keyring(self, state: tuple[bool, str, str]) -> None:
        persistent, where, _why = state
        self.where.setText(
            f"It is saved in your {where}."
            if persistent
            else "No keyring on this computer: it is kept until you quit Relbook and asked "
            "again next session. It is never written to disk."
        )

    def save(self) -> None:
        text = self.password.text()
        if not text:
            self.error.setText("Enter the password.")
            self.error.show()
            return
        accounts, account_id = self.ctx.services.accounts, self.account_id

        def done(_r: Any) -> None:
            self.saved.emit(account_id)
            self.accept()

        def failed(error: BaseException) -> bool:
            from relbook.domain.errors import UserError

            if isinstance(error, UserError):
                self.error.setText(error.message + (f" {error.remedy}" if error.remedy else ""))
                self.error.show()
                return True
            return False

        self.ctx.write(lambda: accounts.set_password(account_id, text), done, failed, owner=self)


__all__ = ["AccountEditor", "PasswordDialog", "keyring_state"]
