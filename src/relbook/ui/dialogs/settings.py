"""Settings: book location and backups, your company's domains, privacy, defaults.

Settings live in the book (they travel with it). Saving validates every value first; a
bad one is shown next to its field and nothing is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relbook.ui.editors.base import EditorDialog
from relbook.ui.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.ui.context import UiContext

PRIVACY = (
    ("headers", "Headers only — who, when, subject"),
    ("excerpt", "Headers and a short excerpt"),
    ("full", "The full text"),
)


class SettingsDialog(EditorDialog):
    noun = "settings"

    def __init__(self, ctx: UiContext, parent: QWidget | None) -> None:
        super().__init__(ctx, parent, "Settings")
        self.setObjectName("settingsDialog")
        self.values: dict[str, Any] = {}
        self.add_section("Book")
        book_row = QWidget()
        row = QHBoxLayout(book_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.book_path = label(str(ctx.services.book.path), "muted", selectable=True)
        self.book_path.setWordWrap(True)
        row.addWidget(self.book_path, 1)
        window = ctx.window
        if window is not None and hasattr(window, "choose_book"):
            row.addWidget(
                button(
                    "Open another…",
                    lambda: (self.reject(), window.choose_book()),
                    kind="flat",
                    icon_name="folder",
                )
            )
        self.add_field("book", "Location", book_row)
        self.backup_enabled = self.add_field(
            "backup_enabled", "", QCheckBox("Take a backup every day")
        )
        keep = QSpinBox()
        keep.setRange(1, 365)
        keep.setSuffix(" backups")
        self.backup_keep = self.add_field("backup_keep", "Keep", keep)
        backup_row = QWidget()
        brow = QHBoxLayout(backup_row)
        brow.setContentsMargins(0, 0, 0, 0)
        self.latest = label("", "small", wrap=True)
        brow.addWidget(self.latest, 1)
        if window is not None and hasattr(window, "backup_now"):
            brow.addWidget(
                button("Back up now", window.backup_now, kind="flat", icon_name="export")
            )
        self.add_field("backups", "Backups", backup_row)

        self.add_section("You and your company")
        self.internal = self.add_field(
            "internal_domains",
            "Company domains",
            QLineEdit(),
            hint="Mail from these domains is from colleagues, not customers (comma-separated).",
        )
        self.addresses = self.add_field(
            "my_addresses",
            "Your addresses",
            QLineEdit(),
            hint="Your own e-mail addresses (comma-separated).",
        )
        self.add_section("Privacy")
        privacy = QComboBox()
        for key, text in PRIVACY:
            privacy.addItem(text, key)
        self.privacy = self.add_field("privacy_default", "New accounts keep", privacy)
        self.add_section("Defaults")
        self.currency = self.add_field("currency", "Currency", QLineEdit())
        self.region = self.add_field(
            "phone_region",
            "Phone region",
            QLineEdit(),
            hint="Two letters (DE, GB, US) for numbers without +country.",
        )
        cadence = QSpinBox()
        cadence.setRange(1, 3650)
        cadence.setSuffix(" days")
        self.cadence = self.add_field("default_cadence_days", "Keep-in-touch default", cadence)
        factor = QDoubleSpinBox()
        factor.setRange(1.0, 10.0)
        factor.setSingleStep(0.5)
        factor.setSuffix(" × rhythm")
        self.factor = self.add_field("going_cold_factor", "Going cold after", factor)
        self.save_button.setEnabled(False)
        self.resize(640, 700)
        settings = ctx.services.settings
        maintenance = ctx.services.maintenance

        def load() -> tuple[dict[str, Any], str]:
            latest = maintenance.latest_backup()
            text = (
                f"Latest: {latest.taken_at:%Y-%m-%d %H:%M} UTC — {latest.path}"
                if latest
                else "No backup yet."
            )
            return settings.all(), text

        ctx.read(load, self._fill, owner=self)

    def _fill(self, loaded: tuple[dict[str, Any], str]) -> None:
        values, latest = loaded
        self.values = values
        self.latest.setText(latest)
        self.backup_enabled.setChecked(bool(values["backup_enabled"]))
        self.backup_keep.setValue(int(values["backup_keep"]))
        self.internal.setText(", ".join(values["internal_domains"]))
        self.addresses.setText(", ".join(values["my_addresses"]))
        self.privacy.setCurrentIndex(max(0, self.privacy.findData(values["privacy_default"])))
        self.currency.setText(values["currency"])
        self.region.setText(values["phone_region"])
        self.cadence.setValue(int(values["default_cadence_days"]))
        self.factor.setValue(float(values["going_cold_factor"]))
        self.save_button.setEnabled(True)

    def build_draft(self) -> dict[str, Any]:
        def split(text: str) -> list[str]:
            return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]

        return {
            "backup_enabled": self.backup_enabled.isChecked(),
            "backup_keep": self.backup_keep.value(),
            "internal_domains": split(self.internal.text()),
            "my_addresses": split(self.addresses.text()),
            "privacy_default": self.privacy.currentData(),
            "currency": self.currency.text().strip(),
            "phone_region": self.region.text().strip(),
            "default_cadence_days": self.cadence.value(),
            "going_cold_factor": float(self.factor.value()),
        }

    def submit(self, draft: dict[str, Any]) -> Any:
        settings = self.ctx.services.settings
        changed = {k: v for k, v in draft.items() if self.values.get(k) != v}

        def save() -> str:
            if changed:
                settings.set_many(changed, relink_now=False)  # ui.relinking runs it
            return ""

        return save

    def _saved(self, entity_id: Any) -> None:
        super()._saved(entity_id)
        self.ctx.status("Settings saved")
