"""Running account syncs: one job per account, cancellable, with progress and status.

``run(account_id)`` syncs one account now (the UI's "Sync now", ``relbook sync``);
``due_accounts(now)`` tells a scheduler which accounts are due (every N minutes each — the
UI drives it with a QTimer, ``relbook sync --loop`` with a sleep).

One job per account at a time, also across processes (the app and ``relbook sync`` on the
same book): a lock file per account next to the book (``BOOK.locks/``). A second request
for a running account waits (``wait=True``) or is answered ``busy`` at once.

Outcomes, and what the account's status keeps:
- done — ``last_success_at``, counts; the error and offline marks are cleared;
- offline — the server or the network is unreachable: ``offline_since`` and a quiet retry
  (``retry_at``) instead of an error each minute;
- error — the source failed (wrong password, certificate, server error): ``last_error``;
  a server's back-off request (``retry_after``) is kept in ``retry_at`` and honoured;
- question — a data-loss guard stopped the sync ("the mailbox looks empty"): it waits in
  ``pending_question`` until ``answer(account_id, proceed)``;
- cancelled, busy, password (none in this session), disabled.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from relbook.domain.clock import from_millis, to_millis
from relbook.domain.errors import NotFoundError
from relbook.services.base import Service

if TYPE_CHECKING:
    from relbook.capture.ingest import IngestProgress, SyncReport

log = logging.getLogger(__name__)

OFFLINE_RETRY_MINUTES = 5


@dataclass(frozen=True)
class SyncProgress:
    """What a progress callback receives (from the sync's thread)."""

    account_id: str
    account_name: str
    scope: str
    done: int
    total: int | None
    stored: int = 0


@dataclass(frozen=True)
class SyncOutcome:
    account_id: str
    status: str  # done / offline / error / question / cancelled / busy / password / disabled
    message: str = ""
    items_seen: int = 0
    items_stored: int = 0
    problems: tuple[str, ...] = ()  # per-item problems (reported; the rest went in)
    retry_at: datetime | None = None
    changed_mail: bool = False  # the run stored, swept or queued mail for review

    @property
    def ok(self) -> bool:
        return self.status == "done"


ProgressCallback = Callable[[SyncProgress], None]


class AccountLock:
    """One sync job per account: a thread lock plus an OS file lock (other processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._handle: IO[bytes] | None = None

    def acquire(self, wait: bool, cancel: Any = None) -> bool:
        if not self._thread_lock.acquire(blocking=wait):
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+b")
            while True:
                if _try_lock_file(handle):
                    self._handle = handle
                    return True
                if not wait or (cancel is not None and cancel.wait(0.5)):
                    handle.close()
                    self._thread_lock.release()
                    return False
                if cancel is None:
                    threading.Event().wait(0.5)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            _unlock_file(handle)
            handle.close()
        self._thread_lock.release()

    @property
    def held(self) -> bool:
        return self._thread_lock.locked()


def _try_lock_file(handle: IO[bytes]) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock_file(handle: IO[bytes]) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class _Job:
    cancel: Any
    started_at: datetime
    progress: list[SyncProgress] = field(default_factory=list)


# What a page of mail stored can change: its interactions, the touch statistics of people
# and companies, deals' timelines and the review queue of new correspondents.
LANDED_KINDS = ("interaction", "person", "company", "deal", "review")


class SyncService(Service):
    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self._locks: dict[str, AccountLock] = {}
        self._jobs: dict[str, _Job] = {}
        self._guard = threading.Lock()

    # ------------------------------------------------------------------ state
    def _lock_for(self, account_id: str) -> AccountLock:
        with self._guard:
            lock = self._locks.get(account_id)
            if lock is None:
                folder = self.book.path.parent / f"{self.book.path.name}.locks"
                lock = AccountLock(folder / f"sync-{account_id}.lock")
                self._locks[account_id] = lock
            return lock

    def is_running(self, account_id: str) -> bool:
        """True while this process syncs the account."""
        with self._guard:
            return account_id in self._jobs

    def running(self) -> list[str]:
        with self._guard:
            return list(self._jobs)

    def cancel(self, account_id: str) -> bool:
        """Ask a running sync to stop after its current page (committed pages stay)."""
        with self._guard:
            job = self._jobs.get(account_id)
        if job is None:
            return False
        job.cancel.cancel()
        return True

    def cancel_all(self) -> None:
        for account_id in self.running():
            self.cancel(account_id)

    # ------------------------------------------------------------------ scheduling
    def due_accounts(self, now: datetime | None = None) -> list[str]:
        """Accounts whose next sync is due: enabled, not waiting for an answer or a
        password, not running, and ``interval_minutes`` after the last attempt — or, for a
        sync the server interrupted (offline, throttled), once its ``retry_at`` is past."""
        now = now or self.clock.now()
        due: list[str] = []
        rows = self.db.execute(
            """SELECT id, interval_minutes, last_attempt_at, offline_since, retry_at
               FROM account WHERE enabled = 1 AND pending_question = ''
               ORDER BY coalesce(last_attempt_at, 0), name"""
        ).fetchall()
        for account_id, interval, last_attempt, offline, retry_at in rows:
            if self.is_running(account_id):
                continue
            if retry_at is not None and from_millis(retry_at) > now:
                continue
            if self.services.accounts.needs_password(account_id):
                continue
            waited = last_attempt is None or (
                from_millis(last_attempt) + timedelta(minutes=int(interval)) <= now
            )
            if retry_at is None and offline is None and not waited:
                continue  # an interrupted sync (offline, throttled) resumes at retry_at
            due.append(account_id)
        return due

    def next_due_at(self, now: datetime | None = None) -> datetime | None:
        """When the next account becomes due (for a loop's sleep), or None."""
        now = now or self.clock.now()
        moments = [
            s.next_sync_at
            for s in self.services.accounts.list()
            if s.enabled and s.next_sync_at is not None and s.state not in ("question", "password")
        ]
        return max(min(moments), now) if moments else None

    def run_due(
        self,
        now: datetime | None = None,
        *,
        cancel: Any = None,
        progress: ProgressCallback | None = None,
    ) -> list[SyncOutcome]:
        outcomes = []
        for account_id in self.due_accounts(now):
            if cancel is not None and cancel.cancelled:
                break
            outcomes.append(self.run(account_id, cancel=cancel, progress=progress))
        return outcomes

    # ------------------------------------------------------------------ running
    def run(
        self,
        account_id: str,
        *,
        cancel: Any = None,
        progress: ProgressCallback | None = None,
        confirm_guards: bool = False,
        wait: bool = False,
    ) -> SyncOutcome:
        """Sync one account now (blocking; call it off the UI thread)."""
        from relbook.capture.sources.base import CancelToken

        row = self.db.execute(
            "SELECT name, enabled, pending_question FROM account WHERE id = ?", (account_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError("account", account_id)
        name, enabled, question = row
        if not enabled:
            return SyncOutcome(account_id, "disabled", f"'{name}' is paused.")
        if question and not confirm_guards:
            return SyncOutcome(account_id, "question", question)
        token = cancel or CancelToken()
        lock = self._lock_for(account_id)
        if not lock.acquire(wait, token):
            if token.cancelled:
                return SyncOutcome(account_id, "cancelled", "Cancelled before it started.")
            return SyncOutcome(
                account_id, "busy", f"'{name}' is already syncing; this request was not started."
            )
        with self._guard:
            self._jobs[account_id] = _Job(token, self.clock.now())
        outcome = None
        try:
            outcome = self._run_locked(account_id, name, token, progress, confirm_guards)
            return outcome
        finally:
            with self._guard:
                self._jobs.pop(account_id, None)
            lock.release()
            self.services.changes.publish(("account",), reason="sync finished")
            if outcome is not None and outcome.changed_mail:
                # The views showing mail read again once, when the sync is done: read
                # while it runs, each refresh competed with the sync for the interpreter
                # (My Day froze 150 ms at a time; the Sync page shows the progress).
                self.services.changes.publish(LANDED_KINDS, reason="mail landed")

    def answer(
        self,
        account_id: str,
        proceed: bool,
        *,
        cancel: Any = None,
        progress: ProgressCallback | None = None,
    ) -> SyncOutcome | None:
        """The rep's answer to a guard question: go on (sync with the guard confirmed) or
        keep the book as it is (the question is cleared; the account is paused)."""
        if proceed:
            return self.run(account_id, cancel=cancel, progress=progress, confirm_guards=True)
        from relbook.storage.models import Account

        with self.write(("account",), reason="guard answered") as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFoundError("account", account_id)
            account.pending_question = ""
            account.enabled = False
        return None

    def _run_locked(
        self,
        account_id: str,
        name: str,
        cancel: Any,
        progress: ProgressCallback | None,
        confirm_guards: bool,
    ) -> SyncOutcome:
        from relbook.capture.sources.base import Cancelled, SourceError
        from relbook.capture.sources.net import AuthFailed, Unreachable
        from relbook.domain.errors import GuardTripped, UserError

        now = self.clock.now()
        self._mark(account_id, last_attempt_at=now)
        accounts = self.services.accounts
        try:
            source = accounts.build_source(account_id)
        except AuthFailed as error:
            return self._failed(account_id, "password", error.message, error.remedy)
        except SourceError as error:
            return self._failed(account_id, "error", error.message, error.remedy)
        draft = accounts.draft(account_id)
        privacy = draft.privacy or str(self.services.settings.get("privacy_default"))
        before = self.db.execute(
            "SELECT last_error, last_error_at FROM account WHERE id = ?", (account_id,)
        ).fetchone()
        try:
            report = self._ingest(
                account_id, name, source, privacy, cancel, progress, confirm_guards
            )
        except Cancelled:
            return SyncOutcome(account_id, "cancelled", "Cancelled; what was synced is kept.")
        except Unreachable as error:
            # Being offline is not an error: keep the status as it was (ingest noted it).
            self._mark(account_id, last_error=before[0], last_error_at=before[1])
            return self._offline(account_id, name, error)
        except SourceError as error:
            return self._failed(
                account_id, "error", error.message, error.remedy, retry_after=error.retry_after
            )
        except GuardTripped as error:
            self._mark(account_id, pending_question=error.message)
            return SyncOutcome(account_id, "question", error.message)
        except UserError as error:
            return self._failed(account_id, "error", error.message, error.remedy)
        except Exception:
            log.exception("sync of account %s (%s) failed", name, account_id)
            return self._failed(
                account_id,
                "error",
                "Something went wrong during the sync (a bug).",
                "The details are in the log; please report it.",
            )
        finally:
            try:
                source.close()
            except Exception:  # closing must not hide the outcome
                log.debug("closing source of %s failed", account_id, exc_info=True)
        return self._finished(account_id, report)

    # ------------------------------------------------------------------ ingest glue
    def _ingest(
        self,
        account_id: str,
        name: str,
        source: Any,
        privacy: str,
        cancel: Any,
        progress: ProgressCallback | None,
        confirm_guards: bool,
    ) -> SyncReport:
        from relbook.capture.ingest import sync_source

        def relay(step: IngestProgress) -> None:
            if progress is not None:
                progress(
                    SyncProgress(account_id, name, step.scope, step.done, step.total, step.stored)
                )

        return sync_source(
            self.book,
            source,
            account_id=account_id,
            privacy=privacy,
            cancel=cancel,
            progress=relay,
            confirm_guards=confirm_guards,
        )

    def _finished(self, account_id: str, report: SyncReport) -> SyncOutcome:
        # Ingest stored last_success_at, the counts and a summary of unreadable items.
        problems = tuple(str(p) for p in report.problems if p.skipped)
        seen, stored = report.seen, report.stored
        self._mark(account_id, offline_since=None, retry_at=None)
        return SyncOutcome(
            account_id,
            "done",
            f"{stored} new or changed of {seen} seen"
            + (f"; {len(problems)} item(s) reported" if problems else "")
            + ".",
            seen,
            stored,
            problems,
            changed_mail=bool(stored or report.deleted or report.review_added),
        )

    def _offline(self, account_id: str, name: str, error: Any) -> SyncOutcome:
        row = self.db.execute(
            "SELECT offline_since, interval_minutes FROM account WHERE id = ?", (account_id,)
        ).fetchone()
        now = self.clock.now()
        if row is not None and row[0] is None:
            log.info("account %s is offline: %s", name, error.message)
        else:
            log.debug("account %s still offline: %s", name, error.message)
        minutes = min(OFFLINE_RETRY_MINUTES, int(row[1]) if row else OFFLINE_RETRY_MINUTES)
        retry_at = now + timedelta(minutes=minutes)
        self._mark(
            account_id,
            offline_since=from_millis(row[0]) if row and row[0] is not None else now,
            retry_at=retry_at,
        )
        return SyncOutcome(account_id, "offline", "offline — will retry", retry_at=retry_at)

    def _failed(
        self,
        account_id: str,
        status: str,
        message: str,
        remedy: str = "",
        *,
        retry_after: float | None = None,
    ) -> SyncOutcome:
        now = self.clock.now()
        text = f"{message} {remedy}".strip()
        previous = self.db.execute(
            "SELECT last_error FROM account WHERE id = ?", (account_id,)
        ).fetchone()
        if previous is None or previous[0] != text:
            log.warning("sync of account %s failed: %s", account_id, text)
        retry_at = now + timedelta(seconds=retry_after) if retry_after else None
        self._mark(
            account_id,
            last_error=text,
            last_error_at=now,
            offline_since=None,
            retry_at=retry_at,
        )
        return SyncOutcome(account_id, status, text, retry_at=retry_at)

    def _mark(self, account_id: str, **values: Any) -> None:
        """Update status columns of an account (one short write)."""
        columns = []
        params: list[Any] = []
        for key, value in values.items():
            columns.append(f"{key} = ?")
            params.append(to_millis(value) if isinstance(value, datetime) else value)
        with self.book.raw_write() as connection:
            connection.execute(
                f"UPDATE account SET {', '.join(columns)} WHERE id = ?", (*params, account_id)
            )
