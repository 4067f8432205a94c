"""Accounts: validation per field, passwords in the keyring, and the connection test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from relbook.credentials import NO_KEYRING, SessionSecretStore
from relbook.domain.errors import ValidationError
from relbook.services.accounts import AccountDraft
from relbook.services.context import Services

from .conftest import MemoryKeyring
from .fake_ews import FakeExchange
from .servers import Dovecot, Radicale, TlsFiles, free_port, make_message

pytestmark = pytest.mark.integration


def imap_draft(server: Dovecot, **changes: object) -> AccountDraft:
    draft = AccountDraft(
        kind="imap",
        name="Work mail",
        host="127.0.0.1",
        port=server.port,
        security="plain",
        allow_plaintext=True,
        username="rep@example.com",
        password="secret",
    )
    for key, value in changes.items():
        setattr(draft, key, value)
    return draft


def test_every_field_problem_is_reported_at_once_and_nothing_is_saved(book: Services) -> None:
    draft = AccountDraft(
        kind="imap",
        name=" ",
        host="",
        port=70000,
        security="plain",
        username="",
        privacy="everything",
        interval_minutes=1,
    )
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(draft)
    error = caught.value
    assert error.for_field("name") == "is required"
    assert error.for_field("host") == "is required (e.g. imap.example.com)"
    assert error.for_field("port") == "must be between 1 and 65535"
    assert "only allowed for a server on this computer" in (error.for_field("security") or "")
    assert error.for_field("username") == "is required"
    assert error.for_field("privacy") == "must be headers, excerpt or full"
    assert error.for_field("interval_minutes") == "must be between 5 and 1440 minutes"
    assert error.for_field("password") == "is required"
    assert book.accounts.list() == []


def test_other_kinds_are_validated_too(book: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(
            AccountDraft(
                kind="ews",
                name="Exchange",
                email="not-an-address",
                url="http://mail.example.com/EWS/Exchange.asmx",
                password="x",
            )
        )
    assert caught.value.for_field("email") == "'not-an-address' is not an e-mail address"
    assert "https://" in (caught.value.for_field("url") or "")
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(AccountDraft(kind="caldav", name="Cal", url="ftp://x", password="x"))
    assert "CalDAV server's address" in (caught.value.for_field("url") or "")
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(AccountDraft(kind="ics", name="Holidays", url="calendar.ics"))
    assert ".ics calendar" in (caught.value.for_field("url") or "")
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(AccountDraft(kind="pop3", name="Old"))
    assert caught.value.for_field("kind") == "must be one of imap, ews, caldav, ics"


def test_an_account_keeps_its_settings_in_the_book_and_its_password_in_the_keyring(
    book: Services, dovecot: Dovecot, keyring_backend: MemoryKeyring
) -> None:
    account_id = book.accounts.create(imap_draft(dovecot, folders=["Archive", " ", "Archive"]))
    assert keyring_backend.secrets == {("Relbook", account_id): "secret"}
    stored = (
        book.book.reader()
        .execute("SELECT settings FROM account WHERE id = ?", (account_id,))
        .fetchone()
    )
    assert "secret" not in stored[0]
    draft = book.accounts.draft(account_id)
    assert draft.host == "127.0.0.1" and draft.folders == ["Archive"] and draft.password is None
    assert draft.privacy == "excerpt"  # the book's default

    draft.name = "Work mail (old server)"
    book.accounts.update(draft)  # no password given: the stored one stays
    assert keyring_backend.secrets[("Relbook", account_id)] == "secret"
    with pytest.raises(ValidationError) as caught:
        book.accounts.create(imap_draft(dovecot, name="work mail (OLD server)"))
    assert "already called" in (caught.value.for_field("name") or "")

    book.accounts.remove(account_id)
    assert book.accounts.list() == []
    assert keyring_backend.secrets == {}


def test_without_a_keyring_the_password_is_asked_each_session(
    services: Services, dovecot: Dovecot
) -> None:
    services.secrets = SessionSecretStore("no keyring backend")
    assert services.accounts.secrets_where() == NO_KEYRING
    account_id = services.accounts.create(imap_draft(dovecot))
    assert not services.accounts.needs_password(account_id)
    # A new session: the book knows the account, but not its password.
    services.secrets = SessionSecretStore("no keyring backend")
    assert services.accounts.needs_password(account_id)
    status = services.accounts.status(account_id)
    assert (status.state, status.state_text) == ("password", "password needed")
    services.accounts.set_password(account_id, "secret")
    assert services.accounts.status(account_id).state == "never"


def test_connection_test_ok_lists_the_folders(book: Services, dovecot: Dovecot) -> None:
    dovecot.append("Customers", [make_message(1)])
    result = book.accounts.test_connection(imap_draft(dovecot))
    assert result.ok and result.outcome == "ok"
    assert result.folders == ("Customers", "INBOX", "Sent")
    assert result.message == (
        "Connected. 3 folders found: Customers, INBOX, Sent. Relbook will sync INBOX, Sent."
    )


def test_connection_test_names_a_wrong_password(book: Services, dovecot: Dovecot) -> None:
    result = book.accounts.test_connection(imap_draft(dovecot, password="wrong"))
    assert (result.ok, result.outcome) == (False, "password")
    assert "refused the user name or password" in result.message


def test_connection_test_names_a_refused_certificate(
    book: Services, dovecot_factory: Callable[..., Dovecot], self_signed: TlsFiles
) -> None:
    server = dovecot_factory(tls=self_signed)
    draft = imap_draft(server, port=server.tls_port, security="tls", allow_plaintext=False)
    result = book.accounts.test_connection(draft)
    assert result.outcome == "certificate"
    assert "self-signed certificate" in result.message
    assert result.certificate_pem == self_signed.pem and result.fingerprint
    # The rep trusts it (the editor stores it with the account): now it connects.
    draft.trusted_cert = result.certificate_pem
    assert book.accounts.test_connection(draft).ok
    account_id = book.accounts.create(draft)
    assert book.accounts.draft(account_id).trusted_cert.strip() == self_signed.pem.strip()


def test_connection_test_names_an_unreachable_host(book: Services, dovecot: Dovecot) -> None:
    result = book.accounts.test_connection(imap_draft(dovecot, port=free_port()))
    assert result.outcome == "unreachable" and "cannot be reached" in result.message


def test_connection_test_of_an_invalid_draft_names_the_fields(book: Services) -> None:
    result = book.accounts.test_connection(AccountDraft(kind="imap", name="x", password="p"))
    assert result.outcome == "invalid" and "host: is required" in result.message


def test_connection_test_for_exchange_and_caldav(
    book: Services, fake_ews: FakeExchange, radicale: Radicale
) -> None:
    ews = AccountDraft(
        kind="ews", name="Exchange", email="rep@example.com", url=fake_ews.url, password="secret"
    )
    fake_ews.add_folder("Customers")
    result = book.accounts.test_connection(ews)
    assert result.ok and result.folders == ("Calendar", "Customers", "Inbox", "Sent Items")
    assert result.message.endswith("Relbook will sync Inbox, Sent Items, Calendar.")

    import caldav

    with caldav.DAVClient(url=radicale.url, username="rep", password="secret") as client:
        client.get_principal().make_calendar(name="Work", cal_id="work")
    cal = AccountDraft(
        kind="caldav", name="Calendar", url=radicale.url, username="rep", password="secret"
    )
    result = book.accounts.test_connection(cal)
    assert result.ok and result.folders == ("Work",)
    assert result.message == "Connected. 1 calendars found: Work."
