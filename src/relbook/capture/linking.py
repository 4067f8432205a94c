"""Who and what an interaction belongs to — each link with the reason a person can read.

Rules (DESIGN.md "Linking"), in the order they are applied:

1. The rep's rules (``link_rule``): *ignore* an address or domain (never a relationship,
   never queued for review); *always* link mail with an address/domain/thread to an entity;
   *never* link it to an entity. Rules win over everything derived below.
2. Bulk and automated mail (List-Id, Precedence, Auto-Submitted, no-reply senders, list
   domains) is not a relationship: no derived links, nobody queued for review.
3. The rep's own addresses (``my_addresses``) and internal domains (``internal_domains``)
   are colleagues, not customers: never linked, never queued.
4. Any of a person's addresses links the person, and the person's current company.
5. The company owning an address's registrable domain (publicsuffixlist, bundled) is
   linked; free-mail and list domains never map to a company.
6. A reply (or another occurrence of a meeting series) inherits its thread's deals.
7. An external address no person owns goes to the review queue.

Manual links and the rep's "not this one" (``excluded``) rows are never touched here;
``apply`` only replaces links of origin ``auto``/``rule``.

Direction: outbound when the sender (organizer) is the rep or a colleague, inbound when
it is anyone else; internal when everyone involved is internal; none without a sender.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from relbook.capture.domains import is_list_host, parent_domains, registrable_domain
from relbook.capture.sources.base import Party
from relbook.domain.addresses import domain_of, is_free_mail, is_no_reply

_BATCH = 500


@dataclass(frozen=True)
class LinkSubject:
    """What the linker reads of one interaction (from a captured item or stored rows)."""

    kind: str
    status: str
    subject: str
    sender: Party | None
    participants: Sequence[tuple[str, Party]]  # (role, party), the sender not included
    thread_key: str | None = None
    natural_key: str | None = None
    references: Sequence[str] = ()  # natural keys of earlier messages of the thread
    bulk_reason: str = ""
    interaction_id: str | None = None


@dataclass(frozen=True)
class LinkDecision:
    entity_type: str  # person / company / deal
    entity_id: str
    origin: str  # auto / rule
    reason: str


@dataclass(frozen=True)
class Unknown:
    """A correspondent no person owns (for the review queue)."""

    address: str
    name: str
    domain: str


@dataclass
class Linked:
    direction: str
    links: list[LinkDecision] = field(default_factory=list)
    person_of: dict[str, str] = field(default_factory=dict)  # address → person id
    unknown: list[Unknown] = field(default_factory=list)
    is_touch: bool = True


@dataclass(frozen=True)
class _Rule:
    match_kind: str  # address / domain / thread
    pattern: str
    action: str  # ignore / always / never
    entity_type: str | None
    entity_id: str | None


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    company_id: str | None
    company_name: str


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _setting(connection: sqlite3.Connection, key: str) -> list[str]:
    row = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    if row is None:
        return []
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        return []
    return [str(v).strip().lower() for v in value] if isinstance(value, list) else []


def role_word(role: str, kind: str) -> str:
    return {
        "from": "from",
        "organizer": "organised by" if kind == "meeting" else "from",
        "to": "to",
        "cc": "cc",
        "bcc": "bcc",
        "attendee": "with",
    }.get(role, role)


class LinkContext:
    """The book's knowledge the linker needs; ``prepare`` loads it for a batch at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.my_addresses = set(_setting(connection, "my_addresses"))
        internal = _setting(connection, "internal_domains")
        self.internal_domains = set(internal) | {registrable_domain(d) for d in internal}
        self.rules = [
            _Rule(*row)
            for row in connection.execute(
                "SELECT match_kind, lower(pattern), action, entity_type, entity_id FROM link_rule"
            )
        ]
        self._people: dict[str, _Person] = {}
        self._companies: dict[str, tuple[str, str]] = {}  # domain → (id, name)
        # thread key → (deal id, deal title, subject, interaction id) of linked messages
        self._thread_deals: dict[str, list[tuple[str, str, str, str]]] = {}
        self._names: dict[str, str] = {}
        # interaction id → entities the rep removed from it ("not this one"): nothing is
        # derived from them (a company "because X works there" goes when X goes)
        self._excluded: dict[str, set[str]] = {}
        self._load_rule_names()

    # ---------------------------------------------------------------- loading
    def _load_rule_names(self) -> None:
        ids = sorted({r.entity_id for r in self.rules if r.entity_id})
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for table, column in (
                ("person", "display_name"),
                ("company", "name"),
                ("deal", "title"),
            ):
                for entity_id, name in self.connection.execute(
                    f"SELECT id, {column} FROM {table} WHERE id IN ({marks}) "
                    "AND deleted_at IS NULL",
                    chunk,
                ):
                    self._names[entity_id] = name

    def prepare(self, subjects: Iterable[LinkSubject]) -> None:
        """Load people, companies and thread deals for these subjects in a few queries."""
        subjects = list(subjects)
        addresses: set[str] = set()
        domains: set[str] = set()
        keys: set[str] = set()
        for subject in subjects:
            for party in _parties(subject):
                if party.address:
                    addresses.add(party.address)
                    host = domain_of(party.address)
                    if host:
                        domains.update(parent_domains(host))
            keys.update(_thread_keys(subject))
        self._load_people(sorted(addresses - set(self._people)))
        self._load_companies(sorted(domains - set(self._companies)))
        self._load_thread_deals(sorted(keys - set(self._thread_deals)))
        self._load_exclusions(sorted({s.interaction_id for s in subjects if s.interaction_id}))

    def _load_exclusions(self, interaction_ids: list[str]) -> None:
        for chunk in _chunks(interaction_ids):
            marks = ",".join("?" * len(chunk))
            for interaction_id, entity_id in self.connection.execute(
                f"""SELECT interaction_id, entity_id FROM interaction_link
                    WHERE interaction_id IN ({marks}) AND excluded = 1""",
                chunk,
            ):
                self._excluded.setdefault(interaction_id, set()).add(entity_id)

    # The unary + keeps SQLite off the live-name index (deleted_at first): with it the
    # planner walked every live person (50,000) per batch instead of the addresses' index.
    def _load_people(self, addresses: list[str]) -> None:
        for chunk in _chunks(addresses):
            marks = ",".join("?" * len(chunk))
            for address, pid, name, company_id, company_name in self.connection.execute(
                f"""SELECT e.address, p.id, p.display_name, c.id, coalesce(c.name, '')
                    FROM person_email e JOIN person p ON p.id = e.person_id
                    LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL
                    WHERE e.address IN ({marks}) AND +p.deleted_at IS NULL
                    ORDER BY p.created_at""",
                chunk,
            ):
                self._people.setdefault(address, _Person(pid, name, company_id, company_name))

    def _load_companies(self, domains: list[str]) -> None:
        for chunk in _chunks(domains):
            marks = ",".join("?" * len(chunk))
            for domain, company_id, name in self.connection.execute(
                f"""SELECT d.domain, c.id, c.name FROM company_domain d
                    JOIN company c ON c.id = d.company_id
                    WHERE d.domain IN ({marks}) AND +c.deleted_at IS NULL
                    ORDER BY c.created_at""",
                chunk,
            ):
                self._companies.setdefault(domain, (company_id, name))

    def _load_thread_deals(self, keys: list[str]) -> None:
        for key in keys:
            self._thread_deals.setdefault(key, [])
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"""SELECT i.thread_key, i.natural_key, i.id, l.entity_id, d.title, i.subject
                    FROM interaction i
                    JOIN interaction_link l ON l.interaction_id = i.id
                         AND l.entity_type = 'deal' AND l.excluded = 0
                    JOIN deal d ON d.id = l.entity_id AND d.deleted_at IS NULL
                    WHERE i.deleted_at IS NULL
                      AND (i.thread_key IN ({marks}) OR i.natural_key IN ({marks}))
                    ORDER BY i.occurred_at""",
                [*chunk, *chunk],
            )
            for thread_key, natural_key, interaction_id, deal_id, title, subject in rows:
                for key in {thread_key, natural_key}:
                    if key in self._thread_deals:
                        self._thread_deals[key].append((deal_id, title, subject, interaction_id))

    # ------------------------------------------------------------------ rules
    def is_internal(self, address: str) -> bool:
        if address in self.my_addresses:
            return True
        host = domain_of(address)
        if not host:
            return False
        return host in self.internal_domains or registrable_domain(host) in self.internal_domains

    def _matches(self, rule: _Rule, address: str) -> bool:
        if rule.match_kind == "address":
            return rule.pattern == address
        if rule.match_kind == "domain":
            host = domain_of(address)
            return host == rule.pattern or host.endswith("." + rule.pattern)
        return False

    def is_ignored(self, address: str) -> bool:
        """An *ignore* rule covers this address (or its domain)."""
        return self._ignored(address)

    def _ignored(self, address: str) -> bool:
        return any(
            r.action == "ignore" and self._matches(r, address)
            for r in self.rules
            if r.match_kind in ("address", "domain")
        )

    # ---------------------------------------------------------------- decide
    def decide(self, subject: LinkSubject) -> Linked:
        linked = Linked(direction=self._direction(subject))
        linked.is_touch = subject.status != "cancelled"
        chosen: dict[str, LinkDecision] = {}
        vetoed: set[str] = set()
        removed = self._excluded.get(subject.interaction_id or "", set())

        def add(decision: LinkDecision) -> None:
            if decision.entity_id not in chosen and decision.entity_id not in vetoed:
                chosen[decision.entity_id] = decision

        parties = _ordered_parties(subject)
        # 1. the rep's rules
        for rule in self.rules:
            if rule.action not in ("always", "never") or not rule.entity_id:
                continue
            hit = self._rule_hit(rule, subject, parties)
            if hit is None:
                continue
            if rule.action == "never":
                vetoed.add(rule.entity_id)
                chosen.pop(rule.entity_id, None)
            else:
                name = self._names.get(rule.entity_id)
                if name is None:
                    continue  # the entity was deleted
                add(
                    LinkDecision(
                        rule.entity_type or "company",
                        rule.entity_id,
                        "rule",
                        f"you chose to always link {hit} to {name}",
                    )
                )

        # 2.–7. derived links
        bulk = subject.bulk_reason
        for role, party in parties:
            address = party.address
            if not address or self.is_internal(address) or self._ignored(address):
                continue
            person = self._people.get(address)
            if person is not None:
                linked.person_of[address] = person.id
            if bulk:
                continue
            word = role_word(role, subject.kind)
            if person is not None:
                add(
                    LinkDecision(
                        "person", person.id, "auto", f"{word} {address} — {person.name}'s address"
                    )
                )
                if person.company_id and person.id not in removed and person.id not in vetoed:
                    add(
                        LinkDecision(
                            "company",
                            person.company_id,
                            "auto",
                            f"{person.name} works at {person.company_name}",
                        )
                    )
            company = self._company_for(address)
            if company is not None:
                company_id, company_name, domain = company
                add(
                    LinkDecision(
                        "company",
                        company_id,
                        "auto",
                        f"{word} {address} — {domain} belongs to {company_name}",
                    )
                )
            if person is None and not is_no_reply(address):
                host = domain_of(address)
                if not is_list_host(host):
                    linked.unknown.append(Unknown(address, party.name, registrable_domain(host)))
        if not bulk:
            for deal_id, title, thread_subject, _source_id in self._deals_of_thread(subject):
                shown = f"“{thread_subject[:60]}”" if thread_subject else "this thread"
                why = (
                    f"another occurrence of {shown} is linked to deal “{title}”"
                    if subject.kind == "meeting"
                    else f"reply in the thread {shown}, which is linked to deal “{title}”"
                )
                add(LinkDecision("deal", deal_id, "auto", why))
        linked.links = list(chosen.values())
        self._remember_deals(subject, linked.links)
        return linked

    def _remember_deals(self, subject: LinkSubject, decisions: Sequence[LinkDecision]) -> None:
        """Later subjects of the same batch that name this one (a reply, another
        occurrence) inherit the deals just decided for it, as if it were stored."""
        deals = [d for d in decisions if d.entity_type == "deal"]
        if not deals:
            return
        me = _self_id(subject)
        for key in {subject.natural_key, subject.thread_key}:
            entries = self._thread_deals.get(key or "")
            if entries is None:
                continue  # no subject of this batch names it
            for decision in deals:
                title = self._names.get(decision.entity_id) or self._deal_title(decision.entity_id)
                entries.append((decision.entity_id, title, subject.subject, me))

    def _deal_title(self, deal_id: str) -> str:
        for entries in self._thread_deals.values():
            for entry in entries:
                if entry[0] == deal_id:
                    return entry[1]
        row = self.connection.execute("SELECT title FROM deal WHERE id = ?", (deal_id,)).fetchone()
        return str(row[0]) if row else ""

    def _rule_hit(
        self, rule: _Rule, subject: LinkSubject, parties: list[tuple[str, Party]]
    ) -> str | None:
        """What in the subject a rule matched, phrased for the reason ("mail with …")."""
        if rule.match_kind == "thread":
            keys = set(_thread_keys(subject))
            if rule.pattern in {k.lower() for k in keys}:
                return "this thread"
            return None
        for _role, party in parties:
            if party.address and self._matches(rule, party.address):
                noun = "mail with" if subject.kind != "meeting" else "meetings with"
                return f"{noun} {rule.pattern}"
        return None

    def _company_for(self, address: str) -> tuple[str, str, str] | None:
        host = domain_of(address)
        if not host or is_free_mail(host) or is_list_host(host):
            return None
        base = registrable_domain(host)
        if is_free_mail(base) or is_list_host(base):
            return None
        for domain in parent_domains(host):
            found = self._companies.get(domain)
            if found is not None:
                return found[0], found[1], domain
        return None

    def _deals_of_thread(self, subject: LinkSubject) -> list[tuple[str, str, str, str]]:
        seen: set[str] = set()
        found: list[tuple[str, str, str, str]] = []
        me = _self_id(subject)
        for key in _thread_keys(subject):
            for entry in self._thread_deals.get(key, []):
                deal_id = entry[0]
                if deal_id not in seen and entry[3] != me:
                    seen.add(deal_id)
                    found.append(entry)
        return found

    def _direction(self, subject: LinkSubject) -> str:
        sender = subject.sender.address if subject.sender else ""
        others = [p.address for _r, p in subject.participants if p.address]
        if not sender:
            return "none"
        if self.is_internal(sender):
            if others and all(self.is_internal(a) for a in others):
                return "internal"
            return "outbound"
        return "inbound"


