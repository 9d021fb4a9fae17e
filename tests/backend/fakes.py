"""Event stores that misbehave on purpose, around the real in-memory store."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from readcrumbs.errors import StoreError
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord


class FlakyStore(MemoryEventStore):
    """A memory store whose next ``failures`` writes (and pings) raise :class:`StoreError`.

    ``down = True`` makes every write and ping fail until it is set back to False;
    ``reads_down = True`` does the same to reads.
    """

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures
        self.down = False
        self.reads_down = False
        self.write_calls = 0
        self.write_order: list[str] = []  # request_id / feedback_id in the order they were written
        self._fail_lock = threading.Lock()

    def _maybe_fail(self) -> None:
        with self._fail_lock:
            self.write_calls += 1
            if self.down:
                raise StoreError("store is down (test)")
            if self.failures > 0:
                self.failures -= 1
                raise StoreError("store failed (test)")

    def write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        self._maybe_fail()
        super().write_predictions(records)
        self.write_order.extend(record.request_id for record in records)

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        self._maybe_fail()
        super().write_feedback(records)
        self.write_order.extend(record.feedback_id for record in records)

    def get_prediction(self, request_id: str) -> PredictionRecord | None:
        if self.reads_down:
            raise StoreError("store reads are down (test)")
        return super().get_prediction(request_id)

    def random_prediction(self) -> PredictionRecord | None:
        if self.reads_down:
            raise StoreError("store reads are down (test)")
        return super().random_prediction()

    def ping(self) -> None:
        if self.down:
            raise StoreError("store is down (test)")
        super().ping()
