"""Linking: every captured message lands on the right people, companies and deals — with
the reason — and the rep's corrections stick for past and future mail (issue 4, point 8).

Every message here is real RFC 822 text (``helpers.eml``) read by the mail parser and
stored by the ingest pipeline into a real book file; people, companies, deals, settings
and corrections go through the same services the app uses.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest
from tests.capture.helpers import eml, interaction_id, links, review_addresses
from tests.conftest import NOW

from relbook.capture import domains
from relbook.capture.ingest import IngestReport, ingest_items
from relbook.capture.mail import parse_message
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.people import Labeled, PersonDraft

REP = "Rita Rep <rita@seller.example>"


# --------------------------------------------------------------------- helpers


def receive(services: Services, *messages: bytes) -> IngestReport:
    """Messages arrive (as a mail file import or a sync page would hand them over)."""
    items = [parse_message(m) for m in messages]
    return ingest_items(services.book, items, source_label="file", privacy="full")


def company(services: Services, name: str, *domain_names: str) -> str:
    return services.companies.create(CompanyDraft(name=name, domains=list(domain_names)))


def person(
    services: Services, given: str, family: str, *addresses: str, company_id: str | None = None
) -> str:
    return services.people.create(
        PersonDraft(
            given_name=given,
            family_name=family,
            emails=[Labeled(a) for a in addresses],
            company_id=company_id,
        )
    )


def linked_to(services: Services, key: str) -> set[str]:
    return set(links(services, key))


def review_row(services: Services, address: str) -> tuple[str, int, str] | None:
    row = (
        services.book.reader()
        .execute(
            "SELECT status, message_count, domain FROM review_item WHERE address = ?", (address,)
        )
        .fetchone()
    )
    return None if row is None else (str(row[0]), int(row[1]), str(row[2]))


def company_named(services: Services, name: str) -> str | None:
    return services.companies.find_by_name(name)


def interaction_row(services: Services, key: str) -> dict[str, Any]:
    cursor = services.book.reader().execute(
        "SELECT direction, bulk_reason FROM interaction WHERE natural_key = ?", (key,)
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.fixture
def rep(services: Services) -> Services:
    """A book whose owner told it her address and her company's domains."""
    services.settings.set("my_addresses", ["rita@seller.example"])
    services.settings.set("internal_domains", ["seller.example", "seller-group.example"])
    return services


# ----------------------------------------------------- people by any address


