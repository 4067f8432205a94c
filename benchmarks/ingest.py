"""Ingest: a Maildir through the real capture pipeline vs a raw loader; IMAP from Dovecot.

Pipeline = ``services.file_import.run([maildir], privacy="full")``: detect, parse
(``capture.mail``), clean, decide links (people, companies, threads, bulk, review queue),
store interactions/participants/links/outbox, index (FTS triggers), touch statistics.

Raw = what a hand-written loader does with the same files into the same tables of the same
book: ``email.message_from_bytes`` (compat32, like the pipeline), the first text part,
addresses → people/companies by dictionaries loaded up front, ``sqlite3`` executemany of
interaction, participant and link rows, 500 messages per transaction (the pipeline's
batch), FTS kept by the same triggers. Both write to the working copy of the book.

IMAP = ``services.sync.run(account)`` against a real Dovecot holding the messages (the
test suite's fixture helpers); its raw baseline is fetching the same messages' bytes with
imapclient alone (no parsing, no storing).
"""

from __future__ import annotations

import email
import json
import tempfile
import time
import uuid
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from benchmarks.core import Results, Row, at_least
from relbook.domain.clock import to_millis
from relbook.services.context import Services
from relbook.storage.pragmas import open_raw
from relbook.storage.sequence import assign, base_seq

RATE_SHARE = 0.5
BATCH = 500


