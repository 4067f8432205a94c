"""Building a little book through the services, and reading the server as its admin."""

from __future__ import annotations

from typing import Any

import psycopg

from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.feedback import FeedbackDraft
from relbook.services.interactions import LogDraft
from relbook.services.notes import NoteDraft
from relbook.services.people import PersonDraft


def account(services: Services, name: str = "Acme") -> dict[str, str]:
    """A company with a person, a deal, a public and a private note, a call, feedback."""
    company = services.companies.create(
        CompanyDraft(name=name, domains=[f"{name.lower()}.example"])
    )
    person = services.people.create(
        PersonDraft(given_name="Ann", family_name=name, company_id=company, title="Buyer")
    )
    deal = services.deals.create(
        DealDraft(title=f"{name} renewal", company_id=company, amount="1000")
    )
    note = services.notes.create(NoteDraft(body=f"{name} likes bundles", company_id=company))
    secret = services.notes.create(
        NoteDraft(body=f"{name} budget is secret", private=True, company_id=company)
    )
    call = services.interactions.log(
        LogDraft(kind="call", subject="Pricing call", body="They want 10% off", person_ids=[person])
    )
    feedback = services.feedback.create(
        FeedbackDraft(
            topic="price",
            subject="Widget",
            sentiment="negative",
            quote="too pricey",
            company_id=company,
        )
    )
    return {
        "company": company,
        "person": person,
        "deal": deal,
        "note": note,
        "secret": secret,
        "call": call,
        "feedback": feedback,
    }


def server_items(admin_dsn: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item on the server (all teams), as the superuser sees it."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        return {
            (r[0], r[1]): {"state": r[2], "data": r[3], "version": r[4], "team": r[5]}
            for r in conn.execute(
                "SELECT entity_type, id::text, state, data, version, team_id::text FROM relbook.item"
            )
        }


def local_live(services: Services, table: str, entity_id: str) -> bool:
    row = (
        services.book.reader()
        .execute(f"SELECT deleted_at FROM {table} WHERE id = ?", (entity_id,))
        .fetchone()
    )
    return row is not None and row[0] is None
