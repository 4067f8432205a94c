"""Contacts import (vCard, CSV) with preview-then-commit, and export (vCard, safe CSV)."""

from relbook.services.contacts.records import ContactRecord, RecordIssue
from relbook.services.contacts.service import (
    ContactImportPreview,
    ContactImportResult,
    ContactService,
    FileSummary,
    PreviewEntry,
    RecordOutcome,
)

__all__ = [
    "ContactImportPreview",
    "ContactImportResult",
    "ContactRecord",
    "ContactService",
    "FileSummary",
    "PreviewEntry",
    "RecordIssue",
    "RecordOutcome",
]
