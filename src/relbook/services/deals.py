"""Deals: amounts, stages, people with roles, competitors; stage moves and the board."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from relbook.domain.clock import from_millis
from relbook.domain.errors import ConflictError, FieldError, NotFoundError, ValidationError
from relbook.domain.kinds import DealStatus, StageKind
from relbook.domain.money import from_minor, parse_money_text, to_minor
from relbook.services import validate
from relbook.services.base import Service
from relbook.services.pipelines import StageInfo
from relbook.services.tags import set_tags
from relbook.storage.models import Deal, DealPerson, DealStageChange, Person
from relbook.storage.session import mark_changed

CLOSED_ON_BOARD_DAYS = 30


@dataclass
class DealDraft:
    title: str = ""
    company_id: str | None = None
    pipeline_id: str | None = None  # None: the default pipeline
    stage_id: str | None = None  # None: the pipeline's first open stage
    amount: Decimal | str | None = None
    currency: str = ""
    probability: int | None = None  # None: the stage's probability
    expected_close: str | None = None
    people: list[tuple[str, str]] = field(default_factory=list)  # (person_id, role)
    competitors: list[str] = field(default_factory=list)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    lost_reason: str = ""
    won_reason: str = ""
    id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class DealDetail:
    id: str
    title: str
    company_id: str | None
    company_name: str
    pipeline_id: str
    pipeline_name: str
    stage_id: str
    stage_name: str
    stage_kind: str
    status: str
    amount_minor: int | None
    currency: str
    probability: int  # effective
    probability_override: int | None
    weighted_minor: int | None
    expected_close: str | None
    lost_reason: str
    won_reason: str
    competitors: tuple[str, ...]
    closed_at: datetime | None
    stage_entered_at: datetime | None
    days_in_stage: int
    stale: bool
    description: str
    tags: tuple[str, ...]
    custom: dict[str, Any]
    people: tuple[tuple[str, str, str], ...]  # (person_id, name, role)
    created_at: datetime
    version: int


@dataclass(frozen=True)
class StageMove:
    """What a stage move changed, so Ctrl+Z can put it back exactly."""

    deal_id: str
    from_stage_id: str
    to_stage_id: str
    change_id: int
    previous_status: str
    previous_reason: str
    previous_entered_at: datetime | None
    previous_closed_at: datetime | None


@dataclass(frozen=True)
class DealCard:
    id: str
    title: str
    company_name: str
    amount_minor: int | None
    currency: str
    probability: int
    days_in_stage: int
    stale: bool
    expected_close: str | None
    status: str


@dataclass(frozen=True)
class BoardColumn:
    stage: StageInfo
    cards: tuple[DealCard, ...]
    count: int
    amount_minor: int  # in the board currency
    weighted_minor: int
    other_currency_count: int


@dataclass(frozen=True)
class Board:
    pipeline_id: str
    currency: str
    columns: tuple[BoardColumn, ...]


def _days_between(start_ms: int | None, now: datetime) -> int:
    if start_ms is None:
        return 0
    return max(0, (now - from_millis(start_ms)).days)


class DealService(Service):
    _DETAIL = """
        SELECT d.id, d.title, c.id, coalesce(c.name, ''), d.pipeline_id, p.name,
               d.stage_id, s.name, s.kind, d.status, d.amount_minor, d.currency,
               coalesce(d.probability, s.probability), d.probability, d.expected_close,
               d.lost_reason, d.won_reason, d.competitors, d.closed_at, d.stage_entered_at,
               d.description, d.custom, d.created_at, d.version, s.stale_after_days
        FROM deal d JOIN stage s ON s.id = d.stage_id JOIN pipeline p ON p.id = d.pipeline_id
        LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
        WHERE d.id = ? AND d.deleted_at IS NULL"""

    def detail(self, deal_id: str) -> DealDetail:
        row = self.db.execute(self._DETAIL, (deal_id,)).fetchone()
        if row is None:
            raise NotFoundError("deal", deal_id)
        now = self.clock.now()
        people = tuple(
            (r[0], r[1], r[2])
            for r in self.db.execute(
                """SELECT dp.person_id, p.display_name, dp.role FROM deal_person dp
                   JOIN person p ON p.id = dp.person_id
                   WHERE dp.deal_id = ? AND p.deleted_at IS NULL ORDER BY p.display_name""",
                (deal_id,),
            )
        )
        amount, probability = row[10], row[12]
        days = _days_between(row[19], now)
        stale_after = row[24]
        return DealDetail(
            id=row[0],
            title=row[1],
            company_id=row[2],
            company_name=row[3],
            pipeline_id=row[4],
            pipeline_name=row[5],
            stage_id=row[6],
            stage_name=row[7],
            stage_kind=row[8],
            status=row[9],
            amount_minor=amount,
            currency=row[11],
            probability=probability,
            probability_override=row[13],
            weighted_minor=None if amount is None else amount * probability // 100,
            expected_close=row[14],
            lost_reason=row[15],
            won_reason=row[16],
            competitors=tuple(json.loads(row[17] or "[]")),
            closed_at=None if row[18] is None else from_millis(row[18]),
            stage_entered_at=None if row[19] is None else from_millis(row[19]),
            days_in_stage=days,
            stale=row[9] == DealStatus.OPEN and stale_after is not None and days > stale_after,
            description=row[20],
            tags=tuple(self.services.tags.of(deal_id)),
            custom=json.loads(row[21] or "{}"),
            people=people,
            created_at=from_millis(row[22]),
            version=row[23],
        )

    def draft(self, deal_id: str) -> DealDraft:
        d = self.detail(deal_id)
        return DealDraft(
            id=d.id,
            version=d.version,
            title=d.title,
            # The stored link, even to a company deleted since (the detail shows none):
            # saving keeps it, so restoring the company finds the deal there again.
            company_id=validate.stored(self.db, "deal", d.id, "company_id"),
            pipeline_id=d.pipeline_id,
            stage_id=d.stage_id,
            amount=None if d.amount_minor is None else from_minor(d.amount_minor, d.currency),
            currency=d.currency,
            probability=d.probability_override,
            expected_close=d.expected_close,
            people=[(p[0], p[2]) for p in d.people],
            competitors=list(d.competitors),
            description=d.description,
            tags=list(d.tags),
            custom=dict(d.custom),
            lost_reason=d.lost_reason,
            won_reason=d.won_reason,
        )

    def for_company(self, company_id: str) -> list[DealDetail]:
        ids = [
            r[0]
            for r in self.db.execute(
                """SELECT id FROM deal WHERE company_id = ? AND deleted_at IS NULL
                   ORDER BY status = 'open' DESC, coalesce(expected_close, '9999')""",
                (company_id,),
            )
        ]
        return [self.detail(i) for i in ids]

    def for_person(self, person_id: str) -> list[DealDetail]:
        ids = [
            r[0]
            for r in self.db.execute(
                """SELECT d.id FROM deal d JOIN deal_person dp ON dp.deal_id = d.id
                   WHERE dp.person_id = ? AND d.deleted_at IS NULL
                   ORDER BY d.status = 'open' DESC, coalesce(d.expected_close, '9999')""",
                (person_id,),
            )
        ]
        return [self.detail(i) for i in ids]

    # ----------------------------------------------------------------- writes
    def _clean(
        self, draft: DealDraft
    ) -> tuple[DealDraft, int | None, StageInfo, validate.Problems]:
        problems = validate.Problems()
        pipelines = self.services.pipelines
        pipeline = (
            pipelines.get(draft.pipeline_id) if draft.pipeline_id else pipelines.default_pipeline()
        )
        stage = pipeline.first_open
        if draft.stage_id:
            found = next((s for s in pipeline.stages if s.id == draft.stage_id), None)
            if found is None:
                problems.add("stage_id", "is not a stage of the chosen pipeline")
            else:
                stage = found
        title = validate.required_text(draft.title, "title", problems, 300)
        currency = (draft.currency or self.services.settings.currency).upper()
        if not (len(currency) == 3 and currency.isalpha()):
            problems.add("currency", "must be a three-letter ISO code")
            currency = "EUR"
        amount_minor: int | None = None
        if draft.amount is not None and str(draft.amount).strip():
            amount = (
                draft.amount
                if isinstance(draft.amount, Decimal)
                else parse_money_text(str(draft.amount))
            )
            if amount is None:
                problems.add("amount", f"'{draft.amount}' is not an amount")
            elif amount < 0:
                problems.add("amount", "cannot be negative")
            else:
                amount_minor = to_minor(amount, currency)
        if draft.probability is not None and not 0 <= draft.probability <= 100:
            problems.add("probability", "must be between 0 and 100")
        # Links the saved deal has now stay valid even if their record was deleted since.
        kept_company = validate.stored(self.db, "deal", draft.id, "company_id")
        kept_people = {
            row[0]
            for row in self.db.execute(
                "SELECT person_id FROM deal_person WHERE deal_id = ?", (draft.id or "",)
            )
        }
        if (
            draft.company_id
            and draft.company_id != kept_company
            and not self.db.execute(
                "SELECT 1 FROM company WHERE id = ? AND deleted_at IS NULL", (draft.company_id,)
            ).fetchone()
        ):
            problems.add("company_id", "is not a company in this book")
        people: list[tuple[str, str]] = []
        for index, (person_id, role) in enumerate(draft.people):
            if (
                person_id not in kept_people
                and not self.db.execute(
                    "SELECT 1 FROM person WHERE id = ? AND deleted_at IS NULL", (person_id,)
                ).fetchone()
            ):
                problems.add(f"people.{index}", "is not a person in this book")
            elif person_id not in {p for p, _ in people}:
                people.append((person_id, role.strip()[:100]))
        if stage.kind == StageKind.LOST and not draft.lost_reason.strip():
            problems.add("lost_reason", "say why the deal was lost")
        clean = DealDraft(
            title=title,
            company_id=draft.company_id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            currency=currency,
            probability=draft.probability,
            expected_close=validate.iso_date(draft.expected_close, "expected_close", problems),
            people=people,
            competitors=sorted({" ".join(c.split()) for c in draft.competitors if c.strip()}),
            description=draft.description.strip(),
            tags=draft.tags,
            custom=self.services.fields.clean_values("deal", draft.custom, problems),
            lost_reason=draft.lost_reason.strip()[:300],
            won_reason=draft.won_reason.strip()[:300],
            id=draft.id,
            version=draft.version,
        )
        return clean, amount_minor, stage, problems

    def create(self, draft: DealDraft) -> str:
        clean, amount_minor, stage, problems = self._clean(draft)
        problems.raise_if_any()
        now = self.clock.now()
        with self.write(("deal",)) as session:
            deal = Deal(
                title=clean.title,
                pipeline_id=stage.pipeline_id,
                stage_id=stage.id,
                status=stage.kind,
                stage_entered_at=now,
                closed_at=None if stage.kind == StageKind.OPEN else now,
            )
            session.add(deal)
            self._apply(session, deal, clean, amount_minor)
            session.flush()
            session.add(
                DealStageChange(
                    deal_id=deal.id, from_stage_id=None, to_stage_id=stage.id, changed_at=now
                )
            )
            return deal.id

    def update(self, draft: DealDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        clean, amount_minor, stage, problems = self._clean(draft)
        problems.raise_if_any()
        with self.write(("deal",)) as session:
            deal = session.get(Deal, draft.id)
            if deal is None or deal.deleted_at is not None:
                raise NotFoundError("deal", draft.id)
            if draft.version is not None and deal.version != draft.version:
                raise ConflictError(
                    f"The deal '{deal.title}' was changed elsewhere while you edited it.",
                    "Reopen the deal to see the latest version, then edit again.",
                )
            if stage.id != deal.stage_id:
                self._move(session, deal, stage, clean.lost_reason or clean.won_reason)
            self._apply(session, deal, clean, amount_minor)

    def _apply(self, session: Any, deal: Deal, clean: DealDraft, amount_minor: int | None) -> None:
        deal.title = clean.title
        deal.company_id = clean.company_id
        deal.amount_minor = amount_minor
        deal.currency = clean.currency
        deal.probability = clean.probability
        deal.expected_close = clean.expected_close
        deal.competitors = clean.competitors
        deal.description = clean.description
        deal.custom = clean.custom
        deal.lost_reason = clean.lost_reason
        deal.won_reason = clean.won_reason
        # People deleted since are hidden from the editor, not removed by the rep: they
        # keep their role here, so restoring them finds them on the deal again.
        listed = {person_id for person_id, _ in clean.people}
        hidden = [
            (row.person_id, row.role)
            for row in deal.people
            if row.person_id not in listed
            and session.scalar(select(Person.deleted_at).where(Person.id == row.person_id))
            is not None
        ]
        wanted = [*clean.people, *hidden]
        current = sorted((p.person_id, p.role) for p in deal.people)
        if current != sorted(wanted):
            deal.people[:] = [DealPerson(person_id=p, role=r) for p, r in wanted]
        session.flush()
        if set_tags(session, "deal", deal.id, clean.tags):
            mark_changed(session, deal, "tags")

    def _move(self, session: Any, deal: Deal, stage: StageInfo, reason: str) -> DealStageChange:
        now = self.clock.now()
        change = DealStageChange(
            deal_id=deal.id,
            from_stage_id=deal.stage_id,
            to_stage_id=stage.id,
            changed_at=now,
            note=reason,
        )
        session.add(change)
        deal.stage_id = stage.id
        deal.pipeline_id = stage.pipeline_id
        deal.stage_entered_at = now
        deal.status = stage.kind
        deal.closed_at = None if stage.kind == StageKind.OPEN else now
        if stage.kind == StageKind.LOST:
            deal.lost_reason = reason
        elif stage.kind == StageKind.WON:
            deal.won_reason = reason
        session.flush()
        return change

    def move_stage(self, deal_id: str, stage_id: str, reason: str = "") -> StageMove:
        """Move a deal (the board's drag). Won/lost stages need a reason."""
        stage = self.services.pipelines.stage(stage_id)
        if stage.kind == StageKind.LOST and not reason.strip():
            raise ValidationError(FieldError("reason", "say why the deal was lost"))
        with self.write(("deal",), reason="stage") as session:
            deal = session.get(Deal, deal_id)
            if deal is None or deal.deleted_at is not None:
                raise NotFoundError("deal", deal_id)
            if deal.pipeline_id != stage.pipeline_id:
                raise ValidationError(FieldError("stage_id", "is a stage of another pipeline"))
            previous = StageMove(
                deal_id,
                deal.stage_id,
                stage_id,
                0,
                deal.status,
                deal.lost_reason if stage.kind == StageKind.LOST else deal.won_reason,
                deal.stage_entered_at,
                deal.closed_at,
            )
            if deal.stage_id == stage_id:
                return previous
            change = self._move(session, deal, stage, reason.strip()[:300])
            return StageMove(
                deal_id,
                previous.from_stage_id,
                stage_id,
                change.id,
                previous.previous_status,
                previous.previous_reason,
                previous.previous_entered_at,
                previous.previous_closed_at,
            )

    def undo_move(self, move: StageMove) -> None:
        stage = self.services.pipelines.stage(move.to_stage_id)
        with self.write(("deal",), reason="undo") as session:
            deal = session.get_one(Deal, move.deal_id)
            if deal.stage_id != move.to_stage_id:
                raise ConflictError(
                    f"'{deal.title}' moved again since; the move cannot be undone.",
                    "Move it back by hand.",
                )
            deal.stage_id = move.from_stage_id
            deal.status = move.previous_status
            deal.stage_entered_at = move.previous_entered_at
            deal.closed_at = move.previous_closed_at
            if stage.kind == StageKind.LOST:
                deal.lost_reason = move.previous_reason
            elif stage.kind == StageKind.WON:
                deal.won_reason = move.previous_reason
            if move.change_id:
                session.execute(delete(DealStageChange).where(DealStageChange.id == move.change_id))

    def delete(self, deal_ids: list[str]) -> list[str]:
        now = self.clock.now()
        deleted = []
        with self.write(("deal",), reason="delete") as session:
            for deal in session.scalars(select(Deal).where(Deal.id.in_(deal_ids))):
                if deal.deleted_at is None:
                    deal.deleted_at = now
                    deleted.append(deal.id)
        return deleted

    def restore(self, deal_ids: list[str]) -> None:
        with self.write(("deal",), reason="restore") as session:
            for deal in session.scalars(select(Deal).where(Deal.id.in_(deal_ids))):
                deal.deleted_at = None

    # ------------------------------------------------------------------ board
    def board(self, pipeline_id: str | None = None) -> Board:
        pipelines = self.services.pipelines
        pipeline = pipelines.get(pipeline_id) if pipeline_id else pipelines.default_pipeline()
        currency = self.services.settings.currency
        now = self.clock.now()
        closed_since = int((now.timestamp() - CLOSED_ON_BOARD_DAYS * 86400) * 1000)
        rows = self.db.execute(
            """SELECT d.id, d.title, coalesce(c.name, ''), d.amount_minor, d.currency,
                      coalesce(d.probability, s.probability), d.stage_entered_at,
                      d.expected_close, d.status, d.stage_id, s.stale_after_days
               FROM deal d JOIN stage s ON s.id = d.stage_id
               LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL
               WHERE d.pipeline_id = ? AND d.deleted_at IS NULL
                 AND (d.status = 'open' OR d.closed_at >= ?)
               ORDER BY d.amount_minor IS NULL, d.amount_minor DESC""",
            (pipeline.id, closed_since),
        ).fetchall()
        by_stage: dict[str, list[DealCard]] = {s.id: [] for s in pipeline.stages}
        for row in rows:
            days = _days_between(row[6], now)
            card = DealCard(
                id=row[0],
                title=row[1],
                company_name=row[2],
                amount_minor=row[3],
                currency=row[4],
                probability=row[5],
                days_in_stage=days,
                stale=row[8] == "open" and row[10] is not None and days > row[10],
                expected_close=row[7],
                status=row[8],
            )
            by_stage.setdefault(row[9], []).append(card)
        columns = []
        for stage in pipeline.stages:
            cards = by_stage.get(stage.id, [])
            same = [c for c in cards if c.currency == currency and c.amount_minor is not None]
            columns.append(
                BoardColumn(
                    stage=stage,
                    cards=tuple(cards),
                    count=len(cards),
                    amount_minor=sum(c.amount_minor or 0 for c in same),
                    weighted_minor=sum((c.amount_minor or 0) * c.probability // 100 for c in same),
                    other_currency_count=sum(1 for c in cards if c.currency != currency),
                )
            )
        return Board(pipeline.id, currency, tuple(columns))
