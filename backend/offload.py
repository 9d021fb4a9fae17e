"""CPU-heavy request work off the event loop, in a bounded pool of threads.

A /predict whose items do not all match exactly needs fuzzy look-ups and, when nothing matches,
suggestions: scans of the catalogue of a few ms each. On the event loop they stall every other
request (a flood of such requests pushed /health past a second). :class:`CpuPool` runs them in
at most ``threads`` worker threads at once; further requests wait for a thread without holding the
loop, and each request's own work stays bounded by the resolution limits in
:mod:`backend.predictions` (fuzzy look-ups and suggestions for the first few items only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from backend.schemas import PredictRequest
from readcrumbs.catalogue import Catalogue

T = TypeVar("T")
# Longer lists go to the pool outright: normalising hundreds of long titles alone takes the event
# loop milliseconds.
INLINE_ITEMS = 32


def needs_catalogue_scan(catalogue: Catalogue, request: PredictRequest) -> bool:
    """Whether resolving the request's books takes more than dict look-ups (fuzzy or suggestions)."""
    books = [*request.items, *request.disliked]
    return len(books) > INLINE_ITEMS or bool(catalogue.resolve(books, max_fuzzy=0).unknown)


class CpuPool:
    """At most ``threads`` calls at a time in worker threads; created inside the running event loop."""

    def __init__(self, threads: int) -> None:
        self.limiter = anyio.CapacityLimiter(threads)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in a worker thread, once one of the pool's slots is free."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.limiter)
