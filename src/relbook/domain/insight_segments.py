"""Value × potential × effort: where effort and value diverge (pure, stdlib only).

Effort is time spent on an account over a window (default 12 months):
``hours = (meeting and call minutes + EMAIL_MINUTES × e-mails) / 60``; a meeting without a
duration counts ``MEETING_DEFAULT_MINUTES``, a call ``CALL_DEFAULT_MINUTES``.

Headroom is what the account could still grow: ``max(0, potential − current)``.

Thresholds are the medians over the accounts shown (of the non-zero values), so quadrants
are relative to the rep's own book. Clusters, first matching rule wins:

=========  =====================================  ===============================================
cluster    rule                                   what it suggests
=========  =====================================  ===============================================
invest     high headroom, low effort so far       under-served upside: put time here
develop    high headroom, high effort             we are working the upside: keep converting it
maintain   low headroom, high current value       protect the revenue, efficiently
rethink    low headroom, low value, high effort   the effort does not pay: change the approach
nurture    low headroom, low value, low effort    light touch; keep warm
=========  =====================================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from relbook.domain.money import format_money

EMAIL_MINUTES = 5
CALL_DEFAULT_MINUTES = 15
MEETING_DEFAULT_MINUTES = 60


class Cluster(StrEnum):
    INVEST = "invest"
    DEVELOP = "develop"
    MAINTAIN = "maintain"
    RETHINK = "rethink"
    NURTURE = "nurture"


CLUSTER_ADVICE: dict[Cluster, str] = {
    Cluster.INVEST: "Under-served upside: put time here",
    Cluster.DEVELOP: "Working the upside: keep converting it",
    Cluster.MAINTAIN: "Protect the revenue, efficiently",
    Cluster.RETHINK: "Effort does not pay: change the approach",
    Cluster.NURTURE: "Light touch: keep warm",
}


def effort_hours(minutes: int, emails: int) -> float:
    return (minutes + EMAIL_MINUTES * emails) / 60.0


def headroom(current_minor: int | None, potential_minor: int | None) -> int:
    return max(0, (potential_minor or 0) - (current_minor or 0))


@dataclass(frozen=True)
class Thresholds:
    current_minor: float  # median current value
    headroom_minor: float  # median headroom
    effort_hours: float  # median effort


def _positive_median(values: list[float]) -> float:
    positive = [v for v in values if v > 0]
    return float(median(positive)) if positive else 0.0


def thresholds(points: list[tuple[int, int, float]]) -> Thresholds:
    """Medians of (current, headroom, effort) over the non-zero values."""
    return Thresholds(
        _positive_median([float(c) for c, _, _ in points]),
        _positive_median([float(h) for _, h, _ in points]),
        _positive_median([e for _, _, e in points]),
    )


def classify(current_minor: int, headroom_minor: int, hours: float, t: Thresholds) -> Cluster:
    high_headroom = headroom_minor > 0 and headroom_minor >= t.headroom_minor
    high_value = current_minor > 0 and current_minor >= t.current_minor
    high_effort = hours > 0 and hours >= t.effort_hours
    if high_headroom:
        return Cluster.DEVELOP if high_effort else Cluster.INVEST
    if high_value:
        return Cluster.MAINTAIN
    return Cluster.RETHINK if high_effort else Cluster.NURTURE


def explain_cluster(
    current_minor: int,
    headroom_minor: int,
    hours: float,
    t: Thresholds,
    currency: str = "EUR",
) -> str:
    """Why an account sits in its cluster: each measure against its median line."""

    def side(high: bool) -> str:
        return "high" if high else "low"

    high_headroom = headroom_minor > 0 and headroom_minor >= t.headroom_minor
    high_value = current_minor > 0 and current_minor >= t.current_minor
    high_effort = hours > 0 and hours >= t.effort_hours
    cluster = classify(current_minor, headroom_minor, hours, t)
    return (
        f"Headroom {format_money(headroom_minor, currency)} ({side(high_headroom)}; median "
        f"{format_money(round(t.headroom_minor), currency)}) · current value "
        f"{format_money(current_minor, currency)} ({side(high_value)}; median "
        f"{format_money(round(t.current_minor), currency)}) · effort {hours:.1f} h "
        f"({side(high_effort)}; median {t.effort_hours:.1f} h) → {cluster.value}: "
        f"{CLUSTER_ADVICE[cluster]}"
    )
