"""Real servers for the integration tests: Dovecot (IMAP), Radicale (CalDAV), and helpers.

Each server runs from a temp folder on a free port and is stopped (and its folder left to
pytest's tmp cleanup) when the fixture ends. Nothing here is a mock of a server: Dovecot
and Radicale are the real programs; the fake EWS endpoint lives in ``fake_ews.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, limit: float = 20.0
) -> None:
    """Block until the server accepts connections (a readiness check, not a test sleep)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text(errors='replace')}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# ----------------------------------------------------------------------- TLS files


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    @property
    def pem(self) -> str:
        return self.cert.read_text()


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> TlsFiles:
    """A self-signed certificate for ``host`` (as a CA would never have issued it)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return TlsFiles(cert_path, key_path)


# ----------------------------------------------------------------------- Dovecot


@dataclass
class Dovecot:
    """A Dovecot IMAP server in ``root`` (MACHINE-FACTS: start command and config)."""

    root: Path
    users: dict[str, str] = field(default_factory=lambda: {"rep@example.com": "secret"})
    tls: TlsFiles | None = None
    # None: Dovecot's own capabilities (CONDSTORE, QRESYNC…); a string overrides them.
    capability: str | None = None
    sent_special_use: bool = True
    sent_name: str = "Sent"
    port: int = 0
    tls_port: int = 0
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        mail = self.root / "mail"
        users_file = self.root / "users"
        tls = (
            f"ssl = required\nssl_cert = <{self.tls.cert}\nssl_key = <{self.tls.key}\n"
            "disable_plaintext_auth = yes\n"
            if self.tls
            else "ssl = no\ndisable_plaintext_auth = no\n"
        )
        imaps = f"port = {self.tls_port}" if self.tls else "port = 0"
        special = "    special_use = \\Sent\n" if self.sent_special_use else ""
        capability = f"imap_capability = {self.capability}\n" if self.capability else ""
        return f"""protocols = imap
listen = 127.0.0.1
{tls}auth_mechanisms = plain login
auth_failure_delay = 0
base_dir = {self.root / "run"}
state_dir = {self.root / "state"}
log_path = {self.root / "dovecot.log"}
mail_fsync = never
mail_location = maildir:~/Maildir
{capability}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_file}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "{self.sent_name}" {{
{special}    auto = create
  }}
}}
# No growing delay after failed logins from the same address (Dovecot's brute-force
# brake): the tests log in with wrong passwords on purpose.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    {imaps}
  }}
}}
"""

    def start(self) -> Dovecot:
        assert DOVECOT, "dovecot is not installed"
        # Dovecot's auth and mail processes run as other users (dovecot, nobody): the
        # folder must be reachable by them, which pytest's private tmp_path is not.
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root / "mail", "nobody", "nogroup")
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items())
        )
        self.port = self.port or free_port()
        if self.tls:
            self.tls_port = self.tls_port or free_port()
            shutil.chown(self.tls.key, "root")
        conf = self.root / "dovecot.conf"
        conf.write_text(self.config())
        log = self.root / "dovecot.log"
        log.touch()
        with log.open("ab") as err:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # its own process group: stop() ends all of it
            )
        wait_for_port(self.port, self.process, log)
        if self.tls:
            wait_for_port(self.tls_port, self.process, log)
        return self

    def stop(self) -> None:
        """End the server and every process it forked (its process group). A graceful
        SIGTERM costs Dovecot a second of waiting for its children; test data needs none."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    # ---------------------------------------------------------------- seeding
    def client(self, user: str = "rep@example.com"):  # type: ignore[no-untyped-def]
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(user, self.users[user])
        return client

    def append(self, folder: str, messages: list[bytes], user: str = "rep@example.com") -> None:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(messages), 1000):
                client.multiappend(folder, messages[start : start + 1000])
        finally:
            client.logout()

    def expunge(self, folder: str, uids: list[int], user: str = "rep@example.com") -> None:
        client = self.client(user)
        try:
            client.select_folder(folder)
            client.delete_messages(uids)
            client.expunge()
        finally:
            client.logout()

    def reset_uidvalidity(self, folder: str, user: str = "rep@example.com") -> int:
        """Give a folder a new UIDVALIDITY (as after a server restore or migration)."""
        client = self.client(user)
        try:
            old = int(client.select_folder(folder, readonly=True)[b"UIDVALIDITY"])
        finally:
            client.logout()
        new = old + 1000
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run(
            [doveadm, "-c", str(self.root / "dovecot.conf"), "mailbox", "update", "-u", user,
             "--uid-validity", str(new), folder],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return new


def make_message(
    index: int,
    *,
    sender: str = "anna@customer.example",
    to: str = "rep@example.com",
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = None,
    date: dt.datetime | None = None,
) -> bytes:
    moment = date or dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=index)
    from email.utils import format_datetime

    text = body if body is not None else f"Hello, this is message {index}.\r\n"
    return (
        f"From: Anna Customer <{sender}>\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject if subject is not None else f'Message {index}'}\r\n"
        f"Date: {format_datetime(moment)}\r\n"
        f"Message-ID: {message_id or f'<msg-{index}@customer.example>'}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{text}"
    ).encode()


# ----------------------------------------------------------------------- Radicale


@dataclass
class Radicale:
    root: Path
    users: dict[str, str] = field(default_factory=lambda: {"rep": "secret"})
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Radicale:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        users = self.root / "users"
        users.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
        conf = self.root / "radicale.conf"
        conf.write_text(
            f"""[server]
hosts = 127.0.0.1:{self.port}
[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
# Radicale pauses a second after every failed login (brute-force brake); clients' first,
# unauthenticated request counts as one. Tests need no brake.
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {self.root / "collections"}
[logging]
level = warning
"""
        )
        log = self.root / "radicale.log"
        with log.open("ab") as out:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
        wait_for_port(self.port, self.process, log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


# ----------------------------------------------------------------------- a flaky link


class DroppingProxy:
    """A TCP proxy to a server that cuts the connection once it has relayed ``limit``
    bytes from the server — a server that drops the connection mid-page."""

    def __init__(self, target_port: int, limit: int | None = None) -> None:
        self.target_port = target_port
        self.limit = limit
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self.drops = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        relayed = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_server and self.limit is not None and relayed + len(data) > self.limit:
                    sink.sendall(data[: max(0, self.limit - relayed)])
                    with self._lock:
                        self.drops += 1
                    break
                relayed += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()


@contextlib.contextmanager
def dropping_proxy(target_port: int, limit: int | None = None) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(target_port, limit)
    try:
        yield proxy
    finally:
        proxy.close()


class NoSyncCollectionProxy:
    """An HTTP proxy to a CalDAV server that answers every sync-collection REPORT with
    501 Not Implemented — a server without RFC 6578, for the ETag fallback."""

    def __init__(self, target_port: int) -> None:
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self
        self.refused = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "REPORT" and b"sync-collection" in body:
                    proxy.refused += 1
                    self.send_response(501)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            # http.server's naming: one do_<METHOD> per HTTP method.
            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = _relay  # noqa: N815
            do_OPTIONS = do_MKCALENDAR = do_PROPPATCH = do_POST = do_HEAD = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