def test_any_of_a_persons_addresses_links_them_and_their_company(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    ann = person(rep, "Ann", "Buyer", "ann@acme.example", "ann.b@gmail.com", company_id=acme)
    receive(
        rep,
        eml("work@x", sender="Ann Buyer <ann@acme.example>", to=[REP]),
        eml("home@x", sender="Ann <ann.b@gmail.com>", to=[REP], date=NOW - timedelta(hours=3)),
        eml("cc@x", sender=REP, to=["Bob <bob@elsewhere.example>"], cc=["ANN.B@GMAIL.COM"]),
    )

    work = links(rep, "msgid:work@x")
    assert work[ann] == "from ann@acme.example — Ann Buyer's address"
    # Acme twice over: Ann works there, and acme.example is theirs — one link, one reason.
    assert set(work) == {ann, acme}
    assert work[acme] in (
        "Ann Buyer works at Acme",
        "from ann@acme.example — acme.example belongs to Acme",
    )
    home = links(rep, "msgid:home@x")
    assert home == {
        ann: "from ann.b@gmail.com — Ann Buyer's address",
        acme: "Ann Buyer works at Acme",  # through Ann, never through gmail.com
    }
    cc = links(rep, "msgid:cc@x")
    assert cc[ann] == "cc ann.b@gmail.com — Ann Buyer's address"
    # Ann is in the book under both addresses: nobody waits for review but Bob.
    assert review_addresses(rep) == {"bob@elsewhere.example"}
    # The participant rows know who each address is (the timeline shows names).
    owners = dict(
        rep.book.reader().execute(
            """SELECT p.address, p.person_id FROM interaction_participant p
               JOIN interaction i ON i.id = p.interaction_id WHERE i.natural_key = ?""",
            ("msgid:cc@x",),
        )
    )
    assert owners == {"rita@seller.example": None, "bob@elsewhere.example": None,
                      "ann.b@gmail.com": ann}  # fmt: skip


def test_a_person_given_another_address_gets_its_past_mail(rep: Services) -> None:
    ann = person(rep, "Ann", "Buyer", "ann@acme.example")
    receive(rep, eml("old@x", sender="Ann <ann.buyer@acme-mail.example>", to=[REP]))
    assert linked_to(rep, "msgid:old@x") == set()
    assert "ann.buyer@acme-mail.example" in review_addresses(rep)

    detail = rep.people.detail(ann)
    rep.people.update(
        PersonDraft(
            id=ann,
            given_name=detail.given_name,
            family_name=detail.family_name,
            emails=[*detail.emails, Labeled("ann.buyer@acme-mail.example")],
        )
    )

    assert links(rep, "msgid:old@x") == {
        ann: "from ann.buyer@acme-mail.example — Ann Buyer's address"
    }
    assert review_row(rep, "ann.buyer@acme-mail.example") == ("accepted", 1, "acme-mail.example")

    # Her company is recorded: her past mail is Acme's too ("works at"); an address she
    # lost no longer links her.
    acme = company(rep, "Acme", "acme.example")
    draft = rep.people.draft(ann)
    draft.company_id = acme
    draft.emails = [e for e in draft.emails if e.value != "ann@acme.example"]
    rep.people.update(draft)
    assert links(rep, "msgid:old@x") == {
        ann: "from ann.buyer@acme-mail.example — Ann Buyer's address",
        acme: "Ann Buyer works at Acme",
    }
    receive(rep, eml("lost@x", sender="Ann <ann@acme.example>", to=[REP]))
    assert links(rep, "msgid:lost@x") == {
        acme: "from ann@acme.example — acme.example belongs to Acme"
    }
    # She moves on to Globex: new mail is Globex's, the mail from her Acme years stays.
    globex = company(rep, "Globex", "globex.example")
    draft = rep.people.draft(ann)
    draft.company_id = globex
    rep.people.update(draft)
    assert acme in linked_to(rep, "msgid:old@x") and globex not in linked_to(rep, "msgid:old@x")
    receive(rep, eml("new@x", sender="Ann <ann.buyer@acme-mail.example>", to=[REP]))
    assert links(rep, "msgid:new@x")[globex] == "Ann Buyer works at Globex"


def test_a_company_given_another_domain_gets_its_past_mail(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    receive(rep, eml("gb@x", sender="Ian <ian@acme-uk.example>", to=[REP]))
    assert linked_to(rep, "msgid:gb@x") == set()
    rep.companies.add_domain(acme, "acme-uk.example")
    assert links(rep, "msgid:gb@x") == {
        acme: "from ian@acme-uk.example — acme-uk.example belongs to Acme"
    }
    draft = rep.companies.draft(acme)
    draft.domains = ["acme.example"]
    rep.companies.update(draft)
    assert linked_to(rep, "msgid:gb@x") == set()


# ------------------------------------------------------ companies by domain


def test_the_company_owning_the_senders_domain_is_linked_across_its_domains_and_subdomains(
    rep: Services,
) -> None:
    acme = company(rep, "Acme", "acme.example", "acme-group.co.uk")
    receive(
        rep,
        eml("a@x", sender="Carl <carl@acme.example>", to=[REP]),
        eml("b@x", sender="Dora <dora@acme-group.co.uk>", to=[REP]),
        eml("c@x", sender="Emil <emil@mail.eu.acme-group.co.uk>", to=[REP]),
        eml("d@x", sender=REP, to=["Fay <fay@sales.acme.example>"]),
    )
    assert links(rep, "msgid:a@x") == {
        acme: "from carl@acme.example — acme.example belongs to Acme"
    }
    assert links(rep, "msgid:b@x") == {
        acme: "from dora@acme-group.co.uk — acme-group.co.uk belongs to Acme"
    }
    assert links(rep, "msgid:c@x") == {
        acme: "from emil@mail.eu.acme-group.co.uk — acme-group.co.uk belongs to Acme"
    }
    assert links(rep, "msgid:d@x") == {
        acme: "to fay@sales.acme.example — acme.example belongs to Acme"
    }
    # The people are not in the book yet: they wait for review under the registrable domain.
    assert review_row(rep, "emil@mail.eu.acme-group.co.uk") == ("pending", 1, "acme-group.co.uk")
    assert review_row(rep, "fay@sales.acme.example") == ("pending", 1, "acme.example")


def test_lookalike_and_public_suffix_neighbours_are_not_the_company(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.co.uk")
    receive(
        rep,
        eml("n1@x", sender="x <x@notacme.co.uk>", to=[REP]),  # another registrable domain
        eml("n2@x", sender="y <y@acme.co.uk.phish.example>", to=[REP]),  # acme.co.uk as a label
        eml("n3@x", sender="z <z@co.uk>", to=[REP]),  # the public suffix itself
        eml("yes@x", sender="w <w@uk.acme.co.uk>", to=[REP]),
    )
    for key in ("msgid:n1@x", "msgid:n2@x", "msgid:n3@x"):
        assert acme not in linked_to(rep, key), key
    assert linked_to(rep, "msgid:yes@x") == {acme}
    assert review_row(rep, "y@acme.co.uk.phish.example") == ("pending", 1, "phish.example")


def test_registrable_domains_come_from_the_bundled_list_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list must not be fetched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    domains._psl.cache_clear()
    domains.registrable_domain.cache_clear()
    try:
        assert domains.registrable_domain("mail.eu.acme.co.uk") == "acme.co.uk"
        assert domains.registrable_domain("a.b.kawasaki.jp") == "a.b.kawasaki.jp"  # *.kawasaki.jp
        assert domains.registrable_domain("sales.acme.com.au") == "acme.com.au"
        assert domains.registrable_domain("shop.myshop.example") == "myshop.example"
    finally:
        domains._psl.cache_clear()
        domains.registrable_domain.cache_clear()


def test_free_mail_and_list_domains_never_make_a_company(rep: Services) -> None:
    receive(
        rep,
        eml("free@x", sender="Gus <gus.private@gmail.com>", to=[REP]),
        eml("free2@x", sender="Hal <hal@yahoo.co.uk>", to=[REP]),
        eml("list@x", sender="Group <somebody@googlegroups.com>", to=[REP]),
    )
    assert linked_to(rep, "msgid:free@x") == set()
    # A free-mail correspondent is reviewed like anyone — accepted, they get no company.
    assert review_addresses(rep) == {"gus.private@gmail.com", "hal@yahoo.co.uk"}
    entry = rep.review.entry("gus.private@gmail.com")
    assert entry.free_mail
    result = rep.review.accept("gus.private@gmail.com")
    assert result.company_id is None and not result.company_created
    assert rep.people.detail(result.person_id).company_id is None
    assert company_named(rep, "Gmail") is None
    # A list host is not a person either: stored, but bulk, unlinked and never reviewed.
    assert interaction_row(rep, "msgid:list@x")["bulk_reason"].startswith(
        "sent from a mailing-list host"
    )
    assert linked_to(rep, "msgid:list@x") == set()
    # And the company editor refuses to give such a domain to a company at all.
    with pytest.raises(Exception, match="free-mail or list domain"):
        company(rep, "Gmail fans", "gmail.com")


# ------------------------------------------------------------ colleagues


def test_colleagues_on_internal_domains_are_not_customers(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    # A colleague even has a person card (imported from the company address book).
    tom = person(rep, "Tom", "Colleague", "tom@seller.example")
    receive(
        rep,
        eml("out@x", sender=REP, to=["Ann <ann@acme.example>"], cc=["Tom <tom@seller.example>"]),
        eml("in@x", sender="Ann <ann@acme.example>", to=[REP, "tom@seller.example"]),
        eml("team@x", sender="Tom <tom@seller.example>", to=[REP, "uma@eu.seller-group.example"]),
    )
    assert linked_to(rep, "msgid:out@x") == {acme}
    assert tom not in linked_to(rep, "msgid:in@x")
    assert linked_to(rep, "msgid:team@x") == set()
    directions = {
        k: interaction_row(rep, f"msgid:{k}@x")["direction"] for k in ("out", "in", "team")
    }
    assert directions == {"out": "outbound", "in": "inbound", "team": "internal"}
    # Ann waits for review; no colleague (nor the rep, nor a subsidiary's subdomain) does.
    assert review_addresses(rep) == {"ann@acme.example"}


def test_declaring_internal_domains_later_takes_colleagues_out_of_the_book(
    services: Services,
) -> None:
    receive(services, eml("t@x", sender="Tom <tom@seller.example>", to=["rita@seller.example"]))
    assert review_addresses(services) == {"tom@seller.example", "rita@seller.example"}
    services.settings.set("my_addresses", ["rita@seller.example"])
    assert review_addresses(services) == {"tom@seller.example"}
    assert interaction_row(services, "msgid:t@x")["direction"] == "inbound"
    services.settings.set("internal_domains", ["seller.example"])
    assert review_addresses(services) == set()
    assert interaction_row(services, "msgid:t@x")["direction"] == "internal"


def test_a_colleague_relink_cut_off_is_kept_and_finished_later(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relbook.services import relink as relink_module

    monkeypatch.setattr(relink_module, "_RELINK_CHUNK", 2)
    receive(
        services,
        *(eml(f"t{n}@x", sender="Tom <tom@seller.example>", to=[REP]) for n in range(5)),
    )
    # The app's way: the setting and the job to apply it commit together, nothing relinked yet.
    services.settings.set_many({"internal_domains": ["seller.example"]}, relink_now=False)
    job = services.relink.pending()
    assert job is not None and job.domains == ("seller.example",)
    assert interaction_row(services, "msgid:t0@x")["direction"] == "inbound"

    # Closing the app after the first chunk: what was done stays, the job stays noted.
    chunks: list[int] = []
    services.relink.run_pending(
        cancel=lambda: len(chunks) >= 1, progress=lambda done, total: chunks.append(done)
    )
    directions = [interaction_row(services, f"msgid:t{n}@x")["direction"] for n in range(5)]
    assert directions.count("internal") == 2
    assert services.relink.pending() == job
    assert "tom@seller.example" in review_addresses(services)

    # A change while the next run goes on is not dropped: the job stays for another run.
    def meanwhile(done: int, total: int) -> None:
        if done == 0:
            services.settings.set_many({"my_addresses": ["rita@seller.example"]}, relink_now=False)

    services.relink.run_pending(progress=meanwhile)
    assert [interaction_row(services, f"msgid:t{n}@x")["direction"] for n in range(5)] == [
        "internal"
    ] * 5
    assert services.relink.pending() is not None
    assert services.relink.pending().addresses == ("rita@seller.example",)
    services.relink.run_pending()
    assert services.relink.pending() is None
    assert review_addresses(services) == set()


# -------------------------------------------------- bulk and automated mail


@pytest.mark.parametrize(
    ("header", "sender", "reason"),
    [
        ("List-Id: Acme customers <customers.acme.example>", "Ann <ann@acme.example>",
         "mailing list (Acme customers <customers.acme.example>)"),
        ("Precedence: bulk", "Ann <ann@acme.example>", "Precedence: bulk"),
        ("Precedence: list", "Ann <ann@acme.example>", "Precedence: list"),
        ("Precedence: junk", "Ann <ann@acme.example>", "Precedence: junk"),
        ("Auto-Submitted: auto-replied", "Ann <ann@acme.example>",
         "Auto-Submitted: auto-replied"),
        ("X-Mailer: Acme Billing", "Acme <no-reply@acme.example>",
         "automated sender no-reply@acme.example"),
        ("X-Mailer: Acme Billing", "Acme <donotreply@billing.acme.example>",
         "automated sender donotreply@billing.acme.example"),
    ],
)  # fmt: skip
def test_bulk_and_automated_mail_is_not_a_relationship(
    rep: Services, header: str, sender: str, reason: str
) -> None:
    acme = company(rep, "Acme", "acme.example")
    ann = person(rep, "Ann", "Buyer", "ann@acme.example", company_id=acme)
    receive(rep, eml("bulk@x", sender=sender, to=[REP, "zed@other.example"], headers=[header]))
    assert interaction_row(rep, "msgid:bulk@x")["bulk_reason"] == reason
    assert linked_to(rep, "msgid:bulk@x") == set()
    assert review_addresses(rep) == set()  # neither the sender nor the other recipient
    # Ann's card does not count it as a touch.
    touches = rep.book.reader().execute(
        "SELECT count(*) FROM interaction_link WHERE entity_id IN (?, ?)", (ann, acme)
    )
    assert touches.fetchone()[0] == 0


def test_auto_submitted_no_is_personal_mail(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    receive(rep, eml("p@x", sender="Ann <ann@acme.example>", to=[REP],
                     headers=["Auto-Submitted: no"]))  # fmt: skip
    assert interaction_row(rep, "msgid:p@x")["bulk_reason"] == ""
    assert linked_to(rep, "msgid:p@x") == {acme}


# --------------------------------------------------------------- threads


def _deal(services: Services, title: str, company_id: str) -> str:
    return services.deals.create(DealDraft(title=title, company_id=company_id))


def test_replies_inherit_their_threads_deal(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    deal = _deal(rep, "Acme rollout", acme)
    receive(rep, eml("root@x", sender=REP, to=["Ann <ann@acme.example>"], subject="Offer"))
    # The rep files the first message under the deal by hand.
    rep.relink.link(interaction_id(rep, "msgid:root@x"), "deal", deal)
    assert links(rep, "msgid:root@x")[deal] == "linked by you"

    receive(
        rep,
        eml("r1@x", sender="Ann <ann@acme.example>", to=[REP], subject="Re: Offer",
            in_reply_to="root@x", references=["root@x"], date=NOW - timedelta(hours=20)),
        # A mail program that sends only In-Reply-To, answering the answer.
        eml("r2@x", sender=REP, to=["ann@acme.example"], subject="Re: Re: Offer",
            in_reply_to="r1@x", date=NOW - timedelta(hours=10)),
    )  # fmt: skip
    why = "reply in the thread “Offer”, which is linked to deal “Acme rollout”"
    assert links(rep, "msgid:r1@x")[deal] == why
    assert deal in links(rep, "msgid:r2@x")
    # An automatic answer in the thread is still not a relationship.
    receive(
        rep,
        eml("ooo@x", sender="Ann <ann@acme.example>", to=[REP], subject="Out of office",
            in_reply_to="root@x", references=["root@x"], headers=["Auto-Submitted: auto-replied"]),
    )  # fmt: skip
    assert linked_to(rep, "msgid:ooo@x") == set()


def test_a_thread_filed_under_a_deal_later_takes_its_earlier_replies_along(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    deal = _deal(rep, "Acme renewal", acme)
    receive(
        rep,
        eml("t0@x", sender="Ann <ann@acme.example>", to=[REP], subject="Renewal"),
        eml("t1@x", sender=REP, to=["ann@acme.example"], subject="Re: Renewal",
            in_reply_to="t0@x", references=["t0@x"], date=NOW - timedelta(hours=5)),
        eml("other@x", sender="Ann <ann@acme.example>", to=[REP], subject="Lunch?"),
    )  # fmt: skip
    assert deal not in linked_to(rep, "msgid:t1@x")
    rep.relink.link(interaction_id(rep, "msgid:t0@x"), "deal", deal)
    assert links(rep, "msgid:t1@x")[deal].startswith("reply in the thread “Renewal”")
    assert deal not in linked_to(rep, "msgid:other@x")


def test_a_deal_given_to_a_reply_takes_the_whole_thread_along(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    deal = _deal(rep, "Acme expansion", acme)
    receive(
        rep,
        eml("q0@x", sender="Ann <ann@acme.example>", to=[REP], subject="Expansion",
            date=NOW - timedelta(days=3)),
        eml("q1@x", sender=REP, to=["ann@acme.example"], subject="Re: Expansion",
            in_reply_to="q0@x", references=["q0@x"], date=NOW - timedelta(days=2)),
        eml("q2@x", sender="Ann <ann@acme.example>", to=[REP], subject="Re: Re: Expansion",
            in_reply_to="q1@x", references=["q0@x", "q1@x"], date=NOW - timedelta(days=1)),
    )  # fmt: skip
    rep.relink.link(interaction_id(rep, "msgid:q2@x"), "deal", deal)
    assert deal in linked_to(rep, "msgid:q0@x")  # the first message of the thread too
    assert deal in linked_to(rep, "msgid:q1@x")
    # "Not this one" on the first message sticks although its replies keep the deal.
    rep.relink.unlink(interaction_id(rep, "msgid:q0@x"), "deal", deal)
    rep.relink.interactions([interaction_id(rep, "msgid:q0@x")])
    assert deal not in linked_to(rep, "msgid:q0@x")
    assert deal in linked_to(rep, "msgid:q1@x")


# ------------------------------------------------------------ the review queue


def test_unknown_correspondents_wait_for_review_and_accepting_links_past_and_future(
    rep: Services,
) -> None:
    receive(
        rep,
        eml("u1@x", sender="Vera Novak <vera@nordwind-shipping.example>", to=[REP],
            subject="Container rates", date=NOW - timedelta(days=3)),
        eml("u2@x", sender=REP, to=["Vera Novak <vera@nordwind-shipping.example>"],
            subject="Re: Container rates", date=NOW - timedelta(days=2)),
    )  # fmt: skip
    # Capture never creates people on its own.
    assert rep.book.reader().execute("SELECT count(*) FROM person").fetchone()[0] == 0
    entry = rep.review.entry("vera@nordwind-shipping.example")
    assert (entry.name, entry.domain, entry.message_count, entry.status) == (
        "Vera Novak", "nordwind-shipping.example", 2, "pending")  # fmt: skip
    assert entry.last_subject == "Re: Container rates"

    result = rep.review.accept("vera@nordwind-shipping.example")
    assert result.company_created and result.linked_interactions == 2
    vera = rep.people.detail(result.person_id)
    assert (vera.given_name, vera.family_name) == ("Vera", "Novak")
    nordwind = rep.companies.detail(vera.company_id or "")
    assert nordwind.name == "Nordwind Shipping"
    assert nordwind.domains == ("nordwind-shipping.example",)
    assert links(rep, "msgid:u1@x") == {
        vera.id: "from vera@nordwind-shipping.example — Vera Novak's address",
        nordwind.id: "Vera Novak works at Nordwind Shipping",
    }
    assert review_row(rep, "vera@nordwind-shipping.example") == (
        "accepted", 2, "nordwind-shipping.example")  # fmt: skip

    # Future mail: linked at once, nobody queued — a colleague of Vera's links the company.
    receive(
        rep,
        eml("u3@x", sender="Vera Novak <vera@nordwind-shipping.example>", to=[REP]),
        eml("u4@x", sender="Wim <wim@nordwind-shipping.example>", to=[REP]),
    )
    assert linked_to(rep, "msgid:u3@x") == {vera.id, nordwind.id}
    assert links(rep, "msgid:u4@x") == {
        nordwind.id: "from wim@nordwind-shipping.example — nordwind-shipping.example belongs to "
        "Nordwind Shipping"
    }
    # Accepting Wim puts him at the same company (no second "Nordwind Shipping").
    wim = rep.review.accept("wim@nordwind-shipping.example")
    assert wim.company_id == nordwind.id and not wim.company_created
    assert review_addresses(rep) == set()


def test_accepting_with_a_name_and_company_of_the_reps_choice(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    receive(rep, eml("c@x", sender="<j.smith@acme-labs.example>", to=[REP]))
    result = rep.review.accept(
        "j.smith@acme-labs.example", given_name="Jane", family_name="Smith", company_name="Acme"
    )
    assert result.company_id == acme and not result.company_created
    assert rep.people.detail(result.person_id).display_name == "Jane Smith"
    assert set(links(rep, "msgid:c@x")) == {result.person_id, acme}


def test_ignoring_takes_an_address_off_the_queue_and_it_stays_off(rep: Services) -> None:
    receive(rep, eml("i1@x", sender="Pat <pat@vendor.example>", to=[REP]))
    rep.review.ignore("pat@vendor.example")
    assert review_addresses(rep) == set()
    receive(rep, eml("i2@x", sender="Pat <pat@vendor.example>", to=[REP]))
    assert review_row(rep, "pat@vendor.example") == ("ignored", 2, "vendor.example")
    assert review_addresses(rep) == set()
    rep.review.reopen("pat@vendor.example")  # undo
    assert review_addresses(rep) == {"pat@vendor.example"}


def test_always_ignoring_an_address_removes_its_past_links_and_keeps_it_out(
    rep: Services,
) -> None:
    acme = company(rep, "Acme", "acme.example")
    receive(
        rep,
        eml("a1@x", sender="Acme Careers <careers@acme.example>", to=[REP]),
        eml("a2@x", sender="Ann <ann@acme.example>", to=[REP], cc=["careers@acme.example"]),
    )
    assert linked_to(rep, "msgid:a1@x") == {acme}
    changed = rep.review.always_ignore_address("careers@acme.example")
    assert changed == 1
    assert linked_to(rep, "msgid:a1@x") == set()
    assert linked_to(rep, "msgid:a2@x") == {acme}  # Ann's own mail stays Acme's
    assert rep.review.entry("careers@acme.example").status == "ignored"
    assert [r.describe() for r in rep.relink.rules()] == ["ignore mail with careers@acme.example"]

    receive(rep, eml("a3@x", sender="Acme Careers <CAREERS@acme.example>", to=[REP]))
    assert linked_to(rep, "msgid:a3@x") == set()
    assert review_addresses(rep) == {"ann@acme.example"}


def test_always_ignoring_a_domain_covers_its_subdomains_past_and_future(rep: Services) -> None:
    receive(
        rep,
        eml("d1@x", sender="<a@tracker.example>", to=[REP]),
        eml("d2@x", sender="<b@eu.tracker.example>", to=[REP]),
        eml("d3@x", sender="<c@x.eu.tracker.example>", to=[REP]),
        eml("d4@x", sender="Real <real@customer.example>", to=[REP]),
    )
    rep.review.always_ignore_domain("eu.tracker.example")
    assert review_addresses(rep) == {"a@tracker.example", "real@customer.example"}
    rep.review.always_ignore_domain("tracker.example")
    assert review_addresses(rep) == {"real@customer.example"}
    receive(rep, eml("d5@x", sender="<new@mail.tracker.example>", to=[REP]))
    assert review_row(rep, "new@mail.tracker.example") is None
    # A company given that domain later still gets nothing from it: the rule wins.
    tracker = company(rep, "Tracker", "tracker.example")
    assert tracker not in linked_to(rep, "msgid:d5@x")

    # Forgetting the rule undoes it: the mail links, the addresses wait for review again
    # (those still under the narrower rule for eu.tracker.example stay ignored).
    rule = next(r for r in rep.relink.rules() if r.pattern == "tracker.example")
    assert rule.describe() == "ignore mail from anyone at tracker.example"
    rep.relink.delete_rule(rule.id)
    assert linked_to(rep, "msgid:d1@x") == {tracker}
    assert review_addresses(rep) == {"a@tracker.example", "real@customer.example"}


# ------------------------------------------------- the rep's corrections stick


def test_never_link_this_domain_to_a_company_sticks_for_past_and_future_mail(
    rep: Services,
) -> None:
    # Two companies share a mail host by accident: the rep says "not Acme" once.
    acme = company(rep, "Acme", "partners.example")
    receive(
        rep,
        eml("p1@x", sender="<x@partners.example>", to=[REP], date=NOW - timedelta(days=2)),
        eml("p2@x", sender="<y@partners.example>", to=[REP], date=NOW - timedelta(days=1)),
    )
    assert linked_to(rep, "msgid:p2@x") == {acme}
    result = rep.relink.unlink(interaction_id(rep, "msgid:p1@x"), "company", acme, never="domain")
    assert result.rule_id is not None
    assert linked_to(rep, "msgid:p1@x") == set()
    assert linked_to(rep, "msgid:p2@x") == set()  # the past follows the rule
    # …and the excluded row says why when the viewer asks.
    view = rep.messages.links(interaction_id(rep, "msgid:p1@x"))
    assert [(v.entity_id, v.reason, v.excluded) for v in view] == [(acme, "removed by you", True)]

    receive(rep, eml("p3@x", sender="<z@partners.example>", to=[REP]))
    assert linked_to(rep, "msgid:p3@x") == set()
    # Forgetting the rule gives the mail back to Acme (except the one removed by hand).
    rep.relink.delete_rule(result.rule_id)
    assert linked_to(rep, "msgid:p3@x") == {acme}
    assert linked_to(rep, "msgid:p2@x") == {acme}
    assert linked_to(rep, "msgid:p1@x") == set()


def test_always_link_this_address_to_a_deal_sticks_for_past_and_future_mail(
    rep: Services,
) -> None:
    acme = company(rep, "Acme", "acme.example")
    deal = _deal(rep, "Acme pilot", acme)
    receive(
        rep,
        eml("s1@x", sender="Ann <ann@acme.example>", to=[REP], subject="Pilot",
            date=NOW - timedelta(days=3)),
        eml("s2@x", sender="Ann <ann@acme.example>", to=[REP], subject="Unrelated thread",
            date=NOW - timedelta(days=2)),
    )  # fmt: skip
    rep.relink.link(interaction_id(rep, "msgid:s1@x"), "deal", deal, always="address")
    expected = "you chose to always link mail with ann@acme.example to Acme pilot"
    assert links(rep, "msgid:s2@x")[deal] == expected
    receive(rep, eml("s3@x", sender="Ann <ann@acme.example>", to=[REP], subject="Next steps"))
    assert links(rep, "msgid:s3@x")[deal] == expected
    # "Not this one" on a single message wins over the rule for that message only.
    rep.relink.unlink(interaction_id(rep, "msgid:s3@x"), "deal", deal)
    receive(rep, eml("s3@x", sender="Ann <ann@acme.example>", to=[REP], subject="Next steps"))
    assert deal not in linked_to(rep, "msgid:s3@x")
    assert deal in linked_to(rep, "msgid:s2@x")


def test_not_this_person_survives_a_resync_and_drops_the_company_derived_from_them(
    rep: Services,
) -> None:
    acme = company(rep, "Acme", "acme-holding.example")
    ann = person(rep, "Ann", "Buyer", "ann@private.example", company_id=acme)
    message = eml("m@x", sender="Ann <ann@private.example>", to=[REP])
    receive(rep, message)
    assert links(rep, "msgid:m@x") == {
        ann: "from ann@private.example — Ann Buyer's address",
        acme: "Ann Buyer works at Acme",
    }
    rep.relink.unlink(interaction_id(rep, "msgid:m@x"), "person", ann)
    assert linked_to(rep, "msgid:m@x") == set()
    receive(rep, message)  # the same message again (another folder, a replay)
    assert linked_to(rep, "msgid:m@x") == set()
    rep.relink.restore(interaction_id(rep, "msgid:m@x"), ann)
    assert linked_to(rep, "msgid:m@x") == {ann, acme}


# --------------------------------------------------------- every link says why


def test_every_stored_link_carries_a_reason(rep: Services) -> None:
    acme = company(rep, "Acme", "acme.example")
    person(rep, "Ann", "Buyer", "ann@acme.example", company_id=acme)
    deal = _deal(rep, "Acme deal", acme)
    receive(
        rep,
        eml("e1@x", sender="Ann <ann@acme.example>", to=[REP], cc=["ben@acme.example"]),
        eml("e2@x", sender=REP, to=["ann@acme.example"], in_reply_to="e1@x",
            references=["e1@x"], date=NOW - timedelta(hours=2)),
    )  # fmt: skip
    rep.relink.link(interaction_id(rep, "msgid:e1@x"), "deal", deal)
    rep.review.accept("ben@acme.example")
    rows = (
        rep.book.reader()
        .execute("SELECT entity_type, origin, reason FROM interaction_link WHERE excluded = 0")
        .fetchall()
    )
    assert len(rows) >= 7
    assert all(reason.strip() for _type, _origin, reason in rows), rows
    assert {t for t, _o, _r in rows} == {"person", "company", "deal"}
