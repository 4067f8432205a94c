"""My Day: the data behind the salesperson's start screen.

One call, ``services.myday.load()``, returns a frozen ``MyDay``:

- ``meetings_today`` / ``meetings_tomorrow``: each a ``MeetingBriefing`` (attendees known
  and unknown with their companies, strength and last interactions; open deals with days
  in stage; open tasks; recent notes and feedback; open points: promised follow-ups and
  open questions), in start order;
- ``overdue`` / ``due_today``: open follow-up tasks (snoozed ones hidden until the snooze
  ends), overdue first;
- ``going_cold``: people silent for longer than their own rhythm allows, the most
  urgent and valuable first (``services.insight`` explains the rule);
- ``next_contacts``: one ranked list of whom to contact and why;
- ``keep_warm``: lost deals' people for whom a keep-warm cadence is proposed;
- ``review_count``: unknown correspondents waiting in the review queue.

"Today" is the calendar day of the clock's *now* in ``tz`` (the computer's time zone
unless given). Read-only and on the GUI start-up path: ``sqlite3`` through
``Book.reader()`` only — this module must not import SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from relbook.domain.clock import to_millis
from relbook.services.base import Service
from relbook.services.insight.briefing import MeetingBriefing, briefing, meetings_between
from relbook.services.insight.common import Ref, moment
from relbook.services.insight.relationships import ColdEntry, KeepWarmProposal, NextContact


@dataclass(frozen=True)
class FollowUp:
    """An open task due today or overdue."""

    task_id: str
    title: str
    due_at: datetime
    all_day: bool
    priority: int  # 0 normal, 1 high
    overdue: bool  # due before today
    # What the task is about; None when it is about nothing of the kind, or it was deleted.
    person: Ref | None
    company: Ref | None
    deal: Ref | None


@dataclass(frozen=True)
class MyDay:
    generated_at: datetime
    today: date
    tz: tzinfo
    meetings_today: tuple[MeetingBriefing, ...]
    meetings_tomorrow: tuple[MeetingBriefing, ...]
    overdue: tuple[FollowUp, ...]
    due_today: tuple[FollowUp, ...]
    going_cold: tuple[ColdEntry, ...]
    next_contacts: tuple[NextContact, ...]
    keep_warm: tuple[KeepWarmProposal, ...]
    review_count: int


def local_tz() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in ``tz``."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


class MyDayService(Service):
    def load(self, tz: tzinfo | None = None, *, limit: int = 10) -> MyDay:
        """Everything My Day shows; ``limit`` caps going cold, next contacts, keep warm."""
        zone = tz or local_tz()
        now = self.clock.now()
        today = now.astimezone(zone).date()
        overdue, due_today = self.follow_ups(zone)
        insight = self.services.insight
        return MyDay(
            generated_at=now,
            today=today,
            tz=zone,
            meetings_today=tuple(self.meetings(today, zone)),
            meetings_tomorrow=tuple(self.meetings(today + timedelta(days=1), zone)),
            overdue=tuple(overdue),
            due_today=tuple(due_today),
            going_cold=tuple(insight.going_cold(limit=limit)),
            next_contacts=tuple(insight.next_contacts(limit=limit)),
            keep_warm=tuple(insight.keep_warm_proposals()[:limit]),
            review_count=self.review_count(),
        )

    def meetings(self, day: date, tz: tzinfo | None = None) -> list[MeetingBriefing]:
        """The day's meetings (not cancelled), each with its briefing, in start order."""
        start, end = day_bounds(day, tz or local_tz())
        now = self.clock.now()
        return [briefing(self.db, mid, now) for mid in meetings_between(self.db, start, end)]

    def briefing(self, interaction_id: str) -> MeetingBriefing:
        return briefing(self.db, interaction_id, self.clock.now())

    def follow_ups(self, tz: tzinfo | None = None) -> tuple[list[FollowUp], list[FollowUp]]:
        """(overdue, due today): open tasks due before the end of today, not snoozed."""
        zone = tz or local_tz()
        now = self.clock.now()
        start, end = day_bounds(now.astimezone(zone).date(), zone)
        rows = self.db.execute(
            """SELECT t.id, t.title, t.due_at, t.all_day, t.priority, p.id,
                      p.display_name, c.id, c.name, d.id, d.title
               FROM task t LEFT JOIN person p ON p.id = t.person_id AND p.deleted_at IS NULL
               LEFT JOIN company c ON c.id = t.company_id AND c.deleted_at IS NULL
               LEFT JOIN deal d ON d.id = t.deal_id AND d.deleted_at IS NULL
               WHERE t.done_at IS NULL AND t.due_at IS NOT NULL AND t.due_at < ?
                 AND t.deleted_at IS NULL
                 AND (t.snoozed_until IS NULL OR t.snoozed_until <= ?)
               ORDER BY t.due_at, t.priority DESC, t.title""",
            (to_millis(end), to_millis(now)),
        ).fetchall()
        start_ms = to_millis(start)
        overdue: list[FollowUp] = []
        due_today: list[FollowUp] = []
        for r in rows:
            item = FollowUp(
                task_id=r[0],
                title=r[1],
                due_at=moment(r[2]),  # type: ignore[arg-type]
                all_day=bool(r[3]),
                priority=r[4],
                overdue=r[2] < start_ms,
                person=Ref("person", r[5], r[6]) if r[5] else None,
                company=Ref("company", r[7], r[8]) if r[7] else None,
                deal=Ref("deal", r[9], r[10]) if r[9] else None,
            )
            (overdue if item.overdue else due_today).append(item)
        return overdue, due_today

    def review_count(self) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM review_item WHERE status = 'pending'").fetchone()[
                0
            ]
        )
