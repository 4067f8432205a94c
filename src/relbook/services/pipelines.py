"""Pipelines and their stages: user-defined, ordered, several per book.

Deleting a stage moves its deals to another stage of the same pipeline (never orphans
them); deleting a pipeline moves its deals to another pipeline's first open stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.domain.kinds import StageKind
from relbook.services import validate
from relbook.services.base import Service, live
from relbook.storage.models import Deal, DealStageChange, Pipeline, Stage

DEFAULT_STAGES: tuple[tuple[str, str, int, int | None], ...] = (
    ("Lead", "open", 10, 30),
    ("Qualified", "open", 25, 30),
    ("Proposal", "open", 50, 21),
    ("Negotiation", "open", 75, 21),
    ("Won", "won", 100, None),
    ("Lost", "lost", 0, None),
)


@dataclass(frozen=True)
class StageInfo:
    id: str
    pipeline_id: str
    name: str
    position: int
    kind: str
    probability: int
    stale_after_days: int | None


@dataclass(frozen=True)
class PipelineInfo:
    id: str
    name: str
    position: int
    is_default: bool
    stages: tuple[StageInfo, ...]

    def stage(self, stage_id: str) -> StageInfo:
        return next(s for s in self.stages if s.id == stage_id)

    @property
    def first_open(self) -> StageInfo:
        return next(s for s in self.stages if s.kind == StageKind.OPEN)


@dataclass
class StageDraft:
    name: str
    kind: str = "open"
    probability: int | None = None
    stale_after_days: int | None = None
    id: str | None = None


def _check_stage(draft: StageDraft, problems: validate.Problems, prefix: str = "") -> None:
    validate.required_text(draft.name, f"{prefix}name", problems, 200)
    if draft.kind not in {k.value for k in StageKind}:
        problems.add(f"{prefix}kind", "must be open, won or lost")
    if draft.probability is not None and not 0 <= draft.probability <= 100:
        problems.add(f"{prefix}probability", "must be between 0 and 100")
    if draft.stale_after_days is not None and draft.stale_after_days < 1:
        problems.add(f"{prefix}stale_after_days", "must be at least one day")


def _default_probability(kind: str) -> int:
    return {"won": 100, "lost": 0}.get(kind, 10)


class PipelineService(Service):
    def all(self) -> list[PipelineInfo]:
        stages: dict[str, list[StageInfo]] = {}
        for row in self.db.execute(
            """SELECT id, pipeline_id, name, position, kind, probability, stale_after_days
               FROM stage WHERE deleted_at IS NULL ORDER BY position, name"""
        ):
            stages.setdefault(row[1], []).append(StageInfo(*row))
        return [
            PipelineInfo(row[0], row[1], row[2], bool(row[3]), tuple(stages.get(row[0], [])))
            for row in self.db.execute(
                """SELECT id, name, position, is_default FROM pipeline WHERE deleted_at IS NULL
                   ORDER BY position, name"""
            )
        ]

    def get(self, pipeline_id: str) -> PipelineInfo:
        found = next((p for p in self.all() if p.id == pipeline_id), None)
        if found is None:
            raise NotFoundError("pipeline", pipeline_id)
        return found

    def stage(self, stage_id: str) -> StageInfo:
        row = self.db.execute(
            """SELECT id, pipeline_id, name, position, kind, probability, stale_after_days
               FROM stage WHERE id = ?""",
            (stage_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("stage", stage_id)
        return StageInfo(*row)

    def default_pipeline(self) -> PipelineInfo:
        """The default pipeline, created with sensible stages in a new book."""
        pipelines = self.all()
        if not pipelines:
            self.create_pipeline(
                "Sales",
                [StageDraft(n, k, p, s) for n, k, p, s in DEFAULT_STAGES],
                default=True,
            )
            pipelines = self.all()
        return next((p for p in pipelines if p.is_default), pipelines[0])

    def create_pipeline(self, name: str, stages: list[StageDraft], *, default: bool = False) -> str:
        problems = validate.Problems()
        clean = validate.required_text(name, "name", problems, 200)
        for index, stage in enumerate(stages):
            _check_stage(stage, problems, f"stages.{index}.")
        if not any(s.kind == StageKind.OPEN for s in stages):
            problems.add("stages", "a pipeline needs at least one open stage")
        if self._name_taken(clean, None):
            problems.add("name", f"a pipeline '{clean}' exists")
        problems.raise_if_any()
        with self.write(("pipeline", "stage")) as session:
            position = len(self.all())
            if default:
                session.execute(update(Pipeline).values(is_default=False))
            pipeline = Pipeline(name=clean, position=position, is_default=default or position == 0)
            session.add(pipeline)
            session.flush()
            for index, stage in enumerate(stages):
                session.add(
                    Stage(
                        pipeline_id=pipeline.id,
                        name=" ".join(stage.name.split()),
                        position=index,
                        kind=stage.kind,
                        probability=stage.probability
                        if stage.probability is not None
                        else _default_probability(stage.kind),
                        stale_after_days=stage.stale_after_days,
                    )
                )
            return pipeline.id

    def _name_taken(self, name: str, except_id: str | None) -> bool:
        row = self.db.execute(
            "SELECT id FROM pipeline WHERE lower(name) = lower(?) AND deleted_at IS NULL", (name,)
        ).fetchone()
        return row is not None and row[0] != except_id

    def rename_pipeline(self, pipeline_id: str, name: str) -> None:
        problems = validate.Problems()
        clean = validate.required_text(name, "name", problems, 200)
        if self._name_taken(clean, pipeline_id):
            problems.add("name", f"a pipeline '{clean}' exists")
        problems.raise_if_any()
        with self.write(("pipeline",)) as session:
            live(session, Pipeline, pipeline_id, "pipeline").name = clean

    def set_default(self, pipeline_id: str) -> None:
        self.get(pipeline_id)  # an unknown id must not leave the book without a default
        with self.write(("pipeline",)) as session:
            for pipeline in session.scalars(select(Pipeline)):
                pipeline.is_default = pipeline.id == pipeline_id

    def add_stage(self, pipeline_id: str, draft: StageDraft, position: int | None = None) -> str:
        problems = validate.Problems()
        _check_stage(draft, problems)
        problems.raise_if_any()
        self.get(pipeline_id)
        with self.write(("stage",)) as session:
            stages = list(
                session.scalars(
                    select(Stage)
                    .where(Stage.pipeline_id == pipeline_id, Stage.deleted_at.is_(None))
                    .order_by(Stage.position)
                )
            )
            if position is None:
                # New open stages go before the closing (won/lost) stages.
                closing = [i for i, s in enumerate(stages) if s.kind != StageKind.OPEN]
                position = closing[0] if closing and draft.kind == StageKind.OPEN else len(stages)
            stage = Stage(
                pipeline_id=pipeline_id,
                name=" ".join(draft.name.split()),
                kind=draft.kind,
                probability=draft.probability
                if draft.probability is not None
                else _default_probability(draft.kind),
                stale_after_days=draft.stale_after_days,
            )
            stages.insert(position, stage)
            session.add(stage)
            for index, item in enumerate(stages):
                item.position = index
            session.flush()
            return stage.id

    def update_stage(self, draft: StageDraft) -> None:
        if draft.id is None:
            raise ValueError("update_stage needs a draft with an id")
        problems = validate.Problems()
        _check_stage(draft, problems)
        problems.raise_if_any()
        with self.write(("stage", "deal")) as session:
            stage = live(session, Stage, draft.id, "stage")
            if stage.kind != draft.kind and self._has_deals(stage.id):
                raise ValidationError(
                    FieldError("kind", "move its deals elsewhere before changing open/won/lost")
                )
            stage.name = " ".join(draft.name.split())
            stage.kind = draft.kind
            if draft.probability is not None:
                stage.probability = draft.probability
            stage.stale_after_days = draft.stale_after_days

    def _has_deals(self, stage_id: str) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM deal WHERE stage_id = ? AND deleted_at IS NULL LIMIT 1", (stage_id,)
            ).fetchone()
        )

    def reorder_stages(self, pipeline_id: str, ordered_ids: list[str]) -> None:
        current = {s.id for s in self.get(pipeline_id).stages}
        if set(ordered_ids) != current:
            raise ValidationError(FieldError("stages", "the new order must list every stage once"))
        with self.write(("stage",)) as session:
            for position, stage_id in enumerate(ordered_ids):
                session.get_one(Stage, stage_id).position = position

    def delete_stage(self, stage_id: str, move_deals_to: str | None = None) -> int:
        """Delete a stage; its deals move to ``move_deals_to`` (same pipeline). Returns how
        many deals moved."""
        stage = self.stage(stage_id)
        pipeline = self.get(stage.pipeline_id)
        remaining = [s for s in pipeline.stages if s.id != stage_id]
        if not any(s.kind == StageKind.OPEN for s in remaining):
            raise ValidationError(FieldError("stage", "a pipeline needs at least one open stage"))
        has_deals = self._has_deals(stage_id)
        if has_deals and move_deals_to is None:
            raise ValidationError(
                FieldError("move_deals_to", f"'{stage.name}' has deals: choose where they go")
            )
        if move_deals_to is not None and move_deals_to not in {s.id for s in remaining}:
            raise ValidationError(
                FieldError("move_deals_to", "choose another stage of the same pipeline")
            )
        moved = 0
        now = self.clock.now()
        with self.write(("stage", "deal")) as session:
            if has_deals and move_deals_to is not None:
                target = session.get_one(Stage, move_deals_to)
                for deal in session.scalars(
                    select(Deal).where(Deal.stage_id == stage_id, Deal.deleted_at.is_(None))
                ):
                    deal.stage_id = target.id
                    deal.stage_entered_at = now
                    if deal.status != target.kind:
                        deal.status = target.kind
                        deal.closed_at = None if target.kind == StageKind.OPEN else now
                    session.add(
                        DealStageChange(
                            deal_id=deal.id,
                            from_stage_id=stage_id,
                            to_stage_id=target.id,
                            changed_at=now,
                            note=f"stage '{stage.name}' was deleted",
                        )
                    )
                    moved += 1
            session.get_one(Stage, stage_id).deleted_at = now
            for index, item in enumerate(remaining):
                session.get_one(Stage, item.id).position = index
        return moved

    def delete_pipeline(self, pipeline_id: str, move_deals_to: str | None = None) -> int:
        """Delete a pipeline; its deals move to the first open stage of another pipeline."""
        pipelines = self.all()
        others = [p for p in pipelines if p.id != pipeline_id]
        if not others:
            raise ValidationError(FieldError("pipeline", "the last pipeline cannot be deleted"))
        target = next((p for p in others if p.id == move_deals_to), None)
        if target is None and move_deals_to is not None:
            raise ValidationError(FieldError("move_deals_to", "choose another pipeline"))
        target = target or others[0]
        doomed = self.get(pipeline_id)
        now = self.clock.now()
        moved = 0
        with self.write(("pipeline", "stage", "deal")) as session:
            first = target.first_open
            for deal in session.scalars(
                select(Deal).where(Deal.pipeline_id == pipeline_id, Deal.deleted_at.is_(None))
            ):
                old_stage = doomed.stage(deal.stage_id) if deal.stage_id else None
                # Closed deals keep their outcome in the new pipeline's matching stage.
                kind = old_stage.kind if old_stage else "open"
                stage = next((s for s in target.stages if s.kind == kind), first)
                session.add(
                    DealStageChange(
                        deal_id=deal.id,
                        from_stage_id=deal.stage_id,
                        to_stage_id=stage.id,
                        changed_at=now,
                        note=f"pipeline '{doomed.name}' was deleted",
                    )
                )
                deal.pipeline_id = target.id
                deal.stage_id = stage.id
                deal.stage_entered_at = now
                moved += 1
            pipeline = session.get_one(Pipeline, pipeline_id)
            pipeline.deleted_at = now
            for stage_row in session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id)):
                stage_row.deleted_at = now
            if pipeline.is_default:
                pipeline.is_default = False
                session.get_one(Pipeline, target.id).is_default = True
        return moved
