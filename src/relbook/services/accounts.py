"""Mailbox and calendar accounts: add, edit, remove, test the connection, and their status.

Kinds: ``imap`` (IMAP mailbox), ``ews`` (Exchange Server), ``caldav`` (CalDAV calendars)
and ``ics`` (an .ics calendar subscription URL). Connection settings live in the book
(``account.settings``); passwords live in the secret store (``credentials``), never in the
book. With no keyring on this machine the store keeps passwords for the session only and
``needs_password`` tells the app to ask again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from relbook.domain.clock import from_millis, to_millis
from relbook.domain.errors import NotFoundError, UserError
from relbook.domain.kinds import PrivacyLevel
from relbook.services import validate
from relbook.services.base import Service

if TYPE_CHECKING:
    from relbook.capture.sources.base import Source
    from relbook.credentials import SecretStore

KINDS = ("imap", "ews", "caldav", "ics")
KIND_LABELS = {
    "imap": "IMAP mailbox",
    "ews": "Microsoft Exchange (EWS)",
    "caldav": "CalDAV calendar",
    "ics": "Calendar subscription (.ics URL)",
}
NEEDS_PASSWORD = frozenset({"imap", "ews", "caldav"})
SECURITY = ("tls", "starttls", "plain")
EWS_AUTH = ("auto", "ntlm", "basic")
MIN_INTERVAL, MAX_INTERVAL = 5, 24 * 60


@dataclass
class AccountDraft:
    """What the account editor edits. Only the fields of ``kind`` are used.

    ``password`` None keeps the stored one (editing); a new account of a kind that logs in
    needs one.
    """

    kind: str = "imap"
    name: str = ""
    # IMAP
    host: str = ""
    port: int | None = None
    security: str = "tls"
    allow_plaintext: bool = False  # only for a server on this computer
    # IMAP, EWS, CalDAV
    username: str = ""
    # EWS
    email: str = ""
    auth: str = "auto"
    include_calendar: bool = True
    # EWS (server URL; empty = autodiscover), CalDAV (server URL), ics (subscription URL)
    url: str = ""
    # IMAP and EWS: Sent folder; folder/calendar choices beyond the defaults
    include_sent: bool = True
    folders: list[str] = field(default_factory=list)
    trusted_cert: str = ""  # PEM of a certificate the rep chose to trust
    privacy: str = ""  # "" = the book's default (setting privacy_default)
    interval_minutes: int = 15
    enabled: bool = True
    password: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class AccountStatus:
    """One row of the accounts list."""

    id: str
    name: str
    kind: str
    kind_label: str
    enabled: bool
    privacy: str
    interval_minutes: int
    state: str  # ok / never / running / offline / error / password / question / disabled
    state_text: str  # what the list shows, e.g. "offline — will retry"
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    items_seen: int
    items_stored: int
    pending_question: str
    offline_since: datetime | None
    retry_at: datetime | None
    next_sync_at: datetime | None


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of ``test_connection``: ``outcome`` is one of ok, invalid, password,
    certificate, unreachable, error."""

    ok: bool
    outcome: str
    message: str
    remedy: str = ""
    folders: tuple[str, ...] = ()  # folders / calendars found (ok only)
    certificate_pem: str = ""  # certificate: what the server presented (to trust it)
    fingerprint: str = ""


def _ms(value: int | None) -> datetime | None:
    return None if value is None else from_millis(value)


def _url_ok(text: str, schemes: tuple[str, ...]) -> bool:
    parsed = urlparse(text)
    return parsed.scheme in schemes and bool(parsed.hostname)


