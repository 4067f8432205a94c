"""What the network sources share: TLS contexts, and errors the rep can act on.

Every network failure becomes a ``SourceError`` subclass whose message names the server
(and the folder, when one was being read) and whose remedy names the way out:

- ``AuthFailed`` — the server refused the user name or password;
- ``CertificateRefused`` — the server's certificate did not verify; carries the
  certificate (PEM) and its SHA-256 fingerprint so the rep can choose to trust it;
- ``Unreachable`` — no network or the server does not answer: the sync service shows
  "offline — will retry" instead of an error;
- ``SourceError`` itself — anything else (connection dropped mid-page, server error).
"""

from __future__ import annotations

import errno
import hashlib
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlparse

from relbook.capture.sources.base import SourceError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_UNREACHABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.ETIMEDOUT,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.EADDRNOTAVAIL,
    }
)


@dataclass
class Probe:
    """What a connection test found: every folder, and the ones that will be synced."""

    folders: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)


class AuthFailed(SourceError):
    """The server refused the credentials."""


class CertificateRefused(SourceError):
    """The server's TLS certificate did not verify."""

    def __init__(
        self, message: str, remedy: str = "", *, pem: str = "", fingerprint: str = ""
    ) -> None:
        super().__init__(message, remedy)
        self.pem = pem
        self.fingerprint = fingerprint


class Unreachable(SourceError):
    """The network or the server is not reachable now; try again later."""


def is_loopback(host: str) -> bool:
    return host.strip().lower() in LOOPBACK_HOSTS


def tls_context(trusted_cert_pem: str = "") -> ssl.SSLContext:
    """A verifying client context: the system's CAs plus a certificate the rep trusted."""
    context = ssl.create_default_context()
    if trusted_cert_pem.strip():
        context.load_verify_locations(cadata=trusted_cert_pem)
    return context


def fingerprint_of(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> tuple[str, str]:
    """The certificate a TLS server presents (PEM, SHA-256 fingerprint), unverified.

    Only used to *show* the rep what was refused; nothing is sent over this connection.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except OSError:
        return "", ""
    if not der:
        return "", ""
    return ssl.DER_cert_to_PEM_cert(der), fingerprint_of(der)


def certificate_refused(
    host: str, error: ssl.SSLCertVerificationError, pem: str = "", fingerprint: str = ""
) -> CertificateRefused:
    reason = error.verify_message or error.reason or str(error)
    shown = f" Its SHA-256 fingerprint is {fingerprint}." if fingerprint else ""
    return CertificateRefused(
        f"The certificate of {host} was refused: {reason}.{shown}",
        "If your administrator confirms this fingerprint, choose 'Trust this certificate' "
        "in the account; otherwise do not connect.",
        pem=pem,
        fingerprint=fingerprint,
    )


def error_chain(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps (causes, contexts, ``reason``, exception args).

    HTTP libraries wrap the socket or TLS error several times (requests → urllib3 → ssl);
    exchangelib re-raises TLS errors as a plain ``TransportError``.
    """
    found: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending and len(found) < 50:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                pending.append(linked)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return found


def is_unreachable(error: BaseException) -> bool:
    """True for errors that mean "no network / server down" rather than a real failure."""
    for current in error_chain(error):
        if isinstance(current, ssl.SSLError):
            return False
        if isinstance(current, socket.gaierror | TimeoutError | ConnectionRefusedError):
            return True
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return True
    return False


def certificate_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    for current in error_chain(error):
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
    return None


def unreachable(host: str, error: BaseException) -> Unreachable:
    detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return Unreachable(
        f"{host} cannot be reached ({detail}).",
        "Relbook will try again when the network is back; check the server name if this lasts.",
    )


def host_of(url: str) -> str:
    return urlparse(url).hostname or url
