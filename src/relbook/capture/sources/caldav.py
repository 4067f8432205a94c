"""CalDAV calendars (caldav 3.x): events become meetings with their attendees.

Scopes are calendar URLs (the paths on the server): every calendar of the account, or the
ones the rep chose. Each calendar object (an ``.ics`` resource, addressed by its ``href``)
is converted by capture core's iCalendar code: a single event gives one item with the
``href`` as its locator; a recurring series gives one item per occurrence inside the
bounded window, with locators ``href#<natural key>``.

Incremental sync, in order of preference:

1. **sync-collection** (RFC 6578) with the server's sync token. A token the server no
   longer accepts (``DAV:valid-sync-token``) raises ``CursorInvalid``: ingest re-lists the
   calendar with mark-and-sweep.
2. **ETag listing** when the server refuses sync-collection: a depth-1 PROPFIND of the
   ETags, compared with the ETags of the previous pass (kept in the cursor).

The cursor (JSON) keeps the token or the ETags, the occurrence locators of each recurring
object (so a deleted or shortened series deletes exactly its occurrences), and when the
calendar was last listed in full: after ``relist_days`` the calendar is listed again (a
page with ``restarts_listing``) so the recurrence window moves with time.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from relbook.capture.sources.base import (
    CancelToken,
    CursorInvalid,
    Page,
    SourceChange,
    SourceError,
)
from relbook.capture.sources.calobjects import object_changes, object_deleted
from relbook.capture.sources.net import (
    AuthFailed,
    certificate_error,
    certificate_refused,
    fetch_certificate,
    is_unreachable,
    unreachable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalDavSettings:
    url: str  # the server, the principal, or a calendar URL
    username: str
    calendars: tuple[str, ...] = ()  # chosen calendar URLs or names; empty = all
    trusted_cert: str = ""  # PEM of a certificate the rep chose to trust
    timeout: float = 60.0

    @property
    def host(self) -> str:
        return urlparse(self.url).hostname or self.url


@dataclass
class CalendarCursor:
    mode: str = "token"  # token / etag
    token: str | None = None
    etags: dict[str, str] = field(default_factory=dict)  # etag mode: href -> etag
    occurrences: dict[str, list[str]] = field(default_factory=dict)  # href -> locators
    listed_at: str = ""  # ISO moment of the last complete listing

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "mode": self.mode,
                "token": self.token,
                "etags": self.etags,
                "occurrences": self.occurrences,
                "listed_at": self.listed_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str) -> CalendarCursor:
        try:
            data = json.loads(text)
            return cls(
                mode=str(data.get("mode", "token")),
                token=data.get("token"),
                etags=dict(data.get("etags") or {}),
                occurrences={k: list(v) for k, v in (data.get("occurrences") or {}).items()},
                listed_at=str(data.get("listed_at") or ""),
            )
        except (ValueError, AttributeError, TypeError) as error:
            raise CursorInvalid(f"unreadable CalDAV cursor: {error}") from error


def href_of(url: Any) -> str:
    """A calendar object's stable name: its decoded path (servers differ in quoting)."""
    return unquote(urlparse(str(url)).path)


