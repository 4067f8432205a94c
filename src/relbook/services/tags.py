"""Tags: the rep's own labels on people, companies and deals (case-insensitive names)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from relbook.domain.errors import FieldError, NotFoundError, ValidationError
from relbook.services.base import Service, live
from relbook.storage.models import SHAREABLE_MODELS, EntityTag, Shareable, Tag
from relbook.storage.session import mark_changed

TAG_LIMIT = 60
TAGGABLE = ("person", "company", "deal")


@dataclass(frozen=True)
class TagInfo:
    id: str
    name: str
    color: str
    uses: int


def clean_tag(name: str) -> str:
    return " ".join(name.strip().lstrip("#").split())[:TAG_LIMIT]


def tag_key(name: str) -> str:
    """'Key Account', 'key-account' and '#key_account' are the same tag."""
    folded = unicodedata.normalize("NFKD", clean_tag(name).lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "-", plain).strip("-")


def ensure_tag(session: Session, name: str) -> Tag:
    key = tag_key(name)
    if not key:
        raise ValidationError(FieldError("tags", f"'{name}' is not a usable tag"))
    tag = session.scalar(select(Tag).where(Tag.name_key == key))
    if tag is None:
        tag = Tag(name=clean_tag(name), name_key=key)
        session.add(tag)
        session.flush()
    elif tag.deleted_at is not None:
        tag.deleted_at = None  # a retired tag comes back, spelled as now typed
        tag.name = clean_tag(name)
    return tag


def tags_of(session: Session, entity_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Tag.name)
            .join(EntityTag, EntityTag.tag_id == Tag.id)
            .where(EntityTag.entity_id == entity_id)
            .order_by(Tag.name)
        )
    )


def set_tags(session: Session, entity_type: str, entity_id: str, names: Iterable[str]) -> bool:
    """Make the entity's tags exactly ``names``; returns whether anything changed."""
    wanted = {tag_key(n): n for n in names if tag_key(n)}
    current = {
        row.name_key: row.id
        for row in session.execute(
            select(Tag.name_key, Tag.id)
            .join(EntityTag, EntityTag.tag_id == Tag.id)
            .where(EntityTag.entity_id == entity_id)
        )
    }
    removed = [tag_id for key, tag_id in current.items() if key not in wanted]
    if removed:
        session.execute(
            delete(EntityTag).where(EntityTag.entity_id == entity_id, EntityTag.tag_id.in_(removed))
        )
    added = [name for key, name in wanted.items() if key not in current]
    for name in added:
        tag = ensure_tag(session, name)
        session.add(EntityTag(tag_id=tag.id, entity_id=entity_id, entity_type=entity_type))
    return bool(removed or added)


def add_tags(session: Session, entity_type: str, entity_id: str, names: Iterable[str]) -> bool:
    return set_tags(session, entity_type, entity_id, [*tags_of(session, entity_id), *names])


