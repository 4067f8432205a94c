"""Saved views: a named filter, columns and sort for a list, in the rep's order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.services import validate
from relbook.services.base import Service, live
from relbook.services.lists import LIST_KINDS
from relbook.storage.models import SavedView


@dataclass
class ViewDraft:
    entity_type: str
    name: str
    filter_text: str = ""
    columns: list[str] = field(default_factory=list)  # column keys; empty = defaults
    sort: list[tuple[str, bool]] = field(default_factory=list)
    id: str | None = None


@dataclass(frozen=True)
class ViewInfo:
    id: str
    entity_type: str
    name: str
    filter_text: str
    columns: tuple[str, ...]
    sort: tuple[tuple[str, bool], ...]
    position: int


class SavedViewService(Service):
    def all(self, entity_type: str | None = None) -> list[ViewInfo]:
        sql = """SELECT id, entity_type, name, filter_text, columns, sort, position
                 FROM saved_view WHERE deleted_at IS NULL"""
        params: tuple[str, ...] = ()
        if entity_type:
            sql += " AND entity_type = ?"
            params = (entity_type,)
        return [
            ViewInfo(
                r[0],
                r[1],
                r[2],
                r[3],
                tuple(json.loads(r[4] or "[]")),
                tuple((k, bool(a)) for k, a in json.loads(r[5] or "[]")),
                r[6],
            )
            for r in self.db.execute(sql + " ORDER BY entity_type, position, name", params)
        ]

    def get(self, view_id: str) -> ViewInfo:
        found = next((v for v in self.all() if v.id == view_id), None)
        if found is None:
            raise NotFoundError("saved view", view_id)
        return found

    def _check(self, draft: ViewDraft) -> str:
        problems = validate.Problems()
        if draft.entity_type not in LIST_KINDS:
            problems.add("entity_type", "must be person, company, deal or task")
        name = validate.required_text(draft.name, "name", problems, 200)
        problems.raise_if_any()
        columns = {c.key: c for c in self.services.lists.columns(draft.entity_type)}
        # What the view already held may name a custom field retired since: keep it.
        before = self.get(draft.id) if draft.id else None
        kept_columns = set(before.columns) if before else set()
        kept_sort = {key for key, _ in before.sort} if before else set()
        for index, key in enumerate(draft.columns):
            if key not in columns and key not in kept_columns:
                problems.add(f"columns.{index}", f"'{key}' is not a column of this list")
        for index, (key, _ascending) in enumerate(draft.sort):
            known = key in columns and columns[key].sortable
            if not known and key not in kept_sort:
                problems.add(f"sort.{index}", f"the list cannot be sorted by '{key}'")
        problems.raise_if_any()
        # A saved view must hold a filter that works: compile it now.
        try:
            self.services.lists.count(draft.entity_type, draft.filter_text)
        except ValidationError:
            raise
        except Exception as error:  # FilterSyntaxError is a UserError with a position
            from relbook.domain.errors import FilterSyntaxError

            if isinstance(error, FilterSyntaxError):
                raise ValidationError(FieldError("filter_text", error.message)) from error
            raise
        clash = self.db.execute(
            """SELECT id FROM saved_view WHERE entity_type = ? AND lower(name) = lower(?)
               AND deleted_at IS NULL""",
            (draft.entity_type, name),
        ).fetchone()
        if clash and clash[0] != draft.id:
            raise ValidationError(FieldError("name", f"a view '{name}' exists"))
        return name

    def create(self, draft: ViewDraft) -> str:
        name = self._check(draft)
        with self.write(("saved_view",)) as session:
            # After the last one (deletes leave gaps: a count could land among them).
            last = self.db.execute(
                "SELECT max(position) FROM saved_view WHERE entity_type = ? AND deleted_at IS NULL",
                (draft.entity_type,),
            ).fetchone()[0]
            position = 0 if last is None else int(last) + 1
            view = SavedView(
                entity_type=draft.entity_type,
                name=name,
                filter_text=draft.filter_text.strip(),
                columns=list(draft.columns),
                sort=[[k, a] for k, a in draft.sort],
                position=position,
            )
            session.add(view)
            session.flush()
            return view.id

    def update(self, draft: ViewDraft) -> None:
        if draft.id is None:
            raise ValueError("update needs a draft with an id")
        name = self._check(draft)
        with self.write(("saved_view",)) as session:
            view = live(session, SavedView, draft.id, "saved view")
            view.name = name
            view.filter_text = draft.filter_text.strip()
            view.columns = list(draft.columns)
            view.sort = [[k, a] for k, a in draft.sort]

    def rename(self, view_id: str, name: str) -> None:
        view = self.get(view_id)
        self.update(
            ViewDraft(
                view.entity_type,
                name,
                view.filter_text,
                list(view.columns),
                list(view.sort),
                view.id,
            )
        )

    def delete(self, view_id: str) -> None:
        with self.write(("saved_view",)) as session:
            live(session, SavedView, view_id, "saved view").deleted_at = self.clock.now()

    def restore(self, view_id: str) -> None:
        with self.write(("saved_view",)) as session:
            view = session.get(SavedView, view_id)
            if view is None:
                raise NotFoundError("saved view", view_id)
            view.deleted_at = None

    def reorder(self, entity_type: str, ordered_ids: list[str]) -> None:
        with self.write(("saved_view",)) as session:
            views = {
                v.id: v
                for v in session.scalars(
                    select(SavedView).where(SavedView.entity_type == entity_type)
                )
            }
            for position, view_id in enumerate(ordered_ids):
                if view_id in views:
                    views[view_id].position = position
