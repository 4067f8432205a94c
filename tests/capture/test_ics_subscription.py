"""An .ics URL subscription: conditional refreshes, full re-lists, errors for the rep.

A real HTTP server (``http.server`` on 127.0.0.1) serves a calendar that the tests edit;
it honours ETag / If-None-Match and Last-Modified / If-Modified-Since like a CalDAV
server's export or a Google "secret address" does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from tests.capture.contract import SourceContract, drain, ensure_account
from tests.conftest import NOW

from relbook.capture.ingest import sync_source
from relbook.capture.sources.base import CancelToken, SourceError
from relbook.capture.sources.ics import IcsUrlSource, normalise_url
from relbook.capture.sources.net import AuthFailed, Unreachable
from relbook.domain.clock import FixedClock
from relbook.services.context import Services


class CalendarServer:
    """The calendar (UID → VEVENT text) and how the server answers."""

    def __init__(self) -> None:
        self.events: dict[str, str] = {}
        self.version = 0
        self.status = 200
        self.validators = True  # send ETag/Last-Modified (some servers send neither)
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"calendar": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/cal/team.ics?token=s3cret"

    def body(self) -> bytes:
        events = "".join(f"BEGIN:VEVENT\r\n{e}\r\nEND:VEVENT\r\n" for e in self.events.values())
        return (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
            + events
            + "END:VCALENDAR\r\n"
        ).encode()

    def put(self, uid: str, text: str) -> None:
        with self.lock:
            self.events[uid] = text
            self.version += 1

    def remove(self, uid: str) -> None:
        with self.lock:
            del self.events[uid]
            self.version += 1

    def close(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()


class _Handler(BaseHTTPRequestHandler):
    calendar: ClassVar[CalendarServer]

    def do_GET(self) -> None:
        server = self.calendar
        with server.lock:
            server.requests.append({k.lower(): v for k, v in self.headers.items()})
            etag = f'"v{server.version}"'
            modified = formatdate(1_700_000_000 + server.version, usegmt=True)
            body = server.body()
            status = server.status
        if status != 200:
            self.send_response(status)
            if status == 503:
                self.send_header("Retry-After", "120")
            self.end_headers()
            return
        if server.validators and (
            self.headers.get("If-None-Match") == etag
            or self.headers.get("If-Modified-Since") == modified
        ):
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        if server.validators:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: the tests read ``requests`` instead."""


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    calendar = CalendarServer()
    yield calendar
    calendar.close()


def event(uid: str, subject: str, day: int = 20) -> str:
    return f"UID:{uid}\r\nSUMMARY:{subject}\r\nDTSTART:202603{day:02d}T090000Z\r\nDURATION:PT1H"


class IcsHarness:
    scope = "calendar"
    privacy = "full"

    def __init__(self, server: CalendarServer) -> None:
        self.server = server
        self.count = 0

    def add(self, subject: str) -> str:
        self.count += 1
        uid = f"e{self.count}@test.example"
        self.server.put(uid, event(uid, subject, day=1 + self.count))
        return f"ical:{uid}"

    def modify(self, natural_key: str, subject: str) -> None:
        uid = natural_key.removeprefix("ical:")
        self.server.put(uid, self.server.events[uid].replace(
            self.server.events[uid].split("SUMMARY:")[1].split("\r\n")[0], subject))  # fmt: skip

    def delete(self, natural_key: str) -> None:
        self.server.remove(natural_key.removeprefix("ical:"))

    def add_broken(self) -> None:
        self.server.put("broken@test.example", "UID:broken@test.example\r\nSUMMARY:No start")

    def build(self) -> IcsUrlSource:
        return IcsUrlSource("acct-ics", self.server.url, clock=FixedClock(NOW))


class TestIcsSubscriptionContract(SourceContract):
    @pytest.fixture
    def harness(self, server: CalendarServer) -> IcsHarness:
        return IcsHarness(server)


