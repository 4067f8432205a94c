"""Fixtures for the team server tests: a real PostgreSQL, a database per test, and clients
(each its own book file) that sync with it as their own rep roles."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from relbook.credentials import SessionSecretStore
from relbook.domain.clock import FixedClock
from relbook.services.context import Services
from relbook.storage.book import open_book
from relbook.team import provision
from tests.conftest import NOW, require

from .pg import PgServer, pg_bin

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    require(pg_bin() is not None, "PostgreSQL is not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        require(
            shutil.which("runuser") is not None, "runuser is needed to start PostgreSQL as root"
        )
    server = PgServer.start()
    yield server
    server.stop()


@dataclass
class TeamDb:
    """One database with the team schema; role names carry a per-test prefix."""

    server: PgServer
    dbname: str
    prefix: str
    roles: list[str] = field(default_factory=list)

    @property
    def admin_dsn(self) -> str:
        return self.server.admin_dsn(self.dbname)

    @property
    def owner(self) -> str:
        return f"{self.prefix}_owner"

    @property
    def reps(self) -> str:
        return f"{self.prefix}_reps"

    def init(self, team: str = "north") -> provision.InitReport:
        return provision.init_server(self.admin_dsn, team, owner=self.owner, rep_group=self.reps)

    def add_team(self, team: str) -> str:
        return provision.add_team(self.admin_dsn, team)[0]

    def add_rep(self, name: str, team: str = "north") -> str:
        role = f"{self.prefix}_{name}"
        provision.add_rep(self.admin_dsn, team, role, password=self.password(role))
        self.roles.append(role)
        return role

    def password(self, role: str) -> str:
        return f"pw-{role}"

    def rep_dsn(self, role: str, **extra: str) -> str:
        return self.server.dsn(role, self.dbname, **({"sslmode": "disable"} | extra))

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_dsn, autocommit=True)


@pytest.fixture
def team_db(pg_server: PgServer) -> Iterator[TeamDb]:
    number = next(_numbers)
    db = TeamDb(pg_server, f"relbook_team_{number}", f"t{number}")
    with psycopg.connect(pg_server.admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db.dbname}"')
    yield db
    with psycopg.connect(pg_server.admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db.dbname}" WITH (FORCE)')
        for role in [
            r[0]
            for r in admin.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"{db.prefix}\\_%",)
            )
        ]:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@dataclass
class Client:
    """A rep's laptop: a book file, its services, and a session-only secret store."""

    name: str
    role: str
    dsn: str
    password: str
    services: Services

    def connect(self) -> None:
        self.services.team.connect(self.dsn, self.password)

    def sync(self, *, confirm: bool = True) -> object:
        return self.services.team.sync(confirm=confirm)

    def close(self) -> None:
        self.services.close()


@pytest.fixture
def make_client(
    tmp_path: Path, template_book: Path, team_db: TeamDb
) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(name: str, role: str | None = None, *, connect: bool = True) -> Client:
        role = role or team_db.add_rep(name)
        path = tmp_path / f"{name}.relbook"
        shutil.copyfile(template_book, path)
        clock = FixedClock(NOW)
        services = Services(open_book(path, clock), clock)
        services.team.secrets = SessionSecretStore()
        client = Client(name, role, team_db.rep_dsn(role), team_db.password(role), services)
        clients.append(client)
        if connect:
            client.connect()
        return client

    yield make
    for client in clients:
        client.close()
