"""A local Exchange Web Services endpoint for the tests, speaking the real SOAP shapes.

Every response is built from a response document in ``../shared/corpus/ews`` (extracted
from Microsoft's EWS reference): the envelope, the response message, and the item and
change elements are the documented ones; only ids, counts, payloads and the server version
are adapted. It dispatches on the first element of the SOAP body, like the MACHINE-FACTS
experiment, and understands what the EWS source sends: ConvertId (version probe),
GetFolder, FindFolder, SyncFolderItems and GetItem.

Behaviours the tests switch on:
- ``invalidate_sync_states()`` — every older SyncState is answered with the documented
  ``ErrorInvalidSyncStateData`` response (SyncFolderItems-2.xml);
- ``throttle(n, back_off_ms)`` — the next n requests get an ``ErrorServerBusy`` SOAP fault
  with ``BackOffMilliseconds`` (the fault shape of GetServiceConfiguration-2.xml);
- ``fail_next(n)`` — the next n requests get a plain SOAP fault (schema validation);
- ``drop_next(n)`` — the next n requests are answered by closing the connection;
- HTTP Basic authentication against ``users`` (401 + WWW-Authenticate otherwise).
"""

from __future__ import annotations

import base64
import copy
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"
for prefix, uri in (("soap", SOAP), ("m", MNS), ("t", TNS), ("e", ENS)):
    ET.register_namespace(prefix, uri)

# Exchange Server 2016 CU (an on-premises build): the version EWS clients negotiate.
SERVER_VERSION = {
    "MajorVersion": "15",
    "MinorVersion": "1",
    "MajorBuildNumber": "2507",
    "MinorBuildNumber": "6",
    "Version": "V2017_07_11",
}
DISTINGUISHED = {"inbox": "Inbox", "sentitems": "Sent Items", "calendar": "Calendar"}


def m(tag: str) -> str:
    return f"{{{MNS}}}{tag}"


def t(tag: str) -> str:
    return f"{{{TNS}}}{tag}"


@dataclass
class FakeItem:
    id: str
    kind: str  # message / calendar
    mime: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    change: int = 1

    @property
    def change_key(self) -> str:
        return base64.b64encode(f"ck-{self.id}-{self.change}".encode()).decode()


@dataclass
class FakeFolder:
    id: str
    name: str
    distinguished: str | None = None
    kind: str = "message"
    parent: str | None = None
    items: dict[str, FakeItem] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)  # (op, item id)


def _load(path: Path) -> ET.Element:
    # Some documents in Microsoft's reference print the SOAP namespace as https://…, which
    # no server sends (and no client accepts); everything else is kept as documented.
    text = path.read_text(encoding="utf-8").replace(
        "https://schemas.xmlsoap.org/soap/envelope/", SOAP
    )
    return ET.fromstring(text.strip().encode())  # noqa: S314 - the shared corpus, not input


class Templates:
    """The corpus documents the responses are cut from."""

    def __init__(self, corpus: Path) -> None:
        ews = corpus / "ews"
        self.get_folder = _load(ews / "GetFolder-2.xml")
        self.find_folder = _load(ews / "FindFolder-1.xml")
        self.convert_id = _load(ews / "ConvertId-1.xml")
        self.sync_changes = _load(ews / "SyncFolderItems-4.xml")
        self.sync_invalid = _load(ews / "SyncFolderItems-2.xml")
        self.get_item_mime = _load(ews / "GetItem-13.xml")
        self.get_item_error = _load(ews / "GetItem-6.xml")
        self.fault = _load(ews / "GetServiceConfiguration-2.xml")

    @staticmethod
    def body_child(root: ET.Element) -> ET.Element:
        for element in root.iter():
            if element.tag == f"{{{SOAP}}}Body" or element.tag.endswith("}Body"):
                return element[0]
        raise ValueError("no SOAP body")


