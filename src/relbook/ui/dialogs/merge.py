"""Merging duplicates: preview what survives, choose per conflicting field, undo later."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.qt import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.services.merge import MergePreview
    from relbook.ui.context import UiContext


class MergeDialog(QDialog):
    def __init__(
        self, ctx: UiContext, parent: QWidget | None, preview: MergePreview, rest: list[str]
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview = preview
        self.rest = rest  # further ids merged into the survivor after this one
        self.setObjectName("mergeDialog")
        self.setWindowTitle("Merge")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(label(f"Merge {preview.other_name} into {preview.survivor_name}", "h2"))
        layout.addWidget(
            label(
                "Everything of both is kept: interactions, deals, tasks and notes move over; "
                "a value that differs is kept in About. Ctrl+Z undoes the merge.",
                "muted",
                wrap=True,
            )
        )
        self.choices: dict[str, QButtonGroup] = {}
        if preview.conflicts:
            grid = QGridLayout()
            grid.setHorizontalSpacing(12)
            grid.addWidget(label("Field", "section"), 0, 0)
            grid.addWidget(label(preview.survivor_name, "section"), 0, 1)
            grid.addWidget(label(preview.other_name, "section"), 0, 2)
            for row, item in enumerate(preview.conflicts, start=1):
                grid.addWidget(label(item.label, "muted"), row, 0)
                group = QButtonGroup(self)
                keep = QRadioButton(item.survivor_value or "—")
                take = QRadioButton(item.other_value or "—")
                (take if item.taken_from == "other" else keep).setChecked(True)
                group.addButton(keep, 0)
                group.addButton(take, 1)
                grid.addWidget(keep, row, 1)
                grid.addWidget(take, row, 2)
                self.choices[item.field] = group
            layout.addLayout(grid)
        moves = [f"{count} {what}" for what, count in preview.moves.items() if count]
        if moves:
            layout.addWidget(label("Moves over: " + ", ".join(moves), "muted", wrap=True))
        if rest:
            layout.addWidget(label(f"Then {len(rest)} more will be merged the same way.", "small"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button("Cancel", self.reject))
        merge = button("Merge", self.merge, kind="primary", icon_name="merge")
        merge.setObjectName("mergeButton")
        row.addWidget(merge)
        layout.addLayout(row)
        self.resize(620, 360)

    def selected_choices(self) -> dict[str, str]:
        return {
            name: "other" if group.checkedId() == 1 else "survivor"
            for name, group in self.choices.items()
        }

    def merge(self) -> None:
        merge = self.ctx.services.merge
        p, choices, rest = self.preview, self.selected_choices(), list(self.rest)

        def work() -> list[str]:
            records = [merge.merge(p.kind, p.survivor_id, p.other_id, choices)]
            for other in rest:
                records.append(merge.merge(p.kind, p.survivor_id, other))
            return records

        def done(records: list[str]) -> None:
            names = f"{len(records) + 1} {'people' if p.kind == 'person' else 'companies'}"

            def undo() -> None:
                for record in reversed(records):
                    merge.undo(record)

            self.ctx.undo.push(f"Merged {names} into {p.survivor_name}", undo)
            self.accept()
            self.ctx.open_entity(p.kind, p.survivor_id)

        self.ctx.write(work, done, owner=self, label="merge")


def merge_entities(ctx: UiContext, parent: QWidget | None, kind: str, ids: list[str]) -> None:
    """The first selected survives; the others merge into it."""
    merge = ctx.services.merge
    survivor, other, rest = ids[0], ids[1], ids[2:]

    def show(preview: Any) -> None:
        MergeDialog(ctx, parent, preview, rest).open()

    ctx.read(lambda: merge.preview(kind, survivor, other), show)
