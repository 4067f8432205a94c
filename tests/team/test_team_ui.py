"""The Team page and the sharing dialog, driven like a rep would, against a real team server.

Offscreen Qt (tests/conftest.py); every wait is a qtbot.waitUntil, never a sleep. Screens
are saved as PNG (to $RELBOOK_SHOTS when set, else the test's temp folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from relbook.app import AppPaths
from relbook.credentials import open_secret_store
from relbook.services.people import PersonDraft
from relbook.services.team import SECRET_ID

from .conftest import Client, TeamDb
from .helpers import account, local_live
from .pg import free_port

pytestmark = pytest.mark.integration

MakeClient = Callable[..., Client]


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keyring (never keyrings.alt, which writes plain text)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def open_window(
    qtbot: Any, tmp_path: Path, memory_keyring: MemoryKeyring
) -> Iterator[Callable[..., Any]]:
    """The desktop app over a client's book; its password in the (memory) OS keyring."""
    from relbook.ui.main import build_window, create_application

    create_application()
    windows: list[Any] = []

    def make(client: Client, *, background: bool = False) -> Any:
        """``background``: the app's start-up work too (backup, background syncs)."""
        open_secret_store(memory_keyring).set(SECRET_ID, client.password)
        root = tmp_path / f"home-{client.name}"
        paths = AppPaths(root / "data", root / "config", root / "logs")
        window = build_window(str(client.services.book.path), paths=paths, auto_backup=background)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.ctx is not None, timeout=20_000)
        settle(qtbot, window)
        return window

    yield make
    for window in windows:
        window.close()


def settle(qtbot: Any, window: Any) -> None:
    def done() -> bool:
        page = window.current_page()
        return window.ctx.runner.is_idle() and (page is None or page.is_loaded())

    qtbot.waitUntil(done, timeout=20_000)


