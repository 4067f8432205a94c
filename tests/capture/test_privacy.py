"""Privacy levels: what the book keeps of a message is what the rep chose."""

from __future__ import annotations

from tests.conftest import NOW

from relbook.capture.privacy import EXCERPT_CHARS, body_for, excerpt, strip_history
from relbook.capture.sources.base import CapturedItem

REPLY = """Hi Jane,

thanks — Thursday works for us. I'll bring the revised offer.

Best
Bob
--
Bob Example | Head of Purchasing | +49 30 1234567

On Tue, 10 Mar 2026 at 09:12, Jane Doe <jane@seller.example> wrote:
> Could we meet on Thursday?
> Jane
"""


def item(text: str, html: str | None = None) -> CapturedItem:
    return CapturedItem("msgid:p@x", "email", NOW, subject="Re: meeting", text=text, html=html)


def test_headers_only_keeps_no_body_at_all() -> None:
    assert body_for(item(REPLY, "<p>x</p>"), "headers") == ("", None)


def test_excerpt_keeps_what_the_sender_wrote_without_quotes_or_signature() -> None:
    text, html = body_for(item(REPLY, "<p>x</p>"), "excerpt")
    assert html is None
    assert text.startswith("Hi Jane,")
    assert "revised offer" in text
    assert "Head of Purchasing" not in text
    assert "Could we meet" not in text
    assert "wrote:" not in text


def test_excerpt_strips_outlook_history_and_forward_headers() -> None:
    outlook = (
        "Agreed, go ahead.\n\n________________________________\n"
        "From: Jane Doe <jane@seller.example>\nSent: Monday, 9 March 2026 10:00\n"
        "To: Bob\nSubject: offer\n\nThe old text.\n"
    )
    assert strip_history(outlook) == "Agreed, go ahead."
    forwarded = "FYI\n\n-----Original Message-----\nFrom: x\nold"
    assert strip_history(forwarded) == "FYI"
    german = "Passt.\n\nAm 10.03.2026 um 09:12 schrieb Jane Doe <jane@x.example>:\n> alt"
    assert strip_history(german) == "Passt."
    phone = "On my way\n\nSent from my iPhone"
    assert strip_history(phone) == "On my way"


def test_a_from_line_in_the_text_is_not_mistaken_for_history() -> None:
    text = "From: the customer's point of view the price is fine.\nNext steps below."
    assert strip_history(text) == text


def test_an_excerpt_is_bounded_and_ends_on_a_word() -> None:
    long = "word " * 2000
    cut = excerpt(long)
    assert len(cut) <= EXCERPT_CHARS
    assert cut.endswith("word…")


def test_full_keeps_text_and_sanitised_html() -> None:
    text, html = body_for(item(REPLY, "<p>kept</p>"), "full")
    assert text == REPLY
    assert html == "<p>kept</p>"
