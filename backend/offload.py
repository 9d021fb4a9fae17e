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

from backend.predictions import Resolved
from backend.schemas import PredictRequest
from readcrumbs.catalogue import Catalogue, MatchKind

T = TypeVar("T")
# The resolution steps that return before any step that scores candidates, so they find the same
# book with or without fuzzy matching. A "title by author" without scoring could settle for a
# partial title where scoring would have found a closer one.
LOOKUPS = frozenset(
    {MatchKind.BOOK_ID, MatchKind.EXACT, MatchKind.NORMALIZED, MatchKind.ORIGINAL, MatchKind.MAIN_TITLE}
)
# Longer lists go to the pool outright: normalising hundreds of long titles alone takes the event
# loop milliseconds.
INLINE_ITEMS = 32


def resolve_inline(catalogue: Catalogue, request: PredictRequest) -> Resolved | None:
    """The request's books resolved by dict look-ups alone (:data:`LOOKUPS`), or None.

    None when a book needs a later step (fuzzy matching; suggestions when nothing matches) or
    when the lists are long: :func:`backend.predictions.predict` then resolves them in the pool.
    Otherwise ``predict`` takes this resolution as it is: each book matched as ``predict`` would
    have matched it.
    """
    if len(request.items) + len(request.disliked) > INLINE_ITEMS:
        return None
    items = catalogue.resolve(request.items, max_fuzzy=0)
    disliked = catalogue.resolve(request.disliked, max_fuzzy=0)
    if items.unknown or disliked.unknown:
        return None
    if any(match.kind not in LOOKUPS for match in (*items.matches, *disliked.matches)):
        return None  # a later step, where candidate scoring could have found a better book
    return Resolved(items, disliked)


class CpuPool:
    """At most ``threads`` calls at a time in worker threads; created inside the running event loop."""

    def __init__(self, threads: int) -> None:
        self.limiter = anyio.CapacityLimiter(threads)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in a worker thread, once one of the pool's slots is free."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.limiter)
