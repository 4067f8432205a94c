"""``relbook accounts`` and ``relbook sync`` from the command line, and the kill -9 test."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relbook.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USER
from relbook.domain.clock import SystemClock
from relbook.storage.book import integrity_problems, open_book
from tests.conftest import relbook

from .servers import Dovecot, make_message

pytestmark = pytest.mark.integration


def create_account(book_path: Path, server: Dovecot) -> None:
    """The account 'Work mail' in the book (its password is given to each process)."""
    from relbook.credentials import SessionSecretStore
    from relbook.services.accounts import AccountDraft
    from relbook.services.context import Services

    services = Services(open_book(book_path, SystemClock()), SystemClock())
    services.secrets = SessionSecretStore()
    services.accounts.create(
        AccountDraft(
            kind="imap",
            name="Work mail",
            host="127.0.0.1",
            port=server.port,
            security="plain",
            allow_plaintext=True,
            username="rep@example.com",
            password="secret",
            privacy="full",
        )
    )
    services.close()


def test_accounts_add_list_test_and_sync_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    dovecot: Dovecot,
    book_path: Path,
    no_keyring: None,
) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(3)])
    book = str(book_path)
    code, out, err = relbook(
        capsys, monkeypatch,
        "accounts", "add", "imap", "--name", "Work mail", "--host", "127.0.0.1",
        "--port", str(dovecot.port), "--security", "plain", "--allow-plaintext",
        "--username", "rep@example.com", "--password-stdin", "--book", book,
        stdin="secret\n",
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "Added IMAP mailbox 'Work mail'" in out
    assert "no keyring: passwords are asked each session" in out
    assert "Connected. 2 folders found: INBOX, Sent." in out

    # A new process: no keyring, so the password is asked again (here: from stdin).
    code, out, err = relbook(capsys, monkeypatch, "sync", "--book", book)
    assert code == EXIT_USER and "'Work mail' needs its password" in err
    code, out, err = relbook(
        capsys, monkeypatch, "sync", "--book", book, "--password-stdin", stdin="secret\n"
    )
    assert code == EXIT_OK, err
    assert "Work mail · INBOX: 3/3" in out
    assert "Work mail: 3 new or changed of 3 seen." in out

    code, out, _ = relbook(capsys, monkeypatch, "accounts", "list", "--book", book)
    assert code == EXIT_OK
    assert "Work mail  (IMAP mailbox, every 15 min, keeps excerpt)" in out
    assert "3 stored of 3 seen" in out

    code, out, err = relbook(
        capsys, monkeypatch, "accounts", "test", "Work mail", "--password-stdin", "--book", book,
        stdin="wrong\n",
    )  # fmt: skip
    assert code == EXIT_USER and "refused the user name or password" in err

    code, out, _ = relbook(capsys, monkeypatch, "accounts", "remove", "work mail", "--book", book)
    assert code == EXIT_OK and "Its mail and meetings stay in the book." in out


def test_accounts_add_reports_each_bad_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, book_path: Path
) -> None:
    code, _, err = relbook(
        capsys, monkeypatch,
        "accounts", "add", "imap", "--name", "Bad", "--port", "0", "--every", "1",
        "--book", str(book_path), "--password-stdin", stdin="x\n",
    )  # fmt: skip
    assert code == EXIT_USER
    assert "relbook: --host: is required (e.g. imap.example.com)" in err
    assert "relbook: --port: must be between 1 and 65535" in err
    assert "relbook: --every: must be between 5 and 1440 minutes" in err


# --------------------------------------------------------------------- kill -9


@pytest.mark.slow
def test_a_sync_killed_at_random_points_stores_every_message_exactly_once(
    dovecot: Dovecot, book_path: Path, tmp_path: Path
) -> None:
    total = 5000
    dovecot.append("INBOX", [make_message(i) for i in range(total)])
    create_account(book_path, dovecot)

    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    command = [
        sys.executable, "-m", "relbook", "sync", "--account", "Work mail",
        "--book", str(book_path), "--password-stdin",
    ]  # fmt: skip
    kills, finished = 0, False
    for _run in range(40):
        # Kill after 0–2 committed pages of the ten (0: while starting, logging in or
        # reading the first page), then at a random moment inside the next page —
        # fetching, parsing or in the middle of its transaction. A run with fewer pages
        # left than that finishes the sync.
        kill_after = rng.randint(0, 2)
        into_page = rng.uniform(0.0, 0.3)
        with (tmp_path / "stderr.log").open("ab") as errors:
            child = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env
            )
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(b"secret\n")
            child.stdin.close()
            pages = 0
            killed = False
            while True:
                if pages >= kill_after:
                    time.sleep(into_page)  # the kill point, not a wait for a result
                    child.send_signal(signal.SIGKILL)
                    killed = True
                    break
                line = child.stdout.readline()
                if not line:
                    break
                if b"Work mail \xc2\xb7 INBOX:" in line:
                    pages += 1
            child.stdout.close()
            code = child.wait(120)
        if killed and code == -signal.SIGKILL:
            kills += 1
            continue
        assert code == 0, (seed, (tmp_path / "stderr.log").read_text(errors="replace")[-3000:])
        finished = True
        break
    # A killed run commits at most three pages (a page takes longer than the kill
    # point's delay): at least three kills before the end.
    assert finished and kills >= 3, f"seed {seed}, {kills} kills"

    book = open_book(book_path, SystemClock())
    try:
        reader = book.reader()
        keys = [row[0] for row in reader.execute("SELECT natural_key FROM interaction")]
        assert len(keys) == total and len(set(keys)) == total, f"seed {seed}"
        assert set(keys) == {f"msgid:msg-{i}@customer.example" for i in range(total)}
        refs = reader.execute(
            "SELECT count(*), count(DISTINCT locator) FROM source_ref WHERE scope = 'INBOX'"
        ).fetchone()
        assert refs == (total, total)
        assert integrity_problems(reader) == []
    finally:
        book.close()


def test_sync_exit_codes_name_the_problem(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    dovecot: Dovecot,
    book_path: Path,
    no_keyring: None,
) -> None:
    book = str(book_path)
    code, out, _ = relbook(capsys, monkeypatch, "sync", "--book", book)
    assert code == EXIT_OK and "No accounts to sync" in out
    code, _, err = relbook(capsys, monkeypatch, "sync", "--account", "Nope", "--book", book)
    assert code == EXIT_USER and "No account named 'Nope'" in err

    dovecot.append("INBOX", [make_message(1)])
    code, _, _ = relbook(
        capsys, monkeypatch,
        "accounts", "add", "imap", "--name", "Work mail", "--host", "127.0.0.1",
        "--port", str(dovecot.port), "--security", "plain", "--allow-plaintext",
        "--username", "rep@example.com", "--password-stdin", "--no-test", "--book", book,
        stdin="wrong\n",
    )  # fmt: skip
    assert code == EXIT_OK
    # A wrong password: exit 3, the server's refusal and the way out on stderr.
    code, _, err = relbook(
        capsys, monkeypatch, "sync", "--account", "work mail", "--book", book,
        "--password-stdin", stdin="wrong\n",
    )  # fmt: skip
    assert code == EXIT_USER
    assert "Work mail: 127.0.0.1 refused the user name or password for rep@example.com" in err
    code, out, _ = relbook(capsys, monkeypatch, "accounts", "list", "--book", book)
    assert "refused the user name or password" in out  # the account's status says it too

    # A broken message is reported by name and the rest goes in: exit 4.
    dovecot.append("INBOX", [b"This is not an e-mail at all.\r\n"])
    code, out, err = relbook(
        capsys, monkeypatch, "sync", "--book", book, "--password-stdin", stdin="secret\n"
    )
    assert code == EXIT_PARTIAL, err
    assert "Work mail: 1 new or changed of 2 seen; 1 item(s) reported." in out
    assert "INBOX" in err and "could not be read" in err


def test_sync_loop_syncs_due_accounts_and_stops_cleanly_on_sigterm(
    dovecot: Dovecot, book_path: Path, tmp_path: Path
) -> None:
    dovecot.append("INBOX", [make_message(i) for i in range(3)])
    create_account(book_path, dovecot)
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONUNBUFFERED": "1",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "relbook", "sync", "--loop", "--book", str(book_path),
         "--password-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(b"secret\n")
    child.stdin.close()
    lines: list[str] = []
    for raw in child.stdout:
        lines.append(raw.decode())
        if "Work mail: 3 new or changed of 3 seen." in lines[-1]:
            break
    # The loop now waits for the next due time; SIGTERM ends it at once, cleanly.
    child.send_signal(signal.SIGTERM)
    code = child.wait(60)
    assert child.stderr is not None
    errors = child.stderr.read().decode()
    child.stdout.close()
    child.stderr.close()
    assert code == EXIT_OK, errors
    assert lines[0].startswith("Syncing accounts as they fall due")
    assert any("Work mail: 3 new or changed of 3 seen." in line for line in lines), lines
    book = open_book(book_path, SystemClock())
    try:
        count = book.reader().execute("SELECT count(*) FROM interaction").fetchone()[0]
        assert count == 3
    finally:
        book.close()
