"""The pipeline and stage manager: several pipelines, their ordered stages.

Deleting a stage that holds deals asks where they go; deleting a pipeline (which undo
cannot bring back) asks for confirmation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog
from relbook.ui.popups import PAYLOAD, RIGHT, SUBTITLE, TwoLineDelegate
from relbook.ui.qt import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.style import icon
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.pipelines import PipelineInfo, StageInfo
    from relbook.ui.context import UiContext

KINDS = (("open", "Open"), ("won", "Won"), ("lost", "Lost"))


class StageEditor(EditorDialog):
    noun = "stage"

    def __init__(
        self, ctx: UiContext, parent: QWidget | None, pipeline_id: str, stage: StageInfo | None
    ) -> None:
        super().__init__(ctx, parent, "Edit stage" if stage else "New stage")
        self.pipeline_id = pipeline_id
        self.stage = stage
        self.name = self.add_field("name", "Name", QLineEdit(stage.name if stage else ""))
        self.kind = QComboBox()
        for key, text in KINDS:
            self.kind.addItem(text, key)
        if stage:
            self.kind.setCurrentIndex(max(0, self.kind.findData(stage.kind)))
        self.add_field("kind", "Kind", self.kind)
        probability = QSpinBox()
        probability.setRange(0, 100)
        probability.setSuffix(" %")
        probability.setValue(stage.probability if stage else 10)
        self.probability = self.add_field("probability", "Probability", probability)
        stale = QSpinBox()
        stale.setRange(0, 3650)
        stale.setSpecialValueText("never")
        stale.setSuffix(" days")
        stale.setValue(stage.stale_after_days or 0 if stage else 30)
        self.stale = self.add_field(
            "stale_after_days",
            "Stuck after",
            stale,
            hint="A deal sitting here longer is flagged as stuck.",
        )
        self.name.setFocus()
        self.resize(480, 340)

    def build_draft(self) -> Any:
        from relbook.services.pipelines import StageDraft

        return StageDraft(
            name=self.name.text(),
            kind=self.kind.currentData(),
            probability=self.probability.value(),
            stale_after_days=self.stale.value() or None,
            id=self.stage.id if self.stage else None,
        )

    def submit(self, draft: Any) -> Any:
        pipelines = self.ctx.services.pipelines
        if draft.id:

            def update() -> str:
                pipelines.update_stage(draft)
                return str(draft.id)

            return update
        pipeline_id = self.pipeline_id
        return lambda: pipelines.add_stage(pipeline_id, draft)


class PipelineManager(QDialog):
    def __init__(self, ctx: UiContext, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("pipelineManager")
        self.setWindowTitle("Pipelines and stages")
        self.pipelines: list[PipelineInfo] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(label("Pipelines and stages", "h2"))
        top = QHBoxLayout()
        self.pipeline = QComboBox()
        self.pipeline.setMinimumWidth(220)
        self.pipeline.currentIndexChanged.connect(lambda _i: self._show_stages())
        top.addWidget(self.pipeline)
        top.addWidget(button("New pipeline…", self.new_pipeline, kind="flat", icon_name="plus"))
        top.addWidget(button("Rename…", self.rename_pipeline, kind="flat", icon_name="edit"))
        top.addWidget(button("Make default", self.make_default, kind="flat", icon_name="star"))
        top.addStretch(1)
        top.addWidget(
            button("Delete pipeline", self.delete_pipeline, kind="danger", icon_name="trash")
        )
        layout.addLayout(top)
        self.stages = QListWidget()
        self.stages.setItemDelegate(TwoLineDelegate(self.stages))
        self.stages.itemDoubleClicked.connect(lambda _i: self.edit_stage())
        layout.addWidget(self.stages, 1)
        row = QHBoxLayout()
        row.addWidget(button("Add stage", self.add_stage, kind="primary", icon_name="plus"))
        row.addWidget(button("Edit", self.edit_stage, icon_name="edit"))
        row.addWidget(button("Move up", lambda: self.move(-1), kind="flat"))
        row.addWidget(button("Move down", lambda: self.move(1), kind="flat"))
        row.addStretch(1)
        row.addWidget(button("Delete stage", self.delete_stage, kind="danger", icon_name="trash"))
        row.addWidget(button("Close", self.accept))
        layout.addLayout(row)
        self.resize(680, 520)
        ctx.changes.changed.connect(self._changed)
        self.load()

    def _changed(self, change: Any) -> None:
        if change.touches("pipeline", "stage"):
            self.load()

    def load(self) -> None:
        pipelines = self.ctx.services.pipelines

        def work() -> list[PipelineInfo]:
            return pipelines.all() or [pipelines.default_pipeline()]

        self.ctx.read(work, self._show, owner=self, key=f"pipelines-{id(self)}")

    def _show(self, pipelines: list[PipelineInfo]) -> None:
        chosen = self.pipeline.currentData()
        self.pipelines = pipelines
        self.pipeline.blockSignals(True)
        self.pipeline.clear()
        for p in pipelines:
            self.pipeline.addItem(p.name + ("  (default)" if p.is_default else ""), p.id)
        index = self.pipeline.findData(chosen) if chosen else -1
        self.pipeline.setCurrentIndex(index if index >= 0 else 0)
        self.pipeline.blockSignals(False)
        self._show_stages()

    def current(self) -> PipelineInfo | None:
        pid = self.pipeline.currentData()
        return next((p for p in self.pipelines if p.id == pid), None)

    def _show_stages(self) -> None:
        self.stages.clear()
        pipeline = self.current()
        for stage in pipeline.stages if pipeline else ():
            item = QListWidgetItem(stage.name)
            stuck = (
                f" · stuck after {stage.stale_after_days} days" if stage.stale_after_days else ""
            )
            item.setData(SUBTITLE, f"{stage.kind} · {stage.probability}%{stuck}")
            item.setData(RIGHT, f"#{stage.position + 1}")
            item.setData(PAYLOAD, stage)
            item.setIcon(icon({"won": "won", "lost": "lost"}.get(stage.kind, "pipeline"), "accent"))
            self.stages.addItem(item)

    def selected(self) -> StageInfo | None:
        item = self.stages.currentItem()
        return item.data(PAYLOAD) if item is not None else None

    # ---------------------------------------------------------------- stages
    def add_stage(self) -> None:
        pipeline = self.current()
        if pipeline:
            StageEditor(self.ctx, self, pipeline.id, None).open()

    def edit_stage(self) -> None:
        stage, pipeline = self.selected(), self.current()
        if stage and pipeline:
            StageEditor(self.ctx, self, pipeline.id, stage).open()

    def move(self, step: int) -> None:
        stage, pipeline = self.selected(), self.current()
        if not stage or not pipeline:
            return
        ids = [s.id for s in pipeline.stages]
        index = ids.index(stage.id)
        target = max(0, min(len(ids) - 1, index + step))
        ids.insert(target, ids.pop(index))
        pipelines = self.ctx.services.pipelines
        self.ctx.write(
            lambda: pipelines.reorder_stages(pipeline.id, ids), None, label="reorder stages"
        )

    def delete_stage(self) -> None:
        stage, pipeline = self.selected(), self.current()
        if not stage or not pipeline:
            return
        others = [s for s in pipeline.stages if s.id != stage.id]
        names = [s.name for s in others]
        target, ok = QInputDialog.getItem(
            self,
            "Delete stage",
            f"Deals in “{stage.name}” move to (the stage is deleted; this cannot be undone):",
            names,
            0,
            False,
        )
        if not ok:
            return
        move_to = next(s.id for s in others if s.name == target)
        pipelines = self.ctx.services.pipelines
        self.ctx.write(
            lambda: pipelines.delete_stage(stage.id, move_to),
            lambda moved: self.ctx.status(f"Deleted “{stage.name}”; {moved} deals moved"),
            label="delete stage",
        )

    # ---------------------------------------------------------------- pipelines
    def new_pipeline(self) -> None:
        name, ok = QInputDialog.getText(self, "New pipeline", "Name:")
        if not ok or not name.strip():
            return
        from relbook.services.pipelines import DEFAULT_STAGES, StageDraft

        stages = [StageDraft(n, k, p, s) for n, k, p, s in DEFAULT_STAGES]
        pipelines = self.ctx.services.pipelines
        self.ctx.write(lambda: pipelines.create_pipeline(name, stages), None, label="new pipeline")

    def rename_pipeline(self) -> None:
        pipeline = self.current()
        if not pipeline:
            return
        name, ok = QInputDialog.getText(self, "Rename pipeline", "Name:", text=pipeline.name)
        if ok and name.strip():
            pipelines = self.ctx.services.pipelines
            self.ctx.write(lambda: pipelines.rename_pipeline(pipeline.id, name), None)

    def make_default(self) -> None:
        pipeline = self.current()
        if pipeline:
            pipelines = self.ctx.services.pipelines
            self.ctx.write(lambda: pipelines.set_default(pipeline.id), None)

    def delete_pipeline(self) -> None:
        pipeline = self.current()
        if not pipeline or len(self.pipelines) < 2:
            self.ctx.status("The last pipeline cannot be deleted")
            return
        answer = QMessageBox.question(
            self,
            "Delete pipeline",
            f"Delete “{pipeline.name}”? Its deals move to another pipeline. This cannot be undone.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        pipelines = self.ctx.services.pipelines
        self.ctx.write(
            lambda: pipelines.delete_pipeline(pipeline.id), None, label="delete pipeline"
        )
