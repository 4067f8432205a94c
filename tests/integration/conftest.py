"""Fixtures that start real servers (Dovecot, Radicale) and the fake EWS endpoint.

A missing program skips the test on a laptop and fails it under CI=true (``require``).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from relbook.services.context import Services
from tests.conftest import require

from .fake_ews import FakeExchange
from .servers import DOVECOT, Dovecot, Radicale, TlsFiles, self_signed_certificate


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keyring for tests (never keyrings.alt, which writes plain text)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def keyring_backend() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def book(services: Services, keyring_backend: MemoryKeyring) -> Services:
    """The test book's services with passwords in an in-memory keyring."""
    assert services.secrets.persistent
    return services


@pytest.fixture
def dovecot_factory() -> Iterator[Callable[..., Dovecot]]:
    require(DOVECOT is not None, "Dovecot is not installed (apt-get install dovecot-imapd)")
    started: list[Dovecot] = []

    def start(**options: Any) -> Dovecot:
        # Not in tmp_path: Dovecot's own users must reach the folder (see Dovecot.start).
        root = Path(tempfile.mkdtemp(prefix="relbook-dovecot-"))
        server = Dovecot(root=root, **options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.remove()


@pytest.fixture
def dovecot(dovecot_factory: Callable[..., Dovecot]) -> Dovecot:
    return dovecot_factory()


@pytest.fixture
def self_signed(tmp_path: Path) -> TlsFiles:
    return self_signed_certificate(tmp_path / "tls")


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    require(
        importlib.util.find_spec("radicale") is not None,
        "Radicale is not installed (pip install radicale; it is a dev dependency)",
    )
    server = Radicale(root=tmp_path / "radicale").start()
    yield server
    server.stop()


@pytest.fixture
def fake_ews(corpus: Path) -> Iterator[FakeExchange]:
    from exchangelib.protocol import CachingProtocol

    CachingProtocol.clear_cache()
    server = FakeExchange(corpus).start()
    yield server
    server.stop()
    CachingProtocol.clear_cache()
