"""The capture screens of the desktop app: review queue, message viewer, accounts, sync page
and drag-and-drop import — offscreen, on the demo book, waiting with waitUntil/waitSignal.

Local HTTP servers stand in for the outside world (a tracking pixel, an .ics calendar) so
the tests can prove what was and was not fetched.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relbook.ui.qt import (
    QApplication,
    QDesktopServices,
    QMimeData,
    QObject,
    QPointF,
    Qt,
    QUrl,
    Slot,
)
from tests.ui.conftest import idle, settle, visible_dialog

HTML_MAIL = """\
From: Nora Quist <nora@quist-logistics.example>
To: Sam Rivera <sam.rivera@kestrel-data.example>
Subject: Our volumes for 2027
Message-ID: <volumes-2027@quist-logistics.example>
Date: Tue, 3 Mar 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><script>alert('owned')</script>
<style>body {{ background: url(http://127.0.0.1:{port}/style-bg.png) }}</style></head>
<body><p onclick="steal()">Hello Sam, here are <b>our volumes</b>.</p>
<img src="http://127.0.0.1:{port}/pixel.gif" width="1" height="1">
<p><a href="https://quist-logistics.example/volumes">The figures</a></p>
<iframe src="http://127.0.0.1:{port}/frame"></iframe>
</body></html>
"""

PLAIN_MAIL = """\
From: Anna Berg <anna@nordwind-shipping.example>
To: Sam Rivera <sam.rivera@kestrel-data.example>
Subject: Lunch next week?
Message-ID: <lunch-next-week@nordwind-shipping.example>
Date: Tue, 3 Mar 2026 10:00:00 +0000

Hi Sam, shall we meet for lunch next week?
"""

ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:fair-1@example
DTSTAMP:20260301T090000Z
DTSTART:20260305T090000Z
DTEND:20260305T100000Z
SUMMARY:Trade fair stand briefing
END:VEVENT
END:VCALENDAR
"""


# ------------------------------------------------------------------ helpers
class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str]
    body: bytes = b""

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[tuple[int, list[str], type[_Recorder]]]:
    """A local web server that records every request (and serves ``body``)."""
    handler = type("Handler", (_Recorder,), {"hits": [], "body": ICS.encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler.hits, handler
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def capture_window(no_keyring: None, window: Any) -> Any:
    """The demo-book window, with no keyring on the machine (set before the book opened)."""
    return window


def _import(services: Any, tmp_path: Path, name: str, text: str) -> str:
    """Bring a message into the book through the real file import; its interaction id."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = services.file_import.run([path], privacy="full")
    assert report.ingest.created == 1, report.problems
    subject = text.split("Subject: ", 1)[1].split("\n", 1)[0]
    row = (
        services.book.reader()
        .execute("SELECT id FROM interaction WHERE subject = ?", (subject,))
        .fetchone()
    )
    return str(row[0])


def _drop(window: Any, paths: list[Path]) -> None:
    from relbook.ui.qt import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = QPointF(400, 300)
    enter = QDragEnterEvent(
        point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, drop)


# ------------------------------------------------------------------ review queue
def test_review_accept_makes_a_person_and_company_and_ignore_takes_it_off(
    qtbot: Any, window: Any
) -> None:
    from relbook.ui.views.review import ReviewPage

    page = window.show_page("review")
    assert isinstance(page, ReviewPage)
    settle(qtbot, window)
    services = window.ctx.services
    before = services.review.counts().pending
    assert len(page.entries) == before >= 3
    # the sidebar shows the count
    qtbot.waitUntil(lambda: window.review_count.count == before)
    assert str(before) in window.review_count.item.text()

    company_entry = next(e for e in page.entries if not e.free_mail and not e.company_id)
    page.select_addresses([company_entry.address])
    page.accept_selected()
    qtbot.waitUntil(lambda: company_entry.address not in page.selected_addresses() and all(
        e.address != company_entry.address for e in page.entries
    ))  # fmt: skip
    idle(qtbot, window)
    person_id = services.people.find_by_address(company_entry.address)
    assert person_id is not None
    company_id = services.companies.find_by_domain(company_entry.domain)
    assert company_id is not None  # the company came from the domain
    assert "Accepted 1 correspondent" in page.status_label.text()

    # Bulk: ignore two at once; they leave the queue, and undo puts them back.
    two = [e.address for e in page.entries[:2]]
    page.select_addresses(two)
    assert page.ignore_button.text() == "Ignore 2"
    page.ignore_selected()
    qtbot.waitUntil(lambda: not {e.address for e in page.entries} & set(two))
    assert {services.review.entry(a).status for a in two} == {"ignored"}
    qtbot.waitUntil(lambda: window.review_count.count == before - 3)
    window.ctx.undo.undo()
    qtbot.waitUntil(lambda: set(two) <= {e.address for e in page.entries})
    assert {services.review.entry(a).status for a in two} == {"pending"}


def test_review_always_ignore_address_is_a_rule(qtbot: Any, window: Any) -> None:
    page = window.show_page("review")
    settle(qtbot, window)
    services = window.ctx.services
    address = page.entries[-1].address
    page.select_addresses([address])
    page.always_ignore_addresses()
    qtbot.waitUntil(lambda: all(e.address != address for e in page.entries))
    assert services.review.entry(address).status == "ignored"
    rules = services.relink.rules()
    assert any(r.match_kind == "address" and r.pattern == address for r in rules)


# ------------------------------------------------------------------ message viewer
def test_review_rules_can_be_seen_and_forgotten(qtbot: Any, window: Any) -> None:
    from relbook.ui.dialogs.relink import LinkRulesDialog

    services = window.ctx.services
    page = window.show_page("review")
    settle(qtbot, window)
    address = services.review.pending(limit=1).entries[0].address
    services.review.always_ignore_address(address)
    page.show_rules()
    dialog = visible_dialog(QApplication.instance(), LinkRulesDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: f"ignore mail with {address}" in dialog.texts)
    rule_id = next(r.id for r in services.relink.rules() if r.pattern == address)
    dialog.forget(rule_id)
    qtbot.waitUntil(lambda: f"ignore mail with {address}" not in dialog.texts)
    assert services.review.entry(address).status == "pending"  # back in the queue
    dialog.accept()


def test_safe_browser_loads_nothing_remote(qtbot: Any, web: Any) -> None:
    from relbook.ui.dialogs.message import SafeBrowser

    port, hits, _handler = web
    browser = SafeBrowser()
    qtbot.addWidget(browser)
    browser.resize(500, 300)
    browser.show()
    url = f"http://127.0.0.1:{port}/pixel.gif"
    browser.setHtml(f'<p>Hi</p><img src="{url}" width="40" height="40">')
    browser.grab()  # lay out and paint: every resource is asked for now
    assert url in browser.requested  # it was asked for…
    assert browser.loadResource(2, QUrl(url)) is None  # …and answered with nothing
    assert browser.loadResource(2, QUrl("file:///etc/passwd")) is None
    assert hits == []  # no request reached the server
    assert not browser.openExternalLinks()
    assert not browser.openLinks()


def test_message_viewer_shows_sanitised_html_fetches_nothing_and_opens_links_on_click(
    qtbot: Any, window: Any, tmp_path: Path, web: Any
) -> None:
    from relbook.ui.dialogs.message import MessageDialog

    port, hits, _handler = web
    services = window.ctx.services
    interaction_id = _import(services, tmp_path, "volumes.eml", HTML_MAIL.format(port=port))
    window.open_entity("interaction", interaction_id)
    dialog = visible_dialog(QApplication.instance(), MessageDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.is_loaded)
    dialog.grab()
    shown_html = dialog.browser.toHtml()
    text = dialog.browser.toPlainText()
    assert "Hello Sam" in text and "our volumes" in text
    assert "alert" not in text and "<script" not in shown_html.lower()
    assert "steal" not in shown_html and "onclick" not in shown_html
    assert "iframe" not in shown_html.lower()
    assert "The figures" in text
    assert hits == []  # neither the pixel, the style sheet's image nor the frame

    # Links open only when clicked, and only through the system (captured here).
    class Catcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.urls.append(url.toString())

    catcher = Catcher()
    QDesktopServices.setUrlHandler("https", catcher, "open")
    try:
        assert catcher.urls == [] and dialog.browser.opened == []
        dialog.browser.anchorClicked.emit(QUrl("https://quist-logistics.example/volumes"))
        dialog.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
        assert catcher.urls == ["https://quist-logistics.example/volumes"]
        assert dialog.browser.opened == ["https://quist-logistics.example/volumes"]
    finally:
        QDesktopServices.unsetUrlHandler("https")
    dialog.accept()


def test_message_viewer_says_why_it_is_linked_and_relinks(qtbot: Any, window: Any) -> None:
    from relbook.ui.dialogs.message import MessageDialog
    from relbook.ui.dialogs.relink import RelinkDialog

    services = window.ctx.services
    interaction_id = (
        services.book.reader()
        .execute(
            """SELECT interaction_id FROM interaction_link WHERE entity_type = 'person'
           AND excluded = 0 AND reason != '' ORDER BY interaction_id LIMIT 1"""
        )
        .fetchone()[0]
    )
    window.open_entity("interaction", interaction_id)
    dialog = visible_dialog(QApplication.instance(), MessageDialog)
    qtbot.waitUntil(dialog.is_loaded)
    reasons = dialog.link_texts()
    assert reasons and all(" — because " in r for r in reasons)
    person = next(link for link in dialog.view.links if link.entity_type == "person")

    dialog._relink()
    relink = visible_dialog(QApplication.instance(), RelinkDialog)
    assert relink is not None
    idle(qtbot, window)
    relink._unlink(person)  # "Not this one" for this item only
    qtbot.waitUntil(lambda: all(
        link.excluded for link in dialog.view.links if link.entity_id == person.entity_id
    ))  # fmt: skip
    assert not any(person.name in r for r in dialog.link_texts())
    relink.accept()
    dialog.accept()


# ------------------------------------------------------------------ accounts
def test_adding_an_account_whose_connection_fails_shows_why_and_writes_no_password(
    qtbot: Any, capture_window: Any, app_paths: Any, demo_book: Path
) -> None:
    from relbook.credentials import NO_KEYRING
    from relbook.ui.dialogs.account import AccountEditor

    window = capture_window
    page = window.show_page("sync")
    settle(qtbot, window)
    page.scheduler.timer.stop()
    page.add_account()
    editor = visible_dialog(QApplication.instance(), AccountEditor)
    assert editor is not None
    qtbot.waitUntil(lambda: editor.persistent is not None)
    editor.kind.setCurrentIndex(editor.kind.findData("imap"))
    assert editor.keyring_note.isVisible()
    assert "each session" in editor.keyring_note.text()
    assert "never writes passwords to disk" in editor.keyring_note.text()
    secret = "Tr0ub4dor-&-3-unique"
    editor.name.setText("Work IMAP")
    editor.host.setText("127.0.0.1")
    editor.port.setValue(_closed_port())
    editor.security.setCurrentIndex(editor.security.findData("plain"))
    editor.username.setText("sam")
    editor.password.setText(secret)
    with qtbot.waitSignal(editor.tested, timeout=20_000) as blocker:
        editor.test_button.click()
    result = blocker.args[0]
    assert not result.ok and result.outcome == "unreachable"
    assert result.message in editor.test_result.text()
    assert editor.test_result.text().startswith("✗")

    with qtbot.waitSignal(editor.saved, timeout=20_000) as saved:
        editor.save_button.click()
    account_id = saved.args[0]
    services = window.ctx.services
    assert services.secrets.where() == NO_KEYRING
    assert services.secrets.get(account_id) == secret  # for this session only
    # The first sync starts by itself and, the server being unreachable, waits quietly.
    qtbot.waitUntil(
        lambda: any("offline — will retry" in t for t in page.card_texts(account_id)),
        timeout=20_000,
    )
    idle(qtbot, window)
    needle = secret.encode()
    written = [
        p
        for root in (demo_book.parent, app_paths.data_dir, app_paths.config_dir, app_paths.log_dir)
        if root.exists()
        for p in root.rglob("*")
        if p.is_file()
    ]
    assert any(p.name.startswith("demo.relbook") for p in written)
    leaked = [p for p in written if needle in p.read_bytes()]
    assert leaked == []


# ------------------------------------------------------------------ sync page
def _ics_account(services: Any, url: str, name: str = "Trade fairs") -> str:
    from relbook.services.accounts import AccountDraft

    return str(services.accounts.create(AccountDraft(kind="ics", name=name, url=url)))


def test_sync_page_syncs_now_and_shows_the_account_status(
    qtbot: Any, window: Any, web: Any
) -> None:
    port, hits, _handler = web
    services = window.ctx.services
    account_id = _ics_account(services, f"http://127.0.0.1:{port}/fairs.ics")
    page = window.show_page("sync")
    settle(qtbot, window)
    page.scheduler.timer.stop()  # on demand only: no automatic sync in this test
    assert any("not synced yet" in t for t in page.card_texts(account_id))
    page.sync(account_id)
    qtbot.waitUntil(
        lambda: any("up to date" in t for t in page.card_texts(account_id)), timeout=20_000
    )
    texts = page.card_texts(account_id)
    assert any("1 stored of 1 seen" in t for t in texts)
    assert any("last success today" in t for t in texts)
    assert hits == ["/fairs.ics"]


def test_a_running_sync_shows_progress_and_the_cards_cancel_stops_it(
    qtbot: Any, window: Any, web: Any
) -> None:
    from relbook.ui.qt import QProgressBar, QPushButton

    port, hits, handler = web
    release = threading.Event()
    serve = handler.do_GET

    asked = threading.Event()

    def slow(self: Any) -> None:  # the server answers only when the test lets it
        asked.set()
        release.wait(20)
        serve(self)

    handler.do_GET = slow  # type: ignore[method-assign]
    services = window.ctx.services
    account_id = _ics_account(services, f"http://127.0.0.1:{port}/fairs.ics")
    page = window.show_page("sync")
    settle(qtbot, window)
    page.scheduler.timer.stop()
    try:
        page.sync(account_id)
        qtbot.waitUntil(asked.is_set)  # the download is under way

        def card() -> Any:
            return next(
                c for c in page.findChildren(QObject) if c.property("account") == account_id
            )

        qtbot.waitUntil(lambda: any(b.isVisible() for b in card().findChildren(QProgressBar)))
        cancel = next(b for b in card().findChildren(QPushButton) if b.text() == "Cancel")
        with qtbot.waitSignal(page.scheduler.finished, timeout=20_000) as done:
            cancel.click()
            release.set()
    finally:
        release.set()
    assert done.args[0] == account_id
    assert done.args[1].status == "cancelled"
    assert done.args[1].message == "Cancelled; what was synced is kept."
    assert not page.scheduler.is_running(account_id) and hits == ["/fairs.ics"]
    qtbot.waitUntil(
        lambda: any(
            b.text() == "Sync now" for b in card().findChildren(QPushButton) if b.isVisible()
        )
    )


def test_automatic_sync_runs_due_accounts_off_the_ui_thread(
    qtbot: Any, window: Any, web: Any
) -> None:
    port, _hits, _handler = web
    services = window.ctx.services
    account_id = _ics_account(services, f"http://127.0.0.1:{port}/fairs.ics")
    page = window.show_page("sync")
    settle(qtbot, window)
    threads: list[int] = []
    original = services.sync.run

    def run(*args: Any, **kw: Any) -> Any:
        threads.append(threading.get_ident())
        return original(*args, **kw)

    services.sync.run = run
    with qtbot.waitSignal(page.scheduler.finished, timeout=20_000) as done:
        page.scheduler.sync_due()  # the timer's tick
    assert done.args[0] == account_id and done.args[1].status == "done"
    assert threads and threading.get_ident() not in threads
    assert page.scheduler.timer.isActive()
    # Not due again until its interval has passed.
    assert services.sync.due_accounts() == []


def test_an_offline_account_waits_quietly_and_a_guard_question_asks(
    qtbot: Any, window: Any
) -> None:
    services = window.ctx.services
    offline = _ics_account(services, f"http://127.0.0.1:{_closed_port()}/x.ics", "Offline cal")
    page = window.show_page("sync")
    settle(qtbot, window)
    page.scheduler.timer.stop()
    with qtbot.waitSignal(page.scheduler.finished, timeout=20_000) as done:
        page.scheduler.sync(offline)  # as the timer starts it
    assert done.args[1].status == "offline"
    qtbot.waitUntil(lambda: any("offline — will retry" in t for t in page.card_texts(offline)))
    assert any("waits quietly" in t for t in page.card_texts(offline))
    assert not window.toast.isVisible()  # no message for being offline
    assert offline not in services.sync.due_accounts()  # the retry is later

    # A data-loss guard waiting for an answer: Go on / Cancel on the card.
    asked = _ics_account(services, "https://fairs.example.com/c.ics", "Guarded cal")
    services.sync._mark(asked, pending_question="212 of 240 events were deleted. Go on?")
    services.changes.publish(("account",), reason="test")
    qtbot.waitUntil(lambda: any("212 of 240" in t for t in page.card_texts(asked)))
    assert asked not in services.sync.due_accounts()
    page.answer(asked, False)  # Cancel: keep the book as it is
    qtbot.waitUntil(lambda: any("paused" in t for t in page.card_texts(asked)))
    status = services.accounts.status(asked)
    assert status.pending_question == "" and not status.enabled
    assert status.next_sync_at is None or status.state == "disabled"


# ------------------------------------------------------------------ drag and drop
def test_dropping_files_imports_them_with_a_report(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from relbook.ui.dialogs.importing import ImportDialog

    folder = tmp_path / "dropped"
    folder.mkdir()
    mail = folder / "lunch.eml"
    mail.write_text(PLAIN_MAIL, encoding="utf-8")
    junk = folder / "scan.pdf"
    junk.write_bytes(b"%PDF-1.4 not mail")
    services = window.ctx.services
    _drop(window, [mail, junk])
    dialog = visible_dialog(QApplication.instance(), ImportDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=30_000)
    assert dialog.report is not None and dialog.report.ingest.created == 1
    found = (
        services.book.reader()
        .execute("SELECT count(*) FROM interaction WHERE subject = 'Lunch next week?'")
        .fetchone()[0]
    )
    assert found == 1
    assert "1 new" in dialog.summary.text()
    problems = dialog.problem_texts()
    assert len(problems) == 1 and "PDF" in problems[0]
    names = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert set(names) == {"lunch.eml", "scan.pdf"}
    # The sender is a new correspondent: the review queue knows them now.
    assert services.review.entry("anna@nordwind-shipping.example").status == "pending"
    dialog.accept()

    # Dropping the same folder again stores nothing twice.
    _drop(window, [folder])
    again = next(
        w for w in QApplication.instance().topLevelWidgets()
        if isinstance(w, ImportDialog) and w is not dialog and w.isVisible()
    )  # fmt: skip
    qtbot.waitUntil(lambda: again.state == "done", timeout=30_000)
    assert again.report.ingest.created == 0 and again.report.ingest.unchanged == 1


def test_an_import_can_be_cancelled(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from relbook.ui.dialogs.importing import ImportDialog, import_files

    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(400):
        (folder / f"m{n}.eml").write_text(
            PLAIN_MAIL.replace("lunch-next-week@", f"m{n}@").replace("Lunch", f"Lunch {n}"),
            encoding="utf-8",
        )
    dialog = import_files(window.ctx, window, [folder])
    assert isinstance(dialog, ImportDialog)
    dialog.cancel()  # before the first batch is committed
    qtbot.waitUntil(lambda: dialog.state in ("cancelled", "done"), timeout=30_000)
    assert dialog.state == "cancelled"
    assert "Cancelled" in dialog.summary.text()
    stored = (
        window.ctx.services.book.reader()
        .execute("SELECT count(*) FROM interaction WHERE subject LIKE 'Lunch %'")
        .fetchone()[0]
    )
    assert stored < 400
    dialog.accept()


# ------------------------------------------------------------- colleague relink
def test_declaring_an_internal_domain_relinks_past_mail_in_the_background(
    qtbot: Any, window: Any
) -> None:
    from relbook.ui.dialogs.settings import SettingsDialog

    services = window.ctx.services
    db = services.book.reader()
    # The demo company whose domain links the most mail: the rep now says it is their own.
    company_id, domain = db.execute(
        """SELECT c.id, d.domain FROM company c JOIN company_domain d ON d.company_id = c.id
           JOIN interaction_link l ON l.entity_id = c.id AND l.excluded = 0
               AND l.kind = 'email' AND l.reason LIKE '%' || d.domain || '%'
           GROUP BY c.id ORDER BY count(*) DESC LIMIT 1"""
    ).fetchone()

    def linked() -> int:  # mail linked because of the domain
        return int(
            db.execute(
                """SELECT count(*) FROM interaction_link WHERE entity_id = ? AND excluded = 0
                   AND kind = 'email' AND reason LIKE '%' || ? || '%'""",
                (company_id, domain),
            ).fetchone()[0]
        )

    assert linked() > 10
    window.open_settings()
    dialog = visible_dialog(QApplication.instance(), SettingsDialog)
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=10_000)
    dialog.internal.setText(domain)
    with qtbot.waitSignal(window.relinker.finished, timeout=60_000) as done:
        dialog.save_button.click()
    assert done.args[0] > 0  # messages whose links changed, said in a toast
    # Colleagues are not customers: their domain no longer links mail to the company.
    assert linked() == 0
    assert services.relink.pending() is None
    assert services.settings.internal_domains == [domain]