class AccountService(Service):
    @property
    def secrets(self) -> SecretStore:
        store: SecretStore = self.services.secrets
        return store

    def secrets_where(self) -> str:
        """Where passwords live on this machine, for the accounts page to say."""
        return self.secrets.where()

    # ------------------------------------------------------------------ reads
    def list(self) -> list[AccountStatus]:
        rows = self.db.execute(
            """SELECT id FROM account ORDER BY lower(name), created_at"""
        ).fetchall()
        return [self.status(row[0]) for row in rows]

    def status(self, account_id: str) -> AccountStatus:
        row = self.db.execute(
            """SELECT id, name, kind, enabled, privacy, interval_minutes, last_attempt_at,
                      last_success_at, last_error, last_error_at, items_seen, items_stored,
                      pending_question, offline_since, retry_at
               FROM account WHERE id = ?""",
            (account_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("account", account_id)
        enabled = bool(row[3])
        last_success, last_error_at = _ms(row[7]), _ms(row[9])
        offline_since, retry_at = _ms(row[13]), _ms(row[14])
        running = self.services.sync.is_running(account_id)
        question = row[12] or ""
        needs_password = row[2] in NEEDS_PASSWORD and self._password(account_id) is None
        # A sync that succeeded with some unreadable items notes them at the same moment.
        error_is_current = bool(row[8]) and (
            last_success is None or (last_error_at is not None and last_error_at > last_success)
        )
        if not enabled:
            state, text = "disabled", "paused"
        elif running:
            state, text = "running", "syncing…"
        elif question:
            state, text = "question", "waiting for your answer"
        elif needs_password:
            state, text = "password", "password needed"
        elif offline_since is not None:
            state, text = "offline", "offline — will retry"
        elif error_is_current:
            state, text = "error", row[8]
        elif last_success is None:
            state, text = "never", "not synced yet"
        else:
            state, text = "ok", "up to date"
        interval = int(row[5])
        next_sync = None  # as services.sync.due_accounts decides
        if enabled and not question:
            last_attempt = _ms(row[6])
            if retry_at is not None:
                next_sync = retry_at
            elif last_attempt is not None:
                next_sync = last_attempt + timedelta(minutes=interval)
            else:
                next_sync = self.clock.now()
        return AccountStatus(
            id=row[0],
            name=row[1],
            kind=row[2],
            kind_label=KIND_LABELS.get(row[2], row[2]),
            enabled=enabled,
            privacy=row[4],
            interval_minutes=interval,
            state=state,
            state_text=text,
            last_attempt_at=_ms(row[6]),
            last_success_at=last_success,
            last_error=row[8] or "",
            last_error_at=last_error_at,
            items_seen=int(row[10]),
            items_stored=int(row[11]),
            pending_question=question,
            offline_since=offline_since,
            retry_at=retry_at,
            next_sync_at=next_sync,
        )

    def draft(self, account_id: str) -> AccountDraft:
        row = self.db.execute(
            "SELECT kind, name, settings, privacy, enabled, interval_minutes FROM account "
            "WHERE id = ?",
            (account_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("account", account_id)
        settings: dict[str, Any] = json.loads(row[2] or "{}")
        draft = AccountDraft(
            kind=row[0],
            name=row[1],
            privacy=row[3],
            enabled=bool(row[4]),
            interval_minutes=int(row[5]),
            id=account_id,
        )
        for key, value in settings.items():
            if hasattr(draft, key) and key not in ("id", "kind", "name", "password"):
                setattr(draft, key, list(value) if key == "folders" else value)
        return draft

    def find(self, name_or_id: str) -> str:
        """An account id from its id or (case-insensitive) name."""
        row = self.db.execute(
            "SELECT id FROM account WHERE id = ? OR lower(name) = lower(?) LIMIT 2",
            (name_or_id, name_or_id.strip()),
        ).fetchall()
        if len(row) != 1:
            names = ", ".join(r[0] for r in self.db.execute("SELECT name FROM account"))
            raise UserError(
                f"No account named '{name_or_id}'" + (" (the name is ambiguous)." if row else "."),
                f"Accounts in this book: {names}."
                if names
                else "Add one with 'relbook accounts add'.",
            )
        return str(row[0][0])

    # ------------------------------------------------------------------ passwords
    def _password(self, account_id: str) -> str | None:
        return self.secrets.get(account_id)

    def password(self, account_id: str) -> str | None:
        """The stored password (the sync service's use); None when it must be asked."""
        return self._password(account_id)

    def needs_password(self, account_id: str) -> bool:
        kind = self.db.execute("SELECT kind FROM account WHERE id = ?", (account_id,)).fetchone()
        if kind is None:
            raise NotFoundError("account", account_id)
        return kind[0] in NEEDS_PASSWORD and self._password(account_id) is None

    def set_password(self, account_id: str, password: str) -> None:
        """Store the password (the keyring, or this session only when there is none)."""
        if not password:
            raise validate_error("password", "is required")
        self.needs_password(account_id)  # raises for an unknown account
        self.secrets.set(account_id, password)
        self.services.changes.publish(("account",), reason="password")

    # ------------------------------------------------------------------ writes
    def create(self, draft: AccountDraft) -> str:
        clean = self._validate(draft, creating=True)
        from relbook.domain.ids import new_id
        from relbook.storage.models import Account

        account_id = new_id()
        with self.write(("account",), reason="account added") as session:
            session.add(
                Account(
                    id=account_id,
                    kind=clean["kind"],
                    name=clean["name"],
                    settings=clean["settings"],
                    privacy=clean["privacy"],
                    enabled=clean["enabled"],
                    interval_minutes=clean["interval_minutes"],
                    created_at=self.clock.now(),
                )
            )
        if draft.password:
            try:
                self.secrets.set(account_id, draft.password)
            except UserError:
                self._delete_row(account_id)  # no half-made account without its password
                raise
        return account_id

    def update(self, draft: AccountDraft) -> None:
        if draft.id is None:
            raise validate_error("id", "is required to edit an account")
        clean = self._validate(draft, creating=False)
        from relbook.capture.retention import is_stricter, trim_account
        from relbook.storage.models import Account

        with self.write(("account",), reason="account edited") as session:
            account = session.get(Account, draft.id)
            if account is None:
                raise NotFoundError("account", draft.id)
            if account.kind != clean["kind"]:
                raise validate_error("kind", "cannot change; add a new account instead")
            stricter = is_stricter(clean["privacy"], account.privacy)
            account.name = clean["name"]
            account.settings = clean["settings"]
            account.privacy = clean["privacy"]
            account.enabled = clean["enabled"]
            account.interval_minutes = clean["interval_minutes"]
            # New settings deserve a fresh try, not the old back-off.
            account.retry_at = None
            account.offline_since = None
        if stricter:  # what the account already brought in is kept to the new level too
            with self.book.raw_write() as connection:
                trim_account(connection, draft.id, clean["privacy"], to_millis(self.clock.now()))
            self.services.changes.publish(("interaction",), reason="privacy applied")
        if draft.password:
            self.secrets.set(draft.id, draft.password)

    def set_enabled(self, account_id: str, enabled: bool) -> None:
        from relbook.storage.models import Account

        with self.write(("account",), reason="account paused" if not enabled else "") as s:
            account = s.get(Account, account_id)
            if account is None:
                raise NotFoundError("account", account_id)
            account.enabled = enabled

    def remove(self, account_id: str) -> None:
        """Remove the account, its sync state and its password. Interactions it brought
        in stay in the book (they are the rep's history)."""
        if self.services.sync.is_running(account_id):
            raise UserError(
                "This account is syncing right now.", "Cancel the sync, then remove it."
            )
        self._delete_row(account_id)
        self.secrets.delete(account_id)

    def _delete_row(self, account_id: str) -> None:
        from sqlalchemy import delete

        from relbook.storage.models import Account, SourceRef, SyncCursor

        with self.write(("account",), reason="account removed") as session:
            if session.get(Account, account_id) is None:
                raise NotFoundError("account", account_id)
            session.execute(delete(SourceRef).where(SourceRef.account_id == account_id))
            session.execute(delete(SyncCursor).where(SyncCursor.account_id == account_id))
            session.execute(delete(Account).where(Account.id == account_id))

    # ------------------------------------------------------------------ validation
    def _validate(self, draft: AccountDraft, *, creating: bool) -> dict[str, Any]:
        problems = validate.Problems()
        kind = draft.kind.strip().lower()
        if kind not in KINDS:
            problems.add("kind", f"must be one of {', '.join(KINDS)}")
        name = validate.required_text(draft.name, "name", problems, 200)
        if name:
            clash = self.db.execute(
                "SELECT id FROM account WHERE lower(name) = lower(?) AND id != ?",
                (name, draft.id or ""),
            ).fetchone()
            if clash:
                problems.add("name", f"another account is already called '{name}'")
        privacy = draft.privacy.strip() or str(self.services.settings.get("privacy_default"))
        if privacy not in {p.value for p in PrivacyLevel}:
            problems.add("privacy", "must be headers, excerpt or full")
        interval = draft.interval_minutes
        if not isinstance(interval, int) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            problems.add(
                "interval_minutes", f"must be between {MIN_INTERVAL} and {MAX_INTERVAL} minutes"
            )
        settings: dict[str, Any] = {}
        if kind == "imap":
            settings = self._imap_settings(draft, problems)
        elif kind == "ews":
            settings = self._ews_settings(draft, problems)
        elif kind == "caldav":
            settings = self._caldav_settings(draft, problems)
        elif kind == "ics":
            url = draft.url.strip()
            if url.startswith("webcal://"):
                url = "https://" + url.removeprefix("webcal://")
            if not _url_ok(url, ("http", "https")):
                problems.add("url", "must be a web address of an .ics calendar (https://…)")
            settings = {"url": url}
        if draft.trusted_cert.strip() and kind in NEEDS_PASSWORD:
            if "BEGIN CERTIFICATE" not in draft.trusted_cert:
                problems.add("trusted_cert", "is not a PEM certificate")
            else:
                settings["trusted_cert"] = draft.trusted_cert.strip() + "\n"
        if kind in NEEDS_PASSWORD and creating and not draft.password:
            problems.add("password", "is required")
        problems.raise_if_any()
        return {
            "kind": kind,
            "name": name,
            "settings": settings,
            "privacy": privacy,
            "enabled": bool(draft.enabled),
            "interval_minutes": interval,
        }

    def _imap_settings(self, draft: AccountDraft, problems: validate.Problems) -> dict[str, Any]:
        from relbook.capture.sources.net import is_loopback

        host = draft.host.strip().lower()
        if not host:
            problems.add("host", "is required (e.g. imap.example.com)")
        elif " " in host or "/" in host:
            problems.add("host", f"'{draft.host.strip()}' is not a server name")
        if draft.port is not None and not 1 <= draft.port <= 65535:
            problems.add("port", "must be between 1 and 65535")
        if draft.security not in SECURITY:
            problems.add("security", "must be TLS, STARTTLS or plain")
        elif draft.security == "plain" and not (draft.allow_plaintext and is_loopback(host)):
            problems.add(
                "security",
                "plain text sends the password unencrypted: only allowed for a server on "
                "this computer, and only when you tick 'allow plain text'",
            )
        username = validate.required_text(draft.username, "username", problems, 320)
        folders = _clean_list(draft.folders)
        return {
            "host": host,
            "port": draft.port,
            "security": draft.security,
            "allow_plaintext": bool(draft.allow_plaintext),
            "username": username,
            "include_sent": bool(draft.include_sent),
            "folders": folders,
        }

    def _ews_settings(self, draft: AccountDraft, problems: validate.Problems) -> dict[str, Any]:
        from relbook.capture.sources.net import is_loopback

        email = validate.email(draft.email, "email", problems)
        if email is None and not draft.email.strip():
            problems.add("email", "is required (the mailbox's e-mail address)")
        url = draft.url.strip()
        if url:
            parsed = urlparse(url)
            if not _url_ok(url, ("https", "http")):
                problems.add(
                    "url",
                    "must be the EWS address, e.g. https://mail.example.com/EWS/Exchange.asmx",
                )
            elif parsed.scheme == "http" and not is_loopback(parsed.hostname or ""):
                problems.add("url", "must use https:// (the password would travel unencrypted)")
        if draft.auth not in EWS_AUTH:
            problems.add("auth", "must be auto, ntlm or basic")
        return {
            "email": email or "",
            "username": draft.username.strip(),
            "url": url,
            "auth": draft.auth,
            "include_sent": bool(draft.include_sent),
            "include_calendar": bool(draft.include_calendar),
            "folders": _clean_list(draft.folders),
        }

    def _caldav_settings(self, draft: AccountDraft, problems: validate.Problems) -> dict[str, Any]:
        from relbook.capture.sources.net import is_loopback

        url = draft.url.strip()
        if not _url_ok(url, ("https", "http")):
            problems.add("url", "must be the CalDAV server's address (https://…)")
        elif urlparse(url).scheme == "http" and not is_loopback(urlparse(url).hostname or ""):
            problems.add("url", "must use https:// (the password would travel unencrypted)")
        username = validate.required_text(draft.username, "username", problems, 320)
        return {"url": url, "username": username, "folders": _clean_list(draft.folders)}

    # ------------------------------------------------------------------ sources
    def build_source(
        self, account_id: str, *, password: str | None = None, draft: AccountDraft | None = None
    ) -> Source:
        """The capture source for an account (or for a draft being tested)."""
        if draft is None:
            draft = self.draft(account_id)
        privacy = draft.privacy or str(self.services.settings.get("privacy_default"))
        secret = (
            password if password is not None else (draft.password or self._password(account_id))
        )
        if draft.kind in NEEDS_PASSWORD and not secret:
            from relbook.capture.sources.net import AuthFailed

            raise AuthFailed(
                f"No password for '{draft.name}' in this session.",
                "Enter the password in the account (it is asked each session when there "
                "is no keyring).",
            )
        return make_source(account_id, draft, secret or "", privacy, clock=self.clock)

    def test_connection(self, draft: AccountDraft) -> ConnectionTest:
        """Log in with the draft's settings (password from the draft, or the stored one)
        and list what would be synced. Never raises for the server's problems."""
        from relbook.capture.sources.base import SourceError
        from relbook.capture.sources.net import AuthFailed, CertificateRefused, Unreachable
        from relbook.domain.errors import ValidationError

        try:
            self._validate(draft, creating=draft.id is None and draft.password is not None)
        except ValidationError as error:
            return ConnectionTest(False, "invalid", error.message, error.remedy)
        password = draft.password
        if password is None and draft.id:
            password = self._password(draft.id)
        if draft.kind in NEEDS_PASSWORD and not password:
            return ConnectionTest(False, "password", "Enter the password to test the connection.")
        try:
            source = make_source(
                draft.id or "test",
                draft,
                password or "",
                draft.privacy or "headers",
                clock=self.clock,
            )
        except SourceError as error:
            return ConnectionTest(False, "invalid", error.message, error.remedy)
        try:
            found, synced = probe(source)
        except AuthFailed as error:
            return ConnectionTest(False, "password", error.message, error.remedy)
        except CertificateRefused as error:
            return ConnectionTest(
                False,
                "certificate",
                error.message,
                error.remedy,
                certificate_pem=error.pem,
                fingerprint=error.fingerprint,
            )
        except Unreachable as error:
            return ConnectionTest(False, "unreachable", error.message, error.remedy)
        except SourceError as error:
            return ConnectionTest(False, "error", error.message, error.remedy)
        finally:
            source.close()
        what = {"caldav": "calendars", "ics": "events"}.get(draft.kind, "folders")
        listed = ", ".join(found[:8]) + ("…" if len(found) > 8 else "")
        message = f"Connected. {len(found)} {what} found" + (f": {listed}." if listed else ".")
        if draft.kind in ("imap", "ews") and synced:
            message += f" Relbook will sync {', '.join(synced)}."
        return ConnectionTest(True, "ok", message, folders=tuple(found))


def validate_error(field_name: str, message: str) -> UserError:
    from relbook.domain.errors import FieldError, ValidationError

    return ValidationError([FieldError(field_name, message)])


def _clean_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def make_source(
    account_id: str, draft: AccountDraft, password: str, privacy: str, *, clock: Any = None
) -> Source:
    """Build the capture source of an account kind (capture stays free of services)."""
    if draft.kind == "imap":
        from relbook.capture.sources.imap import ImapSettings, ImapSource

        return ImapSource(
            account_id,
            ImapSettings(
                host=draft.host.strip(),
                port=draft.port,
                security=draft.security,
                allow_plaintext=draft.allow_plaintext,
                username=draft.username.strip(),
                include_sent=draft.include_sent,
                folders=tuple(draft.folders),
                trusted_cert=draft.trusted_cert,
            ),
            password,
            privacy=privacy,
        )
    if draft.kind == "ews":
        from relbook.capture.sources.ews import EwsSettings, EwsSource

        return EwsSource(
            account_id,
            EwsSettings(
                email=draft.email.strip(),
                username=draft.username.strip(),
                server_url=draft.url.strip(),
                auth=draft.auth,
                include_sent=draft.include_sent,
                include_calendar=draft.include_calendar,
                folders=tuple(draft.folders),
                trusted_cert=draft.trusted_cert,
            ),
            password,
            privacy=privacy,
        )
    if draft.kind == "caldav":
        from relbook.capture.sources.caldav import CalDavSettings, CalDavSource

        return CalDavSource(
            account_id,
            CalDavSettings(
                url=draft.url.strip(),
                username=draft.username.strip(),
                calendars=tuple(draft.folders),
                trusted_cert=draft.trusted_cert,
            ),
            password,
            clock=clock,
        )
    if draft.kind == "ics":
        from relbook.capture.sources.ics import IcsUrlSource

        return IcsUrlSource(account_id, draft.url.strip(), clock=clock)
    from relbook.capture.sources.base import SourceError

    raise SourceError(f"Unknown account kind '{draft.kind}'.", "Remove and add the account again.")


def probe(source: Any) -> tuple[list[str], list[str]]:
    """What a connection test finds: (folders / calendars / events, what will be synced)."""
    if not hasattr(source, "probe"):
        scopes = list(source.scopes())
        return scopes, scopes
    found = source.probe()
    if isinstance(found, dict):  # CalDAV: scope -> calendar name
        names = [str(v) for v in found.values()]
        return names, names
    if hasattr(found, "folders"):  # IMAP: every folder, and the ones synced
        return list(found.folders), list(found.scopes)
    listed = [str(f) for f in found]
    return listed, list(source.scopes()) if hasattr(source, "scopes") else listed
