"""Book settings (stored in the book, so they travel with it): typed, validated, defaulted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from relbook.domain.errors import FieldError, ValidationError
from relbook.domain.kinds import PrivacyLevel
from relbook.services.base import Service


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: Any
    label: str
    kind: type


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("currency", "EUR", "Default currency (ISO code)", str),
        SettingSpec("phone_region", "", "Region for phone numbers without +country", str),
        SettingSpec("internal_domains", [], "Your company's e-mail domains (colleagues)", list),
        SettingSpec("my_addresses", [], "Your own e-mail addresses", list),
        SettingSpec("backup_keep", 14, "Daily backups to keep", int),
        SettingSpec("backup_enabled", True, "Take a backup every day", bool),
        SettingSpec("privacy_default", "excerpt", "What new accounts keep of messages", str),
        SettingSpec("going_cold_factor", 2.0, "Silent for this many rhythms = going cold", float),
        SettingSpec(
            "default_cadence_days", 30, "Cadence proposed for a person without a rhythm", int
        ),
        SettingSpec("keep_warm_cadence_days", 90, "Cadence proposed after a lost deal", int),
        SettingSpec("keep_warm_dismissed", [], "Keep-warm proposals dismissed (deal:person)", list),
    )
}


_KIND_WORDS: dict[type, str] = {
    int: "a whole number",
    float: "a number",
    bool: "on or off (true/false)",
    str: "text",
    list: "a list",
}


def _decode(stored: Any) -> Any:
    """A stored setting. The column's numeric affinity turns the JSON text '30' into the
    integer 30 (and '2.5' into a real), so numbers come back already decoded."""
    if isinstance(stored, int | float):
        return stored
    return json.loads(stored)


class SettingsService(Service):
    def get(self, key: str) -> Any:
        spec = SPECS[key]
        row = self.db.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        if row is None:
            return spec.default
        return _decode(row[0])

    def all(self) -> dict[str, Any]:
        stored = {k: _decode(v) for k, v in self.db.execute("SELECT key, value FROM setting")}
        return {key: stored.get(key, spec.default) for key, spec in SPECS.items()}

    def set(self, key: str, value: Any) -> None:
        self.set_many({key: value})

    def set_many(self, values: dict[str, Any], *, relink_now: bool = True) -> None:
        """Validate and store ``values`` in one transaction. When who counts as a colleague
        changed, the relink of past mail is noted in the same transaction and run now —
        or, with ``relink_now=False``, left to ``relink.run_pending`` (the app runs it in
        the background with progress; it resumes after a restart)."""
        clean = {key: self._validate(key, value) for key, value in values.items()}
        from relbook.services.relink import PENDING_KEY, merged_job
        from relbook.storage.models import Setting

        colleagues = ("internal_domains", "my_addresses")
        before = {key: set(self.get(key)) for key in colleagues if key in clean}
        changed = {key: before[key] ^ set(clean[key]) for key in before}
        with self.write(("setting",)) as session:
            for key, value in clean.items():
                session.merge(Setting(key=key, value=value))
            if any(changed.values()):  # who counts as a colleague changed (capture linking)
                pending = session.get(Setting, PENDING_KEY)
                job = merged_job(
                    pending.value if pending is not None else None,
                    domains=changed.get("internal_domains", ()),
                    addresses=changed.get("my_addresses", ()),
                )
                session.merge(Setting(key=PENDING_KEY, value=job))
        if any(changed.values()) and relink_now:
            self.services.relink.run_pending()

    def _validate(self, key: str, value: Any) -> Any:
        spec = SPECS.get(key)
        if spec is None:
            raise ValidationError(FieldError(key, "is not a setting Relbook knows"))
        if spec.kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
            expected = _KIND_WORDS.get(spec.kind, "a value of its kind")
            raise ValidationError(FieldError(key, f"must be {expected}"))
        if key == "currency" and not (len(str(value)) == 3 and str(value).isalpha()):
            raise ValidationError(FieldError(key, "must be a three-letter ISO code, e.g. EUR"))
        if key == "currency":
            value = str(value).upper()
        if key == "backup_keep" and not 1 <= value <= 365:
            raise ValidationError(FieldError(key, "must be between 1 and 365"))
        if key == "privacy_default" and value not in {p.value for p in PrivacyLevel}:
            raise ValidationError(FieldError(key, "must be headers, excerpt or full"))
        if key in ("internal_domains", "my_addresses"):
            value = sorted({str(v).strip().lower() for v in value if str(v).strip()})
        if key == "phone_region":
            value = value.upper()
            if value and not (len(value) == 2 and value.isalpha()):
                raise ValidationError(FieldError(key, "must be a two-letter region, e.g. DE"))
        return value

    @property
    def currency(self) -> str:
        return str(self.get("currency"))

    @property
    def internal_domains(self) -> list[str]:
        return list(self.get("internal_domains"))
