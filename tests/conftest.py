"""Fixtures every test may use: an isolated home, a fixed clock, a fresh book on disk.

Tests use real SQLite files in temp folders (never a mock of our own database). A fresh
book is a copy of one migrated template, so each test starts from the real schema
without paying for the migration again.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Qt must never look for a display in tests (without one it aborts the interpreter).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from relbook.domain.clock import FixedClock
from relbook.services.context import Services
from relbook.storage.book import open_book

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RELBOOK_CORPUS", REPO.parent / "shared" / "corpus"))
# A Tuesday morning; scenarios count days from here.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop without the prerequisite; fail under CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("relbook-home")
    old = {k: os.environ.get(k) for k in ("RELBOOK_HOME", "RELBOOK_BOOK")}
    os.environ["RELBOOK_HOME"] = str(home)
    os.environ.pop("RELBOOK_BOOK", None)
    yield home
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def template_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.relbook"
    open_book(path, FixedClock(NOW), create=True).close()
    return path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def book_path(tmp_path: Path, template_book: Path) -> Path:
    path = tmp_path / "book.relbook"
    shutil.copyfile(template_book, path)
    return path


@pytest.fixture
def services(book_path: Path, clock: FixedClock) -> Iterator[Services]:
    ctx = Services(open_book(book_path, clock), clock)
    yield ctx
    ctx.close()


@pytest.fixture
def corpus() -> Path:
    require(CORPUS.is_dir(), f"the shared corpus is not at {CORPUS}")
    return CORPUS


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """Like a machine without a keyring backend (keyring's ``fail`` backend): passwords
    live for the session only."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def relbook(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run the ``relbook`` command line in-process: exit code, stdout, stderr."""
    from relbook.__main__ import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
