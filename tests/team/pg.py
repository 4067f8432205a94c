"""A real PostgreSQL for the team tests (MACHINE-FACTS: initdb refuses root).

One server per test session, in a temp folder, on a free port, with fsync off. Host
connections need a password (scram-sha-256), so a wrong password is really refused; TLS is
on with a certificate for ``localhost`` signed by a test CA (so verify-full can be tested
both ways). Each test gets its own database and its own role names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BIN_CANDIDATES = [
    Path("/usr/lib/postgresql/15/bin"),
    *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True),
]
SUPERUSER_PASSWORD = "postgres-test-password"


def pg_bin() -> Path | None:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for the name ``localhost`` (not for 127.0.0.1)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Relbook test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


@dataclass
class PgServer:
    root: Path
    port: int
    ca: Path
    _bin: Path
    _as_postgres: bool

    def dsn(self, user: str, dbname: str, **extra: str) -> str:
        options = " ".join(f"{k}={v}" for k, v in extra.items())
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname} {options}".strip()

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return self.dsn("postgres", dbname, password=SUPERUSER_PASSWORD, sslmode="disable")

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    @classmethod
    def start(cls) -> PgServer:
        binary = pg_bin()
        assert binary is not None
        root = Path(tempfile.mkdtemp(prefix="relbook-pg-"))
        as_postgres = os.geteuid() == 0
        ca, cert, key = _write_tls(root / "tls")
        pwfile = root / "pwfile"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        if as_postgres:
            shutil.chown(root, "postgres", "postgres")
            for path in (root / "tls", cert, key, pwfile):
                shutil.chown(path, "postgres", "postgres")
        server = cls(root, free_port(), ca, binary, as_postgres)
        server._run(
            "initdb",
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = server._options(server.port, root / "data")
        server._run(
            "pg_ctl",
            "-D",
            str(root / "data"),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        return server

    def _options(self, port: int, data: Path) -> str:
        tls = self.root / "tls"
        return (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {data.parent} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
            f"-c ssl=on -c ssl_cert_file={tls / 'server.crt'} -c ssl_key_file={tls / 'server.key'}"
        )

    def start_standby(self) -> Standby:
        """A hot standby streaming from this server (pg_basebackup -R), on its own port."""
        folder = self.root / f"standby-{free_port()}"
        folder.mkdir()
        if self._as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        data = folder / "data"
        self._run(
            "pg_basebackup",
            "-D",
            str(data),
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        standby = Standby(self, data, free_port())
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            self._options(standby.port, data) + " -c hot_standby=on",
            "start",
        )
        return standby

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Standby:
    """A streaming replica of a PgServer: readable, never writable, possibly behind."""

    primary: PgServer
    data: Path
    port: int

    def dsn(self, user: str, dbname: str, **extra: str) -> str:
        return self.primary.dsn(user, dbname, **extra).replace(
            f"port={self.primary.port}", f"port={self.port}"
        )

    def _admin(self, port: int) -> Any:
        import psycopg

        dsn = self.primary.admin_dsn().replace(f"port={self.primary.port}", f"port={port}")
        return psycopg.connect(dsn, autocommit=True)

    def pause(self) -> None:
        with self._admin(self.port) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        with self._admin(self.port) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def catch_up(self, timeout_s: float = 30.0) -> None:
        """Wait until the standby has replayed everything the primary has written."""
        with self._admin(self.primary.port) as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
        deadline = time.monotonic() + timeout_s
        with self._admin(self.port) as standby:
            while True:
                done = standby.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()[0]
                if done:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the standby did not replay up to {target}")
                time.sleep(0.05)  # polling a server's progress (not a timed assertion)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.primary._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.data.parent, ignore_errors=True)


@dataclass
class Bouncer:
    """pgbouncer in transaction mode in front of a PgServer: every transaction may run on
    another server connection, and one server connection serves many clients."""

    server: PgServer
    folder: Path
    port: int

    @classmethod
    def start(cls, server: PgServer, users: dict[str, str], pool_size: int = 1) -> Bouncer:
        binary = shutil.which("pgbouncer")
        assert binary is not None
        folder = Path(tempfile.mkdtemp(prefix="relbook-bouncer-"))
        bouncer = cls(server, folder, free_port())
        (folder / "users.txt").write_text(
            "".join(f'"{user}" "{password}"\n' for user, password in users.items())
        )
        (folder / "pgbouncer.ini").write_text(
            f"""[databases]
* = host=127.0.0.1 port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {bouncer.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 50
server_tls_sslmode = disable
logfile = {folder / "log"}
pidfile = {folder / "pid"}
"""
        )
        command = [binary, "-d", str(folder / "pgbouncer.ini")]
        if server._as_postgres:  # pgbouncer refuses to run as root
            for path in (folder, *folder.iterdir()):
                shutil.chown(path, "postgres", "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)
        bouncer._wait_listening()
        return bouncer

    def _wait_listening(self, timeout_s: float = 10.0) -> None:
        """pgbouncer -d returns before the daemon listens: wait for the port to answer."""
        deadline = time.monotonic() + timeout_s
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline:
                log = self.folder / "log"
                raise AssertionError(
                    "pgbouncer did not start: " + (log.read_text() if log.exists() else "")
                )
            time.sleep(0.02)  # polling a starting server (not a timed assertion)

    def dsn(self, user: str, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname} sslmode=disable"

    def stop(self) -> None:
        pid_file = self.folder / "pid"
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
        shutil.rmtree(self.folder, ignore_errors=True)