def _text_of(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def raw_ingest(book_path: Path, files: list[Path]) -> int:
    """Parse and insert like a plain loader would; returns the messages stored."""
    connection = open_raw(str(book_path))
    own = set(
        json.loads(
            (connection.execute("SELECT value FROM setting WHERE key = 'my_addresses'").fetchone()
             or ["[]"])[0]
        )
    )  # fmt: skip
    person_of = dict(connection.execute("SELECT address, person_id FROM person_email"))
    company_of_person = dict(
        connection.execute("SELECT id, company_id FROM person WHERE company_id IS NOT NULL")
    )
    company_of_domain = dict(connection.execute("SELECT domain, company_id FROM company_domain"))
    stored = 0
    for start in range(0, len(files), BATCH):
        interactions, participants, links = [], [], []
        for path in files[start : start + BATCH]:
            message = email.message_from_bytes(path.read_bytes())
            senders = getaddresses(message.get_all("from", []))
            to = getaddresses(message.get_all("to", []) + message.get_all("cc", []))
            when = to_millis(parsedate_to_datetime(message["date"]))
            subject = str(message["subject"] or "")
            body = _text_of(message)
            interaction_id = str(uuid.uuid4())
            sender = senders[0][1].lower() if senders else ""
            direction = "outbound" if sender in own else "inbound"
            interactions.append(
                (interaction_id, base_seq(when, str(message["message-id"])),
                 f"raw:{message['message-id']}",
                 "email", direction, when, subject, body, when, when)
            )  # fmt: skip
            entities: dict[str, str] = {}
            for role, parties in (("from", senders), ("to", to)):
                for name, written in parties:
                    address = written.lower()
                    person = person_of.get(address)
                    participants.append((interaction_id, role, address, name, person))
                    if person:
                        entities[person] = "person"
                        company = company_of_person.get(person)
                        if company:
                            entities[company] = "company"
                    domain_company = company_of_domain.get(address.rsplit("@", 1)[-1])
                    if domain_company:
                        entities[domain_company] = "company"
            links += [
                (interaction_id, entity, kind, when, "email", direction)
                for entity, kind in entities.items()
            ]
        connection.execute("BEGIN IMMEDIATE")
        # The schema's time-ordered key must be unique: the storage layer's helper, once
        # per batch (what any loader of this schema has to do).
        seqs = assign(connection, [row[1] for row in interactions])
        interactions = [
            (row[0], seq, *row[2:]) for row, seq in zip(interactions, seqs, strict=True)
        ]
        connection.executemany(
            """INSERT INTO interaction(id, seq, natural_key, kind, direction, occurred_at,
                   subject, body, created_at, updated_at, status, all_day, privacy, location,
                   source, attachments)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', 0, 'full', '', 'raw', '[]')""",
            interactions,
        )
        connection.executemany(
            """INSERT INTO interaction_participant(interaction_id, role, address, name, person_id)
               VALUES (?, ?, ?, ?, ?)""",
            participants,
        )
        connection.executemany(
            """INSERT INTO interaction_link(interaction_id, entity_id, entity_type, occurred_at,
                   kind, direction, origin, reason, excluded, is_touch)
               VALUES (?, ?, ?, ?, ?, ?, 'auto', '', 0, 1)""",
            links,
        )
        connection.execute("COMMIT")
        stored += len(interactions)
    connection.close()
    return stored


def run_maildir(services: Services, results: Results, folder: Path) -> None:
    files = sorted((folder / "cur").iterdir())
    for path in files:  # both sides read from the page cache
        path.read_bytes()
    started = time.perf_counter()
    raw_stored = raw_ingest(services.book.path, files)
    raw_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = services.file_import.run([folder], privacy="full")
    seconds = time.perf_counter() - started
    rate, raw_rate = len(files) / seconds, raw_stored / raw_seconds
    results.add(
        Row(
            "ingest",
            "ingest.maildir",
            f"Ingest {len(files):,} messages from a Maildir (parse, link, store, index)",
            rate,
            "msg/s",
            baseline=raw_rate,
            target=f"≥ {RATE_SHARE:.0%} of raw",
            passed=at_least(rate / raw_rate, RATE_SHARE),
        )
    )
    results.details["ingest"] = {
        "messages": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "seconds": seconds,
        "raw_seconds": raw_seconds,
        "created": report.ingest.created,
        "review_added": report.ingest.review_added,
        "problems": len(report.problems),
    }


def dovecot_available() -> tuple[bool, str]:
    from tests.integration.servers import DOVECOT

    if DOVECOT is None:
        return False, "Dovecot is not installed (apt-get install dovecot-imapd)"
    return True, ""


class ImapServer:
    """A Dovecot from the test suite's helpers, holding ``messages`` in INBOX."""

    def __init__(self, messages: list[bytes]) -> None:
        from tests.integration.servers import Dovecot

        self.root = Path(tempfile.mkdtemp(prefix="relbook-bench-dovecot-"))
        self.server = Dovecot(root=self.root).start()
        self.server.append("INBOX", messages)
        self.user, self.password = next(iter(self.server.users.items()))

    def add_account(self, services: Services, name: str = "Benchmark mail") -> str:
        from relbook.credentials import SessionSecretStore
        from relbook.services.accounts import AccountDraft

        services.secrets = SessionSecretStore("benchmark")
        draft = AccountDraft(
            kind="imap", name=name, host="127.0.0.1", port=self.server.port,
            security="plain", allow_plaintext=True, username=self.user,
            password=self.password, privacy="full", include_sent=False,
        )  # fmt: skip
        return services.accounts.create(draft)

    def fetch_all(self) -> int:
        """The raw baseline: every message's bytes over IMAP, nothing else."""
        client = self.server.client(self.user)
        try:
            client.select_folder("INBOX", readonly=True)
            uids = client.search("ALL")
            fetched = 0
            for start in range(0, len(uids), 500):
                fetched += len(client.fetch(uids[start : start + 500], ["BODY.PEEK[]"]))
            return fetched
        finally:
            client.logout()

    def close(self) -> None:
        self.server.remove()


def run_imap(services: Services, results: Results, messages: list[bytes]) -> None:
    label = f"Ingest {len(messages):,} messages over IMAP (Dovecot → sync → book)"
    ok, reason = dovecot_available()
    if not ok:
        results.skip("imap", "ingest.imap", label, reason)
        return
    server = ImapServer(messages)
    try:
        started = time.perf_counter()
        fetched = server.fetch_all()
        raw_seconds = time.perf_counter() - started
        account_id = server.add_account(services)
        started = time.perf_counter()
        outcome = services.sync.run(account_id)
        seconds = time.perf_counter() - started
    finally:
        server.close()
    stored = int(outcome.items_stored)
    rate, raw_rate = stored / seconds, fetched / raw_seconds
    results.add(
        Row(
            "imap",
            "ingest.imap",
            label,
            rate,
            "msg/s",
            baseline=raw_rate,
            note="raw: fetching the messages' bytes only",
            passed=None if stored == len(messages) else False,
        )
    )
    results.details["imap"] = {
        "messages": len(messages),
        "stored": stored,
        "seconds": seconds,
        "fetch_seconds": raw_seconds,
        "status": str(outcome.status),
    }
