"""Realistic mail for the ingest benchmarks, written as a Maildir (or handed to IMAP).

Messages go between the rep and the book's own people (so linking has work to do), with
~1–2 KB of text in a subject-specific body, a third of them multipart/alternative with
an HTML part, one in ten with an attachment, replies that quote and thread
(In-Reply-To/References), some from strangers (the review queue) and some newsletters
(List-Id). Deterministic for a seed; ``tag`` keeps Message-IDs of different sets apart.
"""

from __future__ import annotations

import base64
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

REP = "rep@relbook-bench.example"
_TOPICS = (
    "pricing", "renewal", "onboarding", "contract", "proposal", "integration", "roadmap",
    "invoice", "security review", "pilot", "workshop", "quarterly review", "migration",
    "support ticket", "licence count", "reference call", "budget", "kick-off", "demo",
)  # fmt: skip
_OPENERS = (
    "Thanks for the call earlier today.",
    "Following up on our conversation last week.",
    "As promised, here are the details we discussed.",
    "I hope you had a good weekend.",
    "Quick question before our meeting on Thursday.",
    "Great to see you at the conference.",
)
_SENTENCES = (
    "We reviewed the {topic} with the team and most of the open points are settled now.",
    "Could you send the latest figures so we can finalise the {topic} before the end of the month?",
    "Our finance department asked whether the {topic} can be split across two budget years.",
    "The technical team confirmed that the {topic} fits the current architecture without changes.",
    "I attached a short summary; let me know if anything is missing or unclear.",
    "Legal needs another week to look at the terms, mostly the liability and data clauses.",
    "If it helps, we can set up a call with our product manager to walk through the {topic}.",
    "The pilot users were positive, especially about the reporting and the search.",
    "We are comparing two other vendors, but your offer is currently the strongest.",
    "Please keep in mind that procurement closes its books on the twentieth.",
    "I spoke with our CFO and she wants to understand the total cost over three years.",
    "The new timeline moves the go-live to the second quarter, which works for us.",
    "Let us agree on the next steps and the owners for each of them.",
    "One concern raised internally is the effort for the data migration.",
    "We would like to include two more departments in the {topic} if the pricing allows.",
)
_SIGNATURE = "\n\n--\n{name}\n{title}\n{company}\nPhone +49 30 {phone}\n"


@dataclass(frozen=True)
class Contact:
    name: str
    address: str
    company: str
    title: str


def contacts_of(db: sqlite3.Connection, limit: int = 5000) -> list[Contact]:
    """People of the book with an address (the most-touched first: real correspondents)."""
    rows = db.execute(
        """SELECT p.display_name, e.address, coalesce(c.name, ''), p.title
           FROM person p JOIN person_email e ON e.person_id = p.id AND e.position = 0
           LEFT JOIN company c ON c.id = p.company_id
           WHERE p.deleted_at IS NULL ORDER BY p.touch_count DESC, p.id LIMIT ?""",
        (limit,),
    ).fetchall()
    return [Contact(*row) for row in rows]


def rep_of(db: sqlite3.Connection) -> Contact:
    """The book's own rep (the first of ``my_addresses``), so direction is decided."""
    import json

    row = db.execute("SELECT value FROM setting WHERE key = 'my_addresses'").fetchone()
    addresses = json.loads(row[0]) if row else []
    return Contact("Robin Rep", addresses[0] if addresses else REP, "", "Account Executive")


def _body(rng: random.Random, topic: str, sender: Contact) -> str:
    parts = [f"Hi,\n\n{rng.choice(_OPENERS)}"]
    size = rng.randint(1000, 2000)
    text = ""
    while len(text) < size:
        paragraph = " ".join(
            rng.choice(_SENTENCES).format(topic=topic) for _ in range(rng.randint(2, 4))
        )
        text += "\n\n" + paragraph
    parts.append(text.strip())
    parts.append(
        _SIGNATURE.format(
            name=sender.name, title=sender.title or "Account Manager",
            company=sender.company or "Relbook", phone=rng.randint(1000000, 9999999),
        )
    )  # fmt: skip
    return "\n\n".join(parts)


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return (
        "<html><head><style>p{font-family:Arial;font-size:11pt}</style></head>"
        f'<body><div class="WordSection1">{paragraphs}</div></body></html>'
    )


