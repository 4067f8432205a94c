"""Passwords live in the OS keyring, never in a file of ours; without one, for a session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from relbook.credentials import (
    NO_KEYRING,
    KeyringSecretStore,
    SecretStoreError,
    SessionSecretStore,
    open_secret_store,
)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend for tests (never keyrings.alt)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("the keyring is locked")
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("the keyring is locked")
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise PasswordDeleteError("not there")
        del self.secrets[(service, username)]


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's file backend: a keyring that writes plain text."""


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_passwords_go_to_the_keyring_under_the_account_id(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store()
    assert isinstance(store, KeyringSecretStore) and store.persistent
    store.set("acc-1", "s3cret")
    assert memory_keyring.secrets == {("Relbook", "acc-1"): "s3cret"}
    assert store.get("acc-1") == "s3cret"
    assert store.get("acc-2") is None
    store.delete("acc-1")
    store.delete("acc-1")  # already gone: no error
    assert store.get("acc-1") is None


def test_without_a_keyring_passwords_are_kept_for_the_session_only() -> None:
    store = open_secret_store(fail.Keyring())
    assert isinstance(store, SessionSecretStore)
    assert not store.persistent
    assert store.where() == NO_KEYRING == "no keyring: passwords are asked each session"
    store.set("acc-1", "s3cret")
    assert store.get("acc-1") == "s3cret"
    # A new session (a new store) knows nothing: nothing was written anywhere.
    assert open_secret_store(fail.Keyring()).get("acc-1") is None


def test_a_plaintext_keyring_is_refused() -> None:
    store = open_secret_store(PlaintextKeyring())
    assert isinstance(store, SessionSecretStore)
    assert "unencrypted" in store.reason


def test_where_names_the_real_place_of_secrets() -> None:
    from keyring.backends import SecretService, Windows, macOS

    assert KeyringSecretStore(SecretService.Keyring()).where() == "Secret Service (GNOME Keyring)"
    assert KeyringSecretStore(macOS.Keyring()).where() == "macOS Keychain"
    assert KeyringSecretStore(Windows.WinVaultKeyring()).where() == "Windows Credential Locker"


def test_a_locked_keyring_is_a_clear_error(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store()
    memory_keyring.locked = True
    with pytest.raises(SecretStoreError) as caught:
        store.set("acc-1", "x")
    assert "refused to save the password" in caught.value.message
    assert "Unlock the keyring" in caught.value.remedy


def _files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", "plaintext-file"])
def test_no_password_ever_reaches_a_file_without_a_safe_keyring(
    tmp_path: Path, book_path: Path, backend: str
) -> None:
    """A real ``relbook`` process on a machine without a (safe) keyring: it says so,
    keeps the password for the session, and writes it nowhere — not in the book, its
    journal, the app's folders or its log."""
    home = tmp_path / "home"
    password = "Zq9-unmistakable-Pa55word"
    env = {**os.environ, "RELBOOK_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    if backend == "plaintext-file":
        # A keyring that would write plain text is refused (keyrings.alt's file backend
        # is not installed here; a module of ours named like it stands in).
        shim = tmp_path / "shim"
        (shim / "keyrings" / "alt").mkdir(parents=True)
        (shim / "keyrings" / "__init__.py").write_text("")
        (shim / "keyrings" / "alt" / "__init__.py").write_text("")
        (shim / "keyrings" / "alt" / "file.py").write_text(
            "from pathlib import Path\n"
            "from keyring.backend import KeyringBackend\n"
            "class PlaintextKeyring(KeyringBackend):\n"
            "    priority = 1\n"
            f"    path = Path({str(tmp_path / 'keyring.cfg')!r})\n"
            "    def get_password(self, service, username):\n"
            "        return None\n"
            "    def set_password(self, service, username, password):\n"
            "        self.path.write_text(password)\n"
            "    def delete_password(self, service, username):\n"
            "        pass\n"
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))
        env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    else:
        env["PYTHON_KEYRING_BACKEND"] = backend
    book = book_path  # in tmp_path, next to everything else the process could write
    relbook = [sys.executable, "-m", "relbook"]
    created = subprocess.run(
        [*relbook, "accounts", "add", "imap", "--name", "Work", "--host", "imap.example.com",
         "--username", "rep@example.com", "--password-stdin", "--no-test", "--book", str(book)],
        input=password + "\n", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Passwords: no keyring: passwords are asked each session." in created.stdout
    listed = subprocess.run(
        [*relbook, "accounts", "list", "--book", str(book)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "password needed" in listed.stdout  # a new session: asked again
    assert password not in created.stdout + created.stderr + listed.stdout + listed.stderr
    assert _files_containing(tmp_path, password.encode()) == []
