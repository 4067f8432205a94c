"""The demo book's content: a plan of companies, people, rhythms and deals, then rows.

Everything is drawn from one ``random.Random(seed)`` and dated relative to ``now``, and
ids are UUIDv7 built from the row's own moment and the same generator, so the same seed
and the same "now" give the same book, row for row.

The story the book tells (at every scale):
- the rep, Sam Rivera of Kestrel Data, sells four products against five competitors;
- each person has an own rhythm (weekly, bi-weekly, monthly, bi-monthly, quarterly or
  sporadic); most are in step, some are drifting or going cold, some ended long ago;
- fixed scenarios: a bi-weekly contact on a deal in negotiation silent for 45 days, a
  weekly one silent for 24 days, a quarterly one fine at 58 days, a brand-new contact;
- meetings today, tomorrow and later this week with people who have history, so My Day
  has briefings; open tasks, some overdue and some due today;
- notes and e-mails carrying feedback about products and competitors, lost deals with
  reasons and competitors, people who changed jobs, unknown senders in the review queue.
"""

from __future__ import annotations

import bisect
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from relbook.domain.names import comparison_key
from relbook.services.demo import text as tx
from relbook.services.demo import vocab as vc
from relbook.services.demo.bulk import BulkWriter, TableBuffer
from relbook.services.demo.scale import DemoCounts
from relbook.storage.sequence import base_seq

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000
WINDOW_DAYS = 730  # two years of history

EMAIL, MEETING, CALL, MESSAGE, OFFER = range(5)
_KIND_NAMES = ("email", "meeting", "call", "message", "offer")
# Rhythm classes: (typical gap in days, weight); 0 = sporadic (a few touches, no rhythm).
RHYTHMS = ((7, 3), (14, 9), (30, 24), (60, 18), (90, 26), (0, 20))
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$"}


def make_id(rng: random.Random, millis: int) -> str:
    """A UUIDv7 (RFC 9562) from a moment and the seeded generator: deterministic."""
    rand = rng.getrandbits(74)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ascii_slug(text: str, sep: str = "") -> str:
    folded = unicodedata.normalize("NFKD", text.translate(vc.ASCII_FOLD))
    plain = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == " "))
    return sep.join(plain.lower().split())


def iso_day(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).date().isoformat()


def money(minor: int, currency: str) -> str:
    return f"{CURRENCY_SIGNS.get(currency, currency + ' ')}{minor // 100:,}"


def _weekday_ms(millis: int, rng: random.Random) -> int:
    """The same moment moved off the weekend, at a working hour (07:30–17:30 UTC)."""
    day = millis // DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    if weekday >= 5:
        day -= weekday - 4
    return day * DAY + 7 * HOUR + 30 * MINUTE + rng.randrange(10 * HOUR // MINUTE) * MINUTE


# --------------------------------------------------------------------------- plans


@dataclass(slots=True)
class CompanyPlan:
    index: int
    id: str
    name: str
    short: str
    slug: str
    domains: list[str]
    country: str
    industry: str
    city: str
    employees: int
    currency: str
    customer: bool
    created_ms: int
    parent: int | None = None
    key_account: bool = False
    people: list[int] = field(default_factory=list)
    email_pattern: int = 0
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PersonPlan:
    index: int
    id: str
    given: str
    family: str
    name: str
    nationality: vc.Nationality
    company: int | None
    email: str
    title: str
    dept: str
    rhythm: int  # days; 0 = sporadic
    start_ms: int
    last_ms: int  # the planned last touch (now − silence)
    state: str  # active / drifting / cold / ended / new
    created_ms: int
    phone: str | None = None
    previous_company: int | None = None
    previous_email: str = ""
    previous_title: str = ""
    changed_ms: int = 0  # when they moved from previous_company to company
    scenario: str = ""
    deals: list[tuple[int, int, int]] = field(default_factory=list)  # (deal, from, to)
    touches: int = 0
    last_meeting: tuple[str, int] | None = None  # (interaction id, ms)
    tags: list[str] = field(default_factory=list)
    colleague: str = ""  # a colleague's name they mention

    def at(self, millis: int) -> tuple[int | None, str]:
        """Company and address at a moment (before a job change: the old ones)."""
        if self.previous_company is not None and millis < self.changed_ms:
            return self.previous_company, self.previous_email
        return self.company, self.email

    def available(self, millis: int) -> bool:
        """Whether adding them to a message at ``millis`` keeps their story intact."""
        return not self.scenario and self.start_ms <= millis <= self.last_ms


@dataclass(slots=True)
class StagePlan:
    id: str
    name: str
    kind: str
    probability: int
    position: int


@dataclass(slots=True)
class DealPlan:
    index: int
    id: str
    title: str
    company: int
    pipeline: int
    stage: int  # position in the pipeline's stages
    status: str
    amount: int
    currency: str
    product: str
    created_ms: int
    closed_ms: int | None
    stage_entered_ms: int
    people: list[tuple[int, str]] = field(default_factory=list)
    competitors: list[str] = field(default_factory=list)
    lost_reason: str = ""
    won_reason: str = ""

    @property
    def end_ms(self) -> int:
        return self.closed_ms if self.closed_ms is not None else 1 << 62


PIPELINES: tuple[tuple[str, tuple[tuple[str, str, int, int | None], ...]], ...] = (
    (
        "New business",
        (
            ("Lead", "open", 10, 30),
            ("Qualified", "open", 25, 30),
            ("Demo", "open", 40, 21),
            ("Proposal", "open", 60, 21),
            ("Negotiation", "open", 80, 14),
            ("Won", "won", 100, None),
            ("Lost", "lost", 0, None),
        ),
    ),
    (
        "Renewals",
        (
            ("Upcoming", "open", 70, 60),
            ("In discussion", "open", 80, 30),
            ("Renewed", "won", 100, None),
            ("Churned", "lost", 0, None),
        ),
    ),
)
LOST_REASONS = (
    ("Price: {competitor} came in about 20% lower", True),
    ("Chose {competitor} — they already use its mobile app", True),
    ("Went with the incumbent ({competitor})", True),
    ("No budget this year", False),
    ("Project postponed until after the reorganisation", False),
    ("Champion left the company", False),
    ("Decided to build it in-house", False),
)
WON_REASONS = (
    "Best fit for {trait}",
    "Strong reference from a peer in {industry}",
    "Faster implementation than {competitor}",
    "Three-year commitment with the agreed discount",
)
DEAL_ROLES = ("decision maker", "champion", "influencer", "finance", "user")
TASK_TITLES = (
    "Send {product} pricing to {first}",
    "Prepare the QBR deck for {company}",
    "Follow up on offer {offer_no}",
    "Call {first} about the renewal",
    "Book a workshop with {company}",
    "Check in with {first} — it has been a while",
    "Send the case study to {first}",
    "Ask {first} for a reference call",
    "Confirm the purchase order with {company}",
    "Update the forecast for {company}",
)
CUSTOM_FIELDS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    # (entity, key, label, type, choices)
    ("company", "segment", "Segment", "choice", ["Enterprise", "Mid-market", "SMB"]),
    ("company", "contract-renewal", "Contract renewal", "date", []),
    (
        "person",
        "preferred-language",
        "Preferred language",
        "choice",
        sorted({n.language for n in vc.NATIONALITIES}),
    ),
    ("deal", "budget-approved", "Budget approved", "choice", ["Yes", "No", "Unknown"]),
)
SAVED_VIEWS = (
    ("person", "Decision makers gone quiet", "tag:decision-maker last-touch>30d"),
    ("deal", "Big deals in negotiation", "stage:negotiation amount>10000"),
    ("company", "Key accounts", "tag:key-account"),
)
TAG_COLORS = {
    "key-account": "#c0392b",
    "champion": "#27ae60",
    "decision-maker": "#8e44ad",
    "at-risk": "#e67e22",
}


# ------------------------------------------------------------------------ columns

