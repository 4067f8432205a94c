"""The IMAP, EWS and CalDAV sources pass the one source contract (tests/capture/contract.py),
each against its real (or, for Exchange, faithfully faked) server."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relbook.capture.sources.caldav import CalDavSettings, CalDavSource
from relbook.capture.sources.ews import INBOX, EwsSettings, EwsSource
from relbook.capture.sources.imap import ImapSettings, ImapSource
from tests.capture.contract import CursorStateContract
from tests.conftest import NOW

from .fake_ews import FakeExchange
from .servers import Dovecot, Radicale, make_message

pytestmark = pytest.mark.integration

NOT_MAIL = b"This is not an e-mail at all, just a line of text.\r\n"


class ImapHarness:
    scope = "INBOX"
    privacy = "full"

    def __init__(self, server: Dovecot) -> None:
        self.server = server
        self._count = 0
        self._built: list[ImapSource] = []

    def _message(self, key: str, subject: str) -> bytes:
        return make_message(self._count, subject=subject, message_id=f"<{key}>")

    def add(self, subject: str) -> str:
        self._count += 1
        ident = f"contract-{self._count}-{uuid.uuid4().hex[:8]}@customer.example"
        self.server.append(self.scope, [self._message(ident, subject)])
        return f"msgid:{ident}"

    def _uids_of(self, natural_key: str) -> list[int]:
        client = self.server.client()
        try:
            client.select_folder(self.scope)
            ident = natural_key.removeprefix("msgid:")
            return [int(u) for u in client.search(["HEADER", "Message-ID", ident])]
        finally:
            client.logout()

    def modify(self, natural_key: str, subject: str) -> None:
        # IMAP messages never change: a new version is a new message with the same id.
        uids = self._uids_of(natural_key)
        self.server.append(self.scope, [self._message(natural_key[6:], subject)])
        self.server.expunge(self.scope, uids)

    def delete(self, natural_key: str) -> None:
        self.server.expunge(self.scope, self._uids_of(natural_key))

    def add_broken(self) -> None:
        self.server.append(self.scope, [NOT_MAIL])

    def build(self) -> ImapSource:
        source = ImapSource(
            "acct-imap",
            ImapSettings(
                host="127.0.0.1",
                port=self.server.port,
                username="rep@example.com",
                security="plain",
                allow_plaintext=True,
                include_sent=False,
            ),
            "secret",
            privacy=self.privacy,
            page_size=2,
        )
        self._built.append(source)
        return source

    def invalidate_cursor(self) -> None:
        self.server.reset_uidvalidity(self.scope)

    def close(self) -> None:
        for source in self._built:
            source.close()


class EwsHarness:
    scope = INBOX
    privacy = "full"

    def __init__(self, server: FakeExchange) -> None:
        self.server = server
        self._ids: dict[str, str] = {}
        self._count = 0
        self._built: list[EwsSource] = []

    def add(self, subject: str) -> str:
        self._count += 1
        ident = f"ews-{self._count}@customer.example"
        mime = make_message(self._count, subject=subject, message_id=f"<{ident}>")
        self._ids[f"msgid:{ident}"] = self.server.add_message("inbox", mime)
        return f"msgid:{ident}"

    def modify(self, natural_key: str, subject: str) -> None:
        ident = natural_key.removeprefix("msgid:")
        mime = make_message(self._count, subject=subject, message_id=f"<{ident}>")
        self.server.update_item(self._ids[natural_key], mime)

    def delete(self, natural_key: str) -> None:
        self.server.delete_item(self._ids.pop(natural_key))

    def add_broken(self) -> None:
        self.server.add_message("inbox", NOT_MAIL, headers=[])

    def build(self) -> EwsSource:
        from exchangelib import FailFast

        source = EwsSource(
            "acct-ews",
            EwsSettings(email="rep@example.com", server_url=self.server.url, include_sent=False),
            "secret",
            privacy=self.privacy,
            page_size=2,
            retry_policy=FailFast(),
        )
        self._built.append(source)
        return source

    def invalidate_cursor(self) -> None:
        self.server.invalidate_sync_states()

    def close(self) -> None:
        for source in self._built:
            source.close()


EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Relbook tests//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260301T000000Z
DTSTART:20260304T{hour:02d}0000Z
DURATION:PT30M
SUMMARY:{summary}
ATTENDEE;CN=Anna Customer:mailto:anna@customer.example
END:VEVENT
END:VCALENDAR
"""


class CalDavHarness:
    privacy = "full"

    def __init__(self, server: Radicale) -> None:
        import caldav

        self.server = server
        self.client = caldav.DAVClient(url=server.url, username="rep", password="secret")
        self.calendar = self.client.get_principal().make_calendar(name="Work", cal_id="work")
        self.scope = "/rep/work/"
        self._count = 0
        self._built: list[CalDavSource] = []

    def _ics(self, uid: str, summary: str) -> str:
        return EVENT.format(uid=uid, summary=summary, hour=8 + self._count % 10)

    def add(self, subject: str) -> str:
        self._count += 1
        uid = f"contract-{self._count}@relbook.test"
        self.calendar.add_event(self._ics(uid, subject))
        return f"ical:{uid}"

    def modify(self, natural_key: str, subject: str) -> None:
        uid = natural_key.removeprefix("ical:")
        event = self.calendar.get_event_by_uid(uid)
        event.data = self._ics(uid, subject)
        event.save()

    def delete(self, natural_key: str) -> None:
        self.calendar.get_event_by_uid(natural_key.removeprefix("ical:")).delete()

    def add_broken(self) -> None:
        # Radicale refuses (and skips) a VEVENT without a start; a series whose only
        # occurrence is excluded is valid iCalendar, yet no meeting can be made of it.
        broken = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
            "UID:broken@relbook.test\r\nDTSTAMP:20260301T000000Z\r\n"
            "DTSTART:20260302T090000Z\r\nRRULE:FREQ=DAILY;COUNT=1\r\n"
            "EXDATE:20260302T090000Z\r\nSUMMARY:Nothing left\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        self.calendar.add_event(broken)

    def build(self) -> CalDavSource:
        from relbook.domain.clock import FixedClock

        source = CalDavSource(
            "acct-caldav",
            CalDavSettings(url=self.server.url, username="rep"),
            "secret",
            page_size=2,
            clock=FixedClock(NOW),
        )
        self._built.append(source)
        return source

    def invalidate_cursor(self) -> None:
        # Radicale's sync state (issued tokens, item histories) lives in its cache; a
        # server that lost it (restored from a backup) refuses every old token with
        # DAV:valid-sync-token, as RFC 6578 asks.
        caches = list(Path(self.server.root).rglob(".Radicale.cache"))
        for folder in caches:
            shutil.rmtree(folder)
        assert caches, "Radicale keeps no cache to lose"

    def close(self) -> None:
        for source in self._built:
            source.close()
        self.client.close()


class TestImapSourceContract(CursorStateContract):
    @pytest.fixture
    def harness(self, dovecot: Dovecot) -> Iterator[ImapHarness]:
        harness = ImapHarness(dovecot)
        yield harness
        harness.close()


class TestEwsSourceContract(CursorStateContract):
    @pytest.fixture
    def harness(self, fake_ews: FakeExchange) -> Iterator[EwsHarness]:
        harness = EwsHarness(fake_ews)
        yield harness
        harness.close()


class TestCalDavSourceContract(CursorStateContract):
    @pytest.fixture
    def harness(self, radicale: Radicale) -> Iterator[Any]:
        harness = CalDavHarness(radicale)
        yield harness
        harness.close()
