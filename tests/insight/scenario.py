"""Hand-made scenarios for insight tests: people, companies, touches N days ago, deals
that entered their stage at a given moment (the fixed clock travels), meetings with
known and unknown attendees.

Everything goes through the real services or the real unit of work — the touch
statistics the tests read are the ones storage keeps in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from relbook.domain.clock import FixedClock
from relbook.services.companies import CompanyDraft
from relbook.services.context import Services
from relbook.services.deals import DealDraft
from relbook.services.interactions import LogDraft
from relbook.services.people import Labeled, PersonDraft
from relbook.storage.models import Interaction, InteractionLink, Participant


class Scenario:
    def __init__(self, services: Services) -> None:
        self.services = services
        clock = services.clock
        assert isinstance(clock, FixedClock)
        self.clock = clock
        self.now = clock.now()

    # ----------------------------------------------------------------- time
    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """Run writes as if the clock said ``moment`` (deals entering stages then)."""
        saved = self.clock.at
        self.clock.at = moment
        try:
            yield
        finally:
            self.clock.at = saved

    # --------------------------------------------------------------- people
    def company(
        self,
        name: str,
        *,
        current: str | None = None,
        potential: str | None = None,
        domains: Iterable[str] = (),
    ) -> str:
        return self.services.companies.create(
            CompanyDraft(
                name=name, current_value=current, potential_value=potential, domains=list(domains)
            )
        )

    def person(
        self,
        name: str,
        company_id: str | None = None,
        *,
        email: str | None = None,
        cadence: int | None = None,
    ) -> str:
        given, _, family = name.partition(" ")
        draft = PersonDraft(
            given_name=given,
            family_name=family,
            emails=[Labeled(email)] if email else [],
            company_id=company_id,
            cadence_days=cadence,
        )
        with self.at(self.ago(400)):  # people exist long before their touches
            return self.services.people.create(draft)

    # -------------------------------------------------------------- touches
    def touch(
        self,
        person_ids: str | list[str],
        days_ago: float,
        *,
        kind: str = "email",
        direction: str = "outbound",
        minutes: int | None = None,
        body: str = "",
        subject: str = "",
    ) -> str:
        ids = [person_ids] if isinstance(person_ids, str) else person_ids
        return self.services.interactions.log(
            LogDraft(
                kind=kind,
                occurred_at=self.ago(days_ago),
                direction=direction,
                person_ids=ids,
                duration_minutes=minutes,
                body=body,
                subject=subject or f"{kind} {days_ago:g} days ago",
            )
        )

    def rhythm(
        self, person_id: str, every: float, count: int, last_days_ago: float, **kw: object
    ) -> None:
        """``count`` touches ``every`` days apart, the last one ``last_days_ago``;
        alternating inbound/outbound unless a direction is given."""
        for i in range(count):
            direction = kw.get("direction") or ("inbound" if i % 2 else "outbound")
            self.touch(
                person_id,
                last_days_ago + i * every,
                direction=str(direction),
                kind=str(kw.get("kind", "email")),
            )

    # ---------------------------------------------------------------- deals
    def stage(self, name: str) -> str:
        pipeline = self.services.pipelines.default_pipeline()
        return next(s.id for s in pipeline.stages if s.name == name)

    def deal(
        self,
        title: str,
        company_id: str | None,
        *,
        stage: str = "Lead",
        amount: str | None = None,
        people: Iterable[str] = (),
        entered_days_ago: float = 0,
        expected_close: str | None = None,
        competitors: Iterable[str] = (),
        probability: int | None = None,
    ) -> str:
        stage_id = self.stage(stage)
        with self.at(self.ago(entered_days_ago)):
            return self.services.deals.create(
                DealDraft(
                    title=title,
                    company_id=company_id,
                    stage_id=stage_id,
                    amount=amount,
                    people=[(p, "") for p in people],
                    expected_close=expected_close,
                    competitors=list(competitors),
                    probability=probability,
                )
            )

    def move(self, deal_id: str, stage: str, days_ago: float = 0, reason: str = "") -> None:
        with self.at(self.ago(days_ago)):
            self.services.deals.move_stage(deal_id, self.stage(stage), reason)

    # ------------------------------------------------------------- meetings
    def meeting(
        self,
        starts: datetime,
        *,
        subject: str,
        people: Iterable[str] = (),
        unknown: Iterable[tuple[str, str]] = (),
        minutes: int = 60,
        status: str = "planned",
        company_ids: Iterable[str] = (),
    ) -> str:
        """A calendar meeting with participants (known people by id, unknown by address)."""
        with self.services.book.session() as session:
            meeting = Interaction(
                kind="meeting",
                direction="none",
                status=status,
                occurred_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                duration_minutes=minutes,
                subject=subject,
                source="test",
            )
            session.add(meeting)
            session.flush()
            for person_id in people:
                meeting.participants.append(
                    Participant(role="attendee", address="", name="", person_id=person_id)
                )
                meeting.links.append(
                    InteractionLink(
                        entity_id=person_id,
                        entity_type="person",
                        occurred_at=starts,
                        kind="meeting",
                        direction="none",
                        reason="attendee",
                    )
                )
            for company_id in company_ids:
                meeting.links.append(
                    InteractionLink(
                        entity_id=company_id,
                        entity_type="company",
                        occurred_at=starts,
                        kind="meeting",
                        direction="none",
                        reason="attendee's company",
                    )
                )
            for address, name in unknown:
                meeting.participants.append(
                    Participant(role="attendee", address=address, name=name)
                )
            session.flush()
            return meeting.id