def _self_id(subject: LinkSubject) -> str:
    """The subject's interaction id, or a stand-in for one not stored yet."""
    return subject.interaction_id or f"new:{subject.natural_key or id(subject)}"


def _parties(subject: LinkSubject) -> list[Party]:
    found = [subject.sender] if subject.sender else []
    return found + [party for _role, party in subject.participants]


def _ordered_parties(subject: LinkSubject) -> list[tuple[str, Party]]:
    """The sender first, then the others, each address once (its first role)."""
    ordered: list[tuple[str, Party]] = []
    seen: set[str] = set()
    sender_role = "organizer" if subject.kind == "meeting" else "from"
    candidates = ([(sender_role, subject.sender)] if subject.sender else []) + list(
        subject.participants
    )
    for role, party in candidates:
        if party.address and party.address not in seen:
            seen.add(party.address)
            ordered.append((role, party))
    return ordered


def _thread_keys(subject: LinkSubject) -> list[str]:
    """Keys naming the thread: its references and its thread key — also when that is the
    item's own key (the first message of a thread follows a deal given to a reply; every
    occurrence of a series shares the key). The item's own links are told apart by id."""
    keys = [k for k in subject.references if k]
    if subject.thread_key:
        keys.append(subject.thread_key)
    return list(dict.fromkeys(keys))


