"""Editors for people, companies, deals, tasks and notes (each opens as a dialog)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relbook.ui.context import UiContext
    from relbook.ui.qt import QWidget


def preset_for(kind: str, context: tuple[str, str] | None) -> dict[str, Any]:
    """A new item about what the rep is looking at (a task for the open person…)."""
    if context is None:
        return {}
    ctx_kind, ctx_id = context
    if kind in ("task", "note"):
        return {f"{ctx_kind}_id": ctx_id} if ctx_kind in ("person", "company", "deal") else {}
    if kind == "deal" and ctx_kind == "company":
        return {"company_id": ctx_id}
    if kind == "deal" and ctx_kind == "person":
        return {"people": [(ctx_id, "")]}
    if kind == "person" and ctx_kind == "company":
        return {"company_id": ctx_id}
    return {}


def new(ctx: UiContext, parent: QWidget | None, kind: str, context: tuple[str, str] | None) -> None:
    preset = preset_for(kind, context)
    open_editor(ctx, parent, kind, None, preset)


def open_editor(
    ctx: UiContext,
    parent: QWidget | None,
    kind: str,
    entity_id: str | None,
    preset: dict[str, Any] | None = None,
) -> None:
    if kind == "person":
        from relbook.ui.editors.person import edit_person

        if preset and preset.get("company_id") and not entity_id:
            company_id = preset["company_id"]
            companies = ctx.services.companies

            def with_name(name: str) -> None:
                edit_person(ctx, parent, None, {"company_id": company_id, "company_name": name})

            ctx.read(lambda: companies.detail(company_id).name, with_name)
            return
        edit_person(ctx, parent, entity_id, preset)
    elif kind == "company":
        from relbook.ui.editors.company import edit_company

        edit_company(ctx, parent, entity_id, preset)
    elif kind == "deal":
        from relbook.ui.editors.deal import edit_deal

        edit_deal(ctx, parent, entity_id, preset)
    elif kind == "task":
        from relbook.ui.editors.task import edit_task

        edit_task(ctx, parent, entity_id, preset)
    elif kind == "note":
        from relbook.ui.editors.note import edit_note

        edit_note(ctx, parent, entity_id, preset)
    else:
        raise ValueError(f"no editor for {kind}")
