"""Fixtures that start real servers (Dovecot, Radicale) and the fake EWS endpoint.

A missing program skips the test on a laptop and fails it under CI=true (``require``).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

from .fake_ews import FakeExchange
from .servers import DOVECOT, Dovecot, Radicale, TlsFiles, self_signed_certificate


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
