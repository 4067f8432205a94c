"""Registrable domains (``mail.eu.acme.co.uk`` → ``acme.co.uk``) from the public suffix list.

The list is the snapshot bundled with ``publicsuffixlist`` (no network, ever). It is loaded
once per process on first use (~70 ms) and is read-only afterwards.
"""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList

from relbook.domain.addresses import is_list_domain


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=65_536)
def registrable_domain(host: str) -> str:
    """The domain a company can own; the host itself when the list cannot tell.

    IP literals and single labels (``localhost``) are returned unchanged: they are not
    under any public suffix and never map to a company anyway.
    """
    host = host.strip().strip(".").lower().strip("[]")
    if not host or "." not in host:
        return host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    found = _psl().privatesuffix(host)
    return str(found) if found else host


def parent_domains(host: str) -> list[str]:
    """The host, then each parent down to its registrable domain (most specific first)."""
    return list(_parent_domains(host.strip().strip(".").lower()))


@lru_cache(maxsize=65_536)
def _parent_domains(host: str) -> tuple[str, ...]:
    base = registrable_domain(host)
    if not host.endswith(base):
        return (host,)
    chain = [host]
    current = host
    while current != base and "." in current:
        current = current.split(".", 1)[1]
        chain.append(current)
    return tuple(chain)


@lru_cache(maxsize=65_536)
def is_list_host(host: str) -> bool:
    """``domain.addresses.is_list_domain``, remembered (it scans a list per call)."""
    return is_list_domain(host)


def company_name_from_domain(domain: str) -> str:
    """A first guess at a company's name from its domain: ``acme-tools.co.uk`` → ``Acme Tools``."""
    base = registrable_domain(domain)
    suffix = _psl().publicsuffix(base) or ""
    label = base[: -len(suffix) - 1] if suffix and base.endswith("." + suffix) else base
    label = label.split(".")[-1]
    words = [w for w in label.replace("_", "-").split("-") if w]
    return " ".join(w if w.isupper() else w.capitalize() for w in words) or domain