class TagService(Service):
    def all(self) -> list[TagInfo]:
        rows = self.db.execute(
            """SELECT t.id, t.name, t.color, count(et.entity_id)
               FROM tag t LEFT JOIN entity_tag et ON et.tag_id = t.id
               WHERE t.deleted_at IS NULL GROUP BY t.id ORDER BY t.name_key"""
        )
        return [TagInfo(*row) for row in rows]

    def of(self, entity_id: str) -> list[str]:
        return [
            row[0]
            for row in self.db.execute(
                """SELECT t.name FROM tag t JOIN entity_tag et ON et.tag_id = t.id
                   WHERE et.entity_id = ? ORDER BY t.name_key""",
                (entity_id,),
            )
        ]

    def tag(self, entity_type: str, entity_ids: Iterable[str], names: Iterable[str]) -> None:
        """Add tags to many entities at once (a list's multi-select action)."""
        names = list(names)
        ids = list(entity_ids)
        if not any(tag_key(n) for n in names):
            shown = ", ".join(f"'{n}'" for n in names) or "nothing"
            raise ValidationError(FieldError("tags", f"{shown} is not a usable tag"))
        with self.write((entity_type, "tag")) as session:
            owners = _owners(session, entity_type, ids)
            for entity_id in ids:
                if add_tags(session, entity_type, entity_id, names):
                    mark_changed(session, owners[entity_id], "tags")
            _reindex_owner(session, entity_type, ids)

    def untag(self, entity_type: str, entity_ids: Iterable[str], name: str) -> None:
        ids = list(entity_ids)
        key = tag_key(name)
        with self.write((entity_type, "tag")) as session:
            tag = session.scalar(select(Tag).where(Tag.name_key == key))
            if tag is None:
                return
            owners = _owners(session, entity_type, ids)
            tagged = set(
                session.scalars(
                    select(EntityTag.entity_id).where(
                        EntityTag.tag_id == tag.id, EntityTag.entity_id.in_(ids)
                    )
                )
            )
            session.execute(
                delete(EntityTag).where(EntityTag.tag_id == tag.id, EntityTag.entity_id.in_(ids))
            )
            for entity_id in tagged:
                mark_changed(session, owners[entity_id], "tags")
            _reindex_owner(session, entity_type, ids)

    def rename(self, tag_id: str, new_name: str) -> None:
        key = tag_key(new_name)
        if not key:
            raise ValidationError(FieldError("name", f"'{new_name}' is not a usable tag"))
        with self.write(("tag", "person", "company", "deal")) as session:
            clash = session.scalar(
                select(Tag).where(Tag.name_key == key, Tag.id != tag_id, Tag.deleted_at.is_(None))
            )
            if clash is not None:
                raise ValidationError(FieldError("name", f"a tag '{clash.name}' already exists"))
            retired = session.scalar(select(Tag).where(Tag.name_key == key, Tag.id != tag_id))
            if retired is not None:
                retired.name_key = f"{retired.name_key}~{retired.id}"  # frees the key
                session.flush()
            tag = live(session, Tag, tag_id, "tag")
            tag.name = clean_tag(new_name)
            tag.name_key = key
            _reindex_tagged(session, tag.id)

    def delete(self, tag_id: str) -> int:
        """Remove a tag from everything that has it and retire it; returns how many
        people, companies and deals lost it."""
        with self.write(("tag", "person", "company", "deal"), reason="delete") as session:
            tag = live(session, Tag, tag_id, "tag")
            bearers = list(
                session.execute(
                    select(EntityTag.entity_type, EntityTag.entity_id).where(
                        EntityTag.tag_id == tag.id
                    )
                )
            )
            session.execute(delete(EntityTag).where(EntityTag.tag_id == tag.id))
            tag.deleted_at = self.clock.now()
            by_type: dict[str, list[str]] = {}
            for entity_type, entity_id in bearers:
                by_type.setdefault(entity_type, []).append(entity_id)
            for entity_type, ids in by_type.items():
                for owner in _owners(session, entity_type, ids, missing_ok=True).values():
                    mark_changed(session, owner, "tags")
                _reindex_owner(session, entity_type, ids)
            return len(bearers)


def _owners(
    session: Session, entity_type: str, ids: list[str], *, missing_ok: bool = False
) -> dict[str, Shareable]:
    """The tagged rows themselves: a tag change is an edit of its owner."""
    model = SHAREABLE_MODELS.get(entity_type)
    if model is None or entity_type not in TAGGABLE:
        raise ValidationError(FieldError("entity_type", "only people, companies and deals"))
    column: Any = model.id
    found = {row.id: row for row in session.scalars(select(model).where(column.in_(ids)))}
    if not missing_ok:
        for entity_id in ids:
            row = found.get(entity_id)
            if row is None or row.deleted_at is not None:
                raise NotFoundError(entity_type, entity_id)
    return found


def _reindex_tagged(session: Session, tag_id: str) -> None:
    by_type: dict[str, list[str]] = {}
    for entity_type, entity_id in session.execute(
        select(EntityTag.entity_type, EntityTag.entity_id).where(EntityTag.tag_id == tag_id)
    ):
        by_type.setdefault(entity_type, []).append(entity_id)
    for entity_type, ids in by_type.items():
        _reindex_owner(session, entity_type, ids)


def _reindex_owner(session: Session, entity_type: str, ids: list[str]) -> None:
    """Tags are part of the search documents; refresh them."""
    from relbook.storage import search_index
    from relbook.storage.session import driver_connection

    if entity_type in search_index.INDEXED_KINDS:
        session.flush()
        search_index.refresh(driver_connection(session), entity_type, ids)