class FakeExchange:
    def __init__(self, corpus: Path, users: dict[str, str] | None = None) -> None:
        self.templates = Templates(corpus)
        self.users = users or {"rep@example.com": "secret"}
        self.folders: dict[str, FakeFolder] = {}
        self.epoch = 1
        self._next_id = 0
        self._lock = threading.RLock()
        self.requests: list[str] = []
        self._throttle: list[int] = []
        self._fail = 0
        self._drop = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.root = self._folder("folder-root", "", "root")
        self.top = self._folder(
            "folder-msgfolderroot", "Top of Information Store", "msgfolderroot", self.root.id
        )
        for distinguished, name in DISTINGUISHED.items():
            folder = self._folder(f"folder-{distinguished}", name, distinguished, self.top.id)
            if distinguished == "calendar":
                folder.kind = "calendar"

    # ---------------------------------------------------------------- mailbox
    def _folder(
        self, ident: str, name: str, distinguished: str | None = None, parent: str | None = None
    ) -> FakeFolder:
        folder = FakeFolder(ident, name, distinguished, parent=parent)
        self.folders[ident] = folder
        return folder

    def add_folder(self, name: str) -> str:
        """A folder under the mailbox's top folder (where users make their own)."""
        with self._lock:
            return self._folder(f"folder-{len(self.folders)}", name, None, self.top.id).id

    def _descendants(self, folder: FakeFolder, deep: bool) -> list[FakeFolder]:
        found: list[FakeFolder] = []
        for child in self.folders.values():
            if child.parent == folder.id:
                found.append(child)
                if deep:
                    found.extend(self._descendants(child, deep))
        return found

    def folder(self, key: str) -> FakeFolder:
        return self.folders.get(key) or self.folders[f"folder-{key}"]

    def _new_id(self) -> str:
        self._next_id += 1
        return base64.b64encode(f"AAMkItem{self._next_id:06d}".encode()).decode()

    def add_message(
        self, folder: str, mime: bytes, headers: list[tuple[str, str]] | None = None
    ) -> str:
        with self._lock:
            target = self.folder(folder)
            item = FakeItem(self._new_id(), "message", mime, headers or _headers_of(mime))
            target.items[item.id] = item
            target.log.append(("create", item.id))
            return item.id

    def add_event(self, ical: str) -> str:
        with self._lock:
            target = self.folder("calendar")
            item = FakeItem(self._new_id(), "calendar", ical.encode())
            target.items[item.id] = item
            target.log.append(("create", item.id))
            return item.id

    def update_item(self, item_id: str, mime: bytes) -> None:
        with self._lock:
            for folder in self.folders.values():
                item = folder.items.get(item_id)
                if item:
                    item.mime = mime
                    item.change += 1
                    if item.kind == "message":
                        item.headers = _headers_of(mime)
                    folder.log.append(("update", item_id))
                    return
            raise KeyError(item_id)

    def delete_item(self, item_id: str) -> None:
        with self._lock:
            for folder in self.folders.values():
                if folder.items.pop(item_id, None) is not None:
                    folder.log.append(("delete", item_id))
                    return
            raise KeyError(item_id)

    def invalidate_sync_states(self) -> None:
        with self._lock:
            self.epoch += 1

    def throttle(self, times: int, back_off_ms: int) -> None:
        with self._lock:
            self._throttle.extend([back_off_ms] * times)

    def fail_next(self, times: int = 1) -> None:
        with self._lock:
            self._fail += times

    def drop_next(self, times: int = 1) -> None:
        with self._lock:
            self._drop += times

    # ---------------------------------------------------------------- server
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/EWS/Exchange.asmx"

    def start(self) -> FakeExchange:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if not fake._authorised(self.headers.get("Authorization", "")):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="fake-exchange"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with fake._lock:
                    drop = fake._drop > 0
                    if drop:
                        fake._drop -= 1
                if drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, payload = fake.handle(body)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _authorised(self, header: str) -> bool:
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return self.users.get(user) == password

    # ---------------------------------------------------------------- dispatch
    def handle(self, body: bytes) -> tuple[int, bytes]:
        request = ET.fromstring(body)  # noqa: S314 - requests of the client under test
        operation = Templates.body_child(request)
        name = operation.tag.rsplit("}", 1)[-1]
        with self._lock:
            self.requests.append(name)
            if self._throttle:
                return 500, self._server_busy(self._throttle.pop(0))
            if self._fail:
                self._fail -= 1
                return 500, _serialise(copy.deepcopy(self.templates.fault))
            handler = getattr(self, f"_op_{name}", None)
            if handler is None:
                return 500, self._schema_fault(f"operation {name} is not served by this server")
            return 200, _serialise(handler(operation))

    def _envelope(self, template: ET.Element) -> ET.Element:
        """A copy of a corpus response with an Exchange 2016 version header."""
        root = copy.deepcopy(template)
        for element in root.iter(t("ServerVersionInfo")):
            element.attrib.clear()
            element.attrib.update(SERVER_VERSION)
        return root

    def _server_busy(self, back_off_ms: int) -> bytes:
        root = copy.deepcopy(self.templates.fault)
        fault = Templates.body_child(root)
        code = fault.find("faultcode")
        assert code is not None
        code.text = "a:ErrorServerBusy"
        text = fault.find("faultstring")
        assert text is not None
        text.text = "The server cannot service this request right now. Try again later."
        detail = fault.find("detail")
        assert detail is not None
        detail.find(f"{{{ENS}}}ResponseCode").text = "ErrorServerBusy"  # type: ignore[union-attr]
        detail.find(f"{{{ENS}}}Message").text = "The server cannot service this request right now."  # type: ignore[union-attr]
        message_xml = detail.find(t("MessageXml"))
        assert message_xml is not None
        for child in list(message_xml):
            message_xml.remove(child)
        value = ET.SubElement(message_xml, t("Value"), {"Name": "BackOffMilliseconds"})
        value.text = str(back_off_ms)
        return _serialise(root)

    def _schema_fault(self, violation: str) -> bytes:
        root = copy.deepcopy(self.templates.fault)
        fault = Templates.body_child(root)
        for element in fault.iter(t("Violation")):
            element.text = violation
        return _serialise(root)

    # ---------------------------------------------------------------- operations
    def _op_ConvertId(self, _request: ET.Element) -> ET.Element:
        return self._envelope(self.templates.convert_id)

    def _folder_for(self, ref: ET.Element) -> FakeFolder | None:
        ident = ref.get("Id", "")
        if ref.tag == t("DistinguishedFolderId"):
            return self.folders.get(f"folder-{ident}")
        return self.folders.get(ident)

    def _folder_element(
        self, template: ET.Element, folder: FakeFolder, wanted: set[str]
    ) -> ET.Element:
        element = copy.deepcopy(template)
        if folder.kind == "calendar":
            element.tag = t("CalendarFolder")
        folder_id = element.find(t("FolderId"))
        assert folder_id is not None
        folder_id.attrib.update({"Id": folder.id, "ChangeKey": "AQAAAB"})
        position = list(element).index(folder_id) + 1
        if "FolderClass" in wanted:
            folder_class = ET.Element(t("FolderClass"))
            folder_class.text = "IPF.Appointment" if folder.kind == "calendar" else "IPF.Note"
            element.insert(position, folder_class)
        if "ParentFolderId" in wanted and folder.parent:
            parent = ET.Element(t("ParentFolderId"), {"Id": folder.parent, "ChangeKey": "AQ=="})
            element.insert(position, parent)
        element.find(t("DisplayName")).text = folder.name  # type: ignore[union-attr]
        element.find(t("TotalCount")).text = str(len(folder.items))  # type: ignore[union-attr]
        children = len(self._descendants(folder, deep=False))
        element.find(t("ChildFolderCount")).text = str(children)  # type: ignore[union-attr]
        element.find(t("UnreadCount")).text = "0"  # type: ignore[union-attr]
        return element

    def _op_GetFolder(self, request: ET.Element) -> ET.Element:
        root = self._envelope(self.templates.get_folder)
        response = Templates.body_child(root)
        messages = response.find(m("ResponseMessages"))
        assert messages is not None
        template_message = messages[0]
        template_folder = template_message.find(f"{m('Folders')}/{t('Folder')}")
        assert template_folder is not None
        messages.remove(template_message)
        ids = request.find(m("FolderIds"))
        assert ids is not None
        wanted = _wanted_fields(request)
        for ref in ids:
            folder = self._folder_for(ref)
            message = copy.deepcopy(template_message)
            holder = message.find(m("Folders"))
            assert holder is not None
            holder.remove(holder[0])
            if folder is None:
                message.set("ResponseClass", "Error")
                message.find(m("ResponseCode")).text = "ErrorFolderNotFound"  # type: ignore[union-attr]
                text = ET.Element(m("MessageText"))
                text.text = "The specified folder could not be found in the store."
                message.insert(0, text)
            else:
                holder.append(self._folder_element(template_folder, folder, wanted))
            messages.append(message)
        return root

    def _op_FindFolder(self, request: ET.Element) -> ET.Element:
        root = self._envelope(self.templates.find_folder)
        response = Templates.body_child(root)
        root_folder = response.find(f"{m('ResponseMessages')}/*/{m('RootFolder')}")
        assert root_folder is not None
        holder = root_folder.find(t("Folders"))
        assert holder is not None
        template_folder = holder[0]
        holder.remove(template_folder)
        parent_ref = request.find(f"{m('ParentFolderIds')}/*")
        parent = self._folder_for(parent_ref) if parent_ref is not None else None
        deep = request.get("Traversal") == "Deep"
        found = self._descendants(parent, deep) if parent is not None else []
        wanted = _wanted_fields(request)
        for folder in found:
            holder.append(self._folder_element(template_folder, folder, wanted))
        root_folder.set("TotalItemsInView", str(len(found)))
        root_folder.set("IncludesLastItemInRange", "true")
        return root

    def _op_SyncFolderItems(self, request: ET.Element) -> ET.Element:
        ref = request.find(f"{m('SyncFolderId')}/*")
        assert ref is not None
        folder = self._folder_for(ref)
        wanted = _wanted_fields(request)
        state_text = (request.findtext(m("SyncState")) or "").strip()
        limit = int(request.findtext(m("MaxChangesReturned")) or "100")
        position = 0
        if state_text:
            try:
                epoch, folder_id, offset = base64.b64decode(state_text).decode().split(":")
                valid = int(epoch) == self.epoch and folder is not None and folder_id == folder.id
                position = int(offset)
            except ValueError:
                valid = False
            if not valid:
                return self._envelope(self.templates.sync_invalid)
        assert folder is not None
        # Coalesce the log after ``position`` into at most ``limit`` changes.
        changes: list[tuple[str, str]] = []
        seen: set[str] = set()
        index = position
        while index < len(folder.log) and len(changes) < limit:
            op, item_id = folder.log[index]
            index += 1
            if item_id in seen:
                continue
            later = [o for o, i in folder.log[index:] if i == item_id]
            final = later[-1] if later else op
            seen.add(item_id)
            if not state_text and final == "delete":
                continue  # a first listing shows what exists
            if final == "delete":
                changes.append(("delete", item_id))
            elif op == "create" or not state_text:
                changes.append(("create", item_id))
            else:
                changes.append(("update", item_id))
        # Skip log entries of items already reported in this page.
        while index < len(folder.log) and folder.log[index][1] in seen:
            index += 1
        root = self._envelope(self.templates.sync_changes)
        response = Templates.body_child(root)
        message = response.find(f"{m('ResponseMessages')}/{m('SyncFolderItemsResponseMessage')}")
        assert message is not None
        state = message.find(m("SyncState"))
        assert state is not None
        state.text = base64.b64encode(f"{self.epoch}:{folder.id}:{index}".encode()).decode()
        message.find(m("IncludesLastItemInRange")).text = (  # type: ignore[union-attr]
            "true" if index >= len(folder.log) else "false"
        )
        holder = message.find(m("Changes"))
        assert holder is not None
        templates = {child.tag.rsplit("}", 1)[-1]: child for child in holder}
        for child in list(holder):
            holder.remove(child)
        for op, item_id in changes:
            if op == "delete":
                element = copy.deepcopy(templates["Delete"])
                element.find(t("ItemId")).attrib.update(  # type: ignore[union-attr]
                    {"Id": item_id, "ChangeKey": "CQAAAA=="}
                )
            else:
                item = folder.items[item_id]
                element = copy.deepcopy(templates["Create" if op == "create" else "Update"])
                inner = element[0]
                for child in list(inner):
                    if child.tag != t("ItemId"):
                        inner.remove(child)
                if item.kind == "calendar":
                    inner.tag = t("CalendarItem")
                inner.find(t("ItemId")).attrib.clear()  # type: ignore[union-attr]
                inner.find(t("ItemId")).attrib.update(  # type: ignore[union-attr]
                    {"Id": item.id, "ChangeKey": item.change_key}
                )
                if "Size" in wanted:
                    ET.SubElement(inner, t("Size")).text = str(len(item.mime))
            holder.append(element)
        return root

    def _find_item(self, item_id: str) -> FakeItem | None:
        for folder in self.folders.values():
            if item_id in folder.items:
                return folder.items[item_id]
        return None

    def _op_GetItem(self, request: ET.Element) -> ET.Element:
        wanted = {(e.get("FieldURI") or "").split(":")[-1] for e in request.iter(t("FieldURI"))}
        root = self._envelope(self.templates.get_item_mime)
        response = Templates.body_child(root)
        messages = response.find(m("ResponseMessages"))
        assert messages is not None
        template_message = messages[0]
        messages.remove(template_message)
        error_message = Templates.body_child(self.templates.get_item_error).find(
            f"{m('ResponseMessages')}/{m('GetItemResponseMessage')}"
        )
        assert error_message is not None
        ids = request.find(m("ItemIds"))
        assert ids is not None
        for ref in ids:
            item = self._find_item(ref.get("Id", ""))
            if item is None:
                message = copy.deepcopy(error_message)
                message.find(m("MessageText")).text = (  # type: ignore[union-attr]
                    "The specified object was not found in the store."
                )
                message.find(m("ResponseCode")).text = "ErrorItemNotFound"  # type: ignore[union-attr]
                holder = message.find(m("MessageXml"))
                if holder is not None:
                    message.remove(holder)
                messages.append(message)
                continue
            message = copy.deepcopy(template_message)
            element = message.find(f"{m('Items')}/{t('Message')}")
            assert element is not None
            for child in list(element):
                element.remove(child)
            if item.kind == "calendar":
                element.tag = t("CalendarItem")
            if "MimeContent" in wanted:
                mime = ET.SubElement(element, t("MimeContent"), {"CharacterSet": "UTF-8"})
                mime.text = base64.b64encode(item.mime).decode()
            ET.SubElement(element, t("ItemId"), {"Id": item.id, "ChangeKey": item.change_key})
            if "Size" in wanted:
                ET.SubElement(element, t("Size")).text = str(len(item.mime))
            if "InternetMessageHeaders" in wanted and item.kind == "message":
                headers = ET.SubElement(element, t("InternetMessageHeaders"))
                for name, value in item.headers:
                    header = ET.SubElement(
                        headers, t("InternetMessageHeader"), {"HeaderName": name}
                    )
                    header.text = value
            messages.append(message)
        return root


def _wanted_fields(request: ET.Element) -> set[str]:
    """The properties a request asks for (``folder:ParentFolderId`` → ``ParentFolderId``)."""
    return {(e.get("FieldURI") or "").split(":")[-1] for e in request.iter(t("FieldURI"))}


def _headers_of(mime: bytes) -> list[tuple[str, str]]:
    from email import message_from_bytes
    from email.policy import compat32

    parsed = message_from_bytes(mime, policy=compat32)
    return [(name, str(value)) for name, value in parsed.items()]


def _serialise(root: ET.Element) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode()
    )
