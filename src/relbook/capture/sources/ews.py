"""Exchange Server mailboxes and calendars over EWS (exchangelib).

On-premises Exchange still serves EWS (Exchange Online switched it off in 2026-27): an
explicit server URL (…/EWS/Exchange.asmx) or autodiscover from the e-mail address.
Scopes: Inbox, Sent Items, the calendar, and folders the rep chose (paths under the
mailbox's top folder, e.g. "Customers/ACME").

Incremental sync with SyncFolderItems, **one round per page**: exchangelib's
``sync_items()`` only hands out the new SyncState once its generator is exhausted, so the
service is called round by round here and each page carries the SyncState of its own
round — ingest commits the page and that state together. The cursor is JSON:
``{"state": SyncState, "listing": bool}``; ``listing`` marks a first (or re-)listing in
progress, whose last page says ``listing_complete``.

- ``ErrorInvalidSyncStateData`` → ``CursorInvalid`` (ingest re-lists with mark-and-sweep).
- Throttling (``ErrorServerBusy`` with ``BackOffMilliseconds``): short back-offs are
  waited out here (cancellable, at most ``max_retries`` times); a long one ends the sync
  with ``SourceError(retry_after=…)`` so the scheduler comes back later. exchangelib runs
  with its ``FailFast`` policy: it never sleeps on its own.
- Items are read with GetItem: the MIME content (whole message, or the iCalendar of an
  appointment) when the privacy level keeps text and the item is not huge, else the
  Internet headers only.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from relbook.capture.sources.base import (
    Cancelled,
    CancelToken,
    CapturedItem,
    CursorInvalid,
    Page,
    SourceChange,
    SourceError,
)
from relbook.capture.sources.calobjects import object_changes, object_deleted
from relbook.capture.sources.net import (
    AuthFailed,
    Probe,
    certificate_error,
    certificate_refused,
    error_chain,
    fetch_certificate,
    is_unreachable,
    unreachable,
)

log = logging.getLogger(__name__)

INBOX = "Inbox"
SENT = "Sent Items"
CALENDAR = "Calendar"
AUTH_CHOICES = ("auto", "ntlm", "basic")
MAX_SYNC_ROUND = 512  # EWS allows 1..512 changes per SyncFolderItems call


@dataclass(frozen=True)
class EwsSettings:
    email: str  # the mailbox's primary SMTP address
    username: str = ""  # DOMAIN\\user or user@domain; default: the e-mail address
    server_url: str = ""  # https://mail.example.com/EWS/Exchange.asmx; empty = autodiscover
    auth: str = "auto"  # auto (ask the server) / ntlm / basic
    include_sent: bool = True
    include_calendar: bool = True
    folders: tuple[str, ...] = ()  # chosen folder paths under the mailbox's top folder
    trusted_cert: str = ""  # PEM of a certificate the rep chose to trust
    timeout: float = 120.0

    @property
    def host(self) -> str:
        if self.server_url:
            return urlparse(self.server_url).hostname or self.server_url
        return self.email.rpartition("@")[2] or self.email


@dataclass
class EwsCursor:
    state: str | None
    listing: bool
    # calendar only: ItemId -> occurrence locators of a recurring series (see calobjects)
    occurrences: dict[str, list[str]] = field(default_factory=dict)
    listed_at: str = ""  # calendar only: when it was last listed in full

    def dump(self) -> str:
        data: dict[str, Any] = {"v": 1, "state": self.state, "listing": self.listing}
        if self.occurrences or self.listed_at:
            data["occurrences"] = self.occurrences
            data["listed_at"] = self.listed_at
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None) -> EwsCursor:
        if not text:
            return cls(None, True)
        try:
            data = json.loads(text)
            return cls(
                data.get("state") or None,
                bool(data.get("listing", False)),
                {k: list(v) for k, v in (data.get("occurrences") or {}).items()},
                str(data.get("listed_at") or ""),
            )
        except (ValueError, AttributeError, TypeError) as error:
            raise CursorInvalid(f"unreadable EWS cursor: {error}") from error


# --------------------------------------------------------------------- trusted certs


class _TrustRegistry:
    """Certificates the rep trusted, per host, for exchangelib's HTTP adapter.

    exchangelib creates its HTTP sessions itself and only lets an application change the
    adapter *class*; this adapter looks the host up and verifies against the trusted
    certificate (a CA file) instead of the default bundle for that host only.
    """

    def __init__(self) -> None:
        self._files: dict[str, str] = {}
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self.installed = False

    def trust(self, host: str, pem: str) -> None:
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="relbook-ews-trust-"))
            path = self._folder / f"{len(self._files)}-{host.replace(':', '_')}.pem"
            path.write_text(pem, encoding="ascii")
            self._files[host.lower()] = str(path)
            if not self.installed:
                _install_adapter()
                self.installed = True

    def ca_file(self, host: str) -> str | None:
        with self._lock:
            return self._files.get(host.lower())


TRUSTED = _TrustRegistry()


def _install_adapter() -> None:
    import requests.adapters
    from exchangelib.protocol import BaseProtocol

    base: Any = BaseProtocol.HTTP_ADAPTER_CLS or requests.adapters.HTTPAdapter

    class TrustingAdapter(base):  # type: ignore[misc]
        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            host = urlparse(url).hostname or ""
            ca_file = TRUSTED.ca_file(host)
            if ca_file and verify is True:
                verify = ca_file
            super().cert_verify(conn, url, verify, cert)

    BaseProtocol.HTTP_ADAPTER_CLS = TrustingAdapter


# --------------------------------------------------------------------- conversion


def _message_item(raw: bytes, *, headers_only: bool, size: int | None) -> CapturedItem:
    from relbook.capture.mail import parse_message

    item = parse_message(raw, body=not headers_only)
    if size is not None:
        item.size_bytes = size
    return item


# --------------------------------------------------------------------- the source


class EwsSource:
    def __init__(
        self,
        account_id: str,
        settings: EwsSettings,
        password: str,
        *,
        privacy: str = "excerpt",
        page_size: int = 200,
        max_body_bytes: int = 10 * 1024 * 1024,
        max_retries: int = 3,
        max_inline_backoff: float = 30.0,
        relist_days: int = 7,
        retry_policy: Any = None,
        clock: Any = None,
    ) -> None:
        self.account_id = account_id
        self.settings = settings
        self._password = password
        self.privacy = privacy
        self.page_size = max(1, min(page_size, MAX_SYNC_ROUND))
        self.max_body_bytes = max_body_bytes
        self.max_retries = max_retries
        self.max_inline_backoff = max_inline_backoff
        self.relist_days = relist_days
        self._retry_policy = retry_policy
        self._clock = clock
        self._account: Any = None
        self._folders: dict[str, Any] = {}

    # ------------------------------------------------------------ connection
    @property
    def host(self) -> str:
        return self.settings.host

    def _connect(self, cancel: CancelToken | None = None) -> Any:
        if self._account is not None:
            return self._account
        from exchangelib import (
            BASIC,
            DELEGATE,
            NTLM,
            Account,
            Configuration,
            Credentials,
            FailFast,
        )

        s = self.settings
        if s.trusted_cert.strip():
            TRUSTED.trust(s.host, s.trusted_cert)
        credentials = Credentials(s.username or s.email, self._password)
        auth_type = {"ntlm": NTLM, "basic": BASIC}.get(s.auth)
        policy = self._retry_policy or FailFast()

        def open_account() -> Any:
            config = Configuration(
                service_endpoint=s.server_url or None,
                credentials=credentials,
                auth_type=auth_type,
                retry_policy=policy,
            )
            try:
                account = Account(
                    s.email,
                    config=config,
                    credentials=None if s.server_url else credentials,
                    autodiscover=not s.server_url,
                    access_type=DELEGATE,
                )
                account.root  # noqa: B018 - the first request: proves credentials and version
            except Exception:
                _forget_protocol(config)
                raise
            return account

        self._account = self._call(cancel or CancelToken(), "", open_account)
        return self._account

    def _translate(self, error: BaseException, scope: str) -> SourceError:
        """exchangelib's errors as messages the rep can act on."""
        from exchangelib.errors import (
            AutoDiscoverFailed,
            ErrorFolderNotFound,
            ErrorServerBusy,
            UnauthorizedError,
        )

        if isinstance(error, SourceError):
            return error
        where = f" (folder '{scope}')" if scope else ""
        host = self.settings.host
        if isinstance(error, UnauthorizedError):
            return AuthFailed(
                f"{host} refused the user name or password for "
                f"{self.settings.username or self.settings.email}.",
                "Enter the password again in the account (nothing stored was lost).",
            )
        cert = certificate_error(error)
        if cert is not None or "CERTIFICATE_VERIFY_FAILED" in str(error):
            import ssl

            parsed = urlparse(self.settings.server_url)
            pem, fingerprint = (
                fetch_certificate(parsed.hostname or host, parsed.port or 443)
                if parsed.scheme == "https"
                else ("", "")
            )
            if cert is None:
                cert = ssl.SSLCertVerificationError(str(error))
            return certificate_refused(host, cert, pem, fingerprint)
        if isinstance(error, ErrorServerBusy):
            wait = float(error.back_off or 60)
            return SourceError(
                f"{host} is busy and asked Relbook to wait {wait:.0f} s{where}.",
                "Relbook continues automatically after the pause.",
                retry_after=wait,
            )
        if isinstance(error, AutoDiscoverFailed):
            return SourceError(
                f"Autodiscover could not find the Exchange server for {self.settings.email}.",
                "Enter the server's EWS address (ask your administrator), e.g. "
                "https://mail.example.com/EWS/Exchange.asmx.",
            )
        if isinstance(error, ErrorFolderNotFound):
            return SourceError(
                f"The folder '{scope}' no longer exists on {host}.",
                "Choose the account's folders again (it may have been renamed).",
            )
        if is_unreachable(error):
            return unreachable(host, error)
        detail = str(error) or type(error).__name__
        if any(isinstance(e, ConnectionError | OSError) for e in error_chain(error)):
            return SourceError(
                f"The connection to {host} failed{where}: {detail}.",
                "What was already stored is kept; the next sync continues from there.",
            )
        return SourceError(
            f"Exchange ({host}) refused a request{where}: {detail}.",
            "What was already stored is kept; the next sync tries again.",
        )

    def _call(self, cancel: CancelToken, scope: str, action: Any) -> Any:
        """Run one EWS request, waiting out short throttling back-offs."""
        from exchangelib.errors import ErrorInvalidSyncStateData, ErrorServerBusy

        attempt = 0
        while True:
            cancel.check()
            try:
                return action()
            except ErrorInvalidSyncStateData as error:
                raise CursorInvalid(f"'{scope}': {error}") from error
            except (Cancelled, CursorInvalid, SourceError):
                raise
            except Exception as error:
                # exchangelib wraps a busy answer to its first request (the version probe)
                # in a TransportError: look for it along the chain.
                busy = next((e for e in error_chain(error) if isinstance(e, ErrorServerBusy)), None)
                if busy is None:
                    raise self._translate(error, scope) from error
                wait = float(busy.back_off) if busy.back_off else 5.0 * (2**attempt)
                attempt += 1
                if attempt > self.max_retries or wait > self.max_inline_backoff:
                    raise self._translate(busy, scope) from error
                log.info("EWS %s busy; waiting %.1f s (attempt %d)", self.host, wait, attempt)
                if cancel.wait(wait):
                    raise Cancelled() from error

    def close(self) -> None:
        account, self._account = self._account, None
        if account is not None:
            try:
                account.protocol.close()
            except Exception:  # closing must never fail a sync
                log.debug("closing the EWS session failed", exc_info=True)

    # ------------------------------------------------------------ scopes
    def scopes(self) -> list[str]:
        wanted = [INBOX]
        if self.settings.include_sent:
            wanted.append(SENT)
        if self.settings.include_calendar:
            wanted.append(CALENDAR)
        wanted.extend(self.settings.folders)
        return list(dict.fromkeys(wanted))

    def folder_names(self) -> list[str]:
        """Folder paths under the mailbox's top folder (for choosing folders)."""
        account = self._connect()
        names: list[str] = []
        try:
            root = account.msg_folder_root
            for folder in root.walk():
                parts: list[str] = []
                current = folder
                while current is not None and current.id != root.id and len(parts) < 32:
                    parts.append(current.name)
                    current = current.parent
                names.append("/".join(reversed(parts)))
        except Exception as error:
            raise self._translate(error, "") from error
        return sorted(n for n in names if n)

    def _folder(self, scope: str) -> Any:
        if scope in self._folders:
            return self._folders[scope]
        account = self._connect()
        try:
            if scope == INBOX:
                folder = account.inbox
            elif scope == SENT:
                folder = account.sent
            elif scope == CALENDAR:
                folder = account.calendar
            else:
                folder = account.msg_folder_root
                for part in filter(None, scope.split("/")):
                    folder = folder / part
        except Exception as error:
            from exchangelib.errors import ErrorFolderNotFound

            if isinstance(error, ErrorFolderNotFound) or "No subfolder" in str(error):
                raise SourceError(
                    f"The folder '{scope}' does not exist on {self.host}.",
                    "Choose the account's folders again (it may have been renamed).",
                ) from error
            raise self._translate(error, scope) from error
        self._folders[scope] = folder
        return folder

    def probe(self) -> Probe:
        """Log in, check every scope's folder and list the mailbox's folders."""
        for scope in self.scopes():
            self._folder(scope)
        return Probe(self.folder_names(), self.scopes())

    # ------------------------------------------------------------ pages
    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        state = EwsCursor.load(cursor)
        folder = self._folder(scope)
        is_calendar = scope == CALENDAR
        restart = is_calendar and cursor is not None and not state.listing and self._stale(state)
        if restart:
            # The recurrence window moved on: list the calendar again (mark-and-sweep).
            state = EwsCursor(None, True)
        if state.listing and state.state is None:
            state.occurrences = {}
            state.listed_at = self._now().isoformat() if is_calendar else ""
        done = 0
        first = True
        while True:
            cancel.check()
            changes, new_state, last = self._sync_round(folder, scope, state.state, cancel)
            page_changes = self._resolve(changes, scope, is_calendar, state, cancel)
            done += len(changes)
            stalled = new_state == state.state and not last
            listing = state.listing
            state = EwsCursor(
                new_state, listing and not (last or stalled), state.occurrences, state.listed_at
            )
            yield Page(
                page_changes,
                state.dump(),
                listing_complete=listing and (last or stalled),
                progress=(done, None),
                restarts_listing=restart and first,
            )
            first = False
            if last or stalled:
                return

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _stale(self, state: EwsCursor) -> bool:
        try:
            listed = datetime.fromisoformat(state.listed_at)
        except ValueError:
            return True
        return self._now() - listed > timedelta(days=self.relist_days)

    def _sync_round(
        self, folder: Any, scope: str, sync_state: str | None, cancel: CancelToken
    ) -> tuple[list[_Change], str | None, bool]:
        from exchangelib.services import SyncFolderItems

        account = self._connect()
        size_field = {
            f for f in folder.normalize_fields(fields=["size"]) if not f.field.is_attribute
        }

        def run() -> tuple[list[_Change], str | None, bool]:
            service = SyncFolderItems(account=account)
            found: list[_Change] = []
            for change_type, item in service.call(
                folder=folder,
                shape="IdOnly",
                additional_fields=size_field,
                sync_state=sync_state,
                ignore=None,
                max_changes_returned=self.page_size,
                sync_scope=None,
            ):
                if isinstance(item, Exception):
                    raise item
                if change_type == SyncFolderItems.READ_FLAG_CHANGE:
                    continue  # read/unread is not a relationship fact
                if change_type == SyncFolderItems.DELETE:
                    found.append(_Change("delete", item.id))
                else:
                    found.append(
                        _Change(
                            "upsert", item.id, item.changekey or "", getattr(item, "size", None)
                        )
                    )
            return found, service.sync_state, bool(service.includes_last_item_in_range)

        result: tuple[list[_Change], str | None, bool] = self._call(cancel, scope, run)
        return result

    def _resolve(
        self,
        changes: list[_Change],
        scope: str,
        is_calendar: bool,
        cursor: EwsCursor,
        cancel: CancelToken,
    ) -> list[SourceChange]:
        """Read the created/updated items (GetItem) and convert them."""
        latest: dict[str, _Change] = {}
        for change in changes:
            latest[change.ident] = change  # a round may name an item twice: the last wins
        upserts = [c for c in latest.values() if c.op == "upsert"]
        fetched = self._fetch(upserts, scope, is_calendar, cancel) if upserts else {}
        result: list[SourceChange] = []
        for change in latest.values():
            if change.op == "delete":
                if is_calendar:
                    result.extend(object_deleted(change.ident, cursor.occurrences))
                else:
                    result.append(SourceChange(op="delete", locator=change.ident))
                continue
            data = fetched.get(change.ident)
            if data is None:
                continue  # deleted between the sync and the read: the next round says so
            if isinstance(data, Exception):
                result.append(
                    SourceChange(
                        op="upsert",
                        locator=change.ident,
                        version_tag=change.change_key,
                        error=f"item {change.ident[:16]}… could not be read: {data}",
                    )
                )
                continue
            if is_calendar:
                result.extend(
                    object_changes(
                        change.ident,
                        data.mime or b"",
                        version_tag=change.change_key,
                        now=self._now(),
                        where=f"calendar item {change.ident[:16]}…",
                        occurrences=cursor.occurrences,
                    )
                )
            else:
                result.extend(self._convert(change, data))
        return result

    def _convert(self, change: _Change, data: _Read) -> list[SourceChange]:
        ident, change_key = change.ident, change.change_key
        try:
            if data.mime is not None:
                item = _message_item(
                    data.mime, headers_only=self.privacy == "headers", size=data.size
                )
            else:
                item = _message_item(data.headers, headers_only=True, size=data.size)
        except Exception as error:  # one unreadable item must not stop the rest
            log.warning("EWS item %s could not be read: %r", ident, error)
            return [
                SourceChange(
                    "upsert",
                    ident,
                    None,
                    version_tag=change_key,
                    error=f"message {ident[:16]}… could not be read: {error}",
                )
            ]
        return [SourceChange("upsert", ident, item, version_tag=change_key)]

    def _fetch(
        self, upserts: list[_Change], scope: str, is_calendar: bool, cancel: CancelToken
    ) -> dict[str, _Read | Exception]:
        """MIME content when the text is kept (and not huge); else the Internet headers."""
        from exchangelib.properties import ItemId

        account = self._connect()
        wants_text = self.privacy != "headers" or is_calendar
        whole = [c.ident for c in upserts if wants_text and (c.size or 0) <= self.max_body_bytes]
        heads = [c.ident for c in upserts if c.ident not in set(whole)]
        result: dict[str, _Read | Exception] = {}

        def read(chunk: list[str], fields: list[str]) -> list[Any]:
            return list(account.fetch(ids=[ItemId(id=i) for i in chunk], only_fields=fields))

        for ids, fields in ((whole, ["mime_content", "size"]), (heads, ["headers", "size"])):
            for start in range(0, len(ids), 50):
                chunk = ids[start : start + 50]
                items = self._call(cancel, scope, lambda c=chunk, f=fields: read(c, f))
                for ident, item in zip(chunk, items, strict=True):
                    if isinstance(item, Exception):
                        if type(item).__name__ != "ErrorItemNotFound":
                            result[ident] = item
                        continue
                    if "mime_content" in fields:
                        result[ident] = _Read(bytes(item.mime_content or b""), b"", item.size)
                    else:
                        result[ident] = _Read(None, _header_block(item.headers or []), item.size)
        return result


@dataclass(frozen=True)
class _Change:
    op: str  # upsert / delete
    ident: str
    change_key: str = ""
    size: int | None = None


@dataclass(frozen=True)
class _Read:
    mime: bytes | None
    headers: bytes
    size: int | None


def _forget_protocol(config: Any) -> None:
    """Drop exchangelib's cached protocol for this endpoint and login after a failure:
    it caches a failed set-up (even "network down") for the life of the process."""
    from exchangelib.protocol import CachingProtocol, Protocol

    if not config.service_endpoint:
        return
    with CachingProtocol._protocol_cache_lock:
        CachingProtocol._protocol_cache.pop(Protocol._cache_key(config), None)


def _header_block(headers: list[Any]) -> bytes:
    lines = [f"{h.name}: {h.value}" for h in headers if getattr(h, "name", None)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")
