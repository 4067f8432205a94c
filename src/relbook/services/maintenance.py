"""Book health: integrity checks, search index repair, and automatic backups."""

from __future__ import annotations

from dataclasses import dataclass, field

from relbook.services.base import Service
from relbook.storage import backup, migrate, search_index
from relbook.storage.book import integrity_problems
from relbook.storage.pragmas import open_raw


@dataclass
class DoctorReport:
    path: str
    schema: str | None
    size_bytes: int
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


_COUNTED = ("person", "company", "deal", "interaction", "task", "note")


class MaintenanceService(Service):
    def check(self) -> DoctorReport:
        path = self.book.path
        # Not query_only: FTS5's 'integrity-check' is spelled as an INSERT (it writes nothing).
        connection = open_raw(str(path))
        try:
            report = DoctorReport(
                str(path), migrate.current_revision(connection), path.stat().st_size
            )
            report.problems += [f"integrity: {p}" for p in integrity_problems(connection)]
            broken = connection.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                report.problems.append(f"{len(broken)} rows point at rows that do not exist")
            report.problems += search_index.integrity_problems(connection)
            for table in _COUNTED:
                report.counts[table] = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL"
                ).fetchone()[0]
            pending = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
            report.notes.append(f"{pending} changes wait for the team server")
        finally:
            connection.close()
        latest = backup.latest_backup(path)
        if latest is None:
            report.notes.append("no backup yet — run 'relbook backup'")
        else:
            report.notes.append(
                f"latest backup {latest.taken_at:%Y-%m-%d %H:%M} UTC: {latest.path}"
            )
        if report.schema != migrate.SCHEMA_HEAD:
            report.problems.append(
                f"schema {report.schema} is not the current {migrate.SCHEMA_HEAD}"
            )
        return report

    def rebuild_search(self) -> None:
        with self.book.raw_write() as connection:
            search_index.rebuild(connection)
        self.services.changes.publish(("search",), reason="rebuild")

    def backup_now(self) -> backup.BackupFile:
        """A backup taken on request (the app's "Back up now"), verified like the daily one."""
        return backup.take_backup(self.book.path, "manual", self.clock.now())

    def latest_backup(self) -> backup.BackupFile | None:
        return backup.latest_backup(self.book.path)

    def backup_if_due(self) -> backup.BackupFile | None:
        settings = self.services.settings
        if not settings.get("backup_enabled"):
            return None
        return backup.backup_if_due(
            self.book.path, self.clock.now(), int(settings.get("backup_keep"))
        )
