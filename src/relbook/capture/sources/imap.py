"""IMAP mailboxes (imapclient): Inbox, Sent and chosen folders, incrementally.

Connection: implicit TLS (993) or STARTTLS, always with certificate verification (the
system's CAs plus a certificate the rep chose to trust). Plain text only when the account
explicitly allows it *and* the server is this machine (a local bridge or test server).

Cursor per folder (JSON): ``uidvalidity``, ``last_uid`` (everything up to it was handed to
ingest), ``uidnext``, ``modseq`` (HIGHESTMODSEQ seen at the end of the last complete
pass), ``listing`` (a full listing is in progress: resumed after a crash, and its last page
says ``listing_complete``) and, when the server has no QRESYNC, ``uids``: the UIDs handed
over so far as ranges ("1:500,502:900"), to find expunged messages with ``UID SEARCH ALL``.

- A changed UIDVALIDITY raises ``CursorInvalid`` (ingest re-lists the folder).
- QRESYNC: expunges since ``modseq`` come from ``UID FETCH … (CHANGEDSINCE m VANISHED)``;
  nothing changed at all (same HIGHESTMODSEQ and UIDNEXT) costs one SELECT.
- Headers are fetched first; bodies only when the account's privacy level keeps text, in
  requests bounded by size; a message larger than ``max_body_bytes`` keeps its headers and
  the beginning of its body.
- FETCH always gets explicit UID lists (imapclient 4.1 rejects "1:*").
- A dropped connection raises ``SourceError`` naming the folder; pages already handed over
  are committed by ingest, and the next sync resumes after them.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relbook.capture.sources.base import (
    CancelToken,
    CapturedItem,
    CursorInvalid,
    Page,
    SourceChange,
    SourceError,
)
from relbook.capture.sources.net import (
    AuthFailed,
    Probe,
    certificate_refused,
    fetch_certificate,
    is_loopback,
    is_unreachable,
    tls_context,
    unreachable,
)

log = logging.getLogger(__name__)

SECURITY_CHOICES = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
INBOX = "INBOX"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    username: str
    port: int | None = None
    security: str = "tls"  # tls (implicit, 993) / starttls / plain (loopback only)
    allow_plaintext: bool = False  # the rep's explicit choice, for a local server only
    include_sent: bool = True
    folders: tuple[str, ...] = ()  # chosen in addition to Inbox and Sent
    trusted_cert: str = ""  # PEM of a certificate the rep chose to trust
    timeout: float = 60.0

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.security, 993)


# ----------------------------------------------------------------------- UID sets


def uids_to_ranges(uids: Iterable[int]) -> str:
    ordered = sorted(set(uids))
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        start = end = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == end + 1:
            index += 1
            end = ordered[index]
        parts.append(str(start) if start == end else f"{start}:{end}")
        index += 1
    return ",".join(parts)


def ranges_to_uids(text: str) -> set[int]:
    result: set[int] = set()
    for part in filter(None, text.split(",")):
        if ":" in part:
            low, high = (int(x) for x in part.split(":", 1))
            result.update(range(min(low, high), max(low, high) + 1))
        else:
            result.add(int(part))
    return result


@dataclass
class FolderCursor:
    uidvalidity: int
    last_uid: int = 0
    uidnext: int | None = None
    modseq: int | None = None
    listing: bool = False
    uids: set[int] | None = None  # only without QRESYNC

    def dump(self) -> str:
        data: dict[str, Any] = {
            "v": 1,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "uidnext": self.uidnext,
            "modseq": self.modseq,
            "listing": self.listing,
        }
        if self.uids is not None:
            data["uids"] = uids_to_ranges(self.uids)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> FolderCursor:
        try:
            data = json.loads(text)
            uids = data.get("uids")
            return cls(
                uidvalidity=int(data["uidvalidity"]),
                last_uid=int(data["last_uid"]),
                uidnext=data.get("uidnext"),
                modseq=data.get("modseq"),
                listing=bool(data.get("listing", False)),
                uids=None if uids is None else ranges_to_uids(str(uids)),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise CursorInvalid(f"unreadable IMAP cursor: {error}") from error


# ----------------------------------------------------------------------- the source


@dataclass
class FolderInfo:
    name: str
    flags: tuple[str, ...] = ()


def _convert(
    raw: bytes, *, headers_only: bool, received_at: datetime | None, size: int | None
) -> CapturedItem:
    from relbook.capture.mail import parse_message

    item = parse_message(raw, fallback_time=received_at, body=not headers_only)
    if size is not None:
        item.size_bytes = size  # the message's size on the server, not what was fetched
    return item


class ImapSource:
    """One IMAP account. Not thread-safe: one sync job uses it, then closes it."""

    def __init__(
        self,
        account_id: str,
        settings: ImapSettings,
        password: str,
        *,
        privacy: str = "excerpt",
        page_size: int = 500,
        max_body_bytes: int = 10 * 1024 * 1024,
        body_batch_bytes: int = 8 * 1024 * 1024,
        partial_body_bytes: int = 256 * 1024,
    ) -> None:
        self.account_id = account_id
        self.settings = settings
        self._password = password
        self.privacy = privacy
        self.page_size = max(1, page_size)
        self.max_body_bytes = max_body_bytes
        self.body_batch_bytes = body_batch_bytes
        self.partial_body_bytes = partial_body_bytes
        self._client: Any = None
        self._qresync = False
        self._condstore = False
        self._scopes: list[str] | None = None

    # ------------------------------------------------------------ connection
    @property
    def host(self) -> str:
        return self.settings.host

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from imapclient import IMAPClient, SocketTimeout
        from imapclient.exceptions import LoginError

        s = self.settings
        if s.security not in SECURITY_CHOICES:
            raise SourceError(
                f"Unknown connection security '{s.security}' for {s.host}.",
                "Choose TLS or STARTTLS in the account.",
            )
        if s.security == "plain" and not (s.allow_plaintext and is_loopback(s.host)):
            raise SourceError(
                f"Relbook will not send the password for {s.username} to {s.host} unencrypted.",
                "Use TLS or STARTTLS. Plain text is only allowed for a server on this computer.",
            )
        port = s.effective_port
        context = tls_context(s.trusted_cert)
        timeout = SocketTimeout(connect=min(15.0, s.timeout), read=s.timeout)
        try:
            client = IMAPClient(
                s.host, port=port, ssl=s.security == "tls", ssl_context=context, timeout=timeout
            )
            if s.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    client.shutdown()
                    raise SourceError(
                        f"{s.host} does not offer STARTTLS on port {port}.",
                        "Choose TLS (usually port 993) in the account.",
                    )
                client.starttls(context)
            client.normalise_times = False
        except ssl.SSLCertVerificationError as error:
            if s.security == "starttls":
                pem, fingerprint = self._starttls_certificate(port)
            else:
                pem, fingerprint = fetch_certificate(s.host, port)
            raise certificate_refused(s.host, error, pem, fingerprint) from error
        except SourceError:
            raise
        except (OSError, imaplib.IMAP4.error) as error:
            if is_unreachable(error):
                raise unreachable(f"{s.host}:{port}", error) from error
            raise SourceError(
                f"Could not open an IMAP connection to {s.host}:{port}: {error}.",
                "Check the server name, port and security in the account.",
            ) from error
        try:
            client.login(s.username, self._password)
        except LoginError as error:
            client.shutdown()
            raise AuthFailed(
                f"{s.host} refused the user name or password for {s.username}.",
                "Enter the password again in the account (nothing stored was lost).",
            ) from error
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._dropped("", error) from error
        capabilities = {c.upper() for c in client.capabilities()}
        self._condstore = b"CONDSTORE" in capabilities
        if b"QRESYNC" in capabilities and b"ENABLE" in capabilities:
            try:
                enabled = {c.upper() for c in client.enable("CONDSTORE", "QRESYNC")}
            except imaplib.IMAP4.error:
                enabled = set()
            self._qresync = b"QRESYNC" in enabled
        self._client = client
        return client

    def _starttls_certificate(self, port: int) -> tuple[str, str]:
        """The certificate behind STARTTLS, unverified, to show the rep what was refused."""
        from imapclient import IMAPClient

        from relbook.capture.sources.net import fingerprint_of

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            client = IMAPClient(self.settings.host, port=port, ssl=False, timeout=10)
            client.starttls(context)
            der = client._imap.sock.getpeercert(binary_form=True)
            client.shutdown()
        except (OSError, imaplib.IMAP4.error):
            return "", ""
        return (ssl.DER_cert_to_PEM_cert(der), fingerprint_of(der)) if der else ("", "")

    def _dropped(self, folder: str, error: BaseException) -> SourceError:
        self._forget_client()
        where = f" while reading folder '{folder}'" if folder else ""
        if is_unreachable(error):
            return unreachable(self.settings.host, error)
        return SourceError(
            f"The connection to {self.settings.host} failed{where}: {error or type(error).__name__}.",
            "What was already stored is kept; the next sync continues from there.",
        )

    def _forget_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.shutdown()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.shutdown()

    # ------------------------------------------------------------ scopes
    def folders(self) -> list[FolderInfo]:
        client = self._connect()
        try:
            listed = client.list_folders()
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._dropped("", error) from error
        return [
            FolderInfo(name, tuple(f.decode("ascii", "replace") for f in flags))
            for flags, _delimiter, name in listed
        ]

    def sent_folder(self) -> str | None:
        from imapclient.imapclient import SENT

        client = self._connect()
        try:
            found = client.find_special_folder(SENT)
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._dropped("", error) from error
        return str(found) if found else None

    def scopes(self) -> list[str]:
        if self._scopes is not None:
            return list(self._scopes)
        existing = {f.name for f in self.folders()}
        wanted: list[str] = [INBOX]
        if self.settings.include_sent:
            sent = self.sent_folder()
            if sent:
                wanted.append(sent)
        for name in self.settings.folders:
            if name not in existing and name.upper() != INBOX:
                raise SourceError(
                    f"The folder '{name}' chosen for this account does not exist on "
                    f"{self.settings.host}.",
                    "Choose the account's folders again (it may have been renamed).",
                )
            wanted.append(name)
        self._scopes = list(dict.fromkeys(wanted))
        return list(self._scopes)

    def probe(self) -> Probe:
        """Log in and list folders (the account editor's connection test)."""
        return Probe(sorted(f.name for f in self.folders()), self.scopes())

    # ------------------------------------------------------------ pages
    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        client = self._connect()
        state = FolderCursor.load(cursor) if cursor else None
        try:
            selected = client.select_folder(scope, readonly=True)
        except imaplib.IMAP4.abort as error:
            raise self._dropped(scope, error) from error
        except imaplib.IMAP4.error as error:
            raise SourceError(
                f"{self.settings.host} did not open folder '{scope}': {error}.",
                "Check that the folder still exists; choose the account's folders again.",
            ) from error
        except OSError as error:
            raise self._dropped(scope, error) from error
        uidvalidity = int(selected[b"UIDVALIDITY"])
        uidnext = _int_or_none(selected.get(b"UIDNEXT"))
        highest = _int_or_none(selected.get(b"HIGHESTMODSEQ")) if self._condstore else None
        if state is not None and state.uidvalidity != uidvalidity:
            raise CursorInvalid(
                f"UIDVALIDITY of '{scope}' changed ({state.uidvalidity} -> {uidvalidity})"
            )
        try:
            yield from self._pages(client, scope, state, uidvalidity, uidnext, highest, cancel)
        except (imaplib.IMAP4.abort, OSError) as error:
            raise self._dropped(scope, error) from error
        except imaplib.IMAP4.error as error:
            raise SourceError(
                f"{self.settings.host} refused a request in folder '{scope}': {error}.",
                "What was already stored is kept; the next sync tries again.",
            ) from error

    def _pages(
        self,
        client: Any,
        scope: str,
        state: FolderCursor | None,
        uidvalidity: int,
        uidnext: int | None,
        highest: int | None,
        cancel: CancelToken,
    ) -> Iterator[Page]:
        cancel.check()
        if state is None:
            state = FolderCursor(
                uidvalidity=uidvalidity,
                uidnext=uidnext,
                modseq=highest,
                listing=True,
                uids=None if self._qresync else set(),
            )
        if self._qresync:
            state.uids = None
        elif state.uids is None:
            # QRESYNC went away (server changed): rebuild the known set by a listing.
            raise CursorInvalid(f"'{scope}': the server no longer offers QRESYNC")

        listing = state.listing
        deletes: list[int] = []
        if not listing:
            unchanged = (
                uidnext is not None
                and uidnext == state.uidnext
                and highest is not None
                and highest == state.modseq
            )
            if unchanged:
                return
            deletes = self._expunged(client, state)
            if state.uids is not None and not deletes and uidnext == state.uidnext:
                return  # nothing new, nothing gone (flag changes do not matter here)

        new_uids = self._uids_after(client, state.last_uid)
        total = len(new_uids)
        done = 0
        delete_changes = [
            SourceChange(op="delete", locator=f"{uidvalidity}:{uid}") for uid in deletes
        ]
        if state.uids is not None:
            state.uids.difference_update(deletes)

        batches = [new_uids[i : i + self.page_size] for i in range(0, total, self.page_size)]
        if not batches:
            state.uidnext = uidnext
            if not listing and highest is not None:
                state.modseq = highest
            state.listing = False
            yield Page(delete_changes, state.dump(), listing_complete=listing, progress=(0, 0))
            return
        for index, batch in enumerate(batches):
            cancel.check()
            changes = delete_changes + self._fetch_batch(client, uidvalidity, batch, cancel)
            delete_changes = []
            done += len(batch)
            state.last_uid = max(batch)
            if state.uids is not None:
                state.uids.update(batch)
            last = index == len(batches) - 1
            if last:
                state.uidnext = uidnext
                if not listing and highest is not None:
                    state.modseq = highest
                state.listing = False
            yield Page(
                changes,
                state.dump(),
                listing_complete=listing and last,
                progress=(done, total),
            )

    def _expunged(self, client: Any, state: FolderCursor) -> list[int]:
        if state.last_uid == 0:
            return []
        if state.uids is None:
            # QRESYNC: the server tells which UIDs vanished since our MODSEQ.
            if state.modseq is None:
                return []
            vanished = _uid_fetch_vanished(client, state.last_uid, state.modseq)
            return sorted(uid for uid in vanished if uid <= state.last_uid)
        present = set(_search(client, ["UID", f"1:{state.last_uid}"]))
        return sorted(state.uids - present)

    def _uids_after(self, client: Any, last_uid: int) -> list[int]:
        found = _search(client, ["UID", f"{last_uid + 1}:*"] if last_uid else ["ALL"])
        return sorted(uid for uid in found if uid > last_uid)

    # ------------------------------------------------------------ fetching
    def _fetch_batch(
        self, client: Any, uidvalidity: int, uids: list[int], cancel: CancelToken
    ) -> list[SourceChange]:
        heads = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]"])
        bodies: dict[int, bytes] = {}
        if self.privacy != "headers":
            bodies = self._fetch_bodies(client, uids, heads, cancel)
        changes: list[SourceChange] = []
        for uid in uids:
            data = heads.get(uid)
            if data is None:
                continue  # expunged between SEARCH and FETCH: nothing to store
            locator = f"{uidvalidity}:{uid}"
            size = _int_or_none(data.get(b"RFC822.SIZE"))
            received = _aware(data.get(b"INTERNALDATE"))
            header = data.get(b"BODY[HEADER]") or b""
            raw = bodies.get(uid)
            headers_only = raw is None
            try:
                item = _convert(
                    raw if raw is not None else header,
                    headers_only=headers_only,
                    received_at=received,
                    size=size,
                )
            except Exception as error:  # one broken message must not stop the rest
                log.warning("IMAP %s uid %s could not be read: %r", self.host, uid, error)
                changes.append(
                    SourceChange(
                        op="upsert",
                        locator=locator,
                        error=f"message UID {uid} could not be read: {error}",
                    )
                )
                continue
            changes.append(SourceChange(op="upsert", locator=locator, item=item))
        return changes

    def _fetch_bodies(
        self, client: Any, uids: list[int], heads: dict[int, Any], cancel: CancelToken
    ) -> dict[int, bytes]:
        """Whole messages up to ``max_body_bytes``; the beginning of larger ones."""
        bodies: dict[int, bytes] = {}
        whole: list[int] = []
        large: list[int] = []
        for uid in uids:
            size = _int_or_none(heads.get(uid, {}).get(b"RFC822.SIZE")) or 0
            if uid not in heads:
                continue
            (large if size > self.max_body_bytes else whole).append(uid)
        group: list[int] = []
        group_bytes = 0
        for uid in whole:
            size = _int_or_none(heads[uid].get(b"RFC822.SIZE")) or 0
            if group and group_bytes + size > self.body_batch_bytes:
                bodies.update(self._fetch_whole(client, group))
                cancel.check()
                group, group_bytes = [], 0
            group.append(uid)
            group_bytes += size
        if group:
            bodies.update(self._fetch_whole(client, group))
        if large:
            part = f"BODY.PEEK[TEXT]<0.{self.partial_body_bytes}>"
            fetched = client.fetch(large, [part])
            for uid in large:
                data = fetched.get(uid)
                if data is None:
                    continue
                text = next((v for k, v in data.items() if k.startswith(b"BODY[TEXT]")), b"")
                header = heads[uid].get(b"BODY[HEADER]") or b""
                bodies[uid] = bytes(header) + bytes(text or b"")
        return bodies

    def _fetch_whole(self, client: Any, uids: list[int]) -> dict[int, bytes]:
        fetched = client.fetch(uids, ["BODY.PEEK[]"])
        return {
            uid: bytes(data[b"BODY[]"])
            for uid, data in fetched.items()
            if data.get(b"BODY[]") is not None
        }


# ----------------------------------------------------------------------- helpers


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
        if value is None:
            return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _search(client: Any, criteria: list[str]) -> list[int]:
    return [int(uid) for uid in client.search(criteria)]


def _uid_fetch_vanished(client: Any, last_uid: int, modseq: int) -> set[int]:
    """``UID FETCH 1:last (UID) (CHANGEDSINCE modseq VANISHED)`` → the vanished UIDs.

    imapclient has no wrapper for VANISHED (RFC 7162); its fetch() refuses ranges.
    """
    imap = client._imap
    imap.untagged_responses.pop("VANISHED", None)
    tag = imap._command(
        "UID", "FETCH", f"1:{last_uid}", "(UID)", f"(CHANGEDSINCE {modseq} VANISHED)"
    )
    typ, data = imap._command_complete("FETCH", tag)
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH VANISHED failed: {data!r}")
    imap.untagged_responses.pop("FETCH", None)
    vanished: set[int] = set()
    for line in imap.untagged_responses.pop("VANISHED", []) or []:
        text = line.decode("ascii", "replace") if isinstance(line, bytes) else str(line)
        text = text.replace("(EARLIER)", "").strip()
        vanished |= ranges_to_uids(text)
    return vanished
