"""Keep in touch, going cold, value at stake and next contacts: the rules (pure, stdlib).

Rhythm
    A relationship's own typical gap between touch days (``domain.rhythm``).

Going cold
    Silent for more than ``going_cold_factor`` (setting, default 2) × the rhythm. A person
    with a 14-day rhythm silent for 45 days is going cold (45 > 28); one with a 90-day
    rhythm silent for 45 days is not (45 < 180). A relationship silent for more than
    ``max(365 days, 2 × that threshold)`` has *gone* cold: it is dormant and leaves the
    going-cold and learned due lists (setting a cadence brings it back).

Cadence (keep in touch)
    The rep's own ``cadence_days`` for the person, else one learned from the rhythm
    (rounded, between 7 and 365 days). Due when the silence reaches the cadence.

Value at stake
    Open deal amounts plus the account's value (the larger of its current and potential
    value). Lists weigh urgency by ``1 + log10(1 + value / 1,000)`` in major units: no
    value → ×1, 10,000 → ×2, 100,000 → ×3, 1,000,000 → ×4.

Next contacts
    Each reason has an urgency between 1 and 3; an entry's score is the sum of its
    reasons' urgencies × the value weight:
    - cadence due: 1 + min(2, days overdue / cadence);
    - going cold: min(3, silence / going-cold threshold);
    - deal stuck in its stage: 1 + min(2, days past the stage's limit / that limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from relbook.domain.money import minor_digits

MIN_LEARNED_CADENCE = 7
MAX_LEARNED_CADENCE = 365
DORMANT_MIN_DAYS = 365.0
DEFAULT_GOING_COLD_FACTOR = 2.0


def _days(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 86_400


class ColdState(StrEnum):
    WARM = "warm"
    GOING_COLD = "going_cold"
    DORMANT = "dormant"


@dataclass(frozen=True)
class ColdCheck:
    silence_days: float
    rhythm_days: float
    threshold_days: float  # factor × rhythm: silent longer than this = going cold
    dormant_after_days: float
    state: ColdState

    @property
    def ratio(self) -> float:
        """Silence as a multiple of the going-cold threshold (> 1 = going cold)."""
        return self.silence_days / self.threshold_days if self.threshold_days else 0.0

    @property
    def reason(self) -> str:
        return (
            f"usually in touch every {self.rhythm_days:.0f} days; "
            f"silent for {self.silence_days:.0f}"
        )

    def explain(self) -> str:
        factor = self.threshold_days / self.rhythm_days if self.rhythm_days else 0.0
        verdict = {
            ColdState.WARM: "within the rhythm",
            ColdState.GOING_COLD: "going cold",
            ColdState.DORMANT: "gone cold (dormant)",
        }[self.state]
        return (
            f"Going cold: silent {self.silence_days:.0f} days against a threshold of "
            f"{factor:g} × rhythm {self.rhythm_days:.0f} days = {self.threshold_days:.0f} days "
            f"(dormant after {self.dormant_after_days:.0f}) → {verdict}; urgency "
            f"min(3, {self.silence_days:.0f} / {self.threshold_days:.0f}) = "
            f"{cold_urgency(self):.2f}"
        )


def dormant_after(threshold_days: float) -> float:
    return max(DORMANT_MIN_DAYS, 2 * threshold_days)


def cold_check(
    last_touch_at: datetime | None,
    rhythm_days: float | None,
    now: datetime,
    factor: float = DEFAULT_GOING_COLD_FACTOR,
) -> ColdCheck | None:
    """Where a relationship stands against its own rhythm (None: no rhythm known yet)."""
    if last_touch_at is None or rhythm_days is None or rhythm_days <= 0:
        return None
    silence = max(0.0, _days(last_touch_at, now))
    threshold = factor * rhythm_days
    dormant = dormant_after(threshold)
    if silence > dormant:
        state = ColdState.DORMANT
    elif silence > threshold:
        state = ColdState.GOING_COLD
    else:
        state = ColdState.WARM
    return ColdCheck(silence, rhythm_days, threshold, dormant, state)


class CadenceSource(StrEnum):
    SET = "set"  # the rep chose it
    LEARNED = "learned"  # from the relationship's rhythm


@dataclass(frozen=True)
class Cadence:
    days: int
    source: CadenceSource

    @property
    def label(self) -> str:
        how = "you set" if self.source is CadenceSource.SET else "learned from the rhythm"
        return f"every {self.days} days ({how})"


def learned_cadence(rhythm_days: float | None) -> int | None:
    if rhythm_days is None or rhythm_days <= 0:
        return None
    # Half up, as SQLite's round() does (the lists rank in SQL with the same rule).
    rounded = math.floor(rhythm_days + 0.5)
    return int(min(MAX_LEARNED_CADENCE, max(MIN_LEARNED_CADENCE, rounded)))


def effective_cadence(cadence_days: int | None, rhythm_days: float | None) -> Cadence | None:
    if cadence_days:
        return Cadence(cadence_days, CadenceSource.SET)
    learned = learned_cadence(rhythm_days)
    return None if learned is None else Cadence(learned, CadenceSource.LEARNED)


@dataclass(frozen=True)
class DueCheck:
    cadence: Cadence
    due_at: datetime  # when the next touch is due (now if never touched)
    silence_days: float | None  # None: never touched
    overdue_days: float  # ≥ 0 once due

    @property
    def is_due(self) -> bool:
        return self.overdue_days >= 0

    @property
    def urgency(self) -> float:
        return 1 + min(2.0, max(0.0, self.overdue_days) / self.cadence.days)

    @property
    def reason(self) -> str:
        if self.silence_days is None:
            return f"keep in touch {self.cadence.label}; never contacted"
        return f"keep in touch {self.cadence.label}; last touch {self.silence_days:.0f} days ago"

    def explain(self) -> str:
        since = (
            "never contacted: due a cadence after they were added"
            if self.silence_days is None
            else f"last touch {self.silence_days:.0f} days ago"
        )
        state = (
            f"due for {self.overdue_days:.0f} days"
            if self.is_due
            else f"due in {-self.overdue_days:.0f} days"
        )
        return (
            f"Keep in touch {self.cadence.label}; {since} → {state}; urgency "
            f"1 + min(2, {max(0.0, self.overdue_days):.0f} overdue / {self.cadence.days}) = "
            f"{self.urgency:.2f}"
        )


def due_check(
    last_touch_at: datetime | None,
    cadence: Cadence,
    now: datetime,
    *,
    created_at: datetime | None = None,
) -> DueCheck:
    """When the next touch is due. Never touched: due a cadence after the person was
    added (or now, if that is unknown)."""
    if last_touch_at is None:
        due_at = (created_at + timedelta(days=cadence.days)) if created_at else now
        return DueCheck(cadence, due_at, None, _days(due_at, now))
    due_at = last_touch_at + timedelta(days=cadence.days)
    return DueCheck(cadence, due_at, max(0.0, _days(last_touch_at, now)), _days(due_at, now))


def is_dormant_for_learned(check: DueCheck, factor: float) -> bool:
    """A learned cadence stops nagging once the relationship has gone dormant."""
    if check.cadence.source is CadenceSource.SET or check.silence_days is None:
        return False
    return check.silence_days > dormant_after(factor * check.cadence.days)


def value_weight(value_minor: int | None, currency: str = "EUR") -> float:
    """1 + log10(1 + value / 1,000) in major units (see the module doc)."""
    if not value_minor or value_minor <= 0:
        return 1.0
    major = value_minor / 10 ** minor_digits(currency)
    return 1.0 + math.log10(1.0 + major / 1000.0)


def explain_value_weight(value_minor: int | None, currency: str = "EUR") -> str:
    """The value weight with its input: "1 + log10(1 + 125,000 / 1,000) = 3.10"."""
    if not value_minor or value_minor <= 0:
        return "value weight 1 (no value at stake)"
    major = value_minor / 10 ** minor_digits(currency)
    return (
        f"value weight 1 + log10(1 + {major:,.0f} / 1,000) = "
        f"{value_weight(value_minor, currency):.2f}"
    )


def account_value(current_minor: int | None, potential_minor: int | None) -> int:
    return max(current_minor or 0, potential_minor or 0)


@dataclass(frozen=True)
class StuckDeal:
    days_in_stage: float
    stale_after_days: int

    @property
    def is_stuck(self) -> bool:
        return self.days_in_stage > self.stale_after_days

    @property
    def urgency(self) -> float:
        over = self.days_in_stage - self.stale_after_days
        return 1 + min(2.0, max(0.0, over) / max(1, self.stale_after_days))

    def explain(self) -> str:
        over = max(0.0, self.days_in_stage - self.stale_after_days)
        return (
            f"Stuck: {self.days_in_stage:.0f} days in the stage, limit "
            f"{self.stale_after_days}; urgency 1 + min(2, {over:.0f} over / "
            f"{self.stale_after_days}) = {self.urgency:.2f}"
        )


def stuck_check(
    stage_entered_at: datetime | None, stale_after_days: int | None, now: datetime
) -> StuckDeal | None:
    if stage_entered_at is None or not stale_after_days:
        return None
    return StuckDeal(max(0.0, _days(stage_entered_at, now)), stale_after_days)


def cold_urgency(check: ColdCheck) -> float:
    return min(3.0, check.ratio)