def test_an_unchanged_calendar_costs_one_conditional_request(server: CalendarServer) -> None:
    server.put("a@x", event("a@x", "Review"))
    source = IcsUrlSource("acct", server.url, clock=FixedClock(NOW))
    first = drain(source, "calendar", None)
    assert first.complete and len(first.upserted) == 1
    again = drain(source, "calendar", first.cursor)
    assert again.changes == []
    assert server.requests[-1]["if-none-match"] == '"v1"'
    assert "if-modified-since" in server.requests[-1]


def test_a_published_calendar_keeps_no_sync_state_so_any_cursor_means_a_full_download(
    server: CalendarServer,
) -> None:
    # What IMAP/EWS/CalDAV answer with CursorInvalid has no equivalent here: a cursor
    # the source cannot read (an older app version's, a damaged row) costs a download.
    server.put("a@x", event("a@x", "Review"))
    source = IcsUrlSource("acct", server.url, clock=FixedClock(NOW))
    for cursor in ("not json", "[1, 2]", '{"etag": 5}'):
        again = drain(source, "calendar", cursor)
        assert again.relisting and set(again.upserted) == {"ical:a@x"}


def test_without_validators_the_same_bytes_mean_no_changes(server: CalendarServer) -> None:
    server.validators = False
    server.put("a@x", event("a@x", "Review"))
    source = IcsUrlSource("acct", server.url, clock=FixedClock(NOW))
    first = drain(source, "calendar", None)
    assert drain(source, "calendar", first.cursor).changes == []


def test_a_changed_calendar_is_relisted_and_vanished_meetings_are_swept(
    server: CalendarServer, services: Services
) -> None:
    for n in range(3):
        server.put(f"m{n}@x", event(f"m{n}@x", f"Meeting {n}", day=20 + n))
    source = IcsUrlSource("acct-sweep", server.url, clock=FixedClock(NOW))
    ensure_account(services, "acct-sweep", "full")

    def sync() -> object:
        return sync_source(services.book, source, account_id="acct-sweep", privacy="full",
                           cancel=CancelToken())  # fmt: skip

    sync()
    server.remove("m1@x")
    server.put("m2@x", event("m2@x", "Meeting 2 (moved)", day=25))
    report = sync()
    live = dict(
        services.book.reader().execute(
            "SELECT natural_key, subject FROM interaction WHERE deleted_at IS NULL"
        )
    )
    assert live == {"ical:m0@x": "Meeting 0", "ical:m2@x": "Meeting 2 (moved)"}
    assert getattr(report, "swept", 0) == 1


def test_errors_name_the_calendar_without_its_secret(server: CalendarServer) -> None:
    source = IcsUrlSource("acct", server.url, clock=FixedClock(NOW))
    server.status = 401
    with pytest.raises(AuthFailed) as refused:
        drain(source, "calendar", None)
    assert "s3cret" not in refused.value.message
    assert "/cal/team.ics" in refused.value.message
    server.status = 503
    with pytest.raises(SourceError) as busy:
        drain(source, "calendar", None)
    assert busy.value.retry_after == 120
    server.status = 404
    with pytest.raises(SourceError, match="HTTP 404"):
        drain(source, "calendar", None)


def test_a_server_that_is_down_is_unreachable_not_an_error(server: CalendarServer) -> None:
    url = server.url
    server.close()
    with pytest.raises(Unreachable):
        drain(IcsUrlSource("acct", url, clock=FixedClock(NOW), timeout=5), "calendar", None)


def test_not_a_calendar_is_a_clear_error(server: CalendarServer) -> None:
    server.events = {}
    server.body = lambda: b"<html>Login required</html>"  # type: ignore[method-assign]
    with pytest.raises(SourceError, match="iCalendar"):
        drain(IcsUrlSource("acct", server.url, clock=FixedClock(NOW)), "calendar", None)


def test_webcal_links_are_fetched_over_https_and_other_schemes_refused() -> None:
    assert normalise_url("webcal://cal.example/x.ics") == "https://cal.example/x.ics"
    with pytest.raises(SourceError, match="web address"):
        normalise_url("file:///etc/passwd")
