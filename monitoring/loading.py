"""Reading a time window from the event store, bounded so a million predictions load quickly.

Traffic and latency cover every prediction of the window, but the store aggregates them
(:meth:`~readcrumbs.events.base.EventStore.traffic_summary`): what crosses into the dashboard is
a few thousand counts, however many predictions there are. The list columns, which cost far
more to decode, are read only for the most recent ``sample_size`` predictions, and feedback
only from the first of those on (feedback follows its prediction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from monitoring.traffic import LATENCY_EDGES_MS
from monitoring.windows import BUCKETS, Window, bucket_for_span, parse_times
from readcrumbs.events.base import EventStore
from readcrumbs.events.summary import TrafficSummary

RECENT_COLUMNS = (
    "request_id",
    "ts",
    "userid",
    "model_version",
    "arm",
    "latency_ms",
    "shadow_version",
    "shadow_prediction_ids",
    "item_ids",
    "prediction_ids",
    "unknown",
)
BUCKET_SECONDS: dict[str, int] = dict(BUCKETS)


@dataclass(frozen=True)
class WindowData:
    """What the dashboard knows about one window.

    - ``traffic``: every prediction, counted by the store per ``bucket`` (a pandas frequency
      of :data:`monitoring.windows.BUCKETS`), model version and latency bin.
    - ``recent``: the most recent predictions with :data:`RECENT_COLUMNS` plus ``time``
      (datetime64[ms, UTC]), oldest first.
    - ``feedback``: every feedback field, from ``recent``'s first prediction on.
    """

    traffic: TrafficSummary
    bucket: str
    recent: pd.DataFrame
    feedback: pd.DataFrame

    @property
    def sampled(self) -> bool:
        """Whether list-based metrics see fewer predictions than the window holds."""
        return len(self.recent) < self.traffic.requests


def span_between(span: tuple[str, str] | None) -> timedelta:
    """Time from the first to the last prediction of a store's ``prediction_span`` (zero: none)."""
    if span is None:
        return timedelta(0)
    first, last = (datetime.fromisoformat(ts) for ts in span)
    return last - first


def load_traffic(
    store: EventStore, window: Window, bucket: str, versions: Sequence[str] | None = None
) -> TrafficSummary:
    """The store's traffic summary of ``window`` in ``bucket`` buckets, for ``versions`` (None: all)."""
    if bucket not in BUCKET_SECONDS:
        raise ValueError(f"unknown bucket {bucket!r}; choose from {list(BUCKET_SECONDS)}")
    return store.traffic_summary(
        window.start,
        window.end,
        bucket_s=BUCKET_SECONDS[bucket],
        latency_edges_ms=LATENCY_EDGES_MS,
        versions=None if versions is None else list(versions),
    )


def load_window(store: EventStore, window: Window, sample_size: int) -> WindowData:
    """Read ``window`` from ``store``; list columns only for the last ``sample_size`` predictions."""
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    # The bucket width follows the time the predictions span, so the charts keep <= 120 bars.
    bucket = bucket_for_span(span_between(store.prediction_span(window.start, window.end)))
    traffic = load_traffic(store, window, bucket)
    recent = store.predictions_frame(window.start, window.end, list(RECENT_COLUMNS), newest=sample_size)
    # A full sample may have left older predictions out: their feedback is not needed.
    recent_start = str(recent["ts"].iloc[0]) if len(recent) == sample_size else window.start
    feedback = store.feedback_frame(recent_start, window.end)
    return WindowData(
        traffic=traffic,
        bucket=bucket,
        recent=recent.assign(time=parse_times(recent["ts"])),
        feedback=feedback,
    )


def only_versions(data: WindowData, versions: Sequence[str], traffic: TrafficSummary) -> WindowData:
    """The same window restricted to predictions served by ``versions`` (feedback follows them).

    ``traffic`` is the store's summary for those versions (:func:`load_traffic`): distinct
    readers do not add up across versions, so they cannot be filtered out of ``data.traffic``.
    """
    if traffic.bucket_s != BUCKET_SECONDS[data.bucket]:
        raise ValueError(f"the versions' summary has {traffic.bucket_s} s buckets, the window {data.bucket}")
    chosen = list(versions)
    return WindowData(
        traffic=traffic,
        bucket=data.bucket,
        recent=data.recent.loc[data.recent["model_version"].isin(chosen)],
        feedback=data.feedback,
    )
