"""Long prefixes written out as the index's words find exactly what the prefix finds.

A prefix of four letters or more ("afte") is searched as the words of each index that start
with it ("after" OR "afternoon" OR …), read from FTS5's vocabulary (``storage.search_terms``).
Whatever the words, the rows found must be the rows the plain prefix query finds: the newest
50 matches, for common and rare words, for hits that are sparse and years old, in phrases,
and when there are too many words to write out.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import NOW

from relbook.domain.clock import FixedClock
from relbook.domain.search_query import build_query
from relbook.services.context import Services
from relbook.services.interactions import LogDraft
from relbook.services.people import Labeled, PersonDraft
from relbook.storage.book import open_book
from relbook.storage.search_terms import MOST_WORDS, words_with_prefix

PLAIN = {
    "interaction": """SELECT i.id FROM fts_interaction f JOIN interaction i ON i.seq = f.rowid
                      WHERE fts_interaction MATCH ? ORDER BY f.rowid DESC LIMIT 51""",
    "person": """SELECT p.id FROM fts_person f JOIN person p ON p.rowid = f.rowid
                 WHERE fts_person MATCH ? ORDER BY f.rowid DESC LIMIT 51""",
}
# Too many words start with "quartz" to write out: the prefix is kept.
MANY = [f"quartz{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(MOST_WORDS + 8)]


@pytest.fixture(scope="module")
def mailbox_path(tmp_path_factory: pytest.TempPathFactory, template_book: Path) -> Path:
    """One book for the module (the searches only read it)."""
    path = tmp_path_factory.mktemp("mailbox") / "book.relbook"
    shutil.copyfile(template_book, path)
    clock = FixedClock(NOW)
    services = Services(open_book(path, clock), clock)
    try:
        _fill(services)
    finally:
        services.close()
    return path


@pytest.fixture
def mailbox(mailbox_path: Path) -> Iterator[Services]:
    clock = FixedClock(NOW)
    services = Services(open_book(mailbox_path, clock), clock)
    yield services
    services.close()


def _fill(services: Services) -> None:
    person = services.people.create(
        PersonDraft(given_name="Ana", family_name="Müller", emails=[Labeled("ana@acme.example")])
    )
    for n in range(10):
        services.people.create(
            PersonDraft(given_name=f"Person{n}", emails=[Labeled(f"p{n}@example{n % 3}.org")])
        )

    def log(days_ago: float, subject: str, body: str) -> str:
        return services.interactions.log(
            LogDraft(
                kind="note",
                occurred_at=NOW - timedelta(days=days_ago),
                subject=subject,
                body=body,
                person_ids=[person],
            )
        )

    # Rare and old: two messages years back, nothing since.
    log(3 * 365, "Zygomatic study", "the zygote report, after all")
    log(2 * 365, "Follow-up", "more on zygomatic arches next weekend")
    # Common: 120 recent messages with the words of "afte" and "week".
    words = ["after", "afternoon", "afternoons", "aftermath", "week", "weeks", "weekend"]
    for n in range(120):
        first, second = words[n % len(words)], words[(n * 3 + 1) % len(words)]
        log(n / 4, f"Meeting {n} {first}", f"We talk {second} about the next {first} plan.")
    # Many words with one prefix, spread over time.
    for n, word in enumerate(MANY):
        log(n * 9, f"Stone {word}", f"a {word} sample")
    # A deleted message: its words may linger in the index's vocabulary until a merge.
    deleted = log(1, "Aftershock notes", "afterglow aftershock")
    services.interactions.delete([deleted])


def _plain(services: Services, kind: str, text: str) -> list[str]:
    query = build_query(text)
    assert query is not None
    return [r[0] for r in services.book.reader().execute(PLAIN[kind], (query.fts,))]


@pytest.mark.parametrize(
    "text",
    [
        "afte",  # common words, more than 50 matches: the newest 50
        "afternoo",
        "after plan",
        "week afte",
        '"next week"',  # a phrase whose last word is a long prefix
        '"next weeke"',
        "zygo",  # rare and years old
        "zygomatic arch",
        "zygote afte",  # a common word ANDed with a rare old one
        "aftersh",  # only in a deleted message
        "quartz",  # too many words to write out
        "quartzb",
        "nothingstartslikethis",
        "Müll",  # accented: searched as typed
    ],
)
def test_messages_found_are_the_newest_the_prefix_finds(mailbox: Services, text: str) -> None:
    plain = _plain(mailbox, "interaction", text)
    results = mailbox.search.query(text, limit_per_kind=1000, kinds=("interaction",))
    group = next((g for g in results.groups if g.kind == "interaction"), None)
    found = [hit.id for hit in group.hits] if group else []
    assert sorted(found) == sorted(plain[:50])
    assert (group.more if group else False) == (len(plain) > 50)


@pytest.mark.parametrize("text", ["example1.org", "exam", "acme.example", "person1"])
def test_people_found_are_the_ones_the_prefix_finds(mailbox: Services, text: str) -> None:
    plain = _plain(mailbox, "person", text)
    results = mailbox.search.query(text, limit_per_kind=1000, kinds=("person",))
    assert sorted(hit.id for hit in results.hits) == sorted(plain)
    assert plain  # the query finds someone: the comparison is not vacuous


def test_prefixes_are_written_out_as_the_index_words(mailbox: Services) -> None:
    db = mailbox.book.reader()
    words = words_with_prefix(db, "fts_interaction", "afte")
    assert words is not None
    # The deleted message's words may still be listed (they match nothing): the live ones
    # are all there, in order.
    assert {"after", "afternoon", "afternoons", "aftermath"} <= set(words)
    assert list(words) == sorted(words)
    assert words_with_prefix(db, "fts_interaction", "zygo") == ("zygomatic", "zygote")
    assert words_with_prefix(db, "fts_interaction", "nothingstartslikethis") == ()
    assert words_with_prefix(db, "fts_interaction", "quartz") is None  # too many
    query = build_query('week "next afternoo"')
    assert query is not None
    assert query.expanded(lambda p: words_with_prefix(db, "fts_interaction", p)) == (
        '(("next" + "afternoon") OR ("next" + "afternoons")) AND ("week" OR "weekend" OR "weeks")'
    )


def test_the_vocabulary_is_read_on_a_read_only_connection(mailbox: Services) -> None:
    db = mailbox.book.reader()
    assert db.execute("PRAGMA query_only").fetchone() == (1,)
    assert words_with_prefix(db, "fts_person", "exam") == (
        "example",
        "example0",
        "example1",
        "example2",
    )
    assert db.execute("PRAGMA query_only").fetchone() == (1,)  # still read-only
