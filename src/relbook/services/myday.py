"""My Day: the data behind the salesperson's start screen.

One call, ``services.myday.load()``, returns a frozen ``MyDay``:

- ``meetings_today`` / ``meetings_tomorrow``: each a ``MeetingBriefing`` (attendees known
  and unknown with their companies, strength and last interactions; open deals with days
  in stage; open tasks; recent notes and feedback; open points: promised follow-ups and
  open questions), in start order;
- ``overdue`` / ``due_today``: open follow-up tasks (snoozed ones hidden until the snooze
  ends), overdue first — the first ``FOLLOW_UPS`` of them together (a neglected book has
  thousands); ``overdue_count`` / ``due_today_count`` count them all;
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

from relbook.domain.clock import from_millis, to_millis
from relbook.services.base import Service
from relbook.services.insight.briefing import (
    MeetingBriefing,
    briefing,
    load_me,
    meetings_between,
)
from relbook.services.insight.common import Ref, read_transaction
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
    overdue_count: int
    due_today_count: int
    going_cold: tuple[ColdEntry, ...]
    next_contacts: tuple[NextContact, ...]
    keep_warm: tuple[KeepWarmProposal, ...]
    review_count: int
    # How many meetings each day has; more than its tuple holds when ``load`` was asked
    # for the first few briefings only (``complete`` is False then).
    meetings_today_count: int
    meetings_tomorrow_count: int

    @property
    def complete(self) -> bool:
        """Every meeting has its briefing."""
        return (
            len(self.meetings_today) == self.meetings_today_count
            and len(self.meetings_tomorrow) == self.meetings_tomorrow_count
        )


def local_tz() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in ``tz``."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


# Follow-ups My Day carries (it shows a dozen; the Tasks page lists them all).
FOLLOW_UPS = 25

_OPEN_DUE = """t.done_at IS NULL AND t.due_at IS NOT NULL AND t.due_at < :end
                 AND t.deleted_at IS NULL
                 AND (t.snoozed_until IS NULL OR t.snoozed_until <= :now)"""


class MyDayService(Service):
    def load(
        self, tz: tzinfo | None = None, *, limit: int = 10, briefings: int | None = None
    ) -> MyDay:
        """Everything My Day shows; ``limit`` caps going cold, next contacts, keep warm;
        ``briefings`` caps the meetings briefed (today's first; None: all) — the first
        screen needs a few, and a busy day's 35 take 100 ms on a big book.
        One read transaction: the sections agree with each other."""
        zone = tz or local_tz()
        now = self.clock.now()
        today = now.astimezone(zone).date()
        insight = self.services.insight
        with read_transaction(self.db):
            overdue, due_today = self.follow_ups(zone, limit=FOLLOW_UPS)
            overdue_count, due_today_count = self.follow_up_counts(zone)
            today_ids = self._meeting_ids(today, zone)
            tomorrow_ids = self._meeting_ids(today + timedelta(days=1), zone)
            left = len(today_ids) + len(tomorrow_ids) if briefings is None else briefings
            me = load_me(self.db)
            return MyDay(
                generated_at=now,
                today=today,
                tz=zone,
                meetings_today=tuple(briefing(self.db, m, now, me=me) for m in today_ids[:left]),
                meetings_tomorrow=tuple(
                    briefing(self.db, m, now, me=me)
                    for m in tomorrow_ids[: max(0, left - len(today_ids))]
                ),
                overdue=tuple(overdue),
                due_today=tuple(due_today),
                overdue_count=overdue_count,
                due_today_count=due_today_count,
                going_cold=tuple(insight.going_cold(limit=limit)),
                next_contacts=tuple(insight.next_contacts(limit=limit)),
                keep_warm=tuple(insight.keep_warm_proposals(limit=limit)),
                review_count=self.review_count(),
                meetings_today_count=len(today_ids),
                meetings_tomorrow_count=len(tomorrow_ids),
            )

    def _meeting_ids(self, day: date, tz: tzinfo | None) -> list[str]:
        start, end = day_bounds(day, tz or local_tz())
        return list(meetings_between(self.db, start, end))

    def meetings(self, day: date, tz: tzinfo | None = None) -> list[MeetingBriefing]:
        """The day's meetings (not cancelled), each with its briefing, in start order."""
        now = self.clock.now()
        me = load_me(self.db)
        return [briefing(self.db, m, now, me=me) for m in self._meeting_ids(day, tz)]

    def briefing(self, interaction_id: str) -> MeetingBriefing:
        return briefing(self.db, interaction_id, self.clock.now())

    def follow_ups(
        self, tz: tzinfo | None = None, *, limit: int | None = None
    ) -> tuple[list[FollowUp], list[FollowUp]]:
        """(overdue, due today): open tasks due before the end of today, not snoozed; the
        first ``limit`` of them together (all when None)."""
        zone = tz or local_tz()
        now = self.clock.now()
        start, end = day_bounds(now.astimezone(zone).date(), zone)
        # The tasks first (the due index, a top-N sort), then what they are about for
        # those few only.
        rows = self.db.execute(
            f"""SELECT t.id, t.title, t.due_at, t.all_day, t.priority, p.id,
                      p.display_name, c.id, c.name, d.id, d.title
               FROM (SELECT t.rowid AS task_rowid FROM task t WHERE {_OPEN_DUE}
                     ORDER BY t.due_at, t.priority DESC, t.title LIMIT :limit) AS shown
               JOIN task t ON t.rowid = shown.task_rowid
               LEFT JOIN person p ON p.id = t.person_id AND p.deleted_at IS NULL
               LEFT JOIN company c ON c.id = t.company_id AND c.deleted_at IS NULL
               LEFT JOIN deal d ON d.id = t.deal_id AND d.deleted_at IS NULL
               ORDER BY t.due_at, t.priority DESC, t.title""",
            {"end": to_millis(end), "now": to_millis(now), "limit": -1 if limit is None else limit},
        ).fetchall()
        start_ms = to_millis(start)
        overdue: list[FollowUp] = []
        due_today: list[FollowUp] = []
        # Thousands of rows in a neglected book (6,500 in the benchmark's): positional
        # arguments, one Ref per record and one datetime per moment, not per task.
        refs: dict[str | None, Ref | None] = {None: None}
        moments: dict[int, datetime] = {}
        for tid, title, due, all_day, priority, pid, pname, cid, cname, did, dtitle in rows:
            if pid not in refs:
                refs[pid] = Ref("person", pid, pname)
            if cid not in refs:
                refs[cid] = Ref("company", cid, cname)
            if did not in refs:
                refs[did] = Ref("deal", did, dtitle)
            if due not in moments:
                moments[due] = from_millis(due)
            late = due < start_ms
            item = FollowUp(tid, title, moments[due], bool(all_day), priority, late,
                            refs[pid], refs[cid], refs[did])  # fmt: skip
            (overdue if late else due_today).append(item)
        return overdue, due_today

    def follow_up_counts(self, tz: tzinfo | None = None) -> tuple[int, int]:
        """(overdue, due today): how many ``follow_ups`` lists without a limit."""
        zone = tz or local_tz()
        now = self.clock.now()
        start, end = day_bounds(now.astimezone(zone).date(), zone)
        overdue, total = self.db.execute(
            f"SELECT total(t.due_at < :start), count(*) FROM task t WHERE {_OPEN_DUE}",
            {"start": to_millis(start), "end": to_millis(end), "now": to_millis(now)},
        ).fetchone()
        return int(overdue), int(total) - int(overdue)

    def review_count(self) -> int:
        """Unknown correspondents waiting in the review queue (sqlite3 only: the sidebar's
        count at start-up reads it too)."""
        return int(
            self.db.execute("SELECT count(*) FROM review_item WHERE status = 'pending'").fetchone()[
                0
            ]
        )