class CalDavSource:
    def __init__(
        self,
        account_id: str,
        settings: CalDavSettings,
        password: str,
        *,
        page_size: int = 100,
        relist_days: int = 7,
        clock: Any = None,
    ) -> None:
        self.account_id = account_id
        self.settings = settings
        self._password = password
        self.page_size = max(1, page_size)
        self.relist_days = relist_days
        self._clock = clock
        self._client: Any = None
        self._calendars: dict[str, Any] | None = None
        self._ca_file: str | None = None

    @property
    def host(self) -> str:
        return self.settings.host

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    # ------------------------------------------------------------ connection
    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from caldav.davclient import DAVClient

        verify: bool | str = True
        if self.settings.trusted_cert.strip():
            handle, path = tempfile.mkstemp(prefix="relbook-caldav-", suffix=".pem")
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(self.settings.trusted_cert)
            self._ca_file = path
            verify = path
        try:
            client = DAVClient(
                url=self.settings.url,
                username=self.settings.username,
                password=self._password,
                ssl_verify_cert=verify,
                timeout=int(self.settings.timeout),
            )
        except Exception as error:
            raise self._translate(error, "") from error
        self._client = client
        return client

    def _translate(self, error: BaseException, scope: str) -> SourceError:
        from caldav.lib import error as dav_error

        if isinstance(error, SourceError):
            return error
        where = f" (calendar {scope})" if scope else ""
        host = self.host
        cert = certificate_error(error)
        if cert is not None:
            parsed = urlparse(self.settings.url)
            pem, fingerprint = fetch_certificate(parsed.hostname or host, parsed.port or 443)
            return certificate_refused(host, cert, pem, fingerprint)
        if isinstance(error, dav_error.AuthorizationError) and (
            "401" in str(error) or "Unauthorized" in str(error)
        ):
            return AuthFailed(
                f"{host} refused the user name or password for {self.settings.username}.",
                "Enter the password again in the account (nothing stored was lost).",
            )
        if is_unreachable(error):
            return unreachable(host, error)
        if isinstance(error, dav_error.NotFoundError):
            return SourceError(
                f"The calendar{where} no longer exists on {host}.",
                "Choose the account's calendars again (it may have been removed).",
            )
        detail = str(error) or type(error).__name__
        return SourceError(
            f"The CalDAV server {host} failed{where}: {detail}.",
            "What was already stored is kept; the next sync tries again.",
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing must never fail a sync
                log.debug("closing the CalDAV session failed", exc_info=True)
        if self._ca_file:
            Path(self._ca_file).unlink(missing_ok=True)
            self._ca_file = None

    # ------------------------------------------------------------ scopes
    def calendars(self) -> dict[str, Any]:
        """The account's calendars by scope (URL path), with their display names."""
        if self._calendars is not None:
            return self._calendars
        client = self._connect()
        try:
            principal = client.get_principal()
            found = principal.get_calendars()
        except Exception as error:
            raise self._translate(error, "") from error
        self._calendars = {href_of(cal.url): cal for cal in found}
        return self._calendars

    def calendar_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for scope, calendar in self.calendars().items():
            try:
                names[scope] = calendar.get_display_name() or scope
            except Exception:
                names[scope] = scope
        return names

    def scopes(self) -> list[str]:
        available = self.calendars()
        if not self.settings.calendars:
            return sorted(available)
        names = self.calendar_names()
        chosen: list[str] = []
        for wanted in self.settings.calendars:
            path = href_of(wanted) if "/" in wanted else wanted
            match = next(
                (s for s in available if s == path or s.rstrip("/") == path.rstrip("/")),
                None,
            ) or next((s for s, n in names.items() if n == wanted), None)
            if match is None:
                raise SourceError(
                    f"The calendar '{wanted}' chosen for this account does not exist on "
                    f"{self.host}.",
                    "Choose the account's calendars again (it may have been renamed).",
                )
            chosen.append(match)
        return list(dict.fromkeys(chosen))

    def probe(self) -> dict[str, str]:
        """Log in and list calendars (the account editor's connection test)."""
        self.scopes()
        return self.calendar_names()

    # ------------------------------------------------------------ pages
    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        calendar = self.calendars().get(scope)
        if calendar is None:
            raise SourceError(
                f"The calendar {scope} no longer exists on {self.host}.",
                "Choose the account's calendars again (it may have been removed).",
            )
        state = CalendarCursor.load(cursor) if cursor else None
        restart = state is not None and self._stale(state)
        if restart:
            # The recurrence window has moved on: list again so new occurrences come in
            # and old ones outside the window are swept.
            state = None
        try:
            pages = self._pages(calendar, scope, state, cancel)
            for index, page in enumerate(pages):
                if restart and index == 0:
                    page.restarts_listing = True
                yield page
        except (CursorInvalid, SourceError):
            raise
        except Exception as error:
            from relbook.capture.sources.base import Cancelled

            if isinstance(error, Cancelled):
                raise
            raise self._translate(error, scope) from error

    def _stale(self, state: CalendarCursor) -> bool:
        if not state.listed_at:
            return True
        try:
            listed = datetime.fromisoformat(state.listed_at)
        except ValueError:
            return True
        return self._now() - listed > timedelta(days=self.relist_days)

    def _pages(
        self, calendar: Any, scope: str, state: CalendarCursor | None, cancel: CancelToken
    ) -> Iterator[Page]:
        listing = state is None
        previous = state or CalendarCursor()
        changed, deleted, new_state = self._changes(calendar, scope, previous, listing)
        cancel.check()
        if listing:
            new_state.listed_at = self._now().isoformat()
        else:
            new_state.listed_at = previous.listed_at
        new_state.occurrences = dict(previous.occurrences)

        delete_changes: list[SourceChange] = []
        for href in deleted:
            delete_changes.extend(object_deleted(href, new_state.occurrences))

        hrefs = sorted(changed)
        batches = [hrefs[i : i + self.page_size] for i in range(0, len(hrefs), self.page_size)]
        if not batches:
            yield Page(delete_changes, new_state.dump(), listing_complete=listing, progress=(0, 0))
            return
        done = 0
        # Until the last page the old token/ETags stay in the cursor, so a crash replays
        # this pass; only the occurrence map moves on (its items are committed).
        interim = CalendarCursor(
            previous.mode, previous.token, dict(previous.etags), {}, previous.listed_at
        )
        for index, batch in enumerate(batches):
            cancel.check()
            changes = delete_changes + self._load(calendar, batch, changed, new_state)
            delete_changes = []
            done += len(batch)
            last = index == len(batches) - 1
            cursor: str | None
            if last:
                cursor = new_state.dump()
            elif listing:
                cursor = None  # an interrupted listing starts again
            else:
                interim.occurrences = dict(new_state.occurrences)
                cursor = interim.dump()
            yield Page(
                changes,
                cursor,
                listing_complete=listing and last,
                progress=(done, len(hrefs)),
            )

    def _changes(
        self, calendar: Any, scope: str, previous: CalendarCursor, listing: bool
    ) -> tuple[dict[str, str], list[str], CalendarCursor]:
        """(href -> etag of new/changed objects, deleted hrefs, cursor after this pass)."""
        from caldav.lib import error as dav_error

        if previous.mode == "token":
            try:
                result = calendar.get_objects_by_sync_token(
                    sync_token=None if listing else previous.token,
                    load_objects=False,
                    disable_fallback=True,
                )
            except dav_error.DAVError as error:
                preconditions = getattr(error, "preconditions", None) or []
                if not listing and any("valid-sync-token" in str(p) for p in preconditions):
                    raise CursorInvalid(
                        f"{scope}: the server no longer accepts the sync token"
                    ) from error
                if isinstance(error, dav_error.AuthorizationError) and "401" in str(error):
                    raise
                if not listing:
                    raise
                log.info("CalDAV %s refuses sync-collection (%s): ETag listing", scope, error)
            else:
                deleted_urls = {href_of(u) for u in result.deleted_urls}
                changed = {
                    href_of(o.url): str(o.props.get("{DAV:}getetag", ""))
                    for o in result.objects
                    if href_of(o.url) not in deleted_urls
                }
                return changed, sorted(deleted_urls), CalendarCursor("token", result.sync_token)
        etags = self._etags(calendar)
        changed = {h: e for h, e in etags.items() if previous.etags.get(h) != e}
        deleted = [] if listing else sorted(set(previous.etags) - set(etags))
        return changed, deleted, CalendarCursor("etag", None, etags)

    def _etags(self, calendar: Any) -> dict[str, str]:
        from caldav.elements import dav

        response = calendar._query_properties([dav.GetEtag()], depth=1)
        own = href_of(calendar.url).rstrip("/")
        found: dict[str, str] = {}
        for href, props in response.expand_simple_props([dav.GetEtag()]).items():
            path = href_of(href)
            if path.rstrip("/") == own:
                continue
            etag = props.get(dav.GetEtag.tag)
            if etag:
                found[path] = str(etag)
        return found

    def _load(
        self, calendar: Any, hrefs: list[str], etags: dict[str, str], state: CalendarCursor
    ) -> list[SourceChange]:
        objects = calendar.multiget([calendar.url.join(h) for h in hrefs])
        by_href = {href_of(o.url): o for o in objects}
        changes: list[SourceChange] = []
        now = self._now()
        for href in hrefs:
            obj = by_href.get(href)
            if obj is None:  # gone between listing and reading
                changes.extend(object_deleted(href, state.occurrences))
                continue
            etag = str(obj.props.get("{DAV:}getetag", "") or etags.get(href, ""))
            changes.extend(
                object_changes(
                    href,
                    str(obj.data),
                    version_tag=etag,
                    now=now,
                    where=href,
                    occurrences=state.occurrences,
                )
            )
        return changes