COLUMNS: dict[str, tuple[str, ...]] = {
    "setting": ("key", "value"),
    "tag": ("id", "name", "name_key", "color", "created_at", "updated_at", "version"),
    "custom_field_def": (
        "id", "entity_type", "key", "label", "field_type", "choices", "currency",
        "position", "required", "created_at", "updated_at", "version",
    ),
    "pipeline": ("id", "name", "position", "is_default", "created_at", "updated_at", "version"),
    "stage": (
        "id", "pipeline_id", "name", "position", "kind", "probability", "stale_after_days",
        "created_at", "updated_at", "version",
    ),
    "company": (
        "id", "name", "name_key", "website", "industry", "employees", "currency",
        "current_value_minor", "potential_value_minor", "parent_id", "about", "custom",
        "origin", "created_at", "updated_at", "version",
    ),
    "company_domain": ("company_id", "domain", "position"),
    "person": (
        "id", "given_name", "family_name", "display_name", "name_key", "title", "birthday",
        "about", "company_id", "custom", "cadence_days", "origin", "created_at",
        "updated_at", "version",
    ),
    "person_email": ("person_id", "address", "label", "position"),
    "person_phone": ("person_id", "number", "label", "position"),
    "person_address": (
        "person_id", "label", "street", "locality", "region", "postcode", "country", "position",
    ),
    "affiliation": (
        "id", "person_id", "company_id", "role", "department", "start_date", "end_date",
        "is_primary", "created_at", "updated_at", "version",
    ),
    "deal": (
        "id", "title", "company_id", "pipeline_id", "stage_id", "amount_minor", "currency",
        "probability", "expected_close", "status", "lost_reason", "won_reason",
        "competitors", "closed_at", "stage_entered_at", "description", "custom",
        "created_at", "updated_at", "version",
    ),
    "deal_person": ("deal_id", "person_id", "role"),
    "deal_stage_change": ("deal_id", "from_stage_id", "to_stage_id", "changed_at", "note"),
    "interaction": (
        "id", "seq", "kind", "direction", "status", "occurred_at", "ends_at", "all_day",
        "duration_minutes", "subject", "body", "privacy", "location", "source",
        "natural_key", "thread_key", "attachments", "size_bytes", "created_at",
        "updated_at", "version",
    ),
    "interaction_participant": ("interaction_id", "role", "address", "name", "person_id"),
    "interaction_link": (
        "interaction_id", "entity_id", "entity_type", "occurred_at", "kind", "direction",
        "origin", "reason", "excluded", "is_touch",
    ),
    "note": (
        "id", "body", "private", "pinned", "occurred_at", "person_id", "company_id",
        "deal_id", "interaction_id", "created_at", "updated_at", "version",
    ),
    "feedback": (
        "id", "topic", "subject", "sentiment", "quote", "occurred_at", "person_id",
        "company_id", "deal_id", "interaction_id", "note_id", "created_at", "updated_at",
        "version",
    ),
    "task": (
        "id", "title", "details", "due_at", "all_day", "reminder_at", "done_at", "priority",
        "person_id", "company_id", "deal_id", "created_at", "updated_at", "version",
    ),
    "entity_tag": ("tag_id", "entity_id", "entity_type"),
    "saved_view": (
        "id", "entity_type", "name", "filter_text", "columns", "sort", "position",
        "created_at", "updated_at", "version",
    ),
    "review_item": (
        "address", "name", "domain", "status", "first_seen_at", "last_seen_at",
        "message_count", "last_subject",
    ),
}  # fmt: skip


@dataclass
class _Thread:
    """What the messages of one thread share."""

    person: PersonPlan
    company: CompanyPlan | None
    address: str
    deal: DealPlan | None
    ctx: dict[str, str]
    cc: PersonPlan | None = None


