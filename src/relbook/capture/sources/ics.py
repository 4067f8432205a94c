"""An .ics URL subscription (webcal/https): refreshed with ETag / If-Modified-Since.

A published calendar can only be fetched whole, so every changed download is a full
listing: the page says ``restarts_listing`` and ``listing_complete`` and ingest sweeps the
occurrences that went away (generation mark-and-sweep), after its guards. An unchanged
calendar costs one conditional request (``304 Not Modified``), or — for servers that send
no validators — one download whose hash matches the last one.

Cursor (JSON): ``{"etag": …, "last_modified": …, "sha256": …}``. Each occurrence's
locator is its natural key and its version tag a hash of what the book keeps of it, so
unchanged occurrences cost nothing at ingest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse, urlunparse

from relbook.capture.ics import IcsError, Window, calendar_items
from relbook.capture.sources.base import CancelToken, CapturedItem, Page, SourceChange, SourceError
from relbook.capture.sources.net import AuthFailed, Unreachable
from relbook.domain.clock import Clock, SystemClock

SCOPE = "calendar"
MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = "Relbook calendar subscription"


def normalise_url(url: str) -> str:
    """``webcal://`` → ``https://``; only http(s) is fetched."""
    text = url.strip()
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme in ("webcal", "webcals"):
        parsed = parsed._replace(scheme="https")
    elif scheme not in ("http", "https"):
        raise SourceError(
            f"'{text}' is not a web address of a calendar (it must start with https://, "
            "http:// or webcal://).",
            "Copy the calendar's subscription link again.",
        )
    if not parsed.netloc:
        raise SourceError(f"'{text}' has no server name.", "Copy the subscription link again.")
    return urlunparse(parsed)


def shown_url(url: str) -> str:
    """The URL without its query (private calendar links carry their secret there)."""
    parsed = urlparse(url)
    return urlunparse(parsed._replace(query="", fragment="", netloc=parsed.hostname or ""))


class IcsUrlSource:
    def __init__(
        self,
        account_id: str,
        url: str,
        *,
        clock: Clock | None = None,
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        window: Window | None = None,
        default_tz: tzinfo = UTC,
        opener: Callable[[urllib.request.Request, float], _Response] | None = None,
    ) -> None:
        self.account_id = account_id
        self.url = normalise_url(url)
        self.clock = clock or SystemClock()
        self.username = username
        self.password = password
        self.timeout = timeout
        self.window = window
        self.default_tz = default_tz
        self._open = opener or _urlopen
        self.requests = 0  # conditional requests made (tests read it)

    # ---------------------------------------------------------------- Source
    def scopes(self) -> list[str]:
        return [SCOPE]

    def pages(self, scope: str, cursor: str | None, cancel: CancelToken) -> Iterator[Page]:
        cancel.check()
        state = _state(cursor)
        response = self._fetch(state if cursor else {})
        if response.status == 304:
            yield Page([], cursor)
            return
        digest = hashlib.sha256(response.body).hexdigest()
        new_cursor = json.dumps(
            {"etag": response.etag, "last_modified": response.last_modified, "sha256": digest}
        )
        if cursor is not None and state.get("sha256") == digest:
            yield Page([], new_cursor)  # no validators, same bytes: nothing changed
            return
        cancel.check()
        changes = self._changes(response.body)
        yield Page(
            changes,
            new_cursor,
            listing_complete=True,
            restarts_listing=cursor is not None,
            progress=(len(changes), len(changes)),
        )

    def probe(self) -> list[str]:
        """The subjects of the calendar's meetings (the account's connection test)."""
        response = self._fetch({})
        return [
            c.item.subject or "(no title)"
            for c in self._changes(response.body)
            if c.item is not None
        ]

    def close(self) -> None:
        """Nothing to release: every fetch opens and closes its own connection."""

    # ------------------------------------------------------------- internals
    def _changes(self, body: bytes) -> list[SourceChange]:
        now = self.clock.now()
        where = shown_url(self.url)
        try:
            reads = list(
                calendar_items(
                    body, now=now, where=where, window=self.window, default_tz=self.default_tz
                )
            )
        except IcsError as error:
            raise SourceError(
                f"The calendar at {where} {error}.",
                "Check the subscription link: it must point at an .ics calendar.",
            ) from error
        changes: list[SourceChange] = []
        for read in reads:
            if read.item is not None:
                changes.append(
                    SourceChange(
                        "upsert", read.item.natural_key, read.item, version_tag=_tag(read.item)
                    )
                )
            elif read.problem is not None and read.problem.skipped:
                changes.append(
                    SourceChange("upsert", f"problem:{read.where}", error=read.problem.message)
                )
        return changes

    def _fetch(self, state: dict[str, str]) -> _Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        if self.username or self.password:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(self.url, headers=headers)  # noqa: S310 - http(s) only (checked in __init__)
        where = shown_url(self.url)
        self.requests += 1
        try:
            return self._open(request, self.timeout)
        except urllib.error.HTTPError as error:
            error.close()  # it holds the response's socket
            if error.code == 304:
                return _Response(304, b"", state.get("etag", ""), state.get("last_modified", ""))
            raise _http_error(error, where) from None
        except ssl.SSLError as error:
            raise SourceError(
                f"The secure connection to {where} failed: {error.reason or error}.",
                "Check the address; the server's certificate must be valid.",
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(
                f"{where} cannot be reached now ({reason}).",
                "Relbook tries again at the next refresh.",
            ) from None


class _Response:
    def __init__(self, status: int, body: bytes, etag: str, last_modified: str) -> None:
        self.status = status
        self.body = body
        self.etag = etag
        self.last_modified = last_modified


def _urlopen(request: urllib.request.Request, timeout: float) -> _Response:
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
        body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise SourceError(
                f"The calendar at {shown_url(request.full_url)} is larger than "
                f"{MAX_BYTES // (1024 * 1024)} MB; Relbook does not subscribe to it.",
                "Subscribe to a smaller calendar (one person's or one team's).",
            )
        return _Response(
            int(response.status),
            body,
            response.headers.get("ETag", "") or "",
            response.headers.get("Last-Modified", "") or "",
        )


def _http_error(error: urllib.error.HTTPError, where: str) -> SourceError:
    code = error.code
    if code in (401, 403):
        return AuthFailed(
            f"{where} refused access (HTTP {code}).",
            "Check the user name and password, or copy a fresh subscription link.",
        )
    if code == 404:
        return SourceError(
            f"{where} has no calendar (HTTP 404).", "Copy the subscription link again."
        )
    if code in (429, 503):
        return SourceError(
            f"{where} asked us to slow down (HTTP {code}).",
            "Relbook waits and tries again.",
            retry_after=_retry_after(error.headers.get("Retry-After") if error.headers else None),
        )
    return SourceError(f"{where} answered HTTP {code} ({error.reason}).", "Try again later.")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _state(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return {k: str(v) for k, v in value.items() if v} if isinstance(value, dict) else {}


def _tag(item: CapturedItem) -> str:
    """A hash of everything the book keeps of an occurrence."""
    parts = [
        item.subject, item.text, item.location, item.status, str(item.all_day),
        item.occurred_at.isoformat(), item.ends_at.isoformat() if item.ends_at else "",
        item.sender.address if item.sender else "",
        ",".join(f"{r}:{p.address}:{p.name}" for r, p in item.participants),
    ]  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:32]
