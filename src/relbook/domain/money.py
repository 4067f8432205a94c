"""Money as integer minor units plus an ISO currency code (no floats in the book)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Currencies whose minor unit is not 1/100.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "TND": 3}
_CLEAN = re.compile(r"[\s_'\u00a0\u202f]")


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def to_minor(amount: Decimal | int | float | str, currency: str) -> int:
    value = Decimal(str(amount))
    scale = Decimal(10) ** minor_digits(currency)
    return int((value * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor) / (Decimal(10) ** minor_digits(currency))


def parse_money_text(text: str) -> Decimal | None:
    """Reads what people type: '12,500', '12.500,50', '12k', '1.2m', '€ 900'."""
    raw = _CLEAN.sub("", text.strip())
    raw = re.sub(r"^[^\d\-+.,]+|[^\d.,kKmM]+$", "", raw)
    if not raw:
        return None
    multiplier = Decimal(1)
    if raw[-1] in "kK":
        multiplier, raw = Decimal(1000), raw[:-1]
    elif raw[-1] in "mM":
        multiplier, raw = Decimal(1_000_000), raw[:-1]
    if "," in raw and "." in raw:
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = raw.replace(",", "") if len(tail) == 3 and head else raw.replace(",", ".")
    try:
        return Decimal(raw) * multiplier
    except InvalidOperation:
        return None


def format_money(minor: int | None, currency: str, *, compact: bool = False) -> str:
    if minor is None:
        return ""
    value = from_minor(minor, currency)
    if compact and abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M {currency}"
    if compact and abs(value) >= 10_000:
        return f"{value / 1000:.0f}k {currency}"
    digits = minor_digits(currency) if value != value.to_integral_value() else 0
    return f"{value:,.{digits}f} {currency}"
