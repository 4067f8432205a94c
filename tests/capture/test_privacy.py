"""Privacy levels: what the book keeps of a message is what the rep chose."""

from __future__ import annotations

from tests.conftest import NOW

from relbook.capture.privacy import EXCERPT_CHARS, body_for, excerpt, strip_history
from relbook.capture.sources.base import CapturedItem, Party
from relbook.services.context import Services

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


# ------------------------------------------- a stricter level for an existing account


def test_a_stricter_level_also_trims_what_the_account_already_brought_in(
    services: Services,
) -> None:
    from relbook.capture.ingest import sync_source
    from relbook.capture.sources.base import CancelToken
    from relbook.capture.sources.memory import MemorySource
    from relbook.services.accounts import AccountDraft

    def account(name: str, privacy: str) -> str:
        draft = AccountDraft(kind="ics", name=name, url=f"https://cal.example/{name}.ics",
                             privacy=privacy)  # fmt: skip
        return str(services.accounts.create(draft))

    def message(key: str, text: str, html: str | None = None) -> CapturedItem:
        return CapturedItem(key, "email", NOW, subject=key, text=text, html=html,
                            sender=Party("bob@buyer.example", "Bob"))  # fmt: skip

    def sync(account_id: str, *items: CapturedItem) -> None:
        source = MemorySource(account_id)
        source.add_scope("INBOX")
        for n, captured in enumerate(items):
            source.put("INBOX", f"1:{n}", captured)
        privacy = services.accounts.draft(account_id).privacy
        sync_source(services.book, source, account_id=account_id, privacy=privacy,
                    cancel=CancelToken())  # fmt: skip

    def kept(key: str) -> tuple[str, str, str | None]:
        row = (
            services.book.reader()
            .execute(
                "SELECT privacy, body, body_html FROM interaction WHERE natural_key = ?", (key,)
            )
            .fetchone()
        )
        return row[0], row[1], row[2]

    def found(word: str) -> bool:
        return bool(services.search.query(word, kinds=("interaction",)).groups)

    work, shared = account("work", "full"), account("shared", "full")
    own = message("msgid:own@x", REPLY + "\nquarterlyforecast figures", "<p>Hi <b>Jane</b></p>")
    both = message("msgid:both@x", "Budget approved. zebraword")
    sync(work, own, both)
    sync(shared, both)
    assert kept("msgid:own@x")[0] == "full" and found("quarterlyforecast")

    draft = services.accounts.draft(work)
    draft.privacy = "excerpt"
    services.accounts.update(draft)
    level, body, html = kept("msgid:own@x")
    assert (level, html) == ("excerpt", None)
    assert body.startswith("Hi Jane,") and "Could we meet" not in body and "Bob Example" not in body
    assert not found("quarterlyforecast")  # the search index forgot the trimmed text
    assert kept("msgid:both@x")[0] == "full"  # the other account still keeps everything

    draft.privacy = "headers"
    services.accounts.update(draft)
    assert kept("msgid:own@x") == ("headers", "", None)
    assert kept("msgid:both@x") == ("full", "Budget approved. zebraword", None)
    # Each trim is an edit the team push sees.
    versions = services.book.reader().execute(
        "SELECT version FROM interaction WHERE natural_key = 'msgid:own@x'"
    )
    assert versions.fetchone()[0] == 3
    # Loosening the level again trims nothing (and cannot bring text back).
    draft.privacy = "full"
    services.accounts.update(draft)
    assert kept("msgid:own@x") == ("headers", "", None)
