"""Why is this interaction on these timelines — and correcting it once, for good.

Every link shows its reason (``from anna@acme.com``, ``domain acme.com``, ``logged by
you``). Re-linking goes through ``services.relink`` (the capture engine's learned rules):
"not this one" excludes the link so the linker never adds it again; "link to" adds a
manual link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EntityPicker
from relbook.ui.qt import QComboBox, QDialog, QHBoxLayout, QVBoxLayout, QWidget
from relbook.ui.widgets import button, clear_layout, label

if TYPE_CHECKING:
    from relbook.ui.context import UiContext


SCOPES = (
    ("this item only", None),
    ("this item, and always mail with the same address", "address"),
    ("this item, and always mail with anyone at the same domain", "domain"),
    ("this item, and always the rest of this thread", "thread"),
)


def relink_service(services: Any) -> Any:
    try:
        return services.relink
    except (AttributeError, ImportError):
        return None


class RelinkDialog(QDialog):
    def __init__(self, ctx: UiContext, interaction_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.interaction_id = interaction_id
        self.service = relink_service(ctx.services)
        self.setObjectName("relinkDialog")
        self.setWindowTitle("Why is it here?")
        self.resize(620, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        self.title = label("", "h2", wrap=True)
        layout.addWidget(self.title)
        self.rows = QVBoxLayout()
        self.rows.setSpacing(6)
        layout.addLayout(self.rows)
        if self.service is not None:
            layout.addWidget(label("Link it to", "section"))
            pick_row = QHBoxLayout()
            self.kind = QComboBox()
            self.kind.addItems(["person", "company", "deal"])
            self.picker = EntityPicker(ctx, "person")
            self.kind.currentTextChanged.connect(self._kind_changed)
            pick_row.addWidget(self.kind)
            pick_row.addWidget(self.picker, 1)
            pick_row.addWidget(button("Link", self._link, kind="primary", icon_name="link"))
            layout.addLayout(pick_row)
            scope_row = QHBoxLayout()
            scope_row.addWidget(label("Linking or removing applies to", "muted"))
            self.scope = QComboBox()
            self.scope.setObjectName("relinkScope")
            for text, scope in SCOPES:
                self.scope.addItem(text, scope)
            scope_row.addWidget(self.scope, 1)
            layout.addLayout(scope_row)
        else:
            layout.addWidget(
                label(
                    "Re-linking arrives with mail capture; the reasons above come from the book.",
                    "small",
                    wrap=True,
                )
            )
        layout.addStretch(1)
        close = QHBoxLayout()
        close.addStretch(1)
        close.addWidget(button("Close", self.accept))
        layout.addLayout(close)
        self.load()

    def _kind_changed(self, kind: str) -> None:
        self.picker.kind = kind
        self.picker.clear()
        self.picker.chosen_id = None

    def load(self) -> None:
        interactions = self.ctx.services.interactions
        self.ctx.read(lambda: interactions.detail(self.interaction_id), self._show, owner=self)

    def _show(self, detail: Any) -> None:
        self.title.setText(detail.subject or f"({detail.kind})")
        clear_layout(self.rows)
        for link in detail.links:
            row = QHBoxLayout()
            state = " (removed by you)" if link.excluded else ""
            row.addWidget(label(f"{link.name} · {link.entity_type}{state}", "h3"))
            row.addWidget(label(f"because: {link.reason or link.origin}", "muted"), 1)
            if self.service is not None and not link.excluded:
                row.addWidget(
                    button(
                        "Not this one",
                        lambda _=False, item=link: self._unlink(item),
                        kind="flat",
                        icon_name="close",
                    )
                )
            if self.service is not None and link.excluded:
                row.addWidget(
                    button(
                        "Put back",
                        lambda _=False, item=link: self._restore(item),
                        kind="flat",
                        icon_name="undo",
                    )
                )
            self.rows.addLayout(row)
        if not detail.links:
            self.rows.addWidget(label("Not linked to anyone.", "muted"))

    def _unlink(self, link: Any) -> None:
        service, interaction_id = self.service, self.interaction_id
        never = self.scope.currentData()
        self.ctx.write(
            lambda: service.unlink(interaction_id, link.entity_type, link.entity_id, never=never),
            lambda _r: self.load(),
            owner=self,
            label="unlink",
        )

    def _restore(self, link: Any) -> None:
        service, interaction_id = self.service, self.interaction_id
        self.ctx.write(
            lambda: service.restore(interaction_id, link.entity_id),
            lambda _r: self.load(),
            owner=self,
            label="restore link",
        )

    def _link(self) -> None:
        if not self.picker.chosen_id:
            self.ctx.status("Pick who it belongs to from the list first")
            return
        service, interaction_id = self.service, self.interaction_id
        kind, entity_id = self.kind.currentText(), self.picker.chosen_id
        always = self.scope.currentData()
        self.ctx.write(
            lambda: service.link(interaction_id, kind, entity_id, always=always),
            lambda _r: self.load(),
            owner=self,
            label="link",
        )


class LinkRulesDialog(QDialog):
    """The rules the rep taught (always ignore, always/never link), each one forgettable:
    forgetting a rule links the mail it matched again without it."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = ctx.services.relink
        self.setObjectName("linkRulesDialog")
        self.setWindowTitle("Your linking rules")
        self.resize(640, 400)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        layout.addWidget(
            label(
                "What you taught Relbook from the review queue and “Why is it here?”. "
                "Forgetting a rule links the mail it matched again without it; an "
                "ignored address goes back to the review queue.",
                "muted",
                wrap=True,
            )
        )
        self.rows = QVBoxLayout()
        self.rows.setSpacing(6)
        layout.addLayout(self.rows)
        layout.addStretch(1)
        close = QHBoxLayout()
        close.addStretch(1)
        close.addWidget(button("Close", self.accept))
        layout.addLayout(close)
        self.texts: list[str] = []  # the rules shown (tests read them)
        self.load()

    def load(self) -> None:
        self.ctx.read(self.service.rules, self._show, owner=self)

    def _show(self, rules: list[Any]) -> None:
        clear_layout(self.rows)
        self.texts = [rule.describe() for rule in rules]
        for rule, text in zip(rules, self.texts, strict=True):
            row = QHBoxLayout()
            row.addWidget(label(text, "", wrap=True), 1)
            row.addWidget(
                button(
                    "Forget",
                    lambda _=False, rule_id=rule.id: self.forget(rule_id),
                    kind="flat",
                    icon_name="close",
                )
            )
            self.rows.addLayout(row)
        if not rules:
            self.rows.addWidget(label("No rules yet.", "muted"))

    def forget(self, rule_id: str) -> None:
        service = self.service
        self.ctx.write(
            lambda: service.delete_rule(rule_id),
            lambda _r: self.load(),
            owner=self,
            label="forget rule",
        )
