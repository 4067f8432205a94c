"""The message viewer: one interaction (mail, meeting, call…), its people, and why it is
linked where it is — with a way to correct that (the re-link dialog) and to keep words
the customer wrote as feedback (select them, then "Mark as feedback").

Mail is untrusted. The text shows as plain text, or as HTML that ``services.messages``
sanitised with nh3 (no scripts, styles, images, frames or forms). On top of that the
browser loads NOTHING: ``loadResource`` answers every request — remote or local — with
nothing, so a tracking pixel or a ``file:`` image that slipped through is never fetched.
Links are not followed inside the viewer and never opened automatically: only a click by
the rep on an http(s) or mailto link hands it to the system browser / mail program (the
address shows at the bottom while the pointer is over it). Attachments are listed by
name and size only; the book never holds their content, so nothing can be opened.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from relbook.ui.context import Refresher
from relbook.ui.fmt import when
from relbook.ui.qt import (
    QDesktopServices,
    QDialog,
    QFrame,
    QHBoxLayout,
    Qt,
    QTextBrowser,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import button, clear_layout, label

if TYPE_CHECKING:
    from relbook.services.messages import MessageView
    from relbook.ui.context import UiContext

OPENABLE_SCHEMES = ("http", "https", "mailto")
PRIVACY_NOTES = {
    "headers": "Only the headers of this message are kept (the account's privacy setting).",
    "excerpt": "Only an excerpt is kept: quoted replies and signatures were left out.",
}


class SafeBrowser(QTextBrowser):
    """A QTextBrowser that never fetches anything and opens links only on a click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)  # a click never navigates inside the viewer
        self.setOpenExternalLinks(False)  # …nor opens anything by itself
        self.setSearchPaths([])
        self.anchorClicked.connect(self._clicked)
        self.requested: list[str] = []  # what the content asked to load (tests read it)
        self.opened: list[str] = []  # links handed to the system on a click

    def loadResource(self, kind: int, url: QUrl) -> Any:
        # Images, style sheets, anything: remote or local, nothing is loaded.
        self.requested.append(url.toString())
        return None

    def _clicked(self, url: QUrl) -> None:
        if url.scheme().lower() in OPENABLE_SCHEMES:
            self.opened.append(url.toString())
            QDesktopServices.openUrl(url)


def plain_to_html(text: str) -> str:
    return "<pre style='white-space: pre-wrap'>" + html.escape(text) + "</pre>"


def participant_lines(view: MessageView) -> list[str]:
    by_role: dict[str, list[str]] = {}
    for p in view.participants:
        who = f"{p.name} <{p.address}>" if p.name and p.address else (p.name or p.address)
        by_role.setdefault(p.role, []).append(who)
    titles = {
        "from": "From",
        "organizer": "Organiser",
        "to": "To",
        "cc": "Cc",
        "bcc": "Bcc",
        "attendee": "Attendees",
    }
    lines = []
    for role, people in by_role.items():
        shown = ", ".join(people[:8]) + (f" and {len(people) - 8} more" if len(people) > 8 else "")
        lines.append(f"{titles.get(role, role.title())}: {shown}")
    return lines


def link_reason(link: Any) -> str:
    reason = link.reason or {"manual": "linked by you", "rule": "a rule you made"}.get(
        link.origin, link.origin
    )
    return f"{link.name} ({link.entity_type}) — because {reason}"


