"""How many of each thing a demo book of a given ``scale`` holds.

Scale 1 is the demo book a new user opens; scale 200 is the benchmark book of a heavy
rep after years of use (issue 7). Entities do not grow at the same pace — a heavy rep has
more deals per company than a new one, and people grow a little slower than mail — so
each count is interpolated geometrically between the two anchors:

    count(scale) = demo_count × (benchmark_count / demo_count) ** (log(scale) / log(200))

which gives exactly the demo counts at scale 1 and the benchmark counts at scale 200
(and extrapolates beyond). Small scales keep a floor so every scenario still exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BENCHMARK_SCALE = 200.0
MAX_SCALE = 1000.0


@dataclass(frozen=True)
class DemoCounts:
    people: int
    companies: int
    deals: int
    tasks: int
    interactions: int  # a target: the rhythms decide the exact number (within a few %)
    notes: int
    review: int  # unknown correspondents waiting in the review queue

    @classmethod
    def for_scale(cls, scale: float) -> DemoCounts:
        if not (0 < scale <= MAX_SCALE) or math.isnan(scale):
            raise ValueError(f"scale must be above 0 and at most {MAX_SCALE:g}, not {scale}")
        exponent = math.log(scale) / math.log(BENCHMARK_SCALE)

        def grow(name: str, floor: int) -> int:
            demo, bench = DEMO[name], BENCHMARK[name]
            grown: float = demo * (bench / demo) ** exponent
            return max(floor, round(grown))

        return cls(
            people=grow("people", 24),
            companies=grow("companies", 8),
            deals=grow("deals", 8),
            tasks=grow("tasks", 10),
            interactions=grow("interactions", 200),
            notes=grow("notes", 10),
            review=grow("review", 3),
        )


DEMO: dict[str, int] = {
    "people": 300,
    "companies": 60,
    "deals": 40,
    "tasks": 60,
    "interactions": 5_000,
    "notes": 120,
    "review": 6,
}
BENCHMARK: dict[str, int] = {
    "people": 50_000,
    "companies": 5_000,
    "deals": 20_000,
    "tasks": 30_000,
    "interactions": 1_000_000,
    "notes": 20_000,
    "review": 300,
}
