"""Where account passwords live: the operating system's keyring, never a file of ours.

``open_secret_store()`` picks the keyring backend the ``keyring`` library chose for this
machine (Secret Service, macOS Keychain, Windows Credential Locker, KWallet). When there is
none — or only one that would write passwords in plain text — it returns a
``SessionSecretStore``: passwords are kept in memory for this session and asked again next
time. Relbook never falls back to writing a password to disk itself.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from relbook.domain.errors import UserError

log = logging.getLogger(__name__)

SERVICE_NAME = "Relbook"
NO_KEYRING = "no keyring: passwords are asked each session"


class SecretStoreError(UserError):
    """The keyring exists but refused the operation (locked, access denied)."""


class SecretStore(Protocol):
    #: True when secrets survive the session (a real keyring).
    persistent: bool

    def get(self, account_id: str) -> str | None: ...

    def set(self, account_id: str, secret: str) -> None: ...

    def delete(self, account_id: str) -> None: ...

    def where(self) -> str:
        """Where secrets really live, for the rep to read."""
        ...


class SessionSecretStore:
    """Passwords in memory only, for this session (no usable keyring)."""

    persistent = False

    def __init__(self, reason: str = "") -> None:
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()
        self.reason = reason

    def get(self, account_id: str) -> str | None:
        with self._lock:
            return self._secrets.get(account_id)

    def set(self, account_id: str, secret: str) -> None:
        with self._lock:
            self._secrets[account_id] = secret

    def delete(self, account_id: str) -> None:
        with self._lock:
            self._secrets.pop(account_id, None)

    def where(self) -> str:
        return NO_KEYRING


class KeyringSecretStore:
    """Secrets in an OS keyring through the ``keyring`` library (service "Relbook")."""

    persistent = True

    def __init__(self, backend: object, service: str = SERVICE_NAME) -> None:
        self._backend = backend
        self._service = service

    def get(self, account_id: str) -> str | None:
        try:
            value = self._backend.get_password(self._service, account_id)  # type: ignore[attr-defined]
        except Exception as error:
            raise self._refused("read", error) from error
        return None if value is None else str(value)

    def set(self, account_id: str, secret: str) -> None:
        try:
            self._backend.set_password(self._service, account_id, secret)  # type: ignore[attr-defined]
        except Exception as error:
            raise self._refused("save", error) from error

    def delete(self, account_id: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(self._service, account_id)  # type: ignore[attr-defined]
        except PasswordDeleteError:
            return  # nothing stored: already gone
        except Exception as error:
            raise self._refused("delete", error) from error

    def where(self) -> str:
        return describe_backend(self._backend)

    def _refused(self, action: str, error: Exception) -> SecretStoreError:
        log.warning("keyring refused to %s a password: %r", action, error)
        return SecretStoreError(
            f"The {self.where()} refused to {action} the password ({error}).",
            "Unlock the keyring (log in to your desktop session) and try again.",
        )


def _leaves(backend: object) -> list[object]:
    """The real backends behind keyring's chainer (or the backend itself)."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return list(backend.backends)
    return [backend]


def describe_backend(backend: object) -> str:
    names = [_describe_one(b) for b in _leaves(backend)]
    return " + ".join(dict.fromkeys(names)) or "keyring"


def _describe_one(backend: object) -> str:
    module = type(backend).__module__
    if module.startswith(("keyring.backends.SecretService", "keyring.backends.libsecret")):
        return "Secret Service (GNOME Keyring)"
    if module.startswith("keyring.backends.macOS"):
        return "macOS Keychain"
    if module.startswith("keyring.backends.Windows"):
        return "Windows Credential Locker"
    if module.startswith("keyring.backends.kwallet"):
        return "KWallet"
    return str(getattr(backend, "name", type(backend).__name__))


def _usable(backend: object) -> tuple[bool, str]:
    """Whether a backend keeps secrets safely; else why not."""
    from keyring.backends import fail, null

    leaves = _leaves(backend)
    if not leaves:
        return False, "no keyring backend is available"
    for leaf in leaves:
        if isinstance(leaf, fail.Keyring | null.Keyring):
            return False, "no keyring backend is available"
        kind = type(leaf)
        if "plaintext" in kind.__name__.lower() or kind.__module__.startswith("keyrings.alt.file"):
            return False, f"the only keyring ({kind.__name__}) would store passwords unencrypted"
    return True, ""


def open_secret_store(backend: object | None = None) -> SecretStore:
    """The keyring store when a safe backend exists; else a session-only store."""
    if backend is None:
        import keyring

        backend = keyring.get_keyring()
    usable, why = _usable(backend)
    if usable:
        return KeyringSecretStore(backend)
    log.info("passwords are kept for this session only: %s", why)
    return SessionSecretStore(why)
