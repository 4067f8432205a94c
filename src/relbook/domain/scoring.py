"""Relationship strength, frequency and trend: the documented formulas (pure, stdlib only).

Every number here is derived from touches (interactions that count: not a note to self,
not a cancelled meeting) and can explain itself: ``strength`` returns each input with the
points it earned.

Touch days, not touches
    A thread of five replies on one day is one *touch day*. Frequency and trend count
    touch days, so a busy thread does not look like a busy relationship.

Decayed touch weights (``touch_weight_30`` / ``touch_weight_180`` on person and company)
    Σ exp(−age / τ) over touch days, the age measured at the day of the last touch
    (τ = 30 and 180 days). Decaying them to *now* is a multiplication:
    ``weight(now) = stored × exp(−(now − last touch day) / τ)``. A touch today counts 1,
    one a month ago 0.37 at τ = 30 (0.85 at τ = 180). Stored this way they never go stale.

Frequency
    Touch days per month, recent months weighing more (τ = 180 days) and averaged over the
    time since the first touch, but at least 90 days (a young relationship has not proven
    its frequency yet): ``weight_180(now) × 30 / (180 × (1 − exp(−span / 180)))``.
    Steady touches every 14 days read as ≈ 2.1 per month, weekly ones as ≈ 4.3.

Trend
    The recent rate (τ = 30 days) against the half-year rate (τ = 180), both per month and
    each averaged over the time since the first touch (a weight divided by
    ``τ × (1 − exp(−days since first touch / τ))``, so a relationship that began two months
    ago is not mistaken for a slow one): ratio ≥ 1.5 → warming, ≤ 0.6 → cooling, else
    steady; fewer than 3 touch days → "new", none → "none". A steady rhythm wobbles
    between ≈ 0.8 and 1.2, inside "steady".

Strength (0–100), the sum of these components (points for a person / a company):

    =============  ======  =======  ==========================================================
    component      person  company  full marks when
    =============  ======  =======  ==========================================================
    recency          35      30     touched today; halves every 30 days of silence
    frequency        30      25     4 or more touch days per month (linear below)
    reciprocity      20      15     at least half the touches come from them (meetings and
                                    undirected calls count half for each side)
    two-way          15      15     they wrote, met or spoke with us today; halves every 60 days
    breadth           —      15     3 or more people there with a two-way touch in 180 days
    =============  ======  =======  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DAY_MS = 86_400_000
TAU_SHORT = 30.0
TAU_LONG = 180.0
WARMING_RATIO = 1.5
COOLING_RATIO = 0.6
MIN_TREND_DAYS = 3
RECENCY_HALF_LIFE = 30.0
TWO_WAY_HALF_LIFE = 60.0
FULL_FREQUENCY_PER_MONTH = 4.0
MIN_FREQUENCY_SPAN = 90.0
FULL_BREADTH = 3
BREADTH_WINDOW_DAYS = 180

# (recency, frequency, reciprocity, two-way, breadth) maxima per entity type.
WEIGHTS: dict[str, dict[str, float]] = {
    "person": {
        "recency": 35,
        "frequency": 30,
        "reciprocity": 20,
        "two_way": 15,
        "breadth": 0,
    },
    "company": {
        "recency": 30,
        "frequency": 25,
        "reciprocity": 15,
        "two_way": 15,
        "breadth": 15,
    },
}


class Trend(StrEnum):
    WARMING = "warming"
    STEADY = "steady"
    COOLING = "cooling"
    NEW = "new"  # fewer than MIN_TREND_DAYS touch days: too early to tell
    NONE = "none"  # never touched


@dataclass(frozen=True)
class TouchInputs:
    """What a person's or company's row stores about its touches (storage.touch)."""

    last_touch_at: datetime | None = None
    last_two_way_at: datetime | None = None
    first_touch_at: datetime | None = None
    touch_count: int = 0
    inbound_count: int = 0
    outbound_count: int = 0
    touch_days: int = 0
    weight_30: float = 0.0
    weight_180: float = 0.0
    engaged_people: int = 0  # companies only: breadth


@dataclass(frozen=True)
class Component:
    key: str  # recency, frequency, reciprocity, two_way, breadth
    label: str
    value: float  # the input, in the unit of ``detail``
    detail: str  # the input in words: "12 days since the last touch"
    points: float
    max_points: float
    formula: str = ""  # how the points follow from the input: "35 × 0.5^(12 / 30)"


@dataclass(frozen=True)
class Strength:
    score: float  # 0–100, one decimal
    components: tuple[Component, ...]

    def explain(self) -> str:
        lines = [f"Strength {self.score:.0f} of 100 = the sum of:"]
        for c in self.components:
            line = f"  {c.label}: {c.points:.1f} of {c.max_points:.0f} — {c.detail}"
            if c.formula:
                line += f"\n      {c.formula} = {c.points:.1f}"
            lines.append(line)
        return "\n".join(lines)


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 86_400


def day_number(moment: datetime) -> int:
    """The UTC day a moment falls on (days since 1970-01-01)."""
    return math.floor(moment.timestamp() / 86_400)


def decayed(stored: float, last_touch_at: datetime | None, now: datetime, tau: float) -> float:
    """A stored touch weight (measured at the last touch day) decayed to ``now``."""
    if last_touch_at is None or stored <= 0:
        return 0.0
    elapsed = max(0.0, now.timestamp() / 86_400 - day_number(last_touch_at))
    return stored * math.exp(-elapsed / tau)


def touch_weights(days: list[int]) -> tuple[float, float]:
    """(weight_30, weight_180) of distinct touch days, measured at the latest of them."""
    if not days:
        return 0.0, 0.0
    last = max(days)
    short = sum(math.exp(-(last - d) / TAU_SHORT) for d in days)
    long = sum(math.exp(-(last - d) / TAU_LONG) for d in days)
    return short, long


def _per_month(inputs: TouchInputs, now: datetime, tau: float, min_span: float) -> float:
    """A decayed weight as touch days per month, averaged over the time since the first
    touch (at least ``min_span`` days)."""
    first = inputs.first_touch_at or inputs.last_touch_at
    weight = inputs.weight_30 if tau == TAU_SHORT else inputs.weight_180
    if first is None or weight <= 0:
        return 0.0
    span = max(min_span, days_between(first, now))
    covered = tau * (1 - math.exp(-span / tau))
    return decayed(weight, inputs.last_touch_at, now, tau) * 30 / covered


def frequency_per_month(inputs: TouchInputs, now: datetime) -> float:
    return _per_month(inputs, now, TAU_LONG, MIN_FREQUENCY_SPAN)


def trend_rates(inputs: TouchInputs, now: datetime) -> tuple[float, float]:
    """(recent, half-year) touch days per month averaged since the first touch."""
    return _per_month(inputs, now, TAU_SHORT, 1.0), _per_month(inputs, now, TAU_LONG, 1.0)


def trend(inputs: TouchInputs, now: datetime) -> Trend:
    if inputs.last_touch_at is None or inputs.touch_days == 0:
        return Trend.NONE
    if inputs.touch_days < MIN_TREND_DAYS:
        return Trend.NEW
    short, long = trend_rates(inputs, now)
    if long <= 0:
        return Trend.STEADY
    ratio = short / long
    if ratio >= WARMING_RATIO:
        return Trend.WARMING
    if ratio <= COOLING_RATIO:
        return Trend.COOLING
    return Trend.STEADY


def reciprocity(inputs: TouchInputs) -> float | None:
    """Share of touches that came from them (0–1); undirected touches count half."""
    if inputs.touch_count <= 0:
        return None
    undirected = max(0, inputs.touch_count - inputs.inbound_count - inputs.outbound_count)
    return min(1.0, (inputs.inbound_count + 0.5 * undirected) / inputs.touch_count)


def _half_life(days: float, half_life: float) -> float:
    return float(0.5 ** (max(0.0, days) / half_life))


def _num(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def strength(inputs: TouchInputs, now: datetime, entity_type: str = "person") -> Strength:
    """The 0–100 score with its components (see the module doc for the table); each
    component carries its input in words and the formula that turned it into points."""
    weights = WEIGHTS[entity_type]
    parts: list[Component] = []

    top = weights["recency"]
    if inputs.last_touch_at is None:
        silence = math.inf
        recency_detail = "never touched"
        recency_points = 0.0
        recency_formula = "no touch: 0"
    else:
        silence = max(0.0, days_between(inputs.last_touch_at, now))
        recency_detail = f"{silence:.0f} days since the last touch"
        recency_points = top * _half_life(silence, RECENCY_HALF_LIFE)
        recency_formula = (
            f"{_num(top)} × 0.5^({silence:.0f} days / {RECENCY_HALF_LIFE:.0f})"
            " — halves every 30 days of silence"
        )
    parts.append(
        Component(
            "recency", "Recency", silence, recency_detail, recency_points, top, recency_formula
        )
    )

    top = weights["frequency"]
    per_month = frequency_per_month(inputs, now)
    parts.append(
        Component(
            "frequency",
            "Frequency",
            per_month,
            f"{per_month:.1f} touch days a month (full marks at {FULL_FREQUENCY_PER_MONTH:.0f})",
            top * min(1.0, per_month / FULL_FREQUENCY_PER_MONTH),
            top,
            f"{_num(top)} × min(1, {per_month:.2f} / {FULL_FREQUENCY_PER_MONTH:.0f}) — touch "
            "days a month over the last half-year, recent months weighing more",
        )
    )

    top = weights["reciprocity"]
    share = reciprocity(inputs)
    parts.append(
        Component(
            "reciprocity",
            "Reciprocity",
            share if share is not None else 0.0,
            "no touches yet"
            if share is None
            else f"{share:.0%} of touches from them ({inputs.inbound_count} in, "
            f"{inputs.outbound_count} out of {inputs.touch_count})",
            0.0 if share is None else top * min(1.0, 2 * share),
            top,
            "no touches: 0"
            if share is None
            else f"{_num(top)} × min(1, 2 × {share:.2f}) — full marks when half the touches "
            "come from them; meetings and undirected calls count half for each side",
        )
    )

    top = weights["two_way"]
    if inputs.last_two_way_at is None:
        two_way_days = math.inf
        two_way_detail = "they never wrote, met or spoke with us"
        two_way_points = 0.0
        two_way_formula = "never two-way: 0"
    else:
        two_way_days = max(0.0, days_between(inputs.last_two_way_at, now))
        two_way_detail = f"{two_way_days:.0f} days since they last wrote, met or spoke with us"
        two_way_points = top * _half_life(two_way_days, TWO_WAY_HALF_LIFE)
        two_way_formula = (
            f"{_num(top)} × 0.5^({two_way_days:.0f} days / {TWO_WAY_HALF_LIFE:.0f})"
            " — halves every 60 days"
        )
    parts.append(
        Component(
            "two_way", "Two-way", two_way_days, two_way_detail, two_way_points, top, two_way_formula
        )
    )

    top = weights["breadth"]
    if top:
        parts.append(
            Component(
                "breadth",
                "Breadth",
                float(inputs.engaged_people),
                f"{inputs.engaged_people} people there we really talk to (full marks at "
                f"{FULL_BREADTH})",
                top * min(1.0, inputs.engaged_people / FULL_BREADTH),
                top,
                f"{_num(top)} × min(1, {inputs.engaged_people} / {FULL_BREADTH}) — people with "
                f"a two-way touch in the last {BREADTH_WINDOW_DAYS} days",
            )
        )
    score = round(min(100.0, sum(p.points for p in parts)), 1)
    return Strength(score, tuple(parts))


def explain_trend(inputs: TouchInputs, now: datetime) -> str:
    """The trend verdict with the two rates and the ratio behind it."""
    verdict = trend(inputs, now)
    if verdict is Trend.NONE:
        return "Trend: none — never touched."
    if verdict is Trend.NEW:
        return (
            f"Trend: new — {inputs.touch_days} touch day(s); {MIN_TREND_DAYS} are needed to "
            "tell warming from cooling."
        )
    short, long = trend_rates(inputs, now)
    ratio = short / long if long > 0 else 1.0
    return (
        f"Trend: {verdict.value} — recent rate {short:.2f} vs half-year rate {long:.2f} touch "
        f"days a month: ratio {ratio:.2f} (≥ {WARMING_RATIO} warming, ≤ {COOLING_RATIO} "
        "cooling, else steady)."
    )
