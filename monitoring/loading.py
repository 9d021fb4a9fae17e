"""Reading a time window from the event store, bounded so a million predictions load quickly.

Scalar columns (time, user, latency, version) are read for every prediction in the window; the
list columns, which cost far more to decode, only for the most recent ``sample_size``
predictions, and feedback only from the first of those on (feedback follows its prediction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from monitoring.windows import Window, parse_times
from readcrumbs.events.base import EventStore

SCALAR_COLUMNS = ("ts", "userid", "latency_ms", "model_version")
RECENT_COLUMNS = ("request_id", "ts", "userid", "model_version", "item_ids", "prediction_ids", "unknown")


@dataclass(frozen=True)
class WindowData:
    """What the dashboard knows about one window.

    - ``requests``: every prediction; ``time`` (datetime64[ms, UTC]), ``userid``,
      ``latency_ms``, ``model_version``; oldest first.
    - ``recent``: the most recent predictions with :data:`RECENT_COLUMNS` plus ``time``.
    - ``feedback``: every feedback field, from ``recent``'s first prediction on.
    """

    requests: pd.DataFrame
    recent: pd.DataFrame
    feedback: pd.DataFrame

    @property
    def sampled(self) -> bool:
        """Whether list-based metrics see fewer predictions than the window holds."""
        return len(self.recent) < len(self.requests)


def load_window(store: EventStore, window: Window, sample_size: int) -> WindowData:
    """Read ``window`` from ``store``; list columns only for the last ``sample_size`` predictions."""
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    scalars = store.predictions_frame(window.start, window.end, columns=list(SCALAR_COLUMNS))
    # Predictions come oldest first, so the sample starts at the sample_size-th newest one
    # (a few more when several share its timestamp).
    recent_start = window.start if len(scalars) <= sample_size else str(scalars["ts"].iloc[-sample_size])
    recent = store.predictions_frame(recent_start, window.end, columns=list(RECENT_COLUMNS))
    feedback = store.feedback_frame(recent_start, window.end)
    requests = scalars.drop(columns="ts").assign(time=parse_times(scalars["ts"]))
    return WindowData(
        requests=requests[["time", "userid", "latency_ms", "model_version"]],
        recent=recent.assign(time=parse_times(recent["ts"])),
        feedback=feedback,
    )


def only_versions(data: WindowData, versions: Sequence[str]) -> WindowData:
    """The same window restricted to predictions served by ``versions`` (feedback follows them)."""
    chosen = list(versions)
    return WindowData(
        requests=data.requests.loc[data.requests["model_version"].isin(chosen)],
        recent=data.recent.loc[data.recent["model_version"].isin(chosen)],
        feedback=data.feedback,
    )