def shot(widget: Any, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("RELBOOK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    from relbook.ui.qt import QApplication

    QApplication.processEvents()  # pending layout requests: grab what the rep would see
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 10_000  # a real screen, not an empty image
    return path


def rows(tree: Any) -> list[list[str]]:
    return [
        [tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
        for i in range(tree.topLevelItemCount())
    ]


def rename(client: Client, company_id: str, **changes: object) -> None:
    draft = client.services.companies.draft(company_id)
    for key, value in changes.items():
        setattr(draft, key, value)
    client.services.companies.update(draft)


def click(qtbot: Any, widget: Any) -> None:
    from relbook.ui.qt import Qt

    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def shared_pair(team_db: TeamDb, make_client: MakeClient) -> tuple[Client, Client, dict[str, str]]:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services, "Acme")
    alice.services.sharing.share("company", ids["company"], "metadata")
    alice.sync()
    bob.sync()
    return alice, bob, ids


def test_the_team_page_shows_the_shared_picture_and_syncs_in_the_background(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
    tmp_path: Path,
) -> None:
    alice, bob, ids = shared_pair(team_db, make_client)
    window = open_window(bob)
    page = window.show_page("team")
    settle(qtbot, window)

    assert page.tabs.isVisible() and not page.connect_card.isVisible()
    ((name, people, deals, amount, _touches, _last, by),) = rows(page.accounts)
    assert (name, people, deals, by) == ("Acme", "1", "1", alice.role)
    assert "1,000" in amount
    qtbot.waitUntil(lambda: page.knows.topLevelItemCount() == 1)
    person, title, reps = rows(page.knows)[0]
    assert (person, title) == ("Ann Acme", "Buyer") and alice.role in reps
    assert rows(page.pipeline)[0][0] == alice.role
    assert rows(page.themes)[0][:3] == ["price", "Widget", "1"]
    status = page.status_text.text()
    assert f"as {bob.role}" in status and "Last sync" in status and "0 changes waiting" in status

    rename(alice, ids["company"], name="Acme Group")
    alice.sync()
    click(qtbot, page.sync_button)
    # The click returned at once: the sync runs on the network pool, not the UI thread.
    assert page.syncing and not page.sync_button.isEnabled() and page.busy.isVisible()
    qtbot.waitUntil(lambda: not page.syncing and window.ctx.runner.is_idle(), timeout=20_000)
    qtbot.waitUntil(lambda: rows(page.accounts)[0][0] == "Acme Group")
    assert bob.services.companies.detail(ids["company"]).name == "Acme Group"
    assert not page.error_text.isVisible()
    shot(page, "team-page.png", tmp_path)
    page.tabs.setCurrentIndex(1)
    shot(page, "team-pipeline.png", tmp_path)
    page.tabs.setCurrentIndex(2)
    shot(page, "team-feedback.png", tmp_path)


def test_a_lost_value_is_shown_and_resolved_in_the_page(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
    tmp_path: Path,
) -> None:
    alice, bob, ids = shared_pair(team_db, make_client)
    rename(alice, ids["company"], name="Acme AG")
    rename(bob, ids["company"], name="Acme GmbH")
    alice.sync()
    bob.sync()
    window = open_window(bob)
    page = window.show_page("team")
    settle(qtbot, window)

    assert page.tabs.tabText(page.conflicts_index) == "Conflicts (1)"
    page.tabs.setCurrentIndex(page.conflicts_index)
    ((conflict_id, card),) = page.conflicts.cards.items()
    texts = " ".join(w.text() for w in card.findChildren(type(page.status_text)))
    assert "Kept (from" in texts and "Acme AG" in texts and "Yours: Acme GmbH" in texts
    shot(page, "team-conflicts.png", tmp_path)

    from relbook.ui.qt import QPushButton

    click(qtbot, card.findChild(QPushButton, "keepMine"))
    qtbot.waitUntil(lambda: page.tabs.tabText(page.conflicts_index) == "Conflicts")
    assert bob.services.team.conflicts() == []
    assert bob.services.companies.detail(ids["company"]).name == "Acme GmbH"
    click(qtbot, page.sync_button)
    qtbot.waitUntil(lambda: not page.syncing and window.ctx.runner.is_idle(), timeout=20_000)
    alice.sync()
    assert alice.services.companies.detail(ids["company"]).name == "Acme GmbH"
    assert conflict_id not in page.conflicts.cards


def test_the_mass_delete_guard_asks_in_the_page(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
    tmp_path: Path,
) -> None:
    team_db.init()
    alice, bob = make_client("alice"), make_client("bob")
    ids = account(alice.services)
    for n in range(12):
        alice.services.people.create(
            PersonDraft(given_name=f"P{n}", family_name="Staff", company_id=ids["company"])
        )
    alice.services.sharing.share("company", ids["company"])
    alice.sync()
    bob.sync()
    alice.services.sharing.unshare("company", ids["company"])
    alice.sync(confirm=True)

    window = open_window(bob)
    page = window.show_page("team")
    settle(qtbot, window)
    click(qtbot, page.sync_button)
    qtbot.waitUntil(page.question.isVisible, timeout=20_000)
    assert "withdrew" in page.question_text.text()
    assert local_live(bob.services, "person", ids["person"])  # nothing removed: it asks
    shot(page, "team-guard.png", tmp_path)

    from relbook.ui.qt import QPushButton

    click(qtbot, page.question.findChild(QPushButton, "syncAnyway"))
    qtbot.waitUntil(lambda: not page.syncing and window.ctx.runner.is_idle(), timeout=20_000)
    qtbot.waitUntil(lambda: not page.question.isVisible())
    assert not local_live(bob.services, "person", ids["person"])
    assert rows(page.accounts) == []


def test_offline_the_page_shows_the_error_and_what_waits(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
) -> None:
    _alice, bob, ids = shared_pair(team_db, make_client)
    with bob.services.book.raw_write() as conn:
        conn.execute(
            "UPDATE team_link SET dsn = ?",
            (bob.dsn.replace(f"port={team_db.server.port}", f"port={free_port()}"),),
        )
    rename(bob, ids["company"], industry="Chemicals")
    window = open_window(bob)
    page = window.show_page("team")
    settle(qtbot, window)
    assert "1 change waiting" in page.status_text.text()

    click(qtbot, page.sync_button)
    qtbot.waitUntil(page.error_text.isVisible, timeout=30_000)
    assert "cannot be reached" in page.error_text.text()
    assert "1 change waiting" in page.status_text.text()
    assert page.status_chip.text() == "error"
    assert bob.services.companies.detail(ids["company"]).industry == "Chemicals"


def test_connecting_from_the_page_keeps_the_password_in_the_keyring(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    team_db.init()
    carol = make_client("carol", connect=False)
    window = open_window(carol)
    memory_keyring.secrets.clear()
    page = window.show_page("team")
    settle(qtbot, window)
    assert page.connect_card.isVisible() and not page.tabs.isVisible()
    shot(page, "team-connect.png", tmp_path)

    page.dsn.setText(carol.dsn)
    page.password.setText("wrong")
    click(qtbot, page.findChild(type(page.sync_button), "teamConnectButton"))
    qtbot.waitUntil(lambda: "refused the login" in page.connect_result.text(), timeout=20_000)

    page.password.setText(carol.password)
    click(qtbot, page.findChild(type(page.sync_button), "teamConnectButton"))
    # The page may show the tabs (a change notice) just before the connect job's answer
    # clears the field: wait for both.
    qtbot.waitUntil(lambda: page.tabs.isVisible() and page.password.text() == "", timeout=20_000)
    assert list(memory_keyring.secrets.values()) == [carol.password]
    assert carol.password not in carol.services.book.path.read_bytes().decode("latin-1")


def test_sharing_from_the_customer_360_with_a_preview(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[[Client], Any],
    tmp_path: Path,
) -> None:
    from relbook.ui.qt import QPushButton
    from relbook.ui.team.sharing import SharingDialog

    _alice, bob, _ids = shared_pair(team_db, make_client)
    own = account(bob.services, "Globex")
    window = open_window(bob)
    window.open_entity("company", own["company"])
    customer = window.current_page()
    settle(qtbot, window)
    share = customer.findChild(QPushButton, "shareButton")
    qtbot.waitUntil(lambda: share.text() == "Private")

    click(qtbot, share)
    dialog = next(w for w in window.findChildren(SharingDialog) if w.isVisible())
    qtbot.waitUntil(lambda: dialog.loaded)
    assert [dialog.tree.topLevelItem(0).text(0)] == ["Nothing: your team sees nothing of it"]
    dialog.loaded = False
    dialog.level.setCurrentIndex(dialog.level.findData("subject"))
    qtbot.waitUntil(lambda: dialog.loaded and dialog.preview.level == "subject")
    tops = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert "Company · Globex" in tops and "Interaction · Pricing call" in tops
    assert dialog.summary.text().startswith("From your book: 1 company, 1 person, 1 job, 1 deal")
    assert not any("secret" in t for t in tops)  # the private note never travels
    assert "private note" in dialog.withheld.text()
    assert "text of 1 interaction" in dialog.withheld.text()
    shot(dialog, "share-dialog.png", tmp_path)

    click(qtbot, dialog.apply_button)
    qtbot.waitUntil(lambda: bob.services.sharing.level_of("company", own["company"]) == "subject")
    qtbot.waitUntil(lambda: share.text() == "Shared · subjects")

    team = window.show_page("team")
    settle(qtbot, window)
    assert [r[:3] + r[4:] for r in rows(team.shared)] == [
        ["Globex", "company", "subjects", "goes out at the next sync"]
    ]
    assert "with team “north”" in team.shared_with.text() and bob.role in team.shared_with.text()
    team.tabs.setCurrentIndex(team.tabs.count() - 1)
    shot(team, "team-shared.png", tmp_path)
    click(qtbot, team.sync_button)
    qtbot.waitUntil(lambda: not team.syncing and window.ctx.runner.is_idle(), timeout=20_000)
    qtbot.waitUntil(lambda: rows(team.shared)[0][-1] == "on the team server")

    window.open_entity("company", own["company"])
    settle(qtbot, window)
    share = window.current_page().findChild(QPushButton, "shareButton")
    click(qtbot, share)
    dialog = next(w for w in window.findChildren(SharingDialog) if w.isVisible())
    qtbot.waitUntil(lambda: dialog.loaded and dialog.unshare_button.isVisible())
    click(qtbot, dialog.unshare_button)
    qtbot.waitUntil(lambda: bob.services.sharing.level_of("company", own["company"]) is None)


def test_the_app_syncs_with_the_team_in_the_background_after_it_starts(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[..., Any],
) -> None:
    """An edit made while offline goes out soon after the app starts, without the rep
    opening the Team page."""
    alice, bob, ids = shared_pair(team_db, make_client)
    rename(bob, ids["company"], industry="Mining")
    assert bob.services.team.status().pending_changes == 1
    window = open_window(bob, background=True)
    assert window.current_page().spec_id != "team"
    qtbot.waitUntil(lambda: bob.services.team.status().pending_changes == 0, timeout=30_000)
    assert bob.services.team.status().last_error == ""
    alice.sync()
    assert alice.services.companies.detail(ids["company"]).industry == "Mining"


def test_what_the_team_sees_of_a_teammates_account(
    qtbot: Any,
    team_db: TeamDb,
    make_client: MakeClient,
    open_window: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """Bob did not share Acme (Alice did): his book sends nothing of it, and the preview
    shows what is on the team server from Alice — never Bob's own additions."""
    from relbook.services.notes import NoteDraft
    from relbook.ui.qt import QPushButton
    from relbook.ui.team.sharing import SharingDialog

    alice, bob, ids = shared_pair(team_db, make_client)
    bob.services.notes.create(NoteDraft(body="Bob's own remark", company_id=ids["company"]))
    window = open_window(bob)
    window.open_entity("company", ids["company"])
    settle(qtbot, window)
    share = window.current_page().findChild(QPushButton, "shareButton")
    qtbot.waitUntil(lambda: share.text() == "Private")
    click(qtbot, share)
    dialog = next(w for w in window.findChildren(SharingDialog) if w.isVisible())
    qtbot.waitUntil(lambda: dialog.loaded)
    tops = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    assert tops[0].text(0) == "Company · Acme" and tops[0].text(1) == "from a teammate"
    assert {t.text(1) for t in tops} == {"from a teammate"}
    assert not any("Bob's own remark" in t.text(0) for t in tops)
    assert dialog.summary.text().startswith("Shared by teammates: 1 company")
    assert alice.role in dialog.who.text() and bob.role in dialog.who.text()
    shot(dialog, "share-dialog-teammate.png", tmp_path)
