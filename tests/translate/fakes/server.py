"""A threaded loopback HTTP server with a queue of injected faults."""

from __future__ import annotations

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


def fake_german(text: str) -> str:
    """Word-by-word substitution with a small dictionary; unknown words are copied (like names)."""
    out = []
    for match in re.finditer(r"\S+", text):
        word = match.group(0)
        core = re.sub(r"^\W+|\W+$", "", word)
        if core and core.lower() in WORDS:
            replacement = WORDS[core.lower()]
            if core[0].isupper():
                replacement = replacement[0].upper() + replacement[1:]
            word = word.replace(core, replacement)
        out.append(word)
    return " ".join(out)


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
