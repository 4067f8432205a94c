"""Importing files and folders: mail (.eml, mbox, Maildir), calendars (.ics), contacts.

Files are recognised by their content (``capture.detect``), folders walked recursively.
Contacts (vCard, CSV) go first, through ``services.contacts`` (preview, then commit), so
the mail that follows links to the people they created; mail and calendars go through
``capture.ingest.ingest_items`` (natural keys: importing the same file twice stores
nothing new). Every problem names the file and the place in it; the rest goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path

from relbook.capture.detect import CONTACT_KINDS, Detected, FileKind, walk
from relbook.capture.ingest import IngestProgress, IngestReport, ingest_items
from relbook.capture.items import ItemProblem, ReadItem
from relbook.capture.sources.base import (  # Cancelled: re-exported for the UI
    Cancelled,  # noqa: F401
    CancelToken,
)
from relbook.capture.sources.files import read_items
from relbook.services.base import Service

_MAIL_KINDS = frozenset(
    kind.value for kind in (FileKind.EML, FileKind.MBOX, FileKind.MAILDIR, FileKind.ICS)
)
CONTACTS_MISSING = "contacts import is not available in this version yet; the file was skipped"


@dataclass(frozen=True)
class FileProgress:
    path: str  # the file being read
    files_done: int
    files_total: int
    items_done: int  # messages/events read so far
    stored: int  # interactions created or changed so far


@dataclass
class _Progress:
    """Where a running import is (what the progress callback is told)."""

    file: str = ""
    done: int = 0
    items: int = 0
    stored: int = 0


@dataclass
class FileOutcome:
    path: str
    kind: str  # FileKind value
    items: int = 0  # messages/events/contacts read from it
    problems: int = 0


@dataclass
class FileImportReport:
    files: list[FileOutcome] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)
    contacts_created: int = 0
    contacts_merged: int = 0
    problems: list[ItemProblem] = field(default_factory=list)  # all, in file order

    @property
    def skipped(self) -> int:
        """Items (or files) reported and not imported: the command line exits with 4."""
        return sum(1 for p in self.problems if p.skipped)

    def summary(self) -> str:
        mail = self.ingest
        parts = [f"{len(self.files)} file(s)"]
        if any(outcome.kind in _MAIL_KINDS for outcome in self.files):
            # Counts of mail and meetings (a contacts-only import has none to report).
            parts += [
                f"{mail.created} new (mail and meetings)",
                f"{mail.updated} updated",
                f"{mail.unchanged} already in the book",
            ]
        if self.contacts_created or self.contacts_merged:
            parts.append(
                f"{self.contacts_created} people added, {self.contacts_merged} people updated"
            )
        if mail.review_added:
            parts.append(f"{mail.review_added} new correspondents to review")
        if self.skipped:
            parts.append(f"{self.skipped} item(s) reported and skipped")
        return ", ".join(parts) + "."

    def describe(self, max_problems: int = 20) -> str:
        """The summary and the first problems, one per line (the import dialog shows it)."""
        lines = [self.summary()]
        for problem in self.problems[:max_problems]:
            note = "" if problem.skipped else " (imported with a note)"
            lines.append(f"• {problem}{note}")
        if len(self.problems) > max_problems:
            lines.append(f"… and {len(self.problems) - max_problems} more.")
        return "\n".join(lines)


class FileImportService(Service):
    def scan(self, paths: Sequence[Path | str]) -> list[Detected]:
        """What ``run`` would import, file by file, judged by content."""
        return list(walk(Path(p) for p in paths))

    def run(
        self,
        paths: Sequence[Path | str],
        *,
        privacy: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[FileProgress], None] | None = None,
        default_tz: tzinfo = UTC,
    ) -> FileImportReport:
        """Import everything under ``paths``. Raises ``Cancelled`` when cancelled (what
        was committed stays); problems are reported, never raised."""
        privacy = privacy or str(self.services.settings.get("privacy_default"))
        found = self.scan(paths)
        report = FileImportReport()
        outcomes = {d.path: FileOutcome(str(d.path), d.kind.value) for d in found}
        report.files = list(outcomes.values())

        contact_files = [d for d in found if d.kind in CONTACT_KINDS]
        if contact_files:
            self._contacts(contact_files, outcomes, report)

        readable = [d for d in found if d.kind in (FileKind.EML, FileKind.MBOX, FileKind.MAILDIR,
                                                    FileKind.ICS)]  # fmt: skip
        for detected in found:
            if detected.kind in (FileKind.UNKNOWN, FileKind.OUTLOOK_MSG):
                problem = ItemProblem(str(detected.path), detected.reason or "cannot be imported")
                report.problems.append(problem)
                outcomes[detected.path].problems += 1

        state = _Progress()

        def tell() -> None:
            if progress is not None:
                progress(
                    FileProgress(state.file, state.done, len(readable), state.items, state.stored)
                )

        def on_batch(info: IngestProgress) -> None:
            state.stored = info.stored
            tell()

        def items() -> Iterator[ReadItem]:
            now = self.clock.now()
            for detected in readable:
                state.file = str(detected.path)
                tell()
                outcome = outcomes[detected.path]
                for read in read_items(detected, now=now, default_tz=default_tz):
                    if read.item is not None:
                        outcome.items += 1
                        state.items += 1
                    if read.problem is not None:
                        outcome.problems += 1
                        report.problems.append(read.problem)
                    yield ReadItem(read.where, read.item, None)  # problems are collected here
                state.done += 1

        if readable:
            report.ingest = ingest_items(
                self.book,
                _only_items(items()),
                source_label="file",
                privacy=privacy,
                progress=on_batch,
                cancel=cancel,
            )
            report.problems += report.ingest.problems
            self.services.changes.publish(
                ("interaction", "person", "company", "review"), reason="import"
            )
        tell()
        return report

    def import_paths(
        self,
        paths: Sequence[Path | str],
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[FileProgress], None] | None = None,
    ) -> FileImportReport:
        """``run`` with the book's privacy setting (drag-and-drop onto the window)."""
        return self.run(paths, cancel=cancel, progress=progress)

    def _contacts(
        self,
        files: list[Detected],
        outcomes: dict[Path, FileOutcome],
        report: FileImportReport,
    ) -> None:
        try:
            contacts = self.services.contacts
        except (AttributeError, ImportError):
            contacts = None
        if contacts is None or not hasattr(contacts, "preview"):
            for detected in files:
                report.problems.append(ItemProblem(str(detected.path), CONTACTS_MISSING))
                outcomes[detected.path].problems += 1
            return
        preview = contacts.preview([d.path for d in files])
        result = contacts.commit(preview)
        for summary in getattr(preview, "files", []):
            outcome = outcomes.get(Path(summary.path))
            if outcome is not None:
                outcome.items += int(summary.records)
        for issue in result.issues:
            where = f"{issue.source}:{issue.line}" if getattr(issue, "line", 0) else issue.source
            report.problems.append(
                ItemProblem(where, issue.message, skipped=bool(getattr(issue, "skipped", True)))
            )
            outcome = _outcome_for(outcomes, str(issue.source))
            if outcome is not None:
                outcome.problems += 1
        report.contacts_created = len(result.created)
        report.contacts_merged = len(result.merged)
        people = list(result.created) + list(result.merged)
        if people:
            self._link_past_mail(people)

    def _link_past_mail(self, person_ids: Iterable[str]) -> None:
        """People the contacts import added or changed: link mail already in the book."""
        addresses: list[str] = []
        for person_id in person_ids:
            addresses += [
                r[0]
                for r in self.db.execute(
                    "SELECT address FROM person_email WHERE person_id = ?", (person_id,)
                )
            ]
        if addresses:
            self.services.relink.addresses_changed(addresses)


def _only_items(reads: Iterable[ReadItem]) -> Iterator[ReadItem]:
    for read in reads:
        if read.item is not None:
            yield read


def _outcome_for(outcomes: dict[Path, FileOutcome], source: str) -> FileOutcome | None:
    for path, outcome in outcomes.items():
        if str(path) == source or path.name == source:
            return outcome
    return None
