"""A relationship's own rhythm: the typical gap between touches.

Touches on the same calendar day count once (a thread of five replies is one touch).
The rhythm is the median of the most recent gaps, so one long holiday does not redefine
a weekly relationship; it needs at least ``MIN_GAPS`` gaps to be known.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from statistics import median

MIN_GAPS = 2
RECENT_GAPS = 10


def touch_days(moments: Iterable[datetime]) -> list[int]:
    """Distinct proleptic day numbers, newest first."""
    return sorted({m.toordinal() for m in moments}, reverse=True)


def typical_gap_days(moments: Iterable[datetime]) -> float | None:
    days = touch_days(moments)
    gaps = [days[i] - days[i + 1] for i in range(min(len(days) - 1, RECENT_GAPS))]
    if len(gaps) < MIN_GAPS:
        return None
    return float(median(gaps))
