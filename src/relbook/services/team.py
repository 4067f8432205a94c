"""The team server from the rep's side: connect, sync, status, conflicts, the Team view.

``connect`` checks the server and the role (a role that could bypass row-level security is
refused, with the reason) and keeps the password in the keyring — never in the book.
``sync`` pushes what changed and pulls what the team changed; it works whenever the server
is reachable and fails cleanly (edits stay queued) when it is not. The Team view reads only
what was shared: the rows of the team server as this book last saw them.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relbook.domain.clock import from_millis, to_millis
from relbook.domain.errors import GuardTripped, UserError
from relbook.services.base import Service
from relbook.team import connect as team_connect
from relbook.team import protocol, resolve
from relbook.team.errors import NotConnected, TeamError
from relbook.team.resolve import Conflict
from relbook.team.sync import LIVE_STATES, DeleteGuard, SyncReport

SECRET_ID = "team-server"  # noqa: S105 - the keyring entry's name, not a secret
CHANGED_KINDS = (
    "person",
    "company",
    "deal",
    "interaction",
    "note",
    "feedback",
    "pipeline",
    "affiliation",
    "team",
)


@dataclass(frozen=True)
class TeamStatus:
    connected: bool
    server: str = ""
    role: str = ""
    team_name: str = ""
    tls: str = ""
    password_where: str = ""
    last_sync_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    pending_changes: int = 0  # edits waiting to be sent
    pending_question: str = ""  # a guard waits for the rep's answer
    open_conflicts: int = 0
    shared_roots: int = 0
    team_rows: int = 0
    last_pushed: int = 0
    last_pulled: int = 0


@dataclass(frozen=True)
class SharedAccount:
    company_id: str
    name: str
    shared_by: tuple[str, ...]  # reps' display names
    people: int
    open_deals: int
    open_amount: dict[str, int]  # currency -> minor units
    interactions: int
    last_interaction_at: datetime | None


@dataclass(frozen=True)
class RepContact:
    rep: str
    rep_name: str
    interactions: int
    last_at: datetime | None
    shared_person: bool  # this rep shared the person


@dataclass(frozen=True)
class Acquaintance:
    person_id: str
    name: str
    title: str
    reps: tuple[RepContact, ...]


@dataclass(frozen=True)
class PipelineCell:
    rep: str
    rep_name: str
    pipeline: str
    stage: str
    stage_position: int
    stage_kind: str
    deals: int
    amounts: dict[str, int]


@dataclass(frozen=True)
class FeedbackTheme:
    topic: str
    subject: str
    mentions: int
    sentiments: dict[str, int]
    reps: tuple[str, ...]
    companies: tuple[str, ...]
    latest_quote: str
    latest_at: datetime | None


@dataclass
class _Rows:
    by_type: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    author: dict[str, str] = field(default_factory=dict)

    def of(self, entity_type: str) -> dict[str, dict[str, Any]]:
        return self.by_type.get(entity_type, {})


def _ms(value: int | None) -> datetime | None:
    return None if value is None else from_millis(int(value))


class TeamService(Service):
    guard = DeleteGuard()

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self._secrets: Any = None
        self._sync_lock = threading.Lock()

    # ------------------------------------------------------------------ secrets
    @property
    def secrets(self) -> Any:
        """The keyring store (the app's, when it provides one)."""
        if self._secrets is None:
            store = getattr(self.services, "secrets", None)
            if store is None:
                from relbook.credentials import open_secret_store

                store = open_secret_store()
            self._secrets = store
        return self._secrets

    @secrets.setter
    def secrets(self, store: Any) -> None:
        self._secrets = store

    # --------------------------------------------------------------- connection
    def _link(self) -> dict[str, Any] | None:
        """The team server this book syncs with; None when it is not connected."""
        link = self._stored_link()
        return link if link is not None and link["dsn"] else None

    def _stored_link(self) -> dict[str, Any] | None:
        """The link, also while disconnected (its dsn is then empty: the sync state of
        that team is kept so that connecting again resumes where it stopped)."""
        row = self.db.execute(
            """SELECT dsn, read_dsn, role, team_id, team_name, members, cursor,
                      last_attempt_at, last_sync_at, last_error, last_error_at,
                      pending_question, last_pushed, last_pulled
               FROM team_link WHERE id = 1"""
        ).fetchone()
        if row is None:
            return None
        keys = [
            "dsn",
            "read_dsn",
            "role",
            "team_id",
            "team_name",
            "members",
            "cursor",
            "last_attempt_at",
            "last_sync_at",
            "last_error",
            "last_error_at",
            "pending_question",
            "last_pushed",
            "last_pulled",
        ]
        link = dict(zip(keys, row, strict=True))
        link["members"] = json.loads(link["members"] or "{}")
        return link

    def connect(self, dsn: str, password: str | None = None, read_dsn: str = "") -> TeamStatus:
        """Check the server and the role, then remember them (the password in the keyring)."""
        endpoint = team_connect.parse_dsn(dsn)
        if read_dsn:
            team_connect.parse_dsn(read_dsn)
        connection = team_connect.connect(dsn, password)
        try:
            session = team_connect.open_rep_session(connection, endpoint)
        finally:
            connection.close()
        stored = self._stored_link()
        current = stored if stored is not None and stored["dsn"] else None
        other = stored is not None and (
            stored["team_id"] != session.team_id or stored["role"] != session.role
        )
        if current is not None and other:
            raise TeamError(
                f"This book syncs with team {current['team_name']!r} as {current['role']}; "
                f"{endpoint.label} is team {session.team_name!r} as {session.role}.",
                "Disconnect first ('relbook team disconnect'); the book keeps its data.",
            )
        if password:
            self.secrets.set(SECRET_ID, password)
        now_ms = to_millis(self.clock.now())
        with self.book.raw_write() as conn:
            if other:
                # Another team (or role) than the one this book was disconnected from:
                # what it knew of that one no longer applies (its rows stay, as its own).
                for table in ("team_link", "team_row", "team_journal"):
                    conn.execute(f"DELETE FROM {table}")
                stored = None
            if stored is None:
                conn.execute(
                    """INSERT INTO team_link (id, dsn, read_dsn, role, team_id, team_name,
                           members, cursor, fingerprint, connected_at, last_error,
                           pending_question, last_pushed, last_pulled)
                       VALUES (1, ?, ?, ?, ?, ?, '{}', '0', '', ?, '', '', 0, 0)""",
                    (dsn, read_dsn, session.role, session.team_id, session.team_name, now_ms),
                )
            else:
                conn.execute(
                    "UPDATE team_link SET dsn = ?, read_dsn = ?, team_name = ? WHERE id = 1",
                    (dsn, read_dsn, session.team_name),
                )
        self.services.changes.publish(("team",), reason="team connect")
        return self.status()

    def disconnect(self) -> None:
        """Forget the server's address and the password. The book keeps every row it holds
        and what it knows of the team's rows (and any change not sent yet): connecting again
        to the same team as the same role resumes where it stopped; connecting to another
        team starts afresh."""
        with self.book.raw_write() as conn:
            conn.execute("UPDATE team_link SET dsn = '', read_dsn = '' WHERE id = 1")
        self.secrets.delete(SECRET_ID)
        self.services.changes.publish(("team",), reason="team disconnect")

    def status(self) -> TeamStatus:
        link = self._link()
        db = self.db
        shared = int(db.execute("SELECT count(*) FROM share").fetchone()[0])
        if link is None:
            return TeamStatus(False, shared_roots=shared)
        endpoint = team_connect.parse_dsn(link["dsn"])
        pending = self._pending(db)
        conflicts = int(
            db.execute("SELECT count(*) FROM team_conflict WHERE resolved_at IS NULL").fetchone()[0]
        )
        rows = int(
            db.execute(
                "SELECT count(*) FROM team_row WHERE state IN ('shared', 'received')"
            ).fetchone()[0]
        )
        if endpoint.verifies_server:
            tls = "TLS, server certificate and name verified (verify-full)"
        elif endpoint.sslmode in ("require", "verify-ca"):
            tls = f"TLS ({endpoint.sslmode}): the server's name is not verified"
        elif endpoint.sslmode == "disable":
            tls = "not encrypted (sslmode=disable)"
        else:
            tls = f"TLS if the server offers it (sslmode={endpoint.sslmode}), not verified"
        try:
            where = self.secrets.where()
        except Exception:
            where = "keyring unavailable"
        return TeamStatus(
            True,
            endpoint.label,
            link["role"],
            link["team_name"],
            tls,
            where,
            _ms(link["last_sync_at"]),
            _ms(link["last_attempt_at"]),
            link["last_error"],
            _ms(link["last_error_at"]),
            pending,
            link["pending_question"],
            conflicts,
            shared,
            rows,
            link["last_pushed"],
            link["last_pulled"],
        )

    @staticmethod
    def _pending(db: Any) -> int:
        """Rows with a change waiting to be sent: mutations in flight, edits of rows the
        team holds or that travel, newly shared rows (or at a new level), withdrawals."""
        from relbook.team.sync import SHARED, team_view

        view = team_view(db)
        waiting = {
            (r[0], r[1]) for r in db.execute("SELECT entity_type, entity_id FROM team_journal")
        }
        live = {k for k, t in view.tracked.items() if t.state in LIVE_STATES}
        for entity_type, entity_id in db.execute("SELECT entity_type, entity_id FROM outbox"):
            key = (entity_type, entity_id)
            if key in live or key in view.closure:
                waiting.add(key)
        for key, level in view.closure.items():
            row = view.tracked.get(key)
            if row is None or row.state != SHARED or row.level != level:
                waiting.add(key)
        waiting |= {
            k for k, t in view.tracked.items() if t.state == SHARED and k not in view.closure
        }
        return len(waiting)

    # --------------------------------------------------------------------- sync
    def password_needed(self) -> bool:
        """True when no password is kept for the server (no keyring, or none stored):
        the caller asks the rep, unless libpq finds one itself (~/.pgpass, a certificate)."""
        return self._link() is not None and not self.secrets.get(SECRET_ID)

    def sync(self, *, confirm: bool = False, password: str | None = None) -> SyncReport:
        """Push and pull now (call off the UI thread). Raises a ``UserError`` saying why
        it could not (unreachable, refused role, a guard waiting for ``confirm``).
        ``password``: for this sync only (a machine without a keyring)."""
        from relbook.team import sync as team_sync

        link = self._link()
        if link is None:
            raise NotConnected()
        with self._sync_lock:
            self._mark_attempt()
            try:
                report = self._sync(link, confirm, team_sync, password)
            except GuardTripped as error:
                self._mark_failure(str(error), question=error.message)
                raise
            except UserError as error:
                self._mark_failure(str(error))
                raise
            except Exception as error:
                self._mark_failure(f"Sync failed: {error}")
                raise
        self.services.changes.publish(CHANGED_KINDS, reason="team sync")
        return report

    def _sync(
        self, link: dict[str, Any], confirm: bool, team_sync: Any, password: str | None
    ) -> SyncReport:
        report: SyncReport
        password = password or self.secrets.get(SECRET_ID)
        endpoint = team_connect.parse_dsn(link["dsn"])
        connection = team_connect.connect(link["dsn"], password)
        read_connection = None
        try:
            session = team_connect.open_rep_session(connection, endpoint)
            if session.team_id != link["team_id"] or session.role != link["role"]:
                raise TeamError(
                    f"{endpoint.label} now answers as {session.role} of team "
                    f"{session.team_name!r}; this book syncs as {link['role']} of "
                    f"{link['team_name']!r}.",
                    "Check the address, or disconnect and connect again.",
                )
            if link["read_dsn"]:
                read_connection = team_connect.connect(link["read_dsn"], password)
                team_connect.open_rep_session(
                    read_connection, team_connect.parse_dsn(link["read_dsn"])
                )
            try:
                report = team_sync.sync(
                    self.book,
                    connection,
                    session.team_id,
                    session.role,
                    read_connection=read_connection,
                    guard=self.guard,
                    confirm=confirm,
                )
                members = protocol.team_members(connection)
                protocol.touch_rep(connection)
            except Exception as error:
                import psycopg

                if isinstance(error, psycopg.OperationalError):
                    raise team_connect.explain(error, endpoint) from error
                raise
        finally:
            connection.close()
            if read_connection is not None:
                read_connection.close()
        now_ms = to_millis(self.clock.now())
        with self.book.raw_write() as conn:
            conn.execute(
                """UPDATE team_link SET last_sync_at = ?, last_error = '', last_error_at = NULL,
                       pending_question = '', members = ?, last_pushed = ?, last_pulled = ?,
                       team_name = ?
                   WHERE id = 1""",
                (
                    now_ms,
                    json.dumps(members),
                    report.pushed,
                    report.pulled,
                    session.team_name,
                ),
            )
        return report

    def _mark_attempt(self) -> None:
        with self.book.raw_write() as conn:
            conn.execute(
                "UPDATE team_link SET last_attempt_at = ? WHERE id = 1",
                (to_millis(self.clock.now()),),
            )

    def _mark_failure(self, message: str, question: str = "") -> None:
        with self.book.raw_write() as conn:
            conn.execute(
                """UPDATE team_link SET last_error = ?, last_error_at = ?, pending_question = ?
                   WHERE id = 1""",
                (message, to_millis(self.clock.now()), question),
            )
        self.services.changes.publish(("team",), reason="team sync failed")

    # --------------------------------------------------------------- conflicts
    def conflicts(self, *, include_resolved: bool = False) -> list[Conflict]:
        return resolve.list_conflicts(self.book, include_resolved=include_resolved)

    def resolve(self, conflict_id: str, keep: str) -> None:
        """Keep ``mine`` (it goes to the team at the next sync) or ``theirs``."""
        conflict = resolve.resolve(self.book, conflict_id, keep)
        self.services.changes.publish((conflict.entity_type, "team"), reason="conflict resolved")

    def discard_copy(self, conflict_id: str) -> None:
        resolve.discard_copy(self.book, conflict_id)
        self.services.changes.publish(CHANGED_KINDS, reason="team copy discarded")

    # ---------------------------------------------------------------- team view
    def members(self) -> dict[str, str]:
        link = self._link()
        return dict(link["members"]) if link else {}

    def _rows(self) -> _Rows:
        rows = _Rows()
        for entity_type, entity_id, data, author in self.db.execute(
            """SELECT entity_type, entity_id, data, author FROM team_row
               WHERE state IN (?, ?)""",
            LIVE_STATES,
        ):
            rows.by_type.setdefault(entity_type, {})[entity_id] = json.loads(data)
            rows.author[entity_id] = author
        return rows

    def _name(self, role: str, members: dict[str, str]) -> str:
        return members.get(role) or role or "?"

    def shared_accounts(self) -> list[SharedAccount]:
        """Companies on the team server, with their people, open deals and activity."""
        rows = self._rows()
        members = self.members()
        accounts: list[SharedAccount] = []
        people = rows.of("person")
        deals = rows.of("deal")
        interactions = rows.of("interaction")
        for company_id, data in rows.of("company").items():
            staff = {p for p, d in people.items() if d.get("company_id") == company_id}
            staff |= {
                str(d["person_id"])
                for d in rows.of("affiliation").values()
                if d.get("company_id") == company_id
                and d.get("person_id")
                and not d.get("end_date")
            }
            open_deals = [
                d
                for d in deals.values()
                if d.get("company_id") == company_id and d.get("status") == "open"
            ]
            amounts: Counter[str] = Counter()
            for deal in open_deals:
                if deal.get("amount_minor") is not None:
                    amounts[str(deal.get("currency") or "")] += int(deal["amount_minor"])
            related = {company_id} | staff
            touches = [
                i
                for i in interactions.values()
                if any(link[1] in related for link in i.get("links") or [])
            ]
            sharers = {rows.author.get(company_id, "")}
            sharers |= {rows.author.get(p, "") for p in staff}
            sharers.discard("")
            last = max(
                (int(i["occurred_at"]) for i in touches if i.get("occurred_at")), default=None
            )
            accounts.append(
                SharedAccount(
                    company_id,
                    str(data.get("name") or ""),
                    tuple(sorted(self._name(r, members) for r in sharers)),
                    len(staff),
                    len(open_deals),
                    dict(amounts),
                    len(touches),
                    _ms(last),
                )
            )
        accounts.sort(key=lambda a: a.name.lower())
        return accounts

    def who_knows_whom(self, company_id: str) -> list[Acquaintance]:
        """For each shared person at the company: which reps talk to them, how often."""
        rows = self._rows()
        members = self.members()
        people = rows.of("person")
        staff = {p for p, d in people.items() if d.get("company_id") == company_id}
        staff |= {
            str(d.get("person_id"))
            for d in rows.of("affiliation").values()
            if d.get("company_id") == company_id and d.get("person_id") in people
        }
        contacts: dict[str, dict[str, list[int]]] = {p: {} for p in staff}
        for interaction_id, data in rows.of("interaction").items():
            rep = rows.author.get(interaction_id, "")
            for link in data.get("links") or []:
                if link[1] in contacts:
                    contacts[link[1]].setdefault(rep, []).append(int(data.get("occurred_at") or 0))
        out: list[Acquaintance] = []
        for person_id in staff:
            data = people[person_id]
            sharer = rows.author.get(person_id, "")
            reps = set(contacts[person_id]) | ({sharer} if sharer else set())
            entries = []
            for rep in sorted(reps):
                times = contacts[person_id].get(rep, [])
                entries.append(
                    RepContact(
                        rep,
                        self._name(rep, members),
                        len(times),
                        _ms(max(times)) if times else None,
                        rep == sharer,
                    )
                )
            entries.sort(key=lambda c: (-c.interactions, c.rep_name))
            out.append(
                Acquaintance(
                    person_id,
                    str(data.get("display_name") or ""),
                    str(data.get("title") or ""),
                    tuple(entries),
                )
            )
        out.sort(key=lambda a: (-sum(c.interactions for c in a.reps), a.name.lower()))
        return out

    def pipeline_by_rep(self) -> list[PipelineCell]:
        """Shared deals by the rep who shared them and their stage."""
        rows = self._rows()
        members = self.members()
        stages = rows.of("stage")
        pipelines = rows.of("pipeline")
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        for deal_id, deal in rows.of("deal").items():
            rep = rows.author.get(deal_id, "")
            stage_id = str(deal.get("stage_id") or "")
            stage = stages.get(stage_id, {})
            cell = cells.setdefault(
                (rep, stage_id),
                {
                    "pipeline": str(
                        pipelines.get(str(stage.get("pipeline_id")), {}).get("name") or ""
                    ),
                    "stage": str(stage.get("name") or "?"),
                    "position": int(stage.get("position") or 0),
                    "kind": str(stage.get("kind") or "open"),
                    "deals": 0,
                    "amounts": Counter(),
                },
            )
            cell["deals"] += 1
            if deal.get("amount_minor") is not None:
                cell["amounts"][str(deal.get("currency") or "")] += int(deal["amount_minor"])
        out = [
            PipelineCell(
                rep,
                self._name(rep, members),
                c["pipeline"],
                c["stage"],
                c["position"],
                c["kind"],
                c["deals"],
                dict(c["amounts"]),
            )
            for (rep, _stage), c in cells.items()
        ]
        out.sort(key=lambda c: (c.rep_name.lower(), c.pipeline, c.stage_position, c.stage))
        return out

    def feedback_themes(self) -> list[FeedbackTheme]:
        """What customers say, across the team: grouped by topic and subject."""
        rows = self._rows()
        members = self.members()
        companies = rows.of("company")
        groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for feedback_id, data in rows.of("feedback").items():
            subject = " ".join(str(data.get("subject") or "").split())
            key = (str(data.get("topic") or "other"), subject.lower())
            groups.setdefault(key, []).append((feedback_id, data))
        themes: list[FeedbackTheme] = []
        for (topic, _key), items in groups.items():
            items.sort(key=lambda item: int(item[1].get("occurred_at") or 0))
            latest = items[-1][1]
            sentiments = Counter(str(d.get("sentiment") or "neutral") for _i, d in items)
            reps = sorted({self._name(rows.author.get(i, ""), members) for i, _d in items})
            names = sorted(
                {
                    str(companies[str(d.get("company_id"))].get("name") or "")
                    for _i, d in items
                    if d.get("company_id") in companies
                }
            )
            themes.append(
                FeedbackTheme(
                    topic,
                    " ".join(str(latest.get("subject") or "").split()),
                    len(items),
                    dict(sentiments),
                    tuple(reps),
                    tuple(names),
                    str(latest.get("quote") or ""),
                    _ms(latest.get("occurred_at")),
                )
            )
        themes.sort(key=lambda t: (-t.mentions, t.topic, t.subject.lower()))
        return themes
