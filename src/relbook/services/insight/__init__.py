"""Insight: what the book knows about relationships, the pipeline and customers' words.

``services.insight`` (``InsightService``) is the one entry point; every number is derived
from captured interactions and deals, never typed, and every score can say how it was
computed (``relationship(id).strength.components`` / ``explain(id)``).

Reads use ``Book.reader()`` (sqlite3) and denormalised columns only, so they are safe on
the GUI start-up path; the few writes (cadence, snooze, keep-warm, feedback from a
selection, saved segments, daily rescore) import SQLAlchemy when first used.

Formulas: ``domain.scoring`` (strength, frequency, trend), ``domain.insight`` (going
cold, cadence, value at stake, next-contact urgency), ``domain.insight_segments``
(effort, clusters), ``domain.insight_text`` (open points).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from relbook.domain.scoring import Strength
from relbook.services.base import Service
from relbook.services.insight import briefing as _briefing
from relbook.services.insight import relationships as _rel
from relbook.services.insight.briefing import MeetingBriefing
from relbook.services.insight.common import book_currency
from relbook.services.insight.relationships import (
    ColdEntry,
    DueEntry,
    KeepWarmProposal,
    NextContact,
    Relationship,
    StuckDealRow,
)

if TYPE_CHECKING:
    from relbook.domain.insight_segments import Cluster
    from relbook.services.insight.actions import FeedbackSelection, Maintained, SavedSegment
    from relbook.services.insight.feedback import CompetitorRow, FeedbackThemes
    from relbook.services.insight.pipeline import PipelineAnalytics, PipelineRef
    from relbook.services.insight.segments import HeatMap, Segments

# Feedback, pipeline and segments are imported when first used: My Day reaches this
# package at start-up and needs none of them (~40 ms of imports).

__all__ = ["InsightService"]


class InsightService(Service):
    # ----------------------------------------------------------------- settings
    @property
    def going_cold_factor(self) -> float:
        return float(self.services.settings.get("going_cold_factor"))

    @property
    def currency(self) -> str:
        return book_currency(self.db)

    def _now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------ relationships
    def relationship(self, entity_id: str) -> Relationship:
        """A person's or company's metrics: last (two-way) touch, frequency, rhythm and
        drift, reciprocity, strength with its components, trend, breadth, cadence."""
        return _rel.relationship(
            self.db, entity_id, self._now(), self.going_cold_factor, self.currency
        )

    def explain(self, entity_id: str) -> Strength:
        """The strength score with each input and the points it earned."""
        return self.relationship(entity_id).strength

    def going_cold(
        self, *, entity_type: str = "person", limit: int | None = 50, include_snoozed: bool = False
    ) -> list[ColdEntry]:
        return _rel.going_cold(
            self.db,
            self._now(),
            self.going_cold_factor,
            self.currency,
            entity_type=entity_type,
            limit=limit,
            include_snoozed=include_snoozed,
        )

    def due(
        self, *, horizon_days: float = 0, limit: int | None = 100, include_snoozed: bool = False
    ) -> list[DueEntry]:
        """Keep-in-touch: people whose cadence is due within ``horizon_days``."""
        return _rel.due(
            self.db,
            self._now(),
            self.going_cold_factor,
            self.currency,
            horizon_days=horizon_days,
            limit=limit,
            include_snoozed=include_snoozed,
        )

    def next_contacts(self, *, limit: int | None = 25) -> list[NextContact]:
        return _rel.next_contacts(
            self.db, self._now(), self.going_cold_factor, self.currency, limit=limit
        )

    def stuck_deals(self) -> list[StuckDealRow]:
        return _rel.stuck_deals(self.db, self._now())

    def keep_warm_proposals(self, *, limit: int | None = None) -> list[KeepWarmProposal]:
        settings = self.services.settings
        return _rel.keep_warm_proposals(
            self.db,
            self._now(),
            int(settings.get("keep_warm_cadence_days")),
            set(settings.get("keep_warm_dismissed")),
            limit,
        )

    # ------------------------------------------------------------------ writes
    def set_cadence(self, person_ids: list[str], days: int | None) -> None:
        from relbook.services.insight.actions import set_cadence

        set_cadence(self.services, person_ids, days)

    def snooze(self, person_ids: list[str], until: datetime | None) -> None:
        from relbook.services.insight.actions import snooze

        snooze(self.services, person_ids, until)

    def accept_keep_warm(self, proposals: Iterable[KeepWarmProposal]) -> None:
        """Give each proposal's person its proposed keep-warm cadence."""
        by_days: dict[int, list[str]] = {}
        for proposal in proposals:
            by_days.setdefault(proposal.cadence_days, []).append(proposal.person.id)
        for days, people in by_days.items():
            self.set_cadence(people, days)

    def dismiss_keep_warm(self, proposals: Iterable[KeepWarmProposal]) -> None:
        from relbook.services.insight.actions import dismiss_keep_warm

        dismiss_keep_warm(self.services, [p.key for p in proposals])

    def mark_feedback(self, selection: FeedbackSelection) -> str:
        """Keep selected text of a note or interaction as feedback; returns its id."""
        from relbook.services.insight.actions import mark_feedback

        return mark_feedback(self.services, selection)

    def rescore_if_due(self) -> int:
        """Refresh the stored strength column once a day (run it in the background)."""
        from relbook.services.insight.actions import rescore_if_due

        return rescore_if_due(self.services)

    def maintain(self) -> Maintained:
        """Meetings that happened since the last run count as touches; the stored strength
        decays once a day. Run it in the background at start and every hour."""
        from relbook.services.insight.actions import maintain

        return maintain(self.services)

    def refresh_passed(self, since: datetime) -> int:
        """Count meetings that happened since ``since`` as touches."""
        from relbook.services.insight.actions import refresh_passed

        return refresh_passed(self.services, since)

    # ---------------------------------------------------------------- briefings
    def briefing(self, interaction_id: str) -> MeetingBriefing:
        return _briefing.briefing(self.db, interaction_id, self._now())

    # ----------------------------------------------------------------- pipeline
    def pipelines(self) -> list[PipelineRef]:
        from relbook.services.insight import pipeline as _pipeline

        return _pipeline.pipelines(self.db)

    def pipeline(self, pipeline_id: str | None = None, *, months: int = 12) -> PipelineAnalytics:
        """Amount per stage, forecast, stage age, conversion, win/loss (closed deals of the
        last ``months`` months)."""
        from relbook.services.insight import pipeline as _pipeline

        if not _pipeline.pipelines(self.db):
            self.services.pipelines.default_pipeline()  # a new book gets its default
        return _pipeline.analytics(self.db, self._now(), self.currency, pipeline_id, months=months)

    # ----------------------------------------------------------------- segments
    def segments(self, *, months: int = 12) -> Segments:
        from relbook.services.insight import segments as _segments

        return _segments.segments(self.db, self._now(), months)

    def heatmap(
        self, *, months: int = 12, limit: int = 20, company_ids: list[str] | None = None
    ) -> HeatMap:
        from relbook.services.insight import segments as _segments

        return _segments.heatmap(self.db, self._now(), months, limit, company_ids)

    def save_segment(self, name: str, company_ids: list[str]) -> SavedSegment:
        from relbook.services.insight.actions import save_segment

        return save_segment(self.services, name, company_ids)

    def save_cluster(self, cluster: Cluster | str, name: str, *, months: int = 12) -> SavedSegment:
        """Save one cluster of the current segments as a target list."""
        from relbook.domain.insight_segments import Cluster

        ids = [p.company_id for p in self.segments(months=months).of(Cluster(cluster))]
        return self.save_segment(name, ids)

    def export_segment(self, company_ids: list[str], fmt: str = "csv", kind: str = "person") -> str:
        """A campaign file: the segment's people (or companies) as CSV, or people as vCard."""
        from relbook.domain.errors import UserError
        from relbook.services.insight.actions import segment_people

        if fmt not in ("csv", "vcard"):
            raise UserError(f"Cannot export as '{fmt}'.", "Choose csv or vcard.")
        if kind not in ("person", "company"):
            raise UserError(f"Cannot export '{kind}'.", "Choose person or company.")
        contacts = self.services.contacts
        if kind == "company":
            if fmt == "vcard":
                raise UserError("vCard holds people, not companies.", "Export people instead.")
            return contacts.export_csv("company", company_ids)
        people = segment_people(self.services, company_ids)
        if fmt == "vcard":
            return contacts.export_vcards(people)
        return contacts.export_csv("person", people)

    # ----------------------------------------------------------------- feedback
    def feedback_themes(self, *, months: int = 12) -> FeedbackThemes:
        from relbook.services.insight import feedback as _feedback

        return _feedback.themes(self.db, self._now(), months)

    def competitors(self, *, months: int = 24) -> list[CompetitorRow]:
        from relbook.services.insight import feedback as _feedback

        return _feedback.competitors(self.db, self._now(), months)
