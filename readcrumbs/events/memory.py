"""An in-process event store (``memory://``) for unit tests and throw-away runs.

Records live in dicts keyed by id, with a list of ``(ts, id)`` keys kept sorted so a time window
is two binary searches. One lock makes it safe to share between threads. It keeps copies, so a
caller mutating a record's lists after writing it cannot change what was stored.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from readcrumbs.errors import StoreError
from readcrumbs.events import codec, summary
from readcrumbs.events.records import FeedbackRecord, PredictionRecord

# pandas only where frames are built: the backend writes events without it (issue 16).
if TYPE_CHECKING:
    import pandas as pd


class MemoryEventStore:
    """Predictions and feedback held in this process; lost when it exits."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.url = "memory://"
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._closed = False
        self._predictions: dict[str, PredictionRecord] = {}
        self._prediction_keys: list[tuple[str, str]] = []  # (ts, request_id), sorted
        self._feedback: dict[str, FeedbackRecord] = {}
        self._feedback_keys: list[tuple[str, str]] = []  # (ts, feedback_id), sorted

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.url} is closed")

    def write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        checked = [codec.normalize_prediction(record) for record in records]
        with self._lock:
            self._check_open()
            for record in checked:
                # First write wins, as with SQLite's INSERT OR IGNORE: a replay changes nothing.
                if record.request_id not in self._predictions:
                    self._predictions[record.request_id] = record
                    bisect.insort(self._prediction_keys, (record.ts, record.request_id))

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        checked = [codec.normalize_feedback(record) for record in records]
        with self._lock:
            self._check_open()
            for record in checked:
                earlier = self._feedback.get(record.feedback_id)
                if earlier is not None:
                    if record.ts < earlier.ts:  # an older vote replayed late: the newer one stands
                        continue
                    self._feedback_keys.remove((earlier.ts, earlier.feedback_id))
                self._feedback[record.feedback_id] = record  # a later vote replaces the earlier one
                bisect.insort(self._feedback_keys, (record.ts, record.feedback_id))

    @staticmethod
    def _window(keys: list[tuple[str, str]], start: str | None, end: str | None) -> list[tuple[str, str]]:
        # ("ts", "") sorts before every (ts, id) with the same ts, so the bounds land exactly.
        low = 0 if start is None else bisect.bisect_left(keys, (start, ""))
        high = len(keys) if end is None else bisect.bisect_left(keys, (end, ""))
        return keys[low:high]

    def _stored_predictions(self, start: str | None, end: str | None) -> list[PredictionRecord]:
        """The stored records themselves (not copies): callers must not hand their lists out."""
        codec.check_bound(start)
        codec.check_bound(end)
        with self._lock:
            self._check_open()
            keys = self._window(self._prediction_keys, start, end)
            return [self._predictions[request_id] for _, request_id in keys]

    def predictions(self, start: str | None = None, end: str | None = None) -> list[PredictionRecord]:
        return [codec.copy_prediction(record) for record in self._stored_predictions(start, end)]

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        codec.check_bound(start)
        codec.check_bound(end)
        with self._lock:
            self._check_open()
            keys = self._window(self._feedback_keys, start, end)
            # Feedback records hold no lists: sharing the frozen objects is safe.
            return [self._feedback[feedback_id] for _, feedback_id in keys]

    def get_prediction(self, request_id: str) -> PredictionRecord | None:
        with self._lock:
            self._check_open()
            record = self._predictions.get(request_id)
            return None if record is None else codec.copy_prediction(record)

    def random_prediction(self) -> PredictionRecord | None:
        with self._lock:
            self._check_open()
            if not self._prediction_keys:
                return None
            _, request_id = self._rng.choice(self._prediction_keys)
            return codec.copy_prediction(self._predictions[request_id])

    def predictions_frame(
        self,
        start: str | None = None,
        end: str | None = None,
        columns: Sequence[str] | None = None,
        newest: int | None = None,
    ) -> pd.DataFrame:
        chosen = codec.check_columns(columns)
        codec.check_newest(newest)
        records = self._stored_predictions(start, end)
        return codec.predictions_frame(records if newest is None else records[-newest:], chosen)

    def prediction_span(self, start: str | None = None, end: str | None = None) -> tuple[str, str] | None:
        codec.check_bound(start)
        codec.check_bound(end)
        with self._lock:
            self._check_open()
            keys = self._window(self._prediction_keys, start, end)
        return (keys[0][0], keys[-1][0]) if keys else None

    def traffic_summary(
        self,
        start: str | None = None,
        end: str | None = None,
        *,
        bucket_s: int,
        latency_edges_ms: Sequence[float],
        versions: Sequence[str] | None = None,
    ) -> summary.TrafficSummary:
        bucket_s, edges, chosen = summary.check_request(bucket_s, latency_edges_ms, versions)
        records = self._stored_predictions(start, end)
        if chosen is not None:
            records = [r for r in records if r.model_version in chosen]
        return summary.summarize(
            [r.ts for r in records],
            [r.userid for r in records],
            [r.latency_ms for r in records],
            [r.model_version for r in records],
            bucket_s,
            edges,
        )

    def feedback_frame(self, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        return codec.feedback_frame(self.feedback(start, end))

    def ping(self) -> None:
        with self._lock:
            self._check_open()

    def close(self) -> None:
        with self._lock:
            self._closed = True