# ------------------------------------------------------------------ writing links


@dataclass
class LinkRow:
    entity_id: str
    entity_type: str
    origin: str
    reason: str
    excluded: bool


def stored_links(connection: sqlite3.Connection, interaction_id: str) -> dict[str, LinkRow]:
    return {
        row[0]: LinkRow(row[0], row[1], row[2], row[3], bool(row[4]))
        for row in connection.execute(
            """SELECT entity_id, entity_type, origin, reason, excluded FROM interaction_link
               WHERE interaction_id = ?""",
            (interaction_id,),
        )
    }


def apply(
    connection: sqlite3.Connection,
    interaction_id: str,
    *,
    occurred_ms: int,
    kind: str,
    linked: Linked,
    existing: dict[str, LinkRow] | None = None,
) -> tuple[set[str], bool]:
    """Make the interaction's auto/rule links match ``linked``; manual and excluded rows
    stay. Returns (entities whose links changed, whether any link row changed)."""
    current = stored_links(connection, interaction_id) if existing is None else existing
    wanted = {d.entity_id: d for d in linked.links}
    touched: set[str] = set()
    changed = False
    for entity_id, row in current.items():
        if row.origin == "manual" or row.excluded:
            continue
        decision = wanted.get(entity_id)
        if decision is None:
            connection.execute(
                "DELETE FROM interaction_link WHERE interaction_id = ? AND entity_id = ?",
                (interaction_id, entity_id),
            )
            touched.add(entity_id)
            changed = True
        elif (decision.origin, decision.reason) != (row.origin, row.reason):
            connection.execute(
                """UPDATE interaction_link SET origin = ?, reason = ?
                   WHERE interaction_id = ? AND entity_id = ?""",
                (decision.origin, decision.reason[:300], interaction_id, entity_id),
            )
            changed = True
    new_rows = [
        (
            interaction_id,
            d.entity_id,
            d.entity_type,
            occurred_ms,
            kind,
            linked.direction,
            d.origin,
            d.reason[:300],
            int(linked.is_touch),
        )
        for d in linked.links
        if d.entity_id not in current
    ]
    if new_rows:
        connection.executemany(
            """INSERT INTO interaction_link(interaction_id, entity_id, entity_type, occurred_at,
                   kind, direction, origin, reason, excluded, is_touch)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)""",
            new_rows,
        )
        touched.update(row[1] for row in new_rows)
        changed = True
    # The denormalised copies follow the interaction (manual rows too).
    cursor = connection.execute(
        """UPDATE interaction_link SET occurred_at = ?, kind = ?, direction = ?, is_touch = ?
           WHERE interaction_id = ? AND excluded = 0
             AND (occurred_at != ? OR kind != ? OR direction != ? OR is_touch != ?)""",
        (
            occurred_ms, kind, linked.direction, int(linked.is_touch), interaction_id,
            occurred_ms, kind, linked.direction, int(linked.is_touch),
        ),
    )  # fmt: skip
    if cursor.rowcount:
        touched.update(current)
        changed = True
    return {t for t in touched if t}, changed


