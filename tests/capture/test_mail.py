"""RFC 822 bytes → a captured item: what the rep will see of each message."""

from __future__ import annotations

import base64
import os
import resource
from datetime import UTC, datetime

import pytest

from relbook.capture.mail import MailParseError, message_id_key, parse_message

FALLBACK = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def mail(headers: str, body: str = "Hello.\n") -> bytes:
    return (headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")


def test_headers_people_and_keys_are_read() -> None:
    item = parse_message(
        mail(
            """
From: =?iso-8859-1?Q?M=FCller=2C_J=FCrgen?= <Juergen.Mueller@Example.ORG>
To: Zoë <zoe@acme.example>, bob@acme.example
Cc: =?UTF-8?Q?John_=22Johnny=22_Doe?= <john@acme.example>, zoe@acme.example
Subject: =?utf-8?B?UHJlaXNlIGbDvHIgMjAyNg==?=
Date: Tue, 10 Mar 2026 10:00:00 +0100
Message-ID: <abc.123@mail.example.org>
In-Reply-To: <parent@mail.example.org>
References: <root@mail.example.org> <parent@mail.example.org>
"""
        )
    )
    assert item.kind == "email"
    assert item.subject == "Preise für 2026"
    assert item.occurred_at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert item.sender is not None
    assert (item.sender.address, item.sender.name) == (
        "juergen.mueller@example.org",
        "Müller, Jürgen",
    )
    assert [(r, p.address) for r, p in item.participants] == [
        ("to", "zoe@acme.example"),
        ("to", "bob@acme.example"),
        ("cc", "john@acme.example"),
        ("cc", "zoe@acme.example"),
    ]
    assert item.participants[2][1].name == 'John "Johnny" Doe'
    assert item.natural_key == "msgid:abc.123@mail.example.org"
    assert item.thread_key == "msgid:root@mail.example.org"
    assert item.in_reply_to == "msgid:parent@mail.example.org"
    assert item.headers["subject"] == "Preise für 2026"


def test_message_id_key_is_the_same_from_any_source() -> None:
    assert message_id_key("<A.b@x>") == message_id_key("  <A.b@x>\r\n") == "msgid:A.b@x"
    assert message_id_key("A.b@x") == "msgid:A.b@x"
    assert message_id_key("   ") is None


def test_a_message_without_message_id_gets_a_stable_synthetic_key() -> None:
    raw = mail("From: a@x.example\nSubject: no id\nDate: Tue, 10 Mar 2026 10:00:00 +0000")
    first, again = parse_message(raw), parse_message(raw)
    other = parse_message(raw.replace(b"Hello.", b"Hello!"))
    assert first.natural_key.startswith("msgid:nomsgid-")
    assert first.natural_key == again.natural_key != other.natural_key
    assert first.thread_key == first.natural_key  # a thread of its own


def test_a_missing_date_falls_back_to_received_then_to_the_callers_time() -> None:
    received = mail(
        "From: a@x.example\nReceived: from x by y; Wed, 11 Mar 2026 08:00:00 +0000\nSubject: s"
    )
    assert parse_message(received).occurred_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    bare = mail("From: a@x.example\nSubject: s\nDate: not a date")
    assert parse_message(bare, fallback_time=FALLBACK).occurred_at == FALLBACK
    with pytest.raises(MailParseError, match="no usable Date"):
        parse_message(bare)


def test_html_is_sanitised_and_loads_nothing_remote() -> None:
    html = (
        "<html><head><style>body{background:url(http://t.example/x.png)}</style>"
        '<script>alert(1)</script></head><body><p onclick="x()">Hi <b>there</b></p>'
        '<img src="http://tracker.example/pixel.gif" width=1>'
        '<a href="javascript:evil()">bad</a> <a href="https://ok.example/">ok</a>'
        '<iframe src="http://x.example"></iframe><form><input></form></body></html>'
    )
    raw = mail(
        "From: a@x.example\nDate: Tue, 10 Mar 2026 10:00:00 +0000\nSubject: html\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8",
        html,
    )
    item = parse_message(raw)
    assert item.html is not None
    for banned in ("<img", "tracker", "<script", "alert", "<style", "url(", "onclick",
                   "javascript", "<iframe", "<form", "<input"):  # fmt: skip
        assert banned not in item.html
    assert "<b>there</b>" in item.html
    assert 'href="https://ok.example/"' in item.html
    assert item.text.startswith("Hi there")  # text derived from the HTML part


def test_attachments_are_listed_by_name_and_size_never_kept() -> None:
    payload = os.urandom(30_000)
    raw = mail(
        """
From: a@x.example
Date: Tue, 10 Mar 2026 10:00:00 +0000
Subject: offer
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"
""",
        "--B\nContent-Type: text/plain; charset=utf-8\n\nSee the offer.\n"
        '--B\nContent-Type: application/pdf; name="=?utf-8?Q?Angebot_M=C3=BCller.pdf?="\n'
        "Content-Disposition: attachment; filename*=utf-8''Angebot%20M%C3%BCller.pdf\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(payload).decode() + "--B--\n",
    )
    item = parse_message(raw)
    assert item.text.strip() == "See the offer."
    assert item.attachments == [
        {"name": "Angebot Müller.pdf", "size": pytest.approx(30_000, rel=0.01),
         "type": "application/pdf"}
    ]  # fmt: skip
    assert base64.b64encode(payload[:30]).decode()[:20] not in repr(item)


def test_a_50_mb_message_is_parsed_in_bounded_memory_with_text_capped() -> None:
    attachment = base64.encodebytes(os.urandom(36 * 1024 * 1024))
    text = ("A long line of a very long message body. " * 20 + "\n").encode() * 20_000
    raw = (
        b"From: big@x.example\r\nTo: rep@y.example\r\nSubject: big\r\n"
        b"Date: Tue, 10 Mar 2026 10:00:00 +0000\r\nMessage-ID: <big@x.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text
        + b"\r\n--XX\r\nContent-Type: application/zip; name=data.zip\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n--XX--\r\n"
    )  # fmt: skip
    assert len(raw) > 50 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    item = parse_message(raw)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert len(item.text) <= 200_000
    assert item.attachments == [
        {"name": "data.zip", "size": 36 * 1024 * 1024, "type": "application/zip"}
    ]
    assert item.size_bytes == len(raw)
    # The whole-tree parser would hold ~5× the message; the bounded path holds a prefix.
    assert grown_kb < 100 * 1024


def test_broken_mime_is_read_as_far_as_it_goes() -> None:
    raw = mail(
        """
From: a@x.example
Date: Tue, 10 Mar 2026 10:00:00 +0000
Subject: cut off
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"
""",
        "--never-closed\nContent-Type: text/plain; charset=no-such-charset\n"
        "Content-Transfer-Encoding: base64\n\n!!!not base64!!!\n"
        "--never-closed\nContent-Type: application/octet-stream; name=\n\n",
    )
    item = parse_message(raw)
    assert item.subject == "cut off"  # no exception, headers intact


def test_raw_8bit_headers_become_readable_text() -> None:
    raw = (
        "From: J\xfcrgen <j@x.example>\r\nSubject: Gr\xfc\xdfe\r\n"
        "Date: Tue, 10 Mar 2026 10:00:00 +0000\r\n\r\nbody\r\n"
    ).encode("latin-1")
    item = parse_message(raw)
    assert item.subject == "Grüße"
    assert item.sender is not None and item.sender.name == "Jürgen"


def test_what_is_not_an_email_is_refused_with_the_reason() -> None:
    with pytest.raises(MailParseError, match=r"Outlook \.msg"):
        parse_message(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(MailParseError, match="empty"):
        parse_message(b"  \r\n")
    with pytest.raises(MailParseError, match="header lines"):
        parse_message(b"Just some text\nthat is not a message.\n")


def test_a_body_without_the_blank_line_still_parses() -> None:
    raw = b"From: a@x.example\nTo: b@y.example\nSubject: no gap\nthe body starts here\n"
    item = parse_message(raw, fallback_time=FALLBACK)
    assert item.subject == "no gap"
