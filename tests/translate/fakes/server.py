"""A threaded loopback HTTP server with a queue of injected faults."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

WORDS = {
    "the": "der",
    "market": "Markt",
    "rose": "stieg",
    "sharply": "stark",
    "today": "heute",
    "prices": "Preise",
    "fell": "fielen",
    "in": "in",
    "and": "und",
    "city": "Stadt",
    "capital": "Hauptstadt",
    "report": "Bericht",
    "read": "lies",
    "this": "diesen",
    "troops": "Truppen",
    "moved": "zogen",
    "toward": "nach",
    "said": "sagte",
    "he": "er",
    "was": "war",
    "new": "neu",
    "very": "sehr",
    "important": "wichtig",
    "paragraph": "Absatz",
}


def _german_word(word: str) -> str:
    core = re.sub(r"^\W+|\W+$", "", word)
    if core and core.lower() in WORDS:
        replacement = WORDS[core.lower()]
        if core[0].isupper():
            replacement = replacement[0].upper() + replacement[1:]
        word = word.replace(core, replacement)
    return word


def fake_german(text: str) -> str:
    """Word-by-word substitution with a small dictionary; unknown words are copied (like names)."""
    return " ".join(_german_word(match.group(0)) for match in re.finditer(r"\S+", text))


# A tag, or the text between tags, of an HTML fragment.
_MARKUP_PIECE = re.compile(r"(<[^<>]*>)")
MARKUP_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
# `&` that does not start a character or entity reference.
_BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")


def well_formed_markup(fragment: str) -> bool:
    """No `<` or `>` outside a tag and no bare `&`: what an HTML mode reads as the sender meant."""
    text = MARKUP_TAG.sub("", fragment)
    return "<" not in text and ">" not in text and not _BARE_AMPERSAND.search(text)


def fake_german_html(fragment: str) -> str:
    """`fake_german` of an HTML fragment's text, its tags kept in place (like an engine's HTML
    mode); entities are decoded before and the text escaped again after."""
    pieces = _MARKUP_PIECE.split(fragment)
    out = []
    for piece in pieces:
        if _MARKUP_PIECE.fullmatch(piece):
            out.append(piece)
            continue
        text = html.unescape(piece)
        out.append(html.escape(re.sub(r"\S+", lambda m: _german_word(m.group(0)), text), quote=False))
    return "".join(out).strip()


@dataclass
class Fault:
    """One injected failure for the next request to `path` (None: any path)."""

    status: int | None = None  # answer with this status (and `body`)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep first (longer than the client timeout: a timeout)
    malformed: bool = False  # 200 with a body that is not JSON
    path: str | None = None
    skip: int = 0  # let this many matching requests through first


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeServer:
    """Subclasses implement `route(request) -> (status, body, headers)`."""

    def __init__(self) -> None:
        self.faults: deque[Fault] = deque()
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                server.dispatch(self, raw)

            do_GET = do_POST = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def calls(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path is None or fault.path == path:
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    self.faults.remove(fault)
                    return fault
        return None

    def dispatch(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        split = urlsplit(handler.path)
        content_type = handler.headers.get("Content-Type", "")
        body: Any = None
        if raw:
            if "json" in content_type:
                body = json.loads(raw)
            else:
                body = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(raw.decode()).items()}
        request = Request(handler.command, split.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        with self.lock:
            self.requests.append(request)
        fault = self._take_fault(split.path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.malformed:
                self._send(handler, 200, b'{"translations": [ {"text": "trunc', {"Content-Type": "application/json"})
                return
            if fault.status is not None:
                payload = json.dumps(fault.body if fault.body is not None else {"message": "injected"}).encode()
                self._send(handler, fault.status, payload, {"Content-Type": "application/json", **fault.headers})
                return
        status, answer, headers = self.route(request)
        payload = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
        self._send(handler, status, payload, {"Content-Type": "application/json", **headers})

    def _send(self, handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


ServerT = TypeVar("ServerT", bound=FakeServer)


def running(server: ServerT) -> Iterator[ServerT]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
