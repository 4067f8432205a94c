"""E-mail addresses and the rules about what they say of a relationship (pure, no I/O).

The registrable domain (``mail.eu.acme.co.uk`` → ``acme.co.uk``) needs the public suffix
list, which lives outside the domain layer; callers pass it in where needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,}$")

# Addresses at these domains belong to private people, never to a company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "hotmail.it",
        "hotmail.es",
        "live.com",
        "live.co.uk",
        "live.fr",
        "live.de",
        "msn.com",
        "passport.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.it",
        "yahoo.es",
        "yahoo.co.jp",
        "yahoo.com.br",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "aim.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "mail.com",
        "email.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "arcor.de",
        "posteo.de",
        "mailbox.org",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "zoho.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "rambler.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "talktalk.net",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        "juno.com",
        "netzero.net",
        "optonline.net",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "telstra.com",
        "optusnet.com.au",
        "xtra.co.nz",
        "hey.com",
        "fastmail.com",
        "fastmail.fm",
        "hushmail.com",
    ]
)

# Hosts of mailing lists and notification systems: a message from them is not a person.
LIST_DOMAINS: frozenset[str] = frozenset(
    [
        "googlegroups.com",
        "groups.io",
        "lists.sourceforge.net",
        "yahoogroups.com",
        "freelists.org",
        "mailchimp.com",
        "mcsv.net",
        "mcdlv.net",
        "sendgrid.net",
        "amazonses.com",
        "mandrillapp.com",
        "mailgun.org",
        "sparkpostmail.com",
        "bounces.google.com",
        "linkedin.com",
        "facebookmail.com",
    ]
)

_NO_REPLY = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|mailer[-_.]daemon|postmaster|"
    r"bounces?|notifications?|notify|newsletter|news|alerts?|automailer|auto[-_.]?confirm|"
    r"info[-_.]?noreply|system|daemon|listserv|majordomo)([-+_.].*)?$",
    re.IGNORECASE,
)


def normalise_address(address: str) -> str:
    """Lower-case, trimmed, without surrounding angle brackets or a ``mailto:``."""
    text = address.strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower()


def is_valid_address(address: str) -> bool:
    return bool(_ADDRESS.match(address.strip()))


def domain_of(address: str) -> str:
    """The host part of an address, lower-case; empty if there is none."""
    _, _, host = normalise_address(address).rpartition("@")
    return host.rstrip(".")


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL_DOMAINS


def is_list_domain(domain: str) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in LIST_DOMAINS)


def is_no_reply(address: str) -> bool:
    local, _, _ = normalise_address(address).partition("@")
    return bool(_NO_REPLY.match(local))


def bulk_reason(headers: Mapping[str, str]) -> str | None:
    """Why a message is bulk or automated mail, or None if it looks personal.

    ``headers`` maps lower-case header names to their (first) values.
    """
    if headers.get("list-id"):
        return f"mailing list ({headers['list-id'].strip()[:60]})"
    if headers.get("list-unsubscribe"):
        return "has an unsubscribe link (List-Unsubscribe)"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in {"bulk", "list", "junk"}:
        return f"Precedence: {precedence}"
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if headers.get("x-auto-response-suppress", "").strip().lower() in {"all", "oof"}:
        return "automatic reply"
    sender = headers.get("from", "")
    match = re.search(r"[^\s<>\"]+@[^\s<>\"]+", sender)
    if match and is_no_reply(match.group(0)):
        return f"automated sender {match.group(0).lower()}"
    return None