class MessageDialog(QDialog):
    def __init__(self, ctx: UiContext, interaction_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.interaction_id = interaction_id
        self.view: MessageView | None = None
        self.setObjectName("messageViewer")
        self.setWindowTitle("Message")
        self.resize(780, 660)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(8)
        self.subject = label("", "h2", wrap=True, selectable=True)
        layout.addWidget(self.subject)
        self.meta = label("", "muted", wrap=True, selectable=True)
        layout.addWidget(self.meta)
        self.people = label("", "small", wrap=True, selectable=True)
        layout.addWidget(self.people)

        why = QFrame()
        why.setProperty("role", "banner")
        why_layout = QVBoxLayout(why)
        why_layout.setContentsMargins(12, 8, 12, 8)
        why_layout.setSpacing(2)
        head = QHBoxLayout()
        head.addWidget(label("Why it is here", "section"))
        head.addStretch(1)
        head.addWidget(button("Re-link…", self._relink, icon_name="link"))
        why_layout.addLayout(head)
        self.links_box = QVBoxLayout()
        self.links_box.setSpacing(2)
        why_layout.addLayout(self.links_box)
        layout.addWidget(why)

        self.note = label("", "small", wrap=True)
        self.note.hide()
        layout.addWidget(self.note)
        self.browser = SafeBrowser(self)
        self.browser.highlighted.connect(self._hover)
        self.browser.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.browser.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.browser, 1)
        self.hover = label("", "small")
        self.hover.setObjectName("linkTarget")
        layout.addWidget(self.hover)
        self.attachments = label("", "small", wrap=True)
        self.attachments.hide()
        layout.addWidget(self.attachments)
        row = QHBoxLayout()
        self.feedback_button = button(
            "Mark as feedback…",
            self.mark_feedback,
            icon_name="feedback",
            tip="Keep the selected words as feedback (product, competitor, price, service)",
        )
        self.feedback_button.setEnabled(False)
        self.browser.copyAvailable.connect(self.feedback_button.setEnabled)
        row.addWidget(self.feedback_button)
        row.addStretch(1)
        close = button("Close", self.accept, kind="primary")
        close.setDefault(True)
        row.addWidget(close)
        layout.addLayout(row)
        Refresher(ctx, ("interaction",), self.load, self)  # a re-link shows at once
        self.load()

    def load(self) -> None:
        messages = self.ctx.services.messages
        interaction_id = self.interaction_id
        self.ctx.read(
            lambda: messages.message(interaction_id),
            self._show,
            owner=self,
            key=f"message-{id(self)}",
        )

    def is_loaded(self) -> bool:
        return self.view is not None

    def _show(self, view: MessageView) -> None:
        first = self.view is None
        self.view = view
        self.subject.setText(view.subject or f"({view.kind})")
        self.setWindowTitle(view.subject or "Message")
        facts = [view.kind, when(view.occurred_at)]
        if view.direction and view.direction != "unknown":
            facts.append(view.direction)
        if view.location:
            facts.append(view.location)
        if view.status and view.status not in ("done", "confirmed", ""):
            facts.append(view.status)
        self.meta.setText(" · ".join(f for f in facts if f))
        self.people.setText("\n".join(participant_lines(view)))
        self.people.setVisible(bool(view.participants))
        self._show_links(view)
        note = PRIVACY_NOTES.get(view.privacy, "")
        self.note.setText(note)
        self.note.setVisible(bool(note))
        if first:  # the body does not change with a re-link: keep the scroll position
            if view.html:
                self.browser.setHtml(view.html)
            else:
                self.browser.setPlainText(view.text or "(no text kept)")
        if view.attachments:
            names = ", ".join(f"{a.name} ({_size(a.size)})" for a in view.attachments)
            self.attachments.setText(f"Attachments (names only; not kept, never opened): {names}")
            self.attachments.show()

    def _show_links(self, view: MessageView) -> None:
        clear_layout(self.links_box)
        shown = [link for link in view.links if not link.excluded]
        for link in shown:
            self.links_box.addWidget(label(link_reason(link), wrap=True))
        removed = [link for link in view.links if link.excluded]
        if removed:
            names = ", ".join(link.name for link in removed)
            self.links_box.addWidget(label(f"Removed by you: {names}", "small", wrap=True))
        if view.bulk_reason:
            self.links_box.addWidget(
                label(f"Not a relationship: {view.bulk_reason}", "small", wrap=True)
            )
        if not shown:
            self.links_box.addWidget(label("Not on anyone's timeline.", "muted"))

    def link_texts(self) -> list[str]:
        """The reasons shown (tests read them)."""
        return (
            [link_reason(link) for link in self.view.links if not link.excluded]
            if self.view
            else []
        )

    def _hover(self, url: QUrl) -> None:
        text = url.toString()
        if not text:
            self.hover.setText("")
        elif url.scheme().lower() in OPENABLE_SCHEMES:
            self.hover.setText(f"Click opens {text} in your browser")
        else:
            self.hover.setText(f"{text} (not opened: only web and mail links are)")

    def selected_text(self) -> str:
        # QTextCursor marks paragraph breaks with U+2029; the quote is whitespace-normalised.
        return " ".join(self.browser.textCursor().selectedText().split())

    def mark_feedback(self) -> Any:
        from relbook.ui.dialogs.feedback import mark_as_feedback

        return mark_as_feedback(
            self.ctx, self, "interaction", self.interaction_id, self.selected_text()
        )

    def _context_menu(self, position: Any) -> None:
        menu = self.browser.createStandardContextMenu(position)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addSeparator()
        action = menu.addAction("Mark as feedback…")
        action.setEnabled(bool(self.selected_text()))
        action.triggered.connect(lambda _checked=False: self.mark_feedback())
        menu.popup(self.browser.viewport().mapToGlobal(position))

    def _relink(self) -> None:
        from relbook.ui.dialogs.relink import RelinkDialog

        RelinkDialog(self.ctx, self.interaction_id, self).open()


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


__all__ = ["MessageDialog", "SafeBrowser", "plain_to_html"]
