"""A per-client rate limit: one token bucket per client IP, 429 with ``Retry-After`` beyond it.

Each client may make ``per_minute`` requests a minute on average; its bucket holds one minute's
worth, so a burst that size is fine and a flood is cut to the average. Probes and scrapes
(``/health``, ``/ready``, ``/metrics``) are never limited, nor are the ``exempt`` addresses (the
readers' app on this machine calls from 127.0.0.1 for all its readers).

The client is the connection's peer as uvicorn reports it; uvicorn replaces it with the
``X-Forwarded-For`` address only for proxies it trusts (``FORWARDED_ALLOW_IPS``), so a client
cannot pick its own bucket. Buckets live in memory, one process each, and at most
:data:`MAX_CLIENTS` of them: the least recently seen client is forgotten first (it comes back
with a full bucket, which is what it would have after a quiet minute anyway).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from backend.metrics import Metrics

MAX_CLIENTS = 100_000
UNLIMITED_PATHS = frozenset({"/health", "/ready", "/metrics"})


@dataclass
class Bucket:
    """Tokens left (one per request) and when they were last counted (monotonic seconds)."""

    tokens: float
    updated_at: float


class TokenBuckets:
    """Admission per client key; ``clock`` is monotonic seconds (tests pass a fake one)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(self, client: str) -> float:
        """Take a token for ``client``: 0.0 when admitted, else seconds until a token is back."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = Bucket(self.capacity, now)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
            elapsed = max(now - bucket.updated_at, 0.0)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.refill_per_s)
            bucket.updated_at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.refill_per_s


class RateLimit:
    """Pure ASGI middleware around :class:`TokenBuckets`.

    It runs on the event loop only (one thread), so the buckets need no lock.
    """

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        metrics: Metrics,
        exempt: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, clock=clock)
        self.metrics = metrics
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        client = str(peer[0]) if peer else "unknown"
        if client in self.exempt:
            await self.app(scope, receive, send)
            return
        wait_s = self.buckets.admit(client)
        if wait_s == 0.0:
            await self.app(scope, receive, send)
            return
        self.metrics.rate_limited.inc()
        await too_many_requests(send, math.ceil(wait_s))


async def too_many_requests(send: Send, retry_after_s: int) -> None:
    """A 429 answer that says when to come back, in the header and in the body."""
    body = json.dumps({"detail": f"Too many requests from this client; retry in {retry_after_s} s."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after_s).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
