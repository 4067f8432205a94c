"""The message viewer: one interaction (mail, meeting, call…), its people and why it is
linked where it is. Mail is untrusted: the browser loads nothing remote (no tracking
pixels, no images from the web) and opens no attachment — attachments are names only."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from relbook.ui.fmt import when
from relbook.ui.qt import (
    QDesktopServices,
    QDialog,
    QHBoxLayout,
    QTextBrowser,
    QTextDocument,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from relbook.ui.widgets import button, label

if TYPE_CHECKING:
    from relbook.ui.context import UiContext


class SafeBrowser(QTextBrowser):
    """A QTextBrowser that never fetches anything: remote or local resources alike."""

    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._clicked)
        self.requested: list[str] = []  # what the message tried to load (tests read it)

    def loadResource(self, kind: int, url: QUrl) -> Any:
        self.requested.append(url.toString())
        return None

    def _clicked(self, url: QUrl) -> None:
        # Only web and mail links open, in the user's own browser / mail program.
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)


class MessageDialog(QDialog):
    def __init__(self, ctx: UiContext, interaction_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.interaction_id = interaction_id
        self.setObjectName("messageViewer")
        self.setWindowTitle("Message")
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(8)
        self.subject = label("", "h2", wrap=True, selectable=True)
        layout.addWidget(self.subject)
        self.meta = label("", "muted", wrap=True, selectable=True)
        layout.addWidget(self.meta)
        self.links = label("", "small", wrap=True)
        layout.addWidget(self.links)
        self.browser = SafeBrowser()
        layout.addWidget(self.browser, 1)
        self.attachments = label("", "small", wrap=True)
        layout.addWidget(self.attachments)
        row = QHBoxLayout()
        row.addWidget(button("Why is it here? / Re-link…", self._relink, icon_name="link"))
        row.addStretch(1)
        row.addWidget(button("Close", self.accept, kind="primary"))
        layout.addLayout(row)
        interactions = ctx.services.interactions
        ctx.read(lambda: _load(ctx.services, interactions, interaction_id), self._show, owner=self)

    def _show(self, loaded: tuple[Any, str | None]) -> None:
        detail, safe_html = loaded
        self.subject.setText(detail.subject or f"({detail.kind})")
        people = []
        for role, address, name, _person in detail.participants:
            who = f"{name} <{address}>" if name and address else (name or address)
            people.append(f"{role}: {who}")
        facts = [f"{detail.kind} · {when(detail.occurred_at)}"]
        if detail.duration_minutes:
            facts.append(f"{detail.duration_minutes} min")
        if detail.location:
            facts.append(detail.location)
        if detail.privacy != "full":
            facts.append(f"kept: {detail.privacy}")
        self.meta.setText(" · ".join(facts) + ("\n" + "\n".join(people[:12]) if people else ""))
        shown = [link for link in detail.links if not link.excluded]
        self.links.setText(
            "On the timeline of: "
            + "; ".join(
                f"{link.name} ({link.entity_type}) — {link.reason or link.origin}" for link in shown
            )
            if shown
            else "Not linked to anyone."
        )
        if safe_html:
            self.browser.setHtml(safe_html)
        else:
            self.browser.setPlainText(detail.body or "(no text kept)")
        if detail.attachments:
            names = ", ".join(
                f"{a.get('name', '?')} ({int(a.get('size', 0)) // 1024} KB)"
                for a in detail.attachments
            )
            self.attachments.setText(f"Attachments (not opened; names only): {names}")
        self.setWindowTitle(detail.subject or "Message")

    def _relink(self) -> None:
        from relbook.ui.dialogs.relink import RelinkDialog

        RelinkDialog(self.ctx, self.interaction_id, self).open()


def _load(services: Any, interactions: Any, interaction_id: str) -> tuple[Any, str | None]:
    detail = interactions.detail(interaction_id)
    safe = None
    messages = _optional(services, "messages")
    if messages is not None and hasattr(messages, "safe_html"):
        safe = messages.safe_html(interaction_id)
    return detail, safe


def _optional(services: Any, name: str) -> Any:
    try:
        return getattr(services, name)
    except (AttributeError, ImportError):
        return None


def plain_to_html(text: str) -> str:
    return "<pre style='white-space: pre-wrap'>" + html.escape(text) + "</pre>"


__all__ = ["MessageDialog", "QTextDocument", "SafeBrowser", "plain_to_html"]
