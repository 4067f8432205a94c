from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relbook.domain.addresses import bulk_reason, domain_of, is_free_mail, is_no_reply
from relbook.domain.errors import FilterSyntaxError
from relbook.domain.filters import Clause, parse_amount, parse_date, parse_duration, parse_filter
from relbook.domain.ids import is_id, new_id
from relbook.domain.money import format_money, parse_money_text, to_minor
from relbook.domain.names import comparison_key, split_full_name
from relbook.domain.rhythm import typical_gap_days
from relbook.domain.search_query import build_query


def test_the_filter_from_the_issue_parses_into_clauses() -> None:
    parsed = parse_filter(
        "tag:key-account stage:negotiation amount>10000 last-touch>30d company:acme"
    )
    assert [(c.field, c.op, c.values) for c in parsed.clauses] == [
        ("tag", ":", ("key-account",)),
        ("stage", ":", ("negotiation",)),
        ("amount", ">", ("10000",)),
        ("last-touch", ">", ("30d",)),
        ("company", ":", ("acme",)),
    ]


def test_filter_quotes_negation_lists_and_free_text() -> None:
    parsed = parse_filter('-tag:lost,cold company:"Acme, Inc." renewal "big fish"')
    assert parsed.clauses == (
        Clause("tag", ":", ("lost", "cold"), True, 0, 5),
        Clause("company", ":", ("Acme, Inc.",), False, 15, 23),
    )
    assert parsed.text_terms == ("renewal", "big fish")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('company:"acme', 8, "never closed"),
        ("amount>", 7, "needs a value"),
        ("amount>1,2", 0, "one value"),
        ("-acme", 0, "negates nothing"),
    ],
)
def test_filter_errors_point_at_the_problem(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert caught.value.position == position
    assert message in caught.value.message


def test_durations_amounts_and_dates() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("soon") is None
    assert parse_amount("10k") == 10_000
    assert parse_amount("1.5m") == 1_500_000
    assert parse_amount("12,500") == 12_500
    assert parse_date("today", date(2026, 3, 10)) == date(2026, 3, 10)
    assert parse_date("2026-02-30", date(2026, 3, 10)) is None


def test_money_reads_what_people_type_and_never_uses_floats() -> None:
    assert parse_money_text("12.500,50") == Decimal("12500.50")
    assert parse_money_text("12,500") == Decimal("12500")
    assert parse_money_text("€ 900") == Decimal("900")
    assert parse_money_text("1.2m") == Decimal("1200000.0")
    assert parse_money_text("lots") is None
    assert to_minor("0.1", "EUR") + to_minor("0.2", "EUR") == to_minor("0.3", "EUR")
    assert to_minor(1000, "JPY") == 1000
    assert format_money(1_250_000, "EUR") == "12,500 EUR"


def test_names() -> None:
    assert split_full_name("Jane van der Berg") == ("Jane", "van der Berg")
    assert split_full_name("Berg, Jane") == ("Jane", "Berg")
    assert split_full_name("Dr. Ada Lovelace") == ("Ada", "Lovelace")
    assert split_full_name("王伟") == ("王伟", "")
    assert comparison_key("Zoë  O'Neil") == "zoe oneil"


def test_addresses_and_bulk_mail() -> None:
    assert domain_of("<Jane.Doe@Mail.ACME.co.uk>") == "mail.acme.co.uk"
    assert is_free_mail("gmail.com") and not is_free_mail("acme.com")
    assert is_no_reply("no-reply@acme.com") and is_no_reply("notifications+x@github.com")
    assert not is_no_reply("nora@acme.com")
    assert bulk_reason({"list-id": "<dev.lists.example>"}) == "mailing list (<dev.lists.example>)"
    assert bulk_reason({"precedence": "bulk"}) == "Precedence: bulk"
    assert bulk_reason({"auto-submitted": "auto-replied"}) == "Auto-Submitted: auto-replied"
    assert bulk_reason({"auto-submitted": "no", "from": "Jane <jane@acme.com>"}) is None


def test_rhythm_is_the_median_recent_gap_counting_days_once() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    weekly = [start + timedelta(days=7 * i) for i in range(8)]
    weekly.append(weekly[-1] + timedelta(hours=2))  # a second mail the same day
    assert typical_gap_days(weekly) == 7.0
    assert typical_gap_days(weekly[:2]) is None  # one gap is not a rhythm


def test_ids_are_time_ordered_uuid7() -> None:
    first, second = new_id(), new_id()
    assert is_id(first) and first[14] == "7"
    assert first[:13] <= second[:13]


@given(st.text(max_size=60))
def test_any_typed_text_gives_a_safe_query_or_none(text: str) -> None:
    import sqlite3

    query = build_query(text)
    if query is None:
        return
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE f USING fts5(a, tokenize='unicode61 remove_diacritics 2')"
    )
    connection.execute("SELECT * FROM f WHERE f MATCH ?", (query.fts,)).fetchall()
