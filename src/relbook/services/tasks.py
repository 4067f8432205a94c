"""Tasks: follow-ups with a due moment, a reminder, a snooze, linked to whom they are for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from relbook.domain.clock import ensure_utc, from_millis, to_millis
from relbook.domain.errors import ConflictError, NotFoundError
from relbook.services import validate
from relbook.services.base import Service, live
from relbook.storage.models import Task


@dataclass
class TaskDraft:
    title: str = ""
    details: str = ""
    due_at: datetime | None = None
    all_day: bool = True
    reminder_at: datetime | None = None
    person_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    interaction_id: str | None = None
    priority: int = 0
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class TaskRow:
    id: str
    title: str
    details: str
    due_at: datetime | None
    all_day: bool
    done_at: datetime | None
    snoozed_until: datetime | None
    priority: int
    person_id: str | None
    person_name: str
    company_id: str | None
    company_name: str
    deal_id: str | None
    deal_title: str
    overdue: bool
    version: int
    reminder_at: datetime | None = None


_DAY = timedelta(days=1)

_SELECT = """
    SELECT t.id, t.title, t.details, t.due_at, t.all_day, t.done_at, t.snoozed_until,
           t.priority, t.person_id, coalesce(p.display_name, ''), t.company_id,
           coalesce(c.name, ''), t.deal_id, coalesce(d.title, ''), t.version, t.reminder_at
    FROM task t LEFT JOIN person p ON p.id = t.person_id AND p.deleted_at IS NULL
    LEFT JOIN company c ON c.id = t.company_id AND c.deleted_at IS NULL
    LEFT JOIN deal d ON d.id = t.deal_id AND d.deleted_at IS NULL
    WHERE t.deleted_at IS NULL"""


def _ms(value: int | None) -> datetime | None:
    return None if value is None else from_millis(value)


class TaskService(Service):
    def _rows(self, where: str, params: tuple[object, ...], order: str) -> list[TaskRow]:
        now = self.clock.now()
        result = []
        for r in self.db.execute(f"{_SELECT} {where} ORDER BY {order}", params):
            due, done = _ms(r[3]), _ms(r[5])
            overdue = (
                done is None
                and due is not None
                and (due.date() < now.date() if r[4] else due < now)
            )
            result.append(
                TaskRow(
                    r[0],
                    r[1],
                    r[2],
                    due,
                    bool(r[4]),
                    done,
                    _ms(r[6]),
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                    r[12],
                    r[13],
                    overdue,
                    r[14],
                    _ms(r[15]),
                )
            )
        return result

    def get(self, task_id: str) -> TaskRow:
        rows = self._rows("AND t.id = ?", (task_id,), "t.id")
        if not rows:
            raise NotFoundError("task", task_id)
        return rows[0]

    def draft(self, task_id: str) -> TaskDraft:
        row = self.get(task_id)
        linked = self.db.execute(
            "SELECT interaction_id FROM task WHERE id = ?", (task_id,)
        ).fetchone()
        return TaskDraft(
            title=row.title,
            details=row.details,
            due_at=row.due_at,
            all_day=row.all_day,
            reminder_at=row.reminder_at,
            person_id=row.person_id,
            company_id=row.company_id,
            deal_id=row.deal_id,
            interaction_id=linked[0],
            priority=row.priority,
            id=row.id,
            version=row.version,
        )

    def due(self, until: datetime, *, include_snoozed: bool = False) -> list[TaskRow]:
        """Open tasks due up to ``until`` (overdue first), snoozed ones hidden until then."""
        now_ms = to_millis(self.clock.now())
        snooze = "" if include_snoozed else "AND (t.snoozed_until IS NULL OR t.snoozed_until <= ?)"
        params: tuple[object, ...] = (to_millis(until),) + (() if include_snoozed else (now_ms,))
        return self._rows(
            f"AND t.done_at IS NULL AND t.due_at IS NOT NULL AND t.due_at <= ? {snooze}",
            params,
            "t.due_at, t.priority DESC",
        )

    def reminders(self, until: datetime, since: datetime | None = None) -> list[TaskRow]:
        """Open tasks whose reminder falls after ``since`` and up to ``until``, earliest
        first: whoever shows reminders asks for the span since it last asked. A snoozed
        task reminds again when its snooze ends."""
        start = to_millis(since) if since is not None else -1
        end = to_millis(until)
        return self._rows(
            """AND t.done_at IS NULL AND (
                   (t.reminder_at > ? AND t.reminder_at <= ?
                    AND (t.snoozed_until IS NULL OR t.snoozed_until <= t.reminder_at))
                   OR (t.reminder_at IS NOT NULL AND t.snoozed_until > ?
                       AND t.snoozed_until <= ? AND t.snoozed_until > t.reminder_at))""",
            (start, end, start, end),
            "max(t.reminder_at, coalesce(t.snoozed_until, 0))",
        )

    def open(self) -> list[TaskRow]:
        return self._rows(
            "AND t.done_at IS NULL", (), "t.due_at IS NULL, t.due_at, t.priority DESC"
        )

    def for_entity(self, entity_id: str, *, include_done: bool = True) -> list[TaskRow]:
        done = "" if include_done else "AND t.done_at IS NULL"
        return self._rows(
            f"AND (t.person_id = ? OR t.company_id = ? OR t.deal_id = ?) {done}",
            (entity_id, entity_id, entity_id),
            "t.done_at IS NOT NULL, t.due_at IS NULL, t.due_at",
        )

    def _clean(self, draft: TaskDraft) -> tuple[TaskDraft, validate.Problems]:
        problems = validate.Problems()
        title = validate.required_text(draft.title, "title", problems, 300)
        if draft.reminder_at and draft.due_at and draft.reminder_at > draft.due_at + _DAY:
            problems.add("reminder_at", "is after the task is due")
        for kind in ("person", "company", "deal", "interaction"):
            column = f"{kind}_id"
            kept = validate.stored(self.db, "task", draft.id, column)
            validate.reference(self.db, kind, getattr(draft, column), column, problems, kept=kept)
        if draft.priority not in (0, 1):
            problems.add("priority", "must be normal (0) or high (1)")
        return (
            TaskDraft(
                title=title,
                details=draft.details.strip(),
                due_at=ensure_utc(draft.due_at) if draft.due_at else None,
                all_day=draft.all_day,
                reminder_at=ensure_utc(draft.reminder_at) if draft.reminder_at else None,
                person_id=draft.person_id,
                company_id=draft.company_id,
                deal_id=draft.deal_id,
                interaction_id=draft.interaction_id,
                priority=draft.priority,
                id=draft.id,
                version=draft.version,
            ),
            problems,
        )

    def create(self, draft: TaskDraft) -> str:
        clean, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("task",)) as session:
            task = Task(title=clean.title)
            _apply(task, clean)
            session.add(task)
            session.flush()
            return task.id

    def update(self, draft: TaskDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("task",)) as session:
            task = session.get(Task, draft.id)
            if task is None or task.deleted_at is not None:
                raise NotFoundError("task", draft.id)
            if draft.version is not None and task.version != draft.version:
                raise ConflictError(
                    f"The task '{task.title}' was changed elsewhere while you edited it.",
                    "Reopen the task to see the latest version, then edit again.",
                )
            _apply(task, clean)

    def complete(self, task_ids: list[str]) -> None:
        now = self.clock.now()
        with self.write(("task",), reason="done") as session:
            for task in session.scalars(select(Task).where(Task.id.in_(task_ids))):
                if task.done_at is None:
                    task.done_at = now

    def reopen(self, task_ids: list[str]) -> None:
        with self.write(("task",)) as session:
            for task in session.scalars(select(Task).where(Task.id.in_(task_ids))):
                task.done_at = None

    def snooze(self, task_id: str, until: datetime | None) -> None:
        with self.write(("task",), reason="snooze") as session:
            task = live(session, Task, task_id, "task")
            task.snoozed_until = ensure_utc(until) if until else None
            if until and task.due_at and task.due_at < until:
                task.due_at = ensure_utc(until)

    def delete(self, task_ids: list[str]) -> list[str]:
        now = self.clock.now()
        deleted = []
        with self.write(("task",), reason="delete") as session:
            for task in session.scalars(select(Task).where(Task.id.in_(task_ids))):
                if task.deleted_at is None:
                    task.deleted_at = now
                    deleted.append(task.id)
        return deleted

    def restore(self, task_ids: list[str]) -> None:
        with self.write(("task",), reason="restore") as session:
            for task in session.scalars(select(Task).where(Task.id.in_(task_ids))):
                task.deleted_at = None


def _apply(task: Task, clean: TaskDraft) -> None:
    task.title = clean.title
    task.details = clean.details
    task.due_at = clean.due_at
    task.all_day = clean.all_day
    task.reminder_at = clean.reminder_at
    task.person_id = clean.person_id
    task.company_id = clean.company_id
    task.deal_id = clean.deal_id
    task.interaction_id = clean.interaction_id
    task.priority = clean.priority