class DemoGenerator:
    def __init__(self, seed: int, now: datetime, counts: DemoCounts) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.now_ms = int(now.timestamp() * 1000)
        self.today_ms = self.now_ms // DAY * DAY
        self.counts = counts
        self.companies: list[CompanyPlan] = []
        self.people: list[PersonPlan] = []
        self.deals: list[DealPlan] = []
        self.stages: list[list[StagePlan]] = []
        self.pipeline_ids: list[str] = []
        self.tag_ids: dict[str, str] = {}
        self.used_seqs: set[int] = set()
        self.used_addresses: set[str] = set()
        self.feedback_rate = 0.04
        self.extra_reply_mean = 0.0
        self.touch_total = 0
        self.interaction_total = 0

    # ------------------------------------------------------------------ helpers
    def id_at(self, millis: int) -> str:
        return make_id(self.rng, millis)

    def past(self, days_min: float, days_max: float) -> int:
        return self.now_ms - int(self.rng.uniform(days_min, days_max) * DAY)

    # ------------------------------------------------------------------ the plan
    def plan(self) -> None:
        self._plan_companies()
        self._plan_people()
        self._plan_deals()

    def _plan_companies(self) -> None:
        rng = self.rng
        n = self.counts.companies
        combos = [
            (stem, industry, word)
            for stem in vc.COMPANY_STEMS
            for industry in vc.INDUSTRIES
            for word in vc.INDUSTRY_WORDS[industry]
        ]
        rng.shuffle(combos)
        countries = [c for c, _ in vc.COUNTRY_WEIGHTS]
        weights = [w for _, w in vc.COUNTRY_WEIGHTS]
        used_names: set[str] = set()
        used_slugs: set[str] = set()
        short_domains: set[str] = set()
        combo_index = 0
        for index in range(n):
            created = self.past(120, 1400)
            parent: CompanyPlan | None = None
            if index >= 8 and rng.random() < 0.08:
                candidates = [c for c in self.companies[: index // 2] if c.parent is None]
                parent = rng.choice(candidates) if candidates else None
            country = rng.choices(countries, weights)[0]
            if parent is not None:
                industry = parent.industry
                short = parent.short
                base = f"{parent.short} {vc.COUNTRY_NAMES[country]}"
                slug = f"{parent.slug}-{country.lower()}"
            else:
                while True:
                    stem, industry, word = combos[combo_index % len(combos)]
                    round_ = combo_index // len(combos)
                    combo_index += 1
                    base = f"{stem} {word}" + (f" {round_ + 1}" if round_ else "")
                    slug = ascii_slug(base, "-")
                    if slug not in used_slugs:
                        break
                short = base
            legal = rng.choice(vc.LEGAL_FORMS[country])
            name = f"{base} {legal}"
            if name in used_names or slug in used_slugs:
                slug = f"{slug}-{index}"
                name = f"{base} {index} {legal}"
            used_names.add(name)
            used_slugs.add(slug)
            domains = [f"{slug}.example"]
            stem_slug = ascii_slug(short.split()[0])
            if parent is None and rng.random() < 0.25 and stem_slug not in short_domains:
                short_domains.add(stem_slug)
                domains.insert(0, f"{stem_slug}.example")
            if rng.random() < 0.15:
                domains.append(f"{slug}-group.test")
            employees = int(10 ** rng.uniform(1.2, 4.9))
            employees = int(round(employees, -len(str(employees)) + 2))
            currency = {"GB": "GBP", "US": "USD"}.get(country, "EUR")
            company = CompanyPlan(
                index=index,
                id=self.id_at(created),
                name=name,
                short=short,
                slug=slug,
                domains=domains,
                country=country,
                industry=industry,
                city=rng.choice(vc.CITIES[country]),
                employees=employees,
                currency=currency,
                customer=index < 4 or rng.random() < 0.55,
                created_ms=created,
                parent=parent.index if parent else None,
                email_pattern=rng.choices((0, 1, 2, 3), (70, 15, 8, 7))[0],
            )
            self.companies.append(company)
        # The first company is the scenario's key account; a few more by size.
        self.companies[0].employees = max(self.companies[0].employees, 4000)
        ranked = sorted(
            (c for c in self.companies if c.customer), key=lambda c: (-c.employees, c.index)
        )
        for company in [self.companies[0], *ranked[: max(2, n // 9)]]:
            company.key_account = True

    def _nationality(self, country: str) -> vc.Nationality:
        if self.rng.random() < 0.72:
            for nationality in vc.NATIONALITIES:
                if nationality.code == country:
                    return nationality
        return self.rng.choice(vc.NATIONALITIES)

    def _address(self, given: str, family: str, company: CompanyPlan | None) -> str:
        first, last = ascii_slug(given), ascii_slug(family)
        if company is None:
            domain = f"{last}-consulting.example"
            local = first
        else:
            domain = company.domains[0]
            local = (
                f"{first}.{last}",
                f"{first[0]}{last}",
                first if company.employees < 200 else f"{first}.{last}",
                f"{first[0]}.{last}",
            )[company.email_pattern]
        address = f"{local}@{domain}"
        suffix = 2
        while address in self.used_addresses:
            address = f"{local}{suffix}@{domain}"
            suffix += 1
        self.used_addresses.add(address)
        return address

    def _title(self) -> tuple[str, str]:
        rng = self.rng
        dept = rng.choice(vc.DEPARTMENTS)
        if rng.random() < 0.06:
            return rng.choice(vc.SENIOR_TITLES), "Management"
        pattern = rng.choices([p for p, _ in vc.TITLE_PATTERNS], [w for _, w in vc.TITLE_PATTERNS])[
            0
        ]
        return pattern.format(dept=dept), dept

    def _plan_people(self) -> None:
        rng = self.rng
        n = self.counts.people
        companies = self.companies
        # Every company has someone; bigger ones have more people we know.
        owners: list[int | None] = [c.index for c in companies]
        owners += [0] * 5
        cum: list[float] = []
        total = 0.0
        for plan in companies:
            total += plan.employees**0.35 * (2.5 if plan.key_account else 1.0)
            cum.append(total)
        while len(owners) < n:
            if rng.random() < 0.02:
                owners.append(None)  # a freelancer / consultant
            else:
                owners.append(bisect.bisect_left(cum, rng.random() * total))
        owners = owners[:n]
        phone_pool = self._phone_pool()
        window_start = self.now_ms - WINDOW_DAYS * DAY
        rhythm_values = [r for r, _ in RHYTHMS]
        rhythm_weights = [w for _, w in RHYTHMS]
        for index, owner in enumerate(owners):
            company = companies[owner] if owner is not None else None
            nationality = self._nationality(company.country if company else "GB")
            given = rng.choice(nationality.given)
            family = rng.choice(nationality.family)
            title, dept = self._title()
            rhythm = rng.choices(rhythm_values, rhythm_weights)[0]
            if rng.random() < 0.45:
                start = window_start - int(rng.uniform(0, 900)) * DAY
            else:
                start = self.past(30, WINDOW_DAYS)
            state = rng.choices(("active", "drifting", "cold", "ended"), (70, 10, 12, 8))[0]
            typical = rhythm or 120
            silence = {
                "active": rng.uniform(0.05, 1.0) * typical,
                "drifting": rng.uniform(1.3, 1.9) * typical,
                "cold": rng.uniform(2.5, 5.0) * typical,
                "ended": rng.uniform(200, 500),
            }[state]
            last = self.now_ms - int(silence * DAY) - rng.randrange(HOUR)
            if last <= max(start, window_start) + DAY:
                start = last - int(rng.uniform(3, 8) * max(typical, 14)) * DAY
            person = PersonPlan(
                index=index,
                id=self.id_at(start - int(rng.uniform(0, 60)) * DAY),
                given=given,
                family=family,
                name=f"{given} {family}",
                nationality=nationality,
                company=owner,
                email=self._address(given, family, company),
                title=title,
                dept=dept,
                rhythm=rhythm,
                start_ms=start,
                last_ms=last,
                state=state,
                created_ms=max(start, window_start) - int(rng.uniform(0, 20)) * DAY,
                colleague=(f"{rng.choice(nationality.given)} {rng.choice(nationality.family)}"),
            )
            if phone_pool and rng.random() < 0.45:
                person.phone = phone_pool.pop()
            if company is not None:
                company.people.append(index)
            self.people.append(person)
        self._scenarios()
        self._job_changes()

    def _phone_pool(self) -> list[str]:
        numbers = [
            (prefix + f"{i:0{width}d}").replace(" ", "")
            for prefix, low, high, width in vc.UK_DRAMA_RANGES
            for i in range(low, high)
        ]
        numbers += [f"+1{area}55501{i:02d}" for area in vc.US_AREA_CODES for i in range(100)]
        self.rng.shuffle(numbers)
        return numbers

    def _scenarios(self) -> None:
        """Fixed stories, at every scale, in the key account and the next companies."""
        key = self.companies[0]
        people = self.people

        def setup(
            person: PersonPlan, tag: str, rhythm: int, silent_days: float, start_days: int
        ) -> None:
            person.scenario = tag
            person.rhythm = rhythm
            person.state = "cold" if silent_days > 2 * rhythm else "active"
            person.start_ms = self.now_ms - start_days * DAY
            person.created_ms = person.start_ms - 3 * DAY
            person.last_ms = self.now_ms - int(silent_days * DAY)

        # The people of the key account (it has at least six).
        staff = key.people
        setup(people[staff[0]], "going-cold", 14, 45, 560)
        people[staff[0]].title = "Head of Procurement"
        setup(people[staff[1]], "champion", 7, 2, 420)
        setup(people[self.companies[1].people[0]], "cold-weekly", 7, 24, 300)
        setup(people[self.companies[2].people[0]], "quietly-fine", 90, 58, 700)
        setup(people[self.companies[3].people[0]], "new-contact", 6, 3, 12)

    def _job_changes(self) -> None:
        rng = self.rng
        for person in self.people:
            if person.scenario or person.company is None or rng.random() > 0.07:
                continue
            if person.last_ms - person.start_ms < 120 * DAY:
                continue
            old = rng.randrange(len(self.companies))
            if old == person.company:
                continue
            old_company = self.companies[old]
            person.previous_company = old
            person.previous_title = self._title()[0]
            person.previous_email = self._address(person.given, person.family, old_company)
            person.changed_ms = person.start_ms + int(
                rng.uniform(0.3, 0.7) * (person.last_ms - person.start_ms)
            )
            person.tags.append("changed-jobs")

    def _plan_deals(self) -> None:
        rng = self.rng
        for position, (_name, stages) in enumerate(PIPELINES):
            created = self.now_ms - 1500 * DAY
            self.pipeline_ids.append(make_id(rng, created + position))
            self.stages.append(
                [
                    StagePlan(make_id(rng, created + position), s[0], s[1], s[2], i)
                    for i, s in enumerate(stages)
                ]
            )
        n = self.counts.deals
        customers = [c for c in self.companies if c.customer and c.people]
        with_people = [c for c in self.companies if c.people]
        for index in range(n):
            if index == 0:
                company, pipeline, status = self.companies[0], 0, "open"
            else:
                renewal = rng.random() < 0.3
                pipeline = 1 if renewal else 0
                pool = customers if renewal else with_people
                if rng.random() < 0.35:
                    pool = [c for c in pool if c.key_account] or pool
                company = rng.choice(pool)
                status = rng.choices(("open", "won", "lost"), (50, 28, 22))[0]
            self.deals.append(self._deal(index, company, pipeline, status))

    def _deal(self, index: int, company: CompanyPlan, pipeline: int, status: str) -> DealPlan:
        rng = self.rng
        stages = self.stages[pipeline]
        open_stages = [s for s in stages if s.kind == "open"]
        product = rng.choice(vc.PRODUCTS)
        if status == "open":
            created = self.past(8, 320)
            stage = rng.choice(open_stages).position
            stage_age = rng.choice((rng.uniform(1, 12), rng.uniform(10, 45), rng.uniform(40, 150)))
            entered = max(created, self.now_ms - int(stage_age * DAY))
            closed = None
        else:
            created = self.past(60, WINDOW_DAYS)
            closed = min(created + int(rng.uniform(20, 200) * DAY), self.now_ms - DAY)
            stage = next(s.position for s in stages if s.kind == status)
            entered = closed
        if index == 0:  # the scenario deal: in negotiation, stuck for 40 days
            created = self.now_ms - 150 * DAY
            stage = next(s.position for s in stages if s.name == "Negotiation")
            entered = self.now_ms - 40 * DAY
        size = max(5_000, min(600_000, int(company.employees**0.6 * 180)))
        amount = int(size * rng.uniform(0.5, 1.6)) // 500 * 500 * 100
        seats = max(10, company.employees // rng.choice((4, 8, 20)))
        title = rng.choice(
            (
                f"{company.short} — {product}",
                f"{product} rollout {vc.COUNTRY_NAMES[company.country]}",
                f"{product} for {seats} users",
                f"{company.short}: {product} pilot",
            )
        )
        if pipeline == 1:
            year = datetime.fromtimestamp(created / 1000, UTC).year + 1
            title = f"Renewal {year} — {company.short}"
        deal = DealPlan(
            index=index,
            id=self.id_at(created),
            title=title,
            company=company.index,
            pipeline=pipeline,
            stage=stage,
            status=status,
            amount=amount,
            currency=company.currency,
            product=product,
            created_ms=created,
            closed_ms=closed,
            stage_entered_ms=entered,
        )
        competitor = rng.choice(vc.COMPETITORS)
        if status == "lost":
            reason, names_competitor = rng.choice(LOST_REASONS)
            deal.lost_reason = reason.format(competitor=competitor)
            if names_competitor or rng.random() < 0.4:
                deal.competitors = [competitor]
        elif status == "won":
            deal.won_reason = rng.choice(WON_REASONS).format(
                trait=rng.choice(vc.PRODUCT_TRAITS[product]),
                industry=company.industry.lower(),
                competitor=competitor,
            )
            if rng.random() < 0.3:
                deal.competitors = [competitor]
        elif rng.random() < 0.35 or index == 0:
            deal.competitors = sorted({competitor, rng.choice(vc.COMPETITORS)})
        # The people on it: those we talked to while it ran.
        staff = company.people[:]
        rng.shuffle(staff)
        if index == 0:
            staff = company.people[:2] + [p for p in staff if p not in company.people[:2]]
        chosen = [
            p
            for p in staff
            if self.people[p].start_ms < deal.end_ms and self.people[p].last_ms > created
        ][: rng.choice((1, 1, 2, 2, 3, 4))]
        if not chosen:
            chosen = staff[:1]
        for position, person_index in enumerate(chosen):
            role = DEAL_ROLES[0] if position == 0 else rng.choice(DEAL_ROLES[1:])
            deal.people.append((person_index, role))
            end = deal.closed_ms if deal.closed_ms is not None else self.now_ms + 365 * DAY
            self.people[person_index].deals.append((index, created, end))
            if role in ("decision maker", "champion") and role.replace(" ", "-") not in (
                self.people[person_index].tags
            ):
                self.people[person_index].tags.append(role.replace(" ", "-"))
        return deal

    # ------------------------------------------------------------------ writing
    def write(self, writer: BulkWriter, progress: Callable[[float], None]) -> None:
        b = {table: writer.define(table, columns) for table, columns in COLUMNS.items()}
        self._write_setup(writer, b)
        self._write_companies(writer, b)
        self._write_people(writer, b)
        self._write_deals(writer, b)
        writer.flush()
        touches = self._touch_skeleton()
        self.touch_total = len(touches)
        emails = sum(1 for t in touches if (t & 7) in (EMAIL, OFFER)) or 1
        self.extra_reply_mean = max(0.0, (self.counts.interactions - len(touches)) / emails)
        self.interaction_total = self.counts.interactions
        step = max(1, len(touches) // 200)
        for position, packed in enumerate(touches):
            millis = packed >> 24
            person = self.people[(packed >> 3) & 0x1F_FFFF]
            kind = packed & 7
            self._touch(writer, b, person, millis, kind)
            if position % step == 0:
                progress(position / len(touches))
        self._planned_meetings(writer, b)
        self._write_notes(writer, b)
        self._write_tasks(writer, b)
        self._write_review(writer, b)
        writer.flush()
        progress(1.0)

    def _stamp(self, millis: int) -> tuple[int, int, int]:
        return (millis, millis, 1)

    def _write_setup(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        settings = {
            "internal_domains": [vc.REP_DOMAIN],
            "my_addresses": sorted(vc.REP_ADDRESSES),
            "currency": "EUR",
        }
        for key, value in settings.items():
            writer.add(b["setting"], (key, json.dumps(value)))
        created = self.now_ms - 1500 * DAY
        from relbook.services.tags import tag_key

        names = [*vc.COMPANY_TAGS, *vc.PERSON_TAGS, "changed-jobs", "newsletter"]
        for name in dict.fromkeys(names):
            tag_id = make_id(rng, created)
            self.tag_ids[name] = tag_id
            writer.add(
                b["tag"],
                (tag_id, name, tag_key(name), TAG_COLORS.get(name, ""), *self._stamp(created)),
            )
        for position, (entity, key, label, kind, choices) in enumerate(CUSTOM_FIELDS):
            writer.add(
                b["custom_field_def"],
                (
                    make_id(rng, created),
                    entity,
                    key,
                    label,
                    kind,
                    json.dumps(choices),
                    "",
                    position,
                    0,
                    *self._stamp(created),
                ),
            )
        for position, (name, _stages) in enumerate(PIPELINES):
            writer.add(
                b["pipeline"],
                (self.pipeline_ids[position], name, position, int(position == 0),
                 *self._stamp(created)),
            )  # fmt: skip
            for stage, spec in zip(self.stages[position], _stages, strict=True):
                writer.add(
                    b["stage"],
                    (stage.id, self.pipeline_ids[position], stage.name, stage.position,
                     stage.kind, stage.probability, spec[3], *self._stamp(created)),
                )  # fmt: skip
        for position, (entity, name, filter_text) in enumerate(SAVED_VIEWS):
            writer.add(
                b["saved_view"],
                (make_id(rng, created), entity, name, filter_text, "[]", "[]", position,
                 *self._stamp(created)),
            )  # fmt: skip

    def _tag(self, writer: BulkWriter, b: dict[str, TableBuffer], kind: str, eid: str,
             names: list[str]) -> None:  # fmt: skip
        for name in dict.fromkeys(names):
            writer.add(b["entity_tag"], (self.tag_ids[name], eid, kind))

    def _write_companies(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        for c in self.companies:
            segment = (
                "Enterprise"
                if c.employees >= 2000
                else "Mid-market"
                if c.employees >= 200
                else "SMB"
            )
            custom: dict[str, Any] = {"segment": segment}
            size = max(5_000, min(600_000, int(c.employees**0.6 * 180)))
            current = None
            if c.customer:
                current = int(size * rng.uniform(0.4, 1.2)) // 100 * 10_000
                renewal = self.now_ms + int(rng.uniform(-20, 330)) * DAY
                custom["contract-renewal"] = iso_day(renewal)
            potential = int(size * rng.uniform(1.5, 4.0)) // 100 * 10_000
            if c.key_account:
                c.tags.append("key-account")
            if c.customer and rng.random() < 0.12:
                c.tags.append("reference-customer")
            if rng.random() < 0.05:
                c.tags.append("partner")
            if c.industry == "Public Sector":
                c.tags.append("public-sector")
            if c.customer and rng.random() < 0.08:
                c.tags.append("at-risk")
            about = ""
            if rng.random() < 0.4:
                about = rng.choice(vc.COMPANY_ABOUT).format(
                    industry=c.industry,
                    employees=f"{c.employees:,}",
                    city=c.city,
                    competitor=rng.choice(vc.COMPETITORS),
                )
            parent_id = self.companies[c.parent].id if c.parent is not None else None
            writer.add(
                b["company"],
                (c.id, c.name, comparison_key(c.name), f"https://www.{c.domains[0]}", c.industry,
                 c.employees, c.currency, current, potential, parent_id, about,
                 json.dumps(custom, sort_keys=True), "demo", *self._stamp(c.created_ms)),
            )  # fmt: skip
            for position, domain in enumerate(c.domains):
                writer.add(b["company_domain"], (c.id, domain, position))
            self._tag(writer, b, "company", c.id, c.tags)

    def _write_people(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        for p in self.people:
            company = self.companies[p.company] if p.company is not None else None
            custom: dict[str, Any] = {}
            if rng.random() < 0.6:
                custom["preferred-language"] = p.nationality.language
            birthday = None
            if rng.random() < 0.2:
                year = rng.randrange(1960, 2000)
                day = f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                birthday = f"--{day}" if rng.random() < 0.3 else f"{year}-{day}"
            about = ""
            if rng.random() < 0.2:
                about = rng.choice(vc.PERSON_ABOUT).format(
                    conference=rng.choice(vc.CONFERENCES),
                    trait=rng.choice(vc.PRODUCT_TRAITS[rng.choice(vc.PRODUCTS)]),
                    colleague=rng.choice(vc.COLLEAGUES)[0],
                    competitor=rng.choice(vc.COMPETITORS),
                )
            cadence = rng.choice((14, 30, 60)) if rng.random() < 0.05 else None
            if p.scenario == "going-cold":
                cadence = None
            writer.add(
                b["person"],
                (p.id, p.given, p.family, p.name, comparison_key(p.name), p.title, birthday,
                 about, company.id if company else None, json.dumps(custom, sort_keys=True),
                 cadence, "demo", *self._stamp(p.created_ms)),
            )  # fmt: skip
            writer.add(b["person_email"], (p.id, p.email, "work", 0))
            if p.previous_email:
                writer.add(b["person_email"], (p.id, p.previous_email, "previous job", 1))
            if p.phone:
                label = "mobile" if p.phone.startswith(("+447", "+1")) else "work"
                writer.add(b["person_phone"], (p.id, p.phone, label, 0))
            if company is not None and rng.random() < 0.12:
                writer.add(
                    b["person_address"],
                    (p.id, "work", f"{rng.randrange(1, 180)} {rng.choice(vc.STREETS)}",
                     company.city, "", f"{rng.randrange(1000, 99999):05d}",
                     vc.COUNTRY_NAMES[company.country], 0),
                )  # fmt: skip
            if "newsletter" not in p.tags and rng.random() < 0.1:
                p.tags.append("newsletter")
            if p.dept in ("IT", "Engineering", "Data & Analytics") and rng.random() < 0.3:
                p.tags.append("technical")
            if p.title in vc.SENIOR_TITLES and "decision-maker" not in p.tags:
                p.tags.append("decision-maker")
            if rng.random() < 0.02:
                p.tags.append("detractor")
            self._tag(writer, b, "person", p.id, p.tags)
            self._write_affiliations(writer, b, p)

    def _write_affiliations(self, writer: BulkWriter, b: dict[str, TableBuffer],
                            p: PersonPlan) -> None:  # fmt: skip
        rng = self.rng
        if p.previous_company is not None:
            began = iso_day(p.start_ms - int(rng.uniform(200, 2000)) * DAY)
            writer.add(
                b["affiliation"],
                (self.id_at(p.created_ms), p.id, self.companies[p.previous_company].id,
                 p.previous_title, "", began, iso_day(p.changed_ms - 10 * DAY), 1,
                 *self._stamp(p.created_ms)),
            )  # fmt: skip
            start = iso_day(p.changed_ms)
        else:
            start = iso_day(p.start_ms - int(rng.uniform(30, 3000)) * DAY)
        if p.company is not None:
            writer.add(
                b["affiliation"],
                (self.id_at(p.created_ms), p.id, self.companies[p.company].id, p.title,
                 p.dept, start, None, 1, *self._stamp(p.created_ms)),
            )  # fmt: skip

    def _write_deals(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        for d in self.deals:
            stages = self.stages[d.pipeline]
            stage = stages[d.stage]
            company = self.companies[d.company]
            if d.status == "open":
                close = self.now_ms + int(rng.uniform(-25, 150)) * DAY
                expected = iso_day(close)
                custom = json.dumps({"budget-approved": rng.choice(("Yes", "No", "Unknown"))})
            else:
                expected = iso_day(d.closed_ms or self.now_ms)
                custom = "{}"
            probability = (
                None
                if rng.random() < 0.8 or d.status != "open"
                else rng.choice((20, 35, 50, 65, 90))
            )
            description = (
                f"{d.product} for {company.short}: "
                f"{rng.choice(vc.PRODUCT_TRAITS[d.product])} is what they care about most."
            )
            writer.add(
                b["deal"],
                (d.id, d.title, company.id, self.pipeline_ids[d.pipeline], stage.id, d.amount,
                 d.currency, probability, expected, d.status, d.lost_reason, d.won_reason,
                 json.dumps(d.competitors), d.closed_ms, d.stage_entered_ms, description,
                 custom, *self._stamp(d.created_ms)),
            )  # fmt: skip
            for person_index, role in d.people:
                writer.add(b["deal_person"], (d.id, self.people[person_index].id, role))
            # Its walk through the stages.
            path = [s for s in stages if s.kind == "open" and s.position < stage.position]
            path = path[: rng.randrange(1, len(path) + 1)] if path else []
            steps = [*path, stage]
            span = max(d.stage_entered_ms - d.created_ms, len(steps))
            previous: str | None = None
            for i, step in enumerate(steps):
                at = d.created_ms + span * i // max(1, len(steps) - 1) if i else d.created_ms
                if step is stage:
                    at = d.stage_entered_ms
                writer.add(b["deal_stage_change"], (d.id, previous, step.id, at, ""))
                previous = step.id

    # --------------------------------------------------------------- interactions
    def _touch_skeleton(self) -> list[int]:
        """Every touch as a packed int (ms << 24 | person << 3 | kind), sorted by time."""
        rng = self.rng
        window_start = self.now_ms - WINDOW_DAYS * DAY
        packed: list[int] = []
        for p in self.people:
            times: list[int] = []
            begin = max(p.start_ms, window_start)
            if p.rhythm == 0:
                n = rng.randrange(1, 5)
                times = [p.last_ms] + [
                    rng.randrange(begin, p.last_ms) for _ in range(n - 1) if p.last_ms > begin
                ]
            else:
                at = p.last_ms
                sigma = 0.12 if p.rhythm <= 14 else 0.2
                while at >= begin:
                    times.append(at)
                    at -= int(p.rhythm * rng.lognormvariate(0, sigma) * DAY)
            has_deal = bool(p.deals)
            for i, at in enumerate(times):
                moment = at if i == 0 else _weekday_ms(at, rng)
                if i == 0:
                    moment = min(_weekday_ms(at, rng), self.now_ms - HOUR)
                    if p.scenario:  # the scenarios' silences are exact
                        moment = at
                kind = rng.choices((EMAIL, MEETING, CALL, MESSAGE, OFFER), (68, 13, 14, 3, 2))[0]
                if kind == OFFER and not (has_deal and self._deal_at(p, moment)):
                    kind = EMAIL
                packed.append((moment << 24) | (p.index << 3) | kind)
            p.touches = len(times)
        packed.sort()
        return packed

    def _deal_at(self, p: PersonPlan, millis: int) -> DealPlan | None:
        found = None
        for deal_index, start, end in p.deals:
            if start <= millis <= end:
                found = self.deals[deal_index]
        return found

    def _ctx(self, p: PersonPlan, company: CompanyPlan | None, deal: DealPlan | None,
             millis: int) -> dict[str, str]:  # fmt: skip
        rng = self.rng
        product = deal.product if deal else rng.choice(vc.PRODUCTS)
        currency = company.currency if company else "EUR"
        amount = deal.amount if deal else rng.randrange(20, 400) * 100_000
        moment = datetime.fromtimestamp(millis / 1000, UTC)
        country = company.country if company else "GB"
        return {
            "first": p.given,
            "name": p.name,
            "product": product,
            "trait": rng.choice(vc.PRODUCT_TRAITS[product]),
            "company": company.short if company else p.family,
            "competitor": (
                deal.competitors[0] if deal and deal.competitors else rng.choice(vc.COMPETITORS)
            ),
            "weekday": tx.weekday(rng),
            "month": tx.month_name((moment.month + rng.randrange(0, 3)) % 12),
            "year": str(moment.year + (moment.month >= 10)),
            "quarter": str((moment.month - 1) // 3 + 1),
            "seats": str(rng.choice((25, 40, 60, 80, 120, 150, 250, 400))),
            "amount": money(amount, currency),
            "amount2": money(amount // rng.choice((4, 5, 6)), currency),
            "discount": str(rng.choice((5, 8, 10, 12, 15))),
            "offer_no": f"KD-{moment.year}-{rng.randrange(1000, 9999)}",
            "po": f"PO{rng.randrange(4_000_000, 4_999_999)}",
            "ticket": f"#{rng.randrange(10_000, 99_999)}",
            "invoice": f"INV-{moment.year}{rng.randrange(10_000, 99_999)}",
            "cost_centre": str(rng.randrange(1000, 9999)),
            "users": str(rng.randrange(12, 400)),
            "days": str(rng.randrange(2, 5)),
            "country": vc.COUNTRY_NAMES[country],
            "city": company.city if company else "London",
            "industry": (company.industry if company else "consulting").lower(),
            "dept": p.dept,
            "colleague": rng.choice(vc.COLLEAGUES)[0],
            "colleague_them": p.colleague,
            "conference": rng.choice(vc.CONFERENCES),
            "language": p.nationality.language,
            "minutes": str(rng.randrange(5, 45)),
        }

    def _topic(self, p: PersonPlan, company: CompanyPlan | None, deal: DealPlan | None,
               millis: int, kind: int) -> tx.Topic:  # fmt: skip
        rng = self.rng
        if kind == OFFER:
            return tx.TOPIC_BY_NAME["offer"]
        if deal is not None and deal.pipeline == 1 and deal.status == "open":
            names: tuple[str, ...] = ("renewal", "renewal", "scheduling", "pricing")
        elif deal is not None and deal.closed_ms is None:
            span = max(1, deal.stage_entered_ms - deal.created_ms)
            phase = (millis - deal.created_ms) / span * (deal.stage + 1) / 5
            names = (
                ("intro", "demo", "scheduling")
                if phase < 0.35
                else ("demo", "pricing", "scheduling")
                if phase < 0.7
                else ("pricing", "negotiation", "negotiation")
            )
        elif (
            deal is not None and deal.status == "won" and millis - (deal.closed_ms or 0) < 90 * DAY
        ):
            names = ("onboarding", "onboarding", "support")
        elif company is not None and company.customer:
            names = ("support", "review", "checkin", "invoice", "scheduling", "renewal")
        else:
            names = ("intro", "checkin", "scheduling", "demo")
        return tx.TOPIC_BY_NAME[rng.choice(names)]

    def _seq(self, millis: int, key: str) -> int:
        seq = base_seq(millis, key)
        while seq in self.used_seqs:
            seq += 1
        self.used_seqs.add(seq)
        return seq

    def _touch(self, writer: BulkWriter, b: dict[str, TableBuffer], p: PersonPlan,
               millis: int, kind: int) -> None:  # fmt: skip
        company_index, address = p.at(millis)
        company = self.companies[company_index] if company_index is not None else None
        deal = self._deal_at(p, millis) if p.deals else None
        if deal is not None and deal.company != company_index:
            deal = None
        thread = _Thread(p, company, address, deal, self._ctx(p, company, deal, millis))
        if kind == MEETING:
            self._meeting(writer, b, thread, millis, "done")
        elif kind == CALL:
            self._call(writer, b, thread, millis)
        elif kind == MESSAGE:
            self._message(writer, b, thread, millis)
        else:
            self._email_thread(writer, b, thread, millis, kind)

    def _colleague_of(self, thread: _Thread, millis: int) -> PersonPlan | None:
        """Someone else at the same company who is in touch at that time, or None."""
        company = thread.company
        if company is None or len(company.people) < 2:
            return None
        other = self.people[self.rng.choice(company.people)]
        if (
            other is thread.person
            or not other.available(millis)
            or other.at(millis)[0] != (company.index)
        ):
            return None
        return other

    def _links(self, writer: BulkWriter, b: dict[str, TableBuffer], iid: str, millis: int,
               kind: str, direction: str, thread: _Thread, people: list[tuple[PersonPlan, str]],
               *, is_touch: int = 1, deal_reason: str = "") -> None:  # fmt: skip
        link = b["interaction_link"]
        seen: set[str] = set()
        for person, reason in people:
            if person.id in seen:
                continue
            seen.add(person.id)
            writer.add(
                link,
                (iid, person.id, "person", millis, kind, direction, "auto", reason, 0, is_touch),
            )
        company = thread.company
        if company is not None:
            domain = thread.address.partition("@")[2]
            reason = (
                f"sender's domain {domain} belongs to {company.name}"
                if direction == "inbound"
                else f"{thread.person.name} works at {company.name}"
            )
            writer.add(
                link,
                (iid, company.id, "company", millis, kind, direction, "auto", reason, 0, is_touch),
            )
        if thread.deal is not None:
            reason = deal_reason or f"{thread.person.name} is on the deal “{thread.deal.title}”"
            writer.add(
                link,
                (iid, thread.deal.id, "deal", millis, kind, direction, "auto", reason, 0, is_touch),
            )

    def _interaction(self, writer: BulkWriter, b: dict[str, TableBuffer], *, millis: int,
                     kind: str, direction: str, subject: str, body: str, status: str = "done",
                     ends: int | None = None, duration: int | None = None, location: str = "",
                     natural_key: str | None = None, thread_key: str | None = None,
                     attachments: str = "[]", created: int | None = None) -> str:  # fmt: skip
        iid = self.id_at(millis)
        seq = self._seq(millis, natural_key or iid)
        size = len(body) + len(subject) + 900 if kind in {"email", "offer"} else None
        stamp = created if created is not None else millis
        writer.add(
            b["interaction"],
            (iid, seq, kind, direction, status, millis, ends, 0, duration, subject, body, "full",
             location, "demo", natural_key, thread_key, attachments, size, stamp, stamp, 1),
        )  # fmt: skip
        return iid

    def _signature(self, p: PersonPlan, company: CompanyPlan | None) -> str:
        lines = [p.name, p.title]
        if company is not None:
            lines.append(company.name)
        if p.phone:
            lines.append(p.phone)
        return "\n".join(lines)

    _REP_SIGNATURE = (
        f"{vc.REP_GIVEN} {vc.REP_FAMILY}\n{vc.REP_TITLE} | {vc.REP_COMPANY}\n{vc.REP_PHONE}\n"
        f"www.{vc.REP_DOMAIN}"
    )

    def _email_thread(self, writer: BulkWriter, b: dict[str, TableBuffer], thread: _Thread,
                      millis: int, kind: int) -> None:  # fmt: skip
        rng = self.rng
        p = thread.person
        topic = self._topic(p, thread.company, thread.deal, millis, kind)
        ctx = thread.ctx
        subject = tx.fill(rng.choice(topic.subjects), ctx)
        inbound = kind != OFFER and rng.random() < 0.5
        extra = 0
        mean = self.extra_reply_mean
        if mean > 0:
            while extra < 6 and rng.random() < mean / (1 + mean):
                extra += 1
        cc = self._colleague_of(thread, millis) if rng.random() < 0.25 else None
        internal_cc = rng.choice(vc.COLLEAGUES) if rng.random() < 0.15 else None
        domain = thread.address.partition("@")[2]
        root_key: str | None = None
        previous_body = ""
        previous_from = ""
        at = millis
        day_end = millis // DAY * DAY + DAY - MINUTE
        for message in range(1 + extra):
            if message:
                at = min(at + rng.randrange(15, 240) * MINUTE, day_end, self.now_ms - MINUTE)
                if at <= millis:
                    break
            from_them = inbound if message % 2 == 0 else not inbound
            direction = "inbound" if from_them else "outbound"
            stamp = datetime.fromtimestamp(at / 1000, UTC)
            key = (
                f"<{stamp:%Y%m%d%H%M%S}.{rng.getrandbits(40):010x}@"
                f"{domain if from_them else 'mail.' + vc.REP_DOMAIN}>"
            )
            feedback = None
            if from_them and rng.random() < self.feedback_rate:
                feedback = rng.choice(tx.FEEDBACK_LINES)
            body = self._email_body(thread, topic, from_them, message, previous_body,
                                    previous_from, at, feedback)  # fmt: skip
            kind_name = "offer" if kind == OFFER and message == 0 else "email"
            attachments = "[]"
            if kind_name == "offer":
                attachments = json.dumps(
                    [
                        {
                            "name": f"Offer {ctx['offer_no']}.pdf",
                            "size": rng.randrange(90, 900) * 1024,
                        }
                    ]
                )
            iid = self._interaction(
                writer, b, millis=at, kind=kind_name, direction=direction,
                subject=subject if message == 0 else f"Re: {subject}", body=body,
                natural_key=key, thread_key=root_key or key, attachments=attachments,
            )  # fmt: skip
            root_key = root_key or key
            part = b["interaction_participant"]
            rep = (vc.REP_ADDRESSES[0], f"{vc.REP_GIVEN} {vc.REP_FAMILY}", None)
            them = (thread.address, p.name, p.id)
            sender, recipient = (them, rep) if from_them else (rep, them)
            writer.add(part, (iid, "from", *sender))
            writer.add(part, (iid, "to", *recipient))
            people = [(p, f"{'sender' if from_them else 'recipient'} {thread.address} is {p.name}")]
            if cc is not None:
                cc_address = cc.at(at)[1]
                writer.add(part, (iid, "cc", cc_address, cc.name, cc.id))
                people.append((cc, f"copied {cc_address} is {cc.name}"))
            if internal_cc is not None:
                writer.add(part, (iid, "cc", internal_cc[1], internal_cc[0], None))
            deal_reason = ""
            if thread.deal is not None and message:
                deal_reason = f"reply in a thread of the deal “{thread.deal.title}”"
            elif kind_name == "offer" and thread.deal is not None:
                deal_reason = f"offer {ctx['offer_no']} for the deal “{thread.deal.title}”"
            self._links(writer, b, iid, at, kind_name, direction, thread, people,
                        deal_reason=deal_reason)  # fmt: skip
            if feedback is not None:
                self._feedback(writer, b, feedback, thread, at, interaction_id=iid)
            previous_body = body
            previous_from = p.name if from_them else f"{vc.REP_GIVEN} {vc.REP_FAMILY}"

    def _email_body(self, thread: _Thread, topic: tx.Topic, from_them: bool, message: int,
                    previous_body: str, previous_from: str, at: int,
                    feedback: tuple[str, str, str, str] | None) -> str:  # fmt: skip
        rng = self.rng
        p = thread.person
        ctx = thread.ctx
        if from_them:
            greeting = p.nationality.greeting.format(first=vc.REP_GIVEN)
            closing = rng.choice(tx.CLOSINGS_THEM)
            signature = self._signature(p, thread.company)
        else:
            greeting = f"Hi {p.given},"
            closing = rng.choice(tx.CLOSINGS_US)
            signature = self._REP_SIGNATURE
        target = rng.randrange(1000, 1900)
        head = [greeting]
        if feedback is not None:
            head.append(tx.fill(feedback[3], ctx))
        tail = [closing, signature]
        if message == 0:
            filler = tx.paragraph_stream(rng, topic.paragraphs, ctx)
            return tx.email_body(head, filler, tail, target, ctx)
        head.append(tx.fill(rng.choice(tx.REPLY_OPENERS), ctx))
        stamp = datetime.fromtimestamp(at / 1000, UTC)
        return tx.email_body(
            head, tx.paragraph_stream(rng, tx.REPLY_PARAGRAPHS, ctx, most=2), tail, target, ctx,
            quote_intro=f"On {stamp:%a, %d %b %Y}, {previous_from} wrote:",
            quoted=previous_body, own_chars=rng.randrange(150, 450),
        )  # fmt: skip

    def _meeting(self, writer: BulkWriter, b: dict[str, TableBuffer], thread: _Thread,
                 millis: int, status: str, attendees: list[PersonPlan] | None = None,
                 created: int | None = None) -> str:  # fmt: skip
        rng = self.rng
        p = thread.person
        ctx = thread.ctx
        company = thread.company
        subject = tx.fill(rng.choice(tx.MEETING_SUBJECTS), ctx)
        duration = rng.choice((30, 30, 45, 60, 60, 90))
        if attendees is None:
            attendees = [p]
            extra = self._colleague_of(thread, millis) if rng.random() < 0.4 else None
            if extra is not None:
                attendees.append(extra)
        location = rng.choice(
            ("Microsoft Teams", "Zoom", f"{company.short} office, {company.city}"
             if company else "Café Central", f"{vc.REP_COMPANY} office, London")
        )  # fmt: skip
        agenda = rng.sample(tx.MEETING_AGENDA, rng.randrange(3, 6))
        lines = ["Agenda:"] + [f"- {tx.fill(a, ctx)}" for a in agenda]
        feedback = None
        if status == "done":
            lines += ["", "Notes:"]
            notes = rng.sample(tx.MEETING_NOTES, rng.randrange(3, 7))
            lines += [f"- {tx.fill(n, ctx)}" for n in notes]
            lines += ["", "Next steps:"]
            steps = rng.sample(tx.MEETING_NEXT_STEPS, rng.randrange(2, 4))
            lines += [f"- {tx.fill(n, ctx)}" for n in steps]
            if rng.random() < self.feedback_rate * 2:
                feedback = rng.choice(tx.FEEDBACK_LINES)
                lines.append(f"- {p.given}: “{tx.fill(feedback[3], ctx)}”")
        body = "\n".join(lines)
        stamp = datetime.fromtimestamp(millis / 1000, UTC)
        uid = f"{stamp:%Y%m%dT%H%M%S}-{rng.getrandbits(48):012x}@{vc.REP_DOMAIN}"
        iid = self._interaction(
            writer, b, millis=millis, kind="meeting", direction="none", subject=subject,
            body=body, status=status, ends=millis + duration * MINUTE, duration=duration,
            location=location, natural_key=uid, created=created,
        )  # fmt: skip
        part = b["interaction_participant"]
        writer.add(
            part, (iid, "organizer", vc.REP_ADDRESSES[0], f"{vc.REP_GIVEN} {vc.REP_FAMILY}", None)
        )
        people: list[tuple[PersonPlan, str]] = []
        for person in attendees:
            address = person.at(millis)[1]
            writer.add(part, (iid, "attendee", address, person.name, person.id))
            people.append((person, f"attendee {address} is {person.name}"))
        if rng.random() < 0.3:
            colleague = rng.choice(vc.COLLEAGUES)
            writer.add(part, (iid, "attendee", colleague[1], colleague[0], None))
        is_touch = 0 if status == "cancelled" else 1
        self._links(writer, b, iid, millis, "meeting", "none", thread, people, is_touch=is_touch)
        if status == "done":
            p.last_meeting = (iid, millis)
        if feedback is not None:
            self._feedback(writer, b, feedback, thread, millis, interaction_id=iid)
        return iid

    def _call(self, writer: BulkWriter, b: dict[str, TableBuffer], thread: _Thread,
              millis: int) -> None:  # fmt: skip
        rng = self.rng
        p = thread.person
        ctx = thread.ctx
        direction = "outbound" if rng.random() < 0.7 else "inbound"
        minutes = int(ctx["minutes"])
        notes = [tx.fill(line, ctx) for line in rng.sample(tx.CALL_NOTES, rng.randrange(3, 8))]
        iid = self._interaction(
            writer, b, millis=millis, kind="call", direction=direction,
            subject=tx.fill(rng.choice(tx.CALL_SUBJECTS), ctx), body="\n".join(notes),
            ends=millis + minutes * MINUTE, duration=minutes,
        )  # fmt: skip
        rep = ("", f"{vc.REP_GIVEN} {vc.REP_FAMILY}", None)
        them = ("", p.name, p.id)
        caller, callee = (rep, them) if direction == "outbound" else (them, rep)
        part = b["interaction_participant"]
        writer.add(part, (iid, "from", *caller))
        writer.add(part, (iid, "to", *callee))
        self._links(writer, b, iid, millis, "call", direction, thread,
                    [(p, f"call logged with {p.name}")])  # fmt: skip

    def _message(self, writer: BulkWriter, b: dict[str, TableBuffer], thread: _Thread,
                 millis: int) -> None:  # fmt: skip
        rng = self.rng
        p = thread.person
        direction = "inbound" if rng.random() < 0.5 else "outbound"
        body = tx.fill(rng.choice(tx.REPLY_PARAGRAPHS), thread.ctx)
        iid = self._interaction(
            writer, b, millis=millis, kind="message", direction=direction, subject="", body=body
        )
        part = b["interaction_participant"]
        rep = (vc.REP_ADDRESSES[0], f"{vc.REP_GIVEN} {vc.REP_FAMILY}", None)
        them = (thread.address, p.name, p.id)
        sender, recipient = (them, rep) if direction == "inbound" else (rep, them)
        writer.add(part, (iid, "from", *sender))
        writer.add(part, (iid, "to", *recipient))
        self._links(writer, b, iid, millis, "message", direction, thread,
                    [(p, f"message with {thread.address} ({p.name})")])  # fmt: skip

    def _feedback(self, writer: BulkWriter, b: dict[str, TableBuffer],
                  line: tuple[str, str, str, str], thread: _Thread, millis: int, *,
                  interaction_id: str | None = None, note_id: str | None = None) -> None:  # fmt: skip
        topic, sentiment, subject_kind, sentence = line
        ctx = thread.ctx
        subject = ctx["competitor"] if subject_kind == "competitor" else ctx["product"]
        writer.add(
            b["feedback"],
            (self.id_at(millis), topic, subject, sentiment, tx.fill(sentence, ctx), millis,
             thread.person.id, thread.company.id if thread.company else None,
             thread.deal.id if thread.deal else None, interaction_id, note_id,
             *self._stamp(millis)),
        )  # fmt: skip

    def _planned_meetings(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        """Meetings today, tomorrow and later this week (My Day's briefings), one cancelled."""
        rng = self.rng
        scale_factor = max(1, round((self.counts.people / 300) ** 0.3))
        # People who are in touch now, with history, not part of a silence scenario.
        candidates = [
            p
            for p in self.people
            if p.company is not None
            and p.touches >= 3
            and p.state == "active"
            and p.scenario in ("", "champion")
        ]
        champion = next(p for p in self.people if p.scenario == "champion")
        candidates.sort(key=lambda p: (p.scenario != "champion", -p.touches, p.index))
        pool = candidates[: max(30, 6 * scale_factor * 10)]
        rng.shuffle(pool)
        if champion in pool:
            pool.remove(champion)
        pool.insert(0, champion)
        slots: list[int] = []
        today = self.today_ms
        for hour, minute in ((8, 0), (10, 30), (14, 0), (16, 30)):
            slots.append(today + hour * HOUR + minute * MINUTE)
        if all(s <= self.now_ms for s in slots) and self.now_ms + 30 * MINUTE < today + DAY:
            slots.append(self.now_ms + 30 * MINUTE)
        for hour, minute in ((9, 30), (13, 0), (15, 30)):
            slots.append(today + DAY + hour * HOUR + minute * MINUTE)
        for day in range(2, 8):
            for hour in rng.sample((9, 11, 14, 16), rng.randrange(1, 3)):
                slots.append(today + day * DAY + hour * HOUR)
        slots = slots * scale_factor
        slots.sort()
        for i, at in enumerate(slots):
            p = pool[i % len(pool)]
            company_index, address = p.at(at)
            company = self.companies[company_index] if company_index is not None else None
            deal = self._deal_at(p, at) if p.deals else None
            if deal is not None and deal.company != company_index:
                deal = None
            thread = _Thread(p, company, address, deal, self._ctx(p, company, deal, at))
            attendees = [p]
            if company is not None:
                for other_index in company.people:
                    other = self.people[other_index]
                    if other is not p and not other.scenario and other.state == "active":
                        attendees.append(other)
                        break
            status = "done" if at <= self.now_ms else "planned"
            created = min(at, self.now_ms) - rng.randrange(1, 15) * DAY
            self._meeting(writer, b, thread, at, status, attendees, created)
        # A meeting they cancelled last week (it does not count as a touch).
        p = pool[-1]
        at = _weekday_ms(self.now_ms - 6 * DAY, rng)
        company_index, address = p.at(at)
        company = self.companies[company_index] if company_index is not None else None
        thread = _Thread(p, company, address, None, self._ctx(p, company, None, at))
        self._meeting(writer, b, thread, at, "cancelled", [p], at - 7 * DAY)

    # ------------------------------------------------------------ notes, tasks, review
    def _write_notes(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        known = [p for p in self.people if p.touches]
        scenario = [p for p in known if p.scenario in ("going-cold", "champion")]
        for index in range(self.counts.notes):
            p = scenario[index] if index < len(scenario) else rng.choice(known)
            interaction_id = None
            if p.last_meeting is not None and rng.random() < 0.35:
                interaction_id, at = p.last_meeting
                at += HOUR
            else:
                at = rng.randrange(max(p.start_ms, self.now_ms - WINDOW_DAYS * DAY), p.last_ms + 1)
            company_index = p.at(at)[0]
            company = self.companies[company_index] if company_index is not None else None
            deal = self._deal_at(p, at) if p.deals else None
            if deal is not None and deal.company != company_index:
                deal = None
            thread = _Thread(p, company, p.at(at)[1], deal, self._ctx(p, company, deal, at))
            ctx = thread.ctx
            lines = [tx.fill(rng.choice(tx.NOTE_OPENERS), ctx)]
            feedback = rng.choice(tx.FEEDBACK_LINES) if rng.random() < 0.5 or index < 4 else None
            if index < 2:  # the scenarios' notes: a competitor and a product complaint
                feedback = tx.FEEDBACK_LINES[5 if index == 0 else 3]
            if feedback is not None:
                lines.append(f"“{tx.fill(feedback[3], ctx)}”")
            lines += [f"- {tx.fill(line, ctx)}" for line in rng.sample(tx.NOTE_LINES, 3)]
            note_id = self.id_at(at)
            writer.add(
                b["note"],
                (note_id, "\n".join(lines), int(rng.random() < 0.15), int(rng.random() < 0.05),
                 at, p.id, company.id if company else None, deal.id if deal else None,
                 interaction_id, *self._stamp(at)),
            )  # fmt: skip
            if feedback is not None:
                self._feedback(writer, b, feedback, thread, at, note_id=note_id)

    def _write_tasks(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        known = [p for p in self.people if p.touches and p.company is not None]
        going_cold = next(p for p in self.people if p.scenario == "going-cold")
        today = self.today_ms
        for index in range(self.counts.tasks):
            p = going_cold if index == 0 else rng.choice(known)
            state = rng.choices(
                ("overdue", "today", "upcoming", "someday", "done"), (14, 8, 36, 7, 35)
            )[0]
            if index < 3:
                state = ("overdue", "today", "today")[index]
            company = self.companies[p.company] if p.company is not None else None
            deal = self._deal_at(p, self.now_ms) if p.deals else None
            ctx = self._ctx(p, company, deal, self.now_ms)
            title = tx.fill(rng.choice(TASK_TITLES), ctx)
            if index == 0:
                title = f"Call {p.given} about the {deal.title if deal else 'offer'}"
            due: int | None
            done = None
            if state == "overdue":
                due = today - rng.randrange(1, 21) * DAY + 17 * HOUR
            elif state == "today":
                due = today + 17 * HOUR
            elif state == "upcoming":
                due = today + rng.randrange(1, 30) * DAY + 17 * HOUR
            elif state == "someday":
                due = None
            else:
                due = today - rng.randrange(1, 400) * DAY + 17 * HOUR
                done = due - rng.randrange(0, 3) * DAY + rng.randrange(8, 16) * HOUR - 17 * HOUR
            created = min(self.now_ms, (due or self.now_ms) - rng.randrange(1, 30) * DAY)
            reminder = due - 8 * HOUR if due is not None and rng.random() < 0.3 else None
            details = ""
            if rng.random() < 0.3:
                details = tx.fill(rng.choice(tx.NOTE_LINES), ctx)
            writer.add(
                b["task"],
                (self.id_at(created), title, details, due, 1, reminder, done,
                 int(rng.random() < 0.15 or index == 0), p.id, company.id if company else None,
                 deal.id if deal else None, *self._stamp(created)),
            )  # fmt: skip

    def _write_review(self, writer: BulkWriter, b: dict[str, TableBuffer]) -> None:
        rng = self.rng
        for index in range(self.counts.review):
            if index < len(vc.REVIEW_SENDERS):
                name, address, subject = vc.REVIEW_SENDERS[index]
            else:
                nationality = rng.choice(vc.NATIONALITIES)
                given, family = rng.choice(nationality.given), rng.choice(nationality.family)
                name = f"{given} {family}"
                domain = f"{ascii_slug(rng.choice(vc.COMPANY_STEMS))}-{index}.example"
                address = f"{ascii_slug(given)}.{ascii_slug(family)}@{domain}"
                subject = rng.choice(vc.REVIEW_SENDERS)[2]
            first = self.past(2, 60)
            last = min(self.now_ms - HOUR, first + rng.randrange(0, 20) * DAY)
            writer.add(
                b["review_item"],
                (address, name, address.partition("@")[2], "pending", first, last,
                 rng.randrange(1, 6), subject),
            )  # fmt: skip
