"""A stub of the backend's HTTP API on 127.0.0.1, for the client's tests and for screenshots.

It answers DESIGN.md's contract over :mod:`tests.frontend.stub_catalogue` and records each request.
Knobs: ``delay_s`` (answer slowly), ``forced`` (answer every request with this status and body),
``raw_body`` (answer 200 with these bytes, e.g. not JSON).

Run alone for a screenshot: ``python -m tests.frontend.stub_server --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.frontend import stub_catalogue


@dataclass
class RecordedRequest:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class StubBackend:
    """The stub's behaviour and what it has seen."""

    delay_s: float = 0.0
    forced: tuple[int, Any] | None = None
    raw_body: bytes | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """Status and JSON body for one request."""
        self.requests.append(RecordedRequest(method, path, query, body))
        if self.forced is not None:
            return self.forced
        if method == "GET" and path == "/health":
            return 200, {"status": "ok"}
        if method == "GET" and path == "/genres":
            return 200, stub_catalogue.genres_json()
        if method == "GET" and path == "/books/search":
            limit = int(query.get("limit", ["10"])[0])
            return 200, stub_catalogue.search_json(query.get("q", [""])[0], limit)
        if method == "GET" and path.startswith("/books/"):
            tail = path.removeprefix("/books/")
            book = stub_catalogue.book_json(int(tail)) if tail.isdigit() else None
            return (200, book) if book else (404, {"detail": "Book not found."})
        if method == "POST" and path == "/predict":
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                return 422, {
                    "detail": [{"loc": ["body", "items"], "msg": "Field required", "type": "missing"}]
                }
            request_id = f"req-{sum(r.path == '/predict' for r in self.requests)}"
            return stub_catalogue.predict_json(
                body["items"],
                body.get("userid", ""),
                body.get("k", 10),
                request_id,
                genres=body.get("genres"),
                disliked=body.get("disliked"),
                one_per_series=bool(body.get("one_per_series", False)),
            )
        if method == "POST" and path == "/feedback":
            self.feedback.append(body)
            return 200, {"status": "recorded", "feedback_id": f"fb-{len(self.feedback)}"}
        return 404, {"detail": "Not Found"}


class StubServer:
    """A :class:`StubBackend` served over HTTP on 127.0.0.1 in a background thread."""

    def __init__(self, backend: StubBackend | None = None, port: int = 0) -> None:
        self.backend = backend or StubBackend()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self.backend))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(backend: StubBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            status, payload = backend.answer(method, parts.path, parse_qs(parts.query), body)
            if backend.delay_s:
                time.sleep(backend.delay_s)
            data = backend.raw_body if backend.raw_body is not None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def main() -> None:
    """Serve the stub until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with StubServer(port=args.port) as server:
        print(f"stub backend on {server.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
