"""The IMAP source against a real Dovecot: listing, increments, TLS, and failures."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from relbook.capture.sources.base import CancelToken, CursorInvalid, Page, SourceError
from relbook.capture.sources.imap import ImapSettings, ImapSource, ranges_to_uids, uids_to_ranges
from relbook.capture.sources.net import AuthFailed, CertificateRefused, Unreachable

from .servers import Dovecot, TlsFiles, dropping_proxy, free_port, make_message

pytestmark = pytest.mark.integration

# Dovecot's capabilities without CONDSTORE/QRESYNC: a server with only the basics.
BASIC_CAPABILITIES = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MULTIAPPEND"


def source_for(server: Dovecot, *, port: int | None = None, **options: object) -> ImapSource:
    settings = ImapSettings(
        host="127.0.0.1",
        port=port or server.port,
        username="rep@example.com",
        security="plain",
        allow_plaintext=True,
    )
    privacy = str(options.pop("privacy", "full"))
    password = str(options.pop("password", "secret"))
    for key, value in options.items():
        object.__setattr__(settings, key, value)
    return ImapSource("acc", settings, password, privacy=privacy, page_size=4)


def drain(source: ImapSource, scope: str, cursor: str | None) -> tuple[list[Page], str | None]:
    pages = list(source.pages(scope, cursor, CancelToken()))
    for page in pages:
        cursor = page.cursor or cursor
    return pages, cursor


def ops(pages: list[Page]) -> list[tuple[str, str]]:
    return [(c.op, c.locator.split(":")[1]) for p in pages for c in p.changes]


def test_uid_ranges_round_trip() -> None:
    uids = {1, 2, 3, 7, 9, 10, 11, 40}
    assert uids_to_ranges(uids) == "1:3,7,9:11,40"
    assert ranges_to_uids("1:3,7,9:11,40") == uids
    assert ranges_to_uids("") == set()


@pytest.mark.parametrize("capability", [None, BASIC_CAPABILITIES], ids=["qresync", "fallback"])
def test_listing_then_increments_with_new_and_expunged_messages(
    dovecot_factory: Callable[..., Dovecot], capability: str | None
) -> None:
    server = dovecot_factory(capability=capability)
    server.append("INBOX", [make_message(i) for i in range(10)])
    source = source_for(server)
    try:
        pages, cursor = drain(source, "INBOX", None)
        assert source._qresync is (capability is None)
        # Pages of at most 4, the last one closes the listing, progress counts up.
        assert [len(p.changes) for p in pages] == [4, 4, 2]
        assert [p.listing_complete for p in pages] == [False, False, True]
        assert pages[-1].progress == (10, 10)
        subjects = [c.item.subject for p in pages for c in p.changes if c.item]
        assert subjects == [f"Message {i}" for i in range(10)]
        assert "Hello, this is message 0." in pages[0].changes[0].item.text  # type: ignore[union-attr]
        state = json.loads(cursor or "")
        assert state["last_uid"] == 10 and state["listing"] is False
        assert ("uids" in state) is (capability is not None)

        # Nothing changed: nothing to hand over.
        pages, cursor = drain(source, "INBOX", cursor)
        assert [c for p in pages for c in p.changes] == []

        server.expunge("INBOX", [3, 4])
        server.append("INBOX", [make_message(10), make_message(11)])
        pages, cursor = drain(source, "INBOX", cursor)
        assert ops(pages) == [("delete", "3"), ("delete", "4"), ("upsert", "11"), ("upsert", "12")]
        assert not any(p.listing_complete for p in pages)

        pages, cursor = drain(source, "INBOX", cursor)
        assert ops(pages) == []
    finally:
        source.close()


def test_scopes_are_inbox_sent_and_chosen_folders(dovecot_factory: Callable[..., Dovecot]) -> None:
    # Without SPECIAL-USE the Sent folder is found by its common name.
    server = dovecot_factory(sent_special_use=False, sent_name="Sent Items")
    server.append("Customers/ACME", [make_message(1)])
    default = source_for(server)
    assert default.scopes() == ["INBOX", "Sent Items"]
    chosen = source_for(server, folders=("Customers/ACME",), include_sent=False)
    assert chosen.scopes() == ["INBOX", "Customers/ACME"]
    missing = source_for(server, folders=("Gone",))
    with pytest.raises(SourceError, match="'Gone' chosen for this account does not exist"):
        missing.scopes()
    for source in (default, chosen, missing):
        source.close()


def test_special_use_sent_folder_is_found(dovecot: Dovecot) -> None:
    source = source_for(dovecot)
    assert source.scopes() == ["INBOX", "Sent"]
    source.close()


def test_a_new_uidvalidity_invalidates_the_cursor(dovecot: Dovecot) -> None:
    dovecot.append("Archive", [make_message(i) for i in range(3)])
    source = source_for(dovecot)
    _, cursor = drain(source, "Archive", None)
    dovecot.reset_uidvalidity("Archive")
    with pytest.raises(CursorInvalid, match="UIDVALIDITY of 'Archive' changed"):
        drain(source, "Archive", cursor)
    source.close()


def test_headers_privacy_fetches_no_bodies(dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(1, body="Secret pricing details.\r\n")])
    source = source_for(dovecot, privacy="headers")
    pages, _ = drain(source, "INBOX", None)
    item = pages[0].changes[0].item
    assert item is not None and item.subject == "Message 1"
    assert item.text == ""
    assert item.size_bytes is not None and item.size_bytes > 100  # the size on the server
    source.close()


def test_a_huge_message_keeps_its_headers_and_the_start_of_its_body(dovecot: Dovecot) -> None:
    body = "Start of a very long message.\r\n" + ("x" * 998 + "\r\n") * 2000
    dovecot.append("INBOX", [make_message(1, body=body), make_message(2)])
    source = source_for(dovecot)
    source.max_body_bytes = 100_000
    source.partial_body_bytes = 4096
    pages, _ = drain(source, "INBOX", None)
    big, small = (c.item for c in pages[0].changes)
    assert big is not None and small is not None
    assert big.subject == "Message 1" and big.text.startswith("Start of a very long message.")
    assert len(big.text) < 10_000
    assert big.size_bytes is not None and big.size_bytes > 2_000_000
    assert small.text.startswith("Hello, this is message 2.")
    source.close()


def test_a_wrong_password_is_a_clear_error(dovecot: Dovecot) -> None:
    source = source_for(dovecot, password="wrong")
    with pytest.raises(AuthFailed) as caught:
        source.scopes()
    assert "refused the user name or password for rep@example.com" in caught.value.message
    assert "nothing stored was lost" in caught.value.remedy


def test_a_server_that_is_not_there_is_unreachable() -> None:
    source = ImapSource(
        "acc",
        ImapSettings(
            host="127.0.0.1",
            port=free_port(),
            username="u",
            security="plain",
            allow_plaintext=True,
        ),
        "x",
    )
    with pytest.raises(Unreachable, match="cannot be reached"):
        source.scopes()


def test_plain_text_is_refused_for_a_remote_server() -> None:
    source = ImapSource(
        "acc",
        ImapSettings(host="imap.example.com", username="u", security="plain", allow_plaintext=True),
        "x",
    )
    with pytest.raises(
        SourceError, match=r"will not send the password for u to imap\.example\.com"
    ):
        source.scopes()


def test_dropped_connection_mid_page_names_the_folder_and_resumes(dovecot: Dovecot) -> None:
    dovecot.append("INBOX", [make_message(i, body="y" * 2000 + "\r\n") for i in range(12)])
    # The first page is handed over, then the link dies while the second is being read.
    with dropping_proxy(dovecot.port, limit=14_000) as proxy:
        source = source_for(dovecot, port=proxy.port)
        received: list[Page] = []
        with pytest.raises(SourceError) as caught:
            for page in source.pages("INBOX", None, CancelToken()):
                received.append(page)
        assert proxy.drops == 1
    assert "while reading folder 'INBOX'" in caught.value.message
    assert "next sync continues from there" in caught.value.remedy
    assert len(received) == 1
    # The next sync, on a working link, continues after the page that was handed over.
    resumed = source_for(dovecot)
    pages, _ = drain(resumed, "INBOX", received[-1].cursor)
    uids = [c.locator.split(":")[1] for p in pages for c in p.changes]
    assert uids == [str(uid) for uid in range(5, 13)]
    assert pages[-1].listing_complete
    resumed.close()


# ----------------------------------------------------------------------- TLS


def tls_source(server: Dovecot, security: str, trusted: str = "") -> ImapSource:
    port = server.tls_port if security == "tls" else server.port
    return ImapSource(
        "acc",
        ImapSettings(
            host="127.0.0.1",
            port=port,
            username="rep@example.com",
            security=security,
            trusted_cert=trusted,
        ),
        "secret",
    )


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_self_signed_certificate_is_refused_unless_trusted(
    dovecot_factory: Callable[..., Dovecot], self_signed: TlsFiles, security: str
) -> None:
    server = dovecot_factory(tls=self_signed)
    server.append("INBOX", [make_message(1)])
    refused = tls_source(server, security)
    with pytest.raises(CertificateRefused) as caught:
        refused.scopes()
    error = caught.value
    assert "The certificate of 127.0.0.1 was refused: self-signed certificate" in error.message
    assert error.pem == self_signed.pem
    assert error.fingerprint and error.fingerprint in error.message

    trusted = tls_source(server, security, trusted=error.pem)
    pages, _ = drain(trusted, "INBOX", None)
    assert [c.item.subject for p in pages for c in p.changes if c.item] == ["Message 1"]
    trusted.close()
