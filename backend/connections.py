"""Connection limits for uvicorn: slow clients are cut off, and no client can take every socket.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and can answer 503 beyond a
number of concurrent requests (``limit_concurrency``), but it waits forever for a request that
never finishes arriving: a client that sends half a request line, or 10 bytes of a
``Content-Length: 1000`` body, holds its socket (a file descriptor) until it gives up. Thousands
of them reach the process's file limit, and then nobody, ``/health`` included, is served.

:class:`GuardedHttpProtocol` is uvicorn's httptools protocol with four limits added
(:class:`ConnectionLimits`, from the ``READCRUMBS_*`` settings):

- ``header_timeout_s``: from the connection's first byte (or from accept) to the end of the
  request's headers; then 408 and close.
- ``body_timeout_s``: from the end of the headers to the end of the body; then close (the app
  sees the client disconnect).
- ``max_connections``: open connections of this process; beyond, a new one is answered 503 and
  closed at once, so its file descriptor is free again.
- ``max_connections_per_client``: open connections from one client IP; beyond, 503 and close,
  so one client cannot take every slot.

A reverse proxy (nginx, Caddy) could do the same, but there is no image registry to take one
from, and one in-process protocol keeps ``make run``, the tests and the image alike (see the
README's "Connection limits").
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

# File descriptors kept for everything but client sockets: the store, the spool, logs, the pool.
RESERVED_FDS = 64
# Import path that uvicorn (and each worker process it spawns) loads the protocol from.
PROTOCOL_PATH = "backend.connections:GuardedHttpProtocol"


@dataclass(frozen=True)
class ConnectionLimits:
    """Limits of one server process; seconds and connection counts."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    max_connections: int = 2_000
    max_connections_per_client: int = 256


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
    return soft


def effective_limits(limits: ConnectionLimits, file_limit: int) -> ConnectionLimits:
    """``limits`` with ``max_connections`` lowered to fit under ``file_limit`` descriptors."""
    fitting = max(file_limit - RESERVED_FDS, 1)
    if limits.max_connections <= fitting:
        return limits
    log.warning(
        "READCRUMBS_MAX_CONNECTIONS=%d does not fit the open-file limit %d; using %d",
        limits.max_connections,
        file_limit,
        fitting,
    )
    return ConnectionLimits(
        limits.header_timeout_s,
        limits.body_timeout_s,
        fitting,
        min(limits.max_connections_per_client, fitting),
    )


def _refusal(status: bytes, reason: str) -> bytes:
    body = reason.encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"retry-after: 1\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


TOO_MANY = _refusal(b"503 Service Unavailable", "Too many open connections; retry shortly.")
TOO_SLOW = _refusal(b"408 Request Timeout", "The request did not arrive in time.")


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the module docstring's four limits."""

    # Set by the server before it starts; a worker process that finds None reads its settings.
    limits: ClassVar[ConnectionLimits | None] = None
    # Open connections per client IP, in this process (the event loop is its only user).
    per_client: ClassVar[Counter[str]] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._peer = ""
        self._counted = False

    @classmethod
    def current_limits(cls) -> ConnectionLimits:
        if cls.limits is None:
            from backend.settings import get_settings

            cls.limits = effective_limits(get_settings().connection_limits, raise_file_limit())
        return cls.limits

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self.current_limits()
        self._peer = self.client[0] if self.client else ""
        self.per_client[self._peer] += 1
        self._counted = True
        if len(self.connections) > limits.max_connections or (
            self.per_client[self._peer] > limits.max_connections_per_client
        ):
            transport.write(TOO_MANY)
            transport.close()
            return
        self._arm(limits.header_timeout_s, TOO_SLOW)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted:
            self._counted = False
            self.per_client[self._peer] -= 1
            if self.per_client[self._peer] <= 0:
                del self.per_client[self._peer]
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.current_limits().header_timeout_s, TOO_SLOW)

    def on_headers_complete(self) -> None:
        self._arm(self.current_limits().body_timeout_s, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests uvicorn's keep-alive timer runs; ours starts again with the next byte.

    def _arm(self, seconds: float, answer: bytes | None) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, answer)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, answer: bytes | None) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if answer is not None and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(answer)  # no request started: tell the client why
        self.transport.close()