def stored_subject(connection: sqlite3.Connection, interaction_id: str) -> LinkSubject | None:
    """The linker's view of a stored interaction (for relinking)."""
    row = connection.execute(
        """SELECT kind, status, subject, thread_key, natural_key, bulk_reason
           FROM interaction WHERE id = ? AND deleted_at IS NULL""",
        (interaction_id,),
    ).fetchone()
    if row is None:
        return None
    sender: Party | None = None
    participants: list[tuple[str, Party]] = []
    for role, address, name in connection.execute(
        """SELECT role, address, name FROM interaction_participant
           WHERE interaction_id = ? ORDER BY id""",
        (interaction_id,),
    ):
        party = Party(address, name)
        if role in ("from", "organizer") and sender is None:
            sender = party
        else:
            participants.append((role, party))
    return LinkSubject(
        kind=row[0],
        status=row[1],
        subject=row[2],
        sender=sender,
        participants=participants,
        thread_key=row[3],
        natural_key=row[4],
        bulk_reason=row[5] or "",
        interaction_id=interaction_id,
    )


@dataclass
class RelinkOutcome:
    interactions: int = 0  # interactions whose links changed
    entities: set[str] = field(default_factory=set)  # people/companies/deals affected


def relink(connection: sqlite3.Connection, interaction_ids: Iterable[str]) -> RelinkOutcome:
    """Recompute the automatic links of stored interactions (after the book learned
    something: a person's new address, a company's new domain, a rule, an accepted
    review item). Manual links and exclusions stay. The caller refreshes touch stats."""
    outcome = RelinkOutcome()
    ids = sorted(set(interaction_ids))
    for chunk in _chunks(ids):
        context = LinkContext(connection)
        subjects = [s for s in (stored_subject(connection, i) for i in chunk) if s is not None]
        context.prepare(subjects)
        for subject in subjects:
            assert subject.interaction_id is not None
            row = connection.execute(
                "SELECT occurred_at, direction FROM interaction WHERE id = ?",
                (subject.interaction_id,),
            ).fetchone()
            linked = context.decide(subject)
            touched, changed = apply(
                connection,
                subject.interaction_id,
                occurred_ms=row[0],
                kind=subject.kind,
                linked=linked,
            )
            if row[1] != linked.direction:
                connection.execute(
                    "UPDATE interaction SET direction = ? WHERE id = ?",
                    (linked.direction, subject.interaction_id),
                )
                changed = True
            for address, person_id in linked.person_of.items():
                connection.execute(
                    """UPDATE interaction_participant SET person_id = ?
                       WHERE interaction_id = ? AND address = ?
                         AND coalesce(person_id, '') != ?""",
                    (person_id, subject.interaction_id, address, person_id),
                )
            outcome.entities |= touched
            outcome.interactions += int(changed)
    return outcome


def interactions_with_addresses(
    connection: sqlite3.Connection, addresses: Iterable[str]
) -> list[str]:
    wanted = sorted({a.strip().lower() for a in addresses if a.strip()})
    found: set[str] = set()
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        found.update(
            row[0]
            for row in connection.execute(
                f"SELECT DISTINCT interaction_id FROM interaction_participant "
                f"WHERE address IN ({marks})",
                chunk,
            )
        )
    return sorted(found)


def interactions_with_domains(connection: sqlite3.Connection, domains: Iterable[str]) -> list[str]:
    """Interactions with an address at one of these domains or their subdomains (a scan
    of the participants: rare, rep-initiated)."""
    found: set[str] = set()
    for domain in sorted({d.strip().lower().strip(".") for d in domains if d.strip()}):
        found.update(
            row[0]
            for row in connection.execute(
                """SELECT DISTINCT interaction_id FROM interaction_participant
                   WHERE address LIKE '%@' || ? OR address LIKE '%.' || ?""",
                (domain, domain),
            )
        )
    return sorted(found)


def interactions_in_thread(connection: sqlite3.Connection, thread_key: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT id FROM interaction WHERE thread_key = ? AND deleted_at IS NULL",
            (thread_key,),
        )
    ]
