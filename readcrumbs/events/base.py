"""The event-store interface: predictions and feedback, written in batches, read by time window.

Implementations: :mod:`.memory` (tests), :mod:`.sqlite` (default), :mod:`.dynamodb` (AWS);
:func:`readcrumbs.events.open_event_store` picks one by URL, and one contract suite
(``tests/readcrumbs/events/test_contract.py``) holds every one of them to this interface.
Writes are idempotent on ``request_id`` / ``feedback_id``, so replaying a spool after a partial
failure never duplicates a record. Time bounds are ISO-8601 UTC strings (see
:func:`~readcrumbs.events.records.to_iso`); ``start`` is inclusive, ``end`` exclusive.

Errors: a store that cannot be reached, is locked or refuses a request raises
:class:`~readcrumbs.errors.StoreError` (spool and retry later). A malformed record (a ``ts`` not
in ``to_iso`` form, an empty id, a non-finite number, a non-text title) or bound raises
:class:`ValueError` before anything is written: a bug to log, never to spool. Records come
back with plain Python types (numpy scalars written in are converted).

Frames (:mod:`.codec` fixes the dtypes for every store): text columns, ``ts`` included, are
pandas ``str`` (turn ``ts`` into datetimes with
``pd.to_datetime(frame.ts, format="ISO8601", utc=True)``); ``latency_ms`` float64; ``k``,
``book_id``, ``value`` int64; feedback ``position`` nullable Int64; a missing feedback
``request_id`` is NaN; list fields hold Python lists. An empty frame has the same columns and
dtypes.

Aggregates: :meth:`EventStore.traffic_summary` counts a window's predictions per time bucket,
model version and latency bin where the data lives, so a dashboard over millions of
predictions reads a few thousand numbers (see :mod:`.summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from readcrumbs.events.records import FeedbackRecord, PredictionRecord
from readcrumbs.events.summary import TrafficSummary

# pandas only where frames are built: the backend writes events without it (issue 16).
if TYPE_CHECKING:
    import pandas as pd


class EventStore(Protocol):
    """Where every prediction and feedback record ends up."""

    url: str

    def write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        """Store a batch; raises :class:`~readcrumbs.errors.StoreError` when it cannot."""
        ...

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        """Store a batch; raises :class:`~readcrumbs.errors.StoreError` when it cannot."""
        ...

    def predictions(self, start: str | None = None, end: str | None = None) -> list[PredictionRecord]:
        """Predictions with ``start <= ts < end``, oldest first."""
        ...

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        """Feedback with ``start <= ts < end``, oldest first."""
        ...

    def get_prediction(self, request_id: str) -> PredictionRecord | None:
        """One prediction by id, or None."""
        ...

    def random_prediction(self) -> PredictionRecord | None:
        """A uniformly chosen prediction, or None when there is none."""
        ...

    def predictions_frame(
        self,
        start: str | None = None,
        end: str | None = None,
        columns: Sequence[str] | None = None,
        newest: int | None = None,
    ) -> pd.DataFrame:
        """Predictions in the window as a DataFrame, oldest first, for analytics.

        Only ``columns`` (default: every field of :class:`PredictionRecord`) are read; list
        fields come back as Python lists. ``newest`` keeps only the last ``newest`` predictions
        of the window (by ``ts``, then ``request_id``), read newest first so the older ones are
        never touched; it must be at least 1.
        """
        ...

    def prediction_span(self, start: str | None = None, end: str | None = None) -> tuple[str, str] | None:
        """``ts`` of the first and of the last prediction in the window; None when it has none."""
        ...

    def traffic_summary(
        self,
        start: str | None = None,
        end: str | None = None,
        *,
        bucket_s: int,
        latency_edges_ms: Sequence[float],
        versions: Sequence[str] | None = None,
    ) -> TrafficSummary:
        """Predictions in the window counted per ``bucket_s`` bucket, model version and latency bin.

        ``versions`` (default: all) keeps only predictions served by those model versions.
        Buckets, bins and the distinct-user counts are defined in :mod:`.summary`; a malformed
        ``bucket_s``, edge list or version list raises :class:`ValueError`.
        """
        ...

    def feedback_frame(self, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        """Feedback in the window as a DataFrame with every field of :class:`FeedbackRecord`."""
        ...

    def ping(self) -> None:
        """Raise :class:`~readcrumbs.errors.StoreError` when the store cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
