"""Pure ASGI middleware (cheaper per request than Starlette's ``BaseHTTPMiddleware``).

- :class:`BodySizeLimit` answers 413 to a body over the limit, whether announced by
  ``Content-Length`` or only discovered while streaming (chunked uploads lie by omission).
- :class:`RequestMetrics` counts and times every request by route template (``/books/{book_id}``,
  never the raw path, so labels stay few) and optionally logs one JSON line per request.
- :class:`SecurityHeaders` adds ``X-Content-Type-Options``, ``Referrer-Policy`` and a
  ``Content-Security-Policy`` to every answer: nothing at all for the API's JSON, and for the
  ``/docs`` page only its own scripts and styles (served from the package, never a CDN).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.metrics import Metrics

access_log = logging.getLogger("backend.access")

MAX_BODY_BYTES = 64 * 1024
UNMATCHED_ROUTE = "unmatched"


class BodySizeLimit:
    """Reads the whole body (up to ``max_bytes``) before the app sees it; 413 beyond that."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0  # not a number: let the streamed size decide
                if declared > self.max_bytes:
                    await self._too_large(send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": f"Request body is larger than {self.max_bytes} bytes."}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RequestMetrics:
    """Request count and latency per method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        # The labelled series by (method, route, status): ``labels()`` costs microseconds a call.
        self._cache: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _series(self, method: str, template: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of one method, route template and status."""
        key = (method, template, status)
        series = self._cache.get(key)
        if series is None:
            series = self._cache[key] = (
                self.metrics.requests.labels(method=method, route=template, status=str(status)),
                self.metrics.request_seconds.labels(method=method, route=template),
            )
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            # The router leaves the matched route in the (shared) scope.
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED_ROUTE)
            method = scope["method"]
            count, seconds = self._series(method, template, status)
            count.inc()
            seconds.observe(elapsed)
            if self.log_requests:
                access_log.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    status,
                    extra={"route": template, "status": status, "duration_ms": round(elapsed * 1000, 3)},
                )


# JSON answers load nothing and may not be framed.
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
# The Swagger UI page: its own script and style files (no inline script), the data: images its CSS
# uses, inline style attributes Swagger UI sets from script, and calls to this origin only.
DOCS_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PREFIX = "/docs"


class SecurityHeaders:
    """Adds the module docstring's security headers to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"].startswith(DOCS_PREFIX) else API_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", policy),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
