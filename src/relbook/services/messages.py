"""What the message viewer shows: the text, or sanitised HTML, and the names of attachments.

Bodies are untrusted. HTML was sanitised at ingest and is sanitised again here (the book
file may come from elsewhere): no scripts, styles, images, frames or forms survive, so a
viewer that loads nothing remote shows it safely. Attachments are listed by name, type
and size only — the book never holds their content, so nothing can be opened by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from relbook.capture.html import sanitize_html
from relbook.domain.clock import from_millis
from relbook.domain.errors import NotFoundError
from relbook.services.base import Service


@dataclass(frozen=True)
class AttachmentInfo:
    name: str
    size: int  # bytes (estimated from the encoded size)
    content_type: str


@dataclass(frozen=True)
class ParticipantInfo:
    role: str  # from / to / cc / bcc / organizer / attendee
    address: str
    name: str
    person_id: str | None


@dataclass(frozen=True)
class LinkInfo:
    entity_type: str
    entity_id: str
    name: str
    reason: str
    origin: str  # auto / rule / manual
    excluded: bool


@dataclass(frozen=True)
class MessageView:
    id: str
    kind: str
    subject: str
    occurred_at: datetime
    ends_at: datetime | None
    all_day: bool
    status: str
    direction: str
    location: str
    privacy: str  # what was kept: headers / excerpt / full
    text: str
    html: str | None  # sanitised; None when only text was kept
    participants: tuple[ParticipantInfo, ...]
    attachments: tuple[AttachmentInfo, ...]
    links: tuple[LinkInfo, ...]
    bulk_reason: str  # why it is not linked as a relationship ("" = personal)
    source: str
    size_bytes: int | None

    @property
    def sender(self) -> ParticipantInfo | None:
        return next((p for p in self.participants if p.role in ("from", "organizer")), None)


class MessageService(Service):
    def message(self, interaction_id: str) -> MessageView:
        db = self.db
        row = db.execute(
            """SELECT id, kind, subject, occurred_at, ends_at, all_day, status, direction,
                      location, privacy, body, body_html, attachments, bulk_reason, source,
                      size_bytes
               FROM interaction WHERE id = ? AND deleted_at IS NULL""",
            (interaction_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("message", interaction_id)
        participants = tuple(
            ParticipantInfo(role, address, name, person_id)
            for role, address, name, person_id in db.execute(
                """SELECT ip.role, ip.address, ip.name, p.id FROM interaction_participant ip
                   LEFT JOIN person p ON p.id = ip.person_id AND p.deleted_at IS NULL
                   WHERE ip.interaction_id = ? ORDER BY ip.id""",
                (interaction_id,),
            )
        )
        return MessageView(
            id=row[0],
            kind=row[1],
            subject=row[2],
            occurred_at=from_millis(row[3]),
            ends_at=None if row[4] is None else from_millis(row[4]),
            all_day=bool(row[5]),
            status=row[6],
            direction=row[7],
            location=row[8],
            privacy=row[9],
            text=row[10],
            html=sanitize_html(row[11]) if row[11] else None,
            participants=participants,
            attachments=_attachments(row[12]),
            links=tuple(self.links(interaction_id)),
            bulk_reason=row[13] or "",
            source=row[14],
            size_bytes=row[15],
        )

    def safe_html(self, interaction_id: str) -> str | None:
        """The kept HTML, sanitised (None when only text was kept)."""
        row = self.db.execute(
            "SELECT body_html FROM interaction WHERE id = ? AND deleted_at IS NULL",
            (interaction_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("message", interaction_id)
        return sanitize_html(row[0]) if row[0] else None

    def links(self, interaction_id: str) -> list[LinkInfo]:
        """Who and what it belongs to, each with the reason ("why is it here?"). A link to
        a deleted person, company or deal is not shown (it is back when they are)."""
        rows = self.db.execute(
            """SELECT l.entity_type, l.entity_id, coalesce(p.display_name, c.name, d.title),
                      l.reason, l.origin, l.excluded
               FROM interaction_link l
               LEFT JOIN person p ON l.entity_type = 'person' AND p.id = l.entity_id
                    AND p.deleted_at IS NULL
               LEFT JOIN company c ON l.entity_type = 'company' AND c.id = l.entity_id
                    AND c.deleted_at IS NULL
               LEFT JOIN deal d ON l.entity_type = 'deal' AND d.id = l.entity_id
                    AND d.deleted_at IS NULL
               WHERE l.interaction_id = ? AND coalesce(p.id, c.id, d.id) IS NOT NULL
               ORDER BY l.excluded, CASE l.entity_type WHEN 'person' THEN 0
                        WHEN 'company' THEN 1 ELSE 2 END, 3""",
            (interaction_id,),
        )
        return [LinkInfo(t, i, n, r, o, bool(x)) for t, i, n, r, o, x in rows]


def _attachments(raw: str | None) -> tuple[AttachmentInfo, ...]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return ()
    found = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, dict):
            found.append(
                AttachmentInfo(
                    str(value.get("name", "(unnamed)")),
                    int(value.get("size", 0) or 0),
                    str(value.get("type", "")),
                )
            )
    return tuple(found)