def _wrap(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def make_messages(
    rep: Contact, contacts: list[Contact], count: int, *, seed: int, tag: str, now: datetime
) -> list[bytes]:
    rng = random.Random(f"{seed}-{tag}")
    threads: list[tuple[str, str, Contact]] = []  # (message id, subject, customer)
    messages: list[bytes] = []
    start = now - timedelta(days=365)
    step = timedelta(days=365) / max(1, count)
    for index in range(count):
        when = start + step * index + timedelta(seconds=rng.randint(0, 600))
        roll = rng.random()
        headers: list[tuple[str, str]] = []
        references = ""
        if roll < 0.05:  # a newsletter
            sender = Contact("Industry Weekly", "news@weekly-digest.example", "", "")
            to = [rep]
            subject = f"Industry Weekly: {rng.choice(_TOPICS)} trends"
            headers.append(("List-Id", "<weekly.weekly-digest.example>"))
            headers.append(("List-Unsubscribe", "<mailto:leave@weekly-digest.example>"))
        elif roll < 0.10:  # a stranger: the review queue
            first = rng.choice(("Alex", "Sam", "Kim", "Jo", "Chris"))
            sender = Contact(f"{first} Newcomer", f"{first.lower()}{index}@startup{index % 97}.example",
                             "", "")  # fmt: skip
            to = [rep]
            subject = f"Introduction: {rng.choice(_TOPICS)}"
        else:
            customer = rng.choice(contacts)
            if threads and rng.random() < 0.4:  # a reply in an existing thread
                parent, base_subject, customer = rng.choice(threads[-200:])
                subject = f"Re: {base_subject}"
                references = parent
            else:
                subject = f"{rng.choice(_TOPICS).capitalize()} — {customer.company or 'next steps'}"
            outbound = rng.random() < 0.5
            sender, to = (rep, [customer]) if outbound else (customer, [rep])
            if rng.random() < 0.3:
                to = [*to, rng.choice(contacts)]
        message_id = f"<bench-{tag}-{index}@{sender.address.split('@')[1]}>"
        topic = rng.choice(_TOPICS)
        text = _body(rng, topic, sender)
        if references:
            text += "\n\nOn an earlier day, someone wrote:\n> " + "\n> ".join(
                _body(rng, topic, to[0]).splitlines()[:8]
            )
        lines = [
            ("From", f'"{sender.name}" <{sender.address}>'),
            ("To", ", ".join(f'"{c.name}" <{c.address}>' for c in to)),
            ("Subject", subject),
            ("Date", format_datetime(when)),
            ("Message-ID", message_id),
            ("MIME-Version", "1.0"),
            *headers,
        ]
        if references:
            lines += [("In-Reply-To", references), ("References", references)]
        if subject.startswith(("Re:", "Intro", "Industry")) is False:
            threads.append((message_id, subject, to[0] if sender is rep else sender))
        boundary = f"=_bench_{tag}_{index}"
        kind = rng.random()
        if kind < 0.6:
            lines.append(("Content-Type", "text/plain; charset=utf-8"))
            lines.append(("Content-Transfer-Encoding", "8bit"))
            body = text
        else:
            lines.append(("Content-Type", f'multipart/mixed; boundary="{boundary}m"'))
            alt = (
                f"--{boundary}a\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n"
                f"--{boundary}a\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: 8bit\r\n\r\n{_html(text)}\r\n--{boundary}a--\r\n"
            )
            body = (
                f"--{boundary}m\r\nContent-Type: multipart/alternative; "
                f'boundary="{boundary}a"\r\n\r\n{alt}'
            )
            if kind > 0.9:  # an attachment (never decoded by the pipeline)
                blob = rng.randbytes(rng.randint(20_000, 80_000))
                body += (
                    f'--{boundary}m\r\nContent-Type: application/pdf; name="{topic}.pdf"\r\n'
                    f'Content-Disposition: attachment; filename="{topic}.pdf"\r\n'
                    f"Content-Transfer-Encoding: base64\r\n\r\n{_wrap(blob)}\r\n"
                )
            body += f"--{boundary}m--\r\n"
        head = "".join(f"{name}: {value}\r\n" for name, value in lines)
        messages.append((head + "\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode())
    return messages


def write_maildir(folder: Path, messages: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(messages):
        (folder / "cur" / f"{1_700_000_000 + index}.M{index}P1.bench:2,S").write_bytes(data)
    return folder
