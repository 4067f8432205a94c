"""People's names: composing a display name, splitting a full one, a key for comparison."""

from __future__ import annotations

import re
import unicodedata

_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "du"})
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "herr", "frau", "mme"})


def display_name(given: str, family: str, fallback: str = "") -> str:
    name = " ".join(part for part in (given.strip(), family.strip()) if part)
    return name or fallback.strip()


def split_full_name(full: str) -> tuple[str, str]:
    """'Jane van der Berg' → ('Jane', 'van der Berg'); 'Berg, Jane' → ('Jane', 'Berg').

    Names in scripts without spaces (王伟) stay whole in the given name: guessing their
    split would be wrong more often than right.
    """
    text = " ".join(full.split())
    if not text:
        return "", ""
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip(), family.strip()
    parts = text.split(" ")
    while parts and parts[0].lower().rstrip(".") in _HONORIFICS and len(parts) > 1:
        parts = parts[1:]
    if len(parts) == 1:
        return parts[0], ""
    family_start = len(parts) - 1
    while family_start > 1 and parts[family_start - 1].lower() in _PARTICLES:
        family_start -= 1
    return " ".join(parts[:family_start]), " ".join(parts[family_start:])


def name_from_address(address: str) -> tuple[str, str]:
    """A best guess from 'jane.doe@…' → ('Jane', 'Doe'); unknown shapes give ('', '')."""
    local = address.partition("@")[0]
    local = local.split("+", 1)[0]
    parts = [p for p in re.split(r"[._-]", local) if p.isalpha() and len(p) > 1]
    if len(parts) == 2:
        return parts[0].capitalize(), parts[1].capitalize()
    return "", ""


def comparison_key(name: str) -> str:
    """Lower-case, accents removed, punctuation folded: 'Zoë O'Neil' → 'zoe oneil'."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = re.sub(r"[^\w\s]", "", stripped.lower())
    return " ".join(cleaned.split())


def initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()
