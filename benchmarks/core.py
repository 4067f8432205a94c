"""What every measurement shares: rows of the result table, targets, timing helpers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# The measurement groups a complete run reports (the smoke test checks every one).
MEASUREMENTS = (
    "search",
    "timeline",
    "insight",
    "ingest",
    "imap",
    "startup",
    "lists",
    "stalls",
    "size",
)


@dataclass
class Row:
    """One line of the table: a figure, its raw baseline, the ratio and the verdict."""

    group: str  # one of MEASUREMENTS
    key: str  # stable id, e.g. "search.p99.two_term"
    label: str
    value: float | None
    unit: str  # ms, s, msg/s, MB, B
    baseline: float | None = None  # the raw figure from the same run
    target: str = ""  # as printed, e.g. "≤ 50 ms and ≤ 2× raw"
    passed: bool | None = None  # None: no target, or skipped
    note: str = ""  # skip reason, method, or what was tried
    skipped: bool = False

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # per group: raw numbers

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def skip(self, group: str, key: str, label: str, reason: str, target: str = "") -> Row:
        return self.add(Row(group, key, label, None, "", target=target, note=reason, skipped=True))

    def groups(self) -> set[str]:
        return {row.group for row in self.rows}


# ------------------------------------------------------------------------ targets


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def both(*verdicts: bool | None) -> bool | None:
    if any(v is None for v in verdicts):
        return None
    return all(verdicts)


# ------------------------------------------------------------------------- timing


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 300 samples is the 297th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def timed_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def best_of_ms(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs: the figure least disturbed by neighbours."""
    return min(timed_ms(fn) for _ in range(max(1, repeat)))


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# -------------------------------------------------------------------------- table


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("msg/s", "B"):
        return f"{value:,.0f} {unit}"
    if unit == "MB":
        return f"{value:,.0f} MB" if value >= 100 else f"{value:.2f} MB"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.2f} {unit}".strip()


def _one_line(text: str, width: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def verdict(row: Row) -> str:
    if row.skipped:
        return "SKIP"
    if row.passed is None:
        return ""
    return "PASS" if row.passed else "FAIL"


def table(results: Results, markdown: bool = False) -> str:
    header = ("Measurement", "Relbook", "Raw", "Ratio", "Target", "Result")
    lines: list[tuple[str, ...]] = []
    for row in results.rows:
        ratio = row.ratio
        lines.append(
            (
                row.label,
                _figure(row.value, row.unit) if not row.skipped else "skipped",
                _figure(row.baseline, row.unit) if row.baseline is not None else "",
                f"{ratio:.2f}×" if ratio is not None else "",
                row.target,
                verdict(row) + (f" ({_one_line(row.note)})" if row.skipped and row.note else ""),
            )
        )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*cells) for cells in lines]
    return "\n".join(out)
