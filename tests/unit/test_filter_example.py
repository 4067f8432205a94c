"""The issue's own filter, on a book where each other deal misses exactly one condition."""

from __future__ import annotations

from datetime import timedelta

from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.fields import FieldDefDraft
from relbook.services.interactions import LogDraft

ISSUE_FILTER = "tag:key-account stage:negotiation amount>10000 last-touch>30d company:acme"


def test_the_filter_from_the_issue_finds_exactly_the_deal_it_describes(
    services: Services,
) -> None:
    now = services.clock.now()
    stages = {s.name: s.id for s in services.pipelines.default_pipeline().stages}
    acme = services.companies.create(CompanyDraft(name="Acme Corp"))
    globex = services.companies.create(CompanyDraft(name="Globex"))
    services.fields.save(FieldDefDraft("deal", "Segment", "choice", choices=["SMB", "Enterprise"]))

    def deal(title: str, **changes: object) -> str:
        values: dict[str, object] = {
            "company_id": acme,
            "stage_id": stages["Negotiation"],
            "amount": "25,000",
            "tags": ["Key account"],
            "custom": {"segment": "Enterprise"},
        }
        values.update(changes)
        return services.deals.create(DealDraft(title=title, **values))  # type: ignore[arg-type]

    wanted = deal("Acme renewal")
    deal("No tag", tags=[])
    deal("Other stage", stage_id=stages["Proposal"])
    deal("Too small", amount="9,999")
    deal("Other company", company_id=globex)
    recent = deal("Touched last week")
    services.interactions.log(
        LogDraft(kind="call", occurred_at=now - timedelta(days=7), deal_id=recent)
    )
    old_touch = deal("Touched in January")
    services.interactions.log(
        LogDraft(kind="meeting", occurred_at=now - timedelta(days=45), deal_id=old_touch)
    )
    smb = deal("SMB one", custom={"segment": "SMB"})

    assert set(services.lists.ids("deal", ISSUE_FILTER)) == {wanted, old_touch, smb}
    assert set(services.lists.ids("deal", f"{ISSUE_FILTER} segment:enterprise")) == {
        wanted,
        old_touch,
    }
    assert services.lists.ids("deal", f"{ISSUE_FILTER} -segment:enterprise") == [smb]
