"""Composition root: where the book lives, and the services over it.

Nothing lives in module globals: the CLI and the UI call ``open_services`` with explicit
paths; tests pass a temp book and a fixed clock.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from relbook.domain.clock import Clock, SystemClock
from relbook.services.context import Services
from relbook.storage.book import BOOK_SUFFIX, open_book

APP_NAME = "Relbook"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def default_book(self) -> Path:
        return self.data_dir / f"book{BOOK_SUFFIX}"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "relbook.log"

    @property
    def last_book_file(self) -> Path:
        return self.config_dir / "last-book"

    def last_book(self) -> Path | None:
        try:
            text = self.last_book_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return Path(text) if text else None

    def remember_book(self, path: Path) -> None:
        try:
            self.config_dir.mkdir(parents=True, exist_ok=True)
            self.last_book_file.write_text(str(path), encoding="utf-8")
        except OSError:
            logging.getLogger(__name__).warning("could not remember the book path %s", path)


def default_paths() -> AppPaths:
    """Platform folders (platformdirs); RELBOOK_HOME puts everything under one folder."""
    home = os.environ.get("RELBOOK_HOME")
    if home:
        root = Path(home)
        return AppPaths(root / "data", root / "config", root / "logs")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def resolve_book(paths: AppPaths, explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit).expanduser().absolute()
    env = os.environ.get("RELBOOK_BOOK")
    if env:
        return Path(env).expanduser().absolute()
    return paths.last_book() or paths.default_book


def open_services(book_path: Path, *, create: bool = False, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    book = open_book(book_path, clock, create=create)
    return Services(book, clock)


def setup_logging(paths: AppPaths, *, verbose: bool = False) -> Path | None:
    """Log to a rotating file (bugs are reported with this path) and warnings to stderr."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(
            paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        log_path: Path | None = paths.log_file
    except OSError:
        log_path = None
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    return log_path
