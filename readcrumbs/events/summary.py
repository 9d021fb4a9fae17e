"""Traffic summaries: requests, latency histograms and distinct readers per time bucket.

The operators' dashboard charts traffic and latency over every prediction of a window, which
may hold millions; it needs counts, not records. Every event store answers
:meth:`~readcrumbs.events.base.EventStore.traffic_summary` with a :class:`TrafficSummary`
aggregated where the data lives (SQL in SQLite; DynamoDB and memory aggregate a projection of
the window's items), and one contract suite checks that all of them give the same summary.

- Buckets: ``bucket_start_s = floor(epoch_seconds(ts) / bucket_s) * bucket_s``, UTC seconds
  counted from 1970-01-01 (pandas' ``Series.dt.floor`` gives the same starts for fixed widths
  such as ``"6h"`` or ``"7D"``). Records before 1970 are not supported.
- Latency bins: ``latency_edges_ms`` is ``(n_edges,)`` finite and strictly increasing; bin ``j``
  holds ``edges[j-1] <= latency_ms < edges[j]``, so bin 0 is everything below the first edge
  and bin ``n_edges`` everything from the last edge on: the bin of a latency is the number of
  edges at or below it (``numpy.searchsorted(edges, latency, side="right")``).
- Distinct readers are counted by ``userid`` exactly, per bucket and over the whole window:
  neither adds up across buckets or versions, so a version filter is applied by the store
  (``versions``) rather than by the caller.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from readcrumbs.events.records import to_iso

# pandas only where frames are built: the backend writes events without it (issue 16).
if TYPE_CHECKING:
    import pandas as pd

# SQLite builds before 3.32 bind at most 999 parameters to one statement; every edge is one.
MAX_LATENCY_EDGES = 900

CELL_DTYPES: dict[str, str] = {
    "bucket_start_s": "int64",
    "model_version": "str",
    "latency_bin": "int64",
    "requests": "int64",
    "latency_sum_ms": "float64",
}
CELL_KEYS = ["bucket_start_s", "model_version", "latency_bin"]
BUCKET_USER_DTYPES: dict[str, str] = {"bucket_start_s": "int64", "users": "int64"}

# One cell as a store hands it over: (bucket_start_s, model_version, latency_bin, requests,
# latency_sum_ms).
CellRow = tuple[int, str, int, int, float]


@dataclass(frozen=True, eq=False)
class TrafficSummary:
    """Predictions of one window, counted per time bucket, model version and latency bin.

    - ``cells``: one row per non-empty ``(bucket_start_s, model_version, latency_bin)``, in that
      order, with ``requests`` (int64) and ``latency_sum_ms`` (float64, sum of the cell's
      latencies in ms).
    - ``bucket_users``: ``bucket_start_s`` and ``users`` (distinct userids) per non-empty bucket.
    - ``users``: distinct userids over the whole window.
    """

    bucket_s: int
    latency_edges_ms: tuple[float, ...]
    cells: pd.DataFrame
    bucket_users: pd.DataFrame
    users: int

    @property
    def n_bins(self) -> int:
        """Latency bins per histogram: one more than the edges."""
        return len(self.latency_edges_ms) + 1

    @property
    def requests(self) -> int:
        """Predictions in the window."""
        return int(self.cells["requests"].sum())

    @property
    def model_versions(self) -> list[str]:
        """The versions that served at least one prediction, sorted as text."""
        return sorted(set(self.cells["model_version"].tolist()))


def check_request(
    bucket_s: int, latency_edges_ms: Sequence[float], versions: Sequence[str] | None
) -> tuple[int, tuple[float, ...], tuple[str, ...] | None]:
    """The arguments of a summary request, checked; :class:`ValueError` when one is malformed."""
    if isinstance(bucket_s, bool) or not isinstance(bucket_s, int | np.integer) or bucket_s < 1:
        raise ValueError(f"bucket_s must be a whole number of seconds >= 1, got {bucket_s!r}")
    edges = tuple(float(edge) for edge in latency_edges_ms)
    if not 1 <= len(edges) <= MAX_LATENCY_EDGES:
        raise ValueError(f"latency_edges_ms must hold 1 to {MAX_LATENCY_EDGES} edges, got {len(edges)}")
    if not all(map(math.isfinite, edges)) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError("latency_edges_ms must be finite and strictly increasing")
    if versions is None:
        return int(bucket_s), edges, None
    if isinstance(versions, str) or not all(isinstance(v, str) for v in versions):
        raise ValueError(f"versions must be a sequence of version strings, got {versions!r}")
    return int(bucket_s), edges, tuple(dict.fromkeys(versions))


def epoch_seconds(ts: Sequence[str]) -> npt.NDArray[np.int64]:
    """Records' ``ts`` texts as whole UTC seconds since 1970 (floored): ``(n,)`` int64."""
    # numpy parses ISO-8601 without the "Z" (it warns on time zones); every ts is UTC.
    millis = np.array([text[:23] for text in ts], dtype="datetime64[ms]").astype(np.int64)
    seconds: npt.NDArray[np.int64] = millis // 1000
    return seconds


def bucket_start(ts: str, bucket_s: int) -> int:
    """Start of the bucket that holds ``ts``, in UTC seconds since 1970."""
    return int(epoch_seconds([ts])[0]) // bucket_s * bucket_s


def iso_at(seconds: int) -> str:
    """UTC seconds since 1970 as the records' ts text (a bucket boundary for text comparisons)."""
    return to_iso(datetime.fromtimestamp(seconds, UTC))


def from_cells(
    bucket_s: int,
    latency_edges_ms: tuple[float, ...],
    cells: pd.DataFrame | Sequence[CellRow],
    bucket_users: pd.DataFrame | Sequence[tuple[int, int]],
    users: int,
) -> TrafficSummary:
    """A summary with the store-independent dtypes and order, from a backend's aggregates."""
    import pandas as pd

    cell_frame = pd.DataFrame(cells, columns=list(CELL_DTYPES)).astype(CELL_DTYPES)
    user_frame = pd.DataFrame(bucket_users, columns=list(BUCKET_USER_DTYPES)).astype(BUCKET_USER_DTYPES)
    return TrafficSummary(
        bucket_s=bucket_s,
        latency_edges_ms=latency_edges_ms,
        cells=cell_frame.sort_values(CELL_KEYS, ignore_index=True),
        bucket_users=user_frame.sort_values("bucket_start_s", ignore_index=True),
        users=int(users),
    )


def empty(bucket_s: int, latency_edges_ms: tuple[float, ...]) -> TrafficSummary:
    """The summary of a window without predictions."""
    return from_cells(bucket_s, latency_edges_ms, [], [], 0)


def summarize(
    ts: Sequence[str],
    userids: Sequence[str],
    latency_ms: Sequence[float],
    model_versions: Sequence[str],
    bucket_s: int,
    latency_edges_ms: tuple[float, ...],
) -> TrafficSummary:
    """Aggregate predictions given column-wise, each ``(n,)``, in this process (numpy, pandas).

    The memory and DynamoDB stores call this on the window they read; SQLite aggregates in SQL.
    """
    if not ts:
        return empty(bucket_s, latency_edges_ms)
    import pandas as pd

    latency = np.asarray(latency_ms, dtype=np.float64)
    frame = pd.DataFrame(
        {
            "bucket_start_s": epoch_seconds(ts) // bucket_s * bucket_s,
            "model_version": pd.Series(model_versions, dtype="str"),
            "latency_bin": np.searchsorted(np.asarray(latency_edges_ms), latency, side="right"),
            "latency_ms": latency,
            "userid": pd.Series(userids, dtype="str"),
        }
    )
    cells = (
        frame.groupby(CELL_KEYS, sort=False)["latency_ms"]
        .agg(requests="size", latency_sum_ms="sum")
        .reset_index()
    )
    bucket_users = (
        frame.groupby("bucket_start_s", sort=False)["userid"].nunique().rename("users").reset_index()
    )
    return from_cells(bucket_s, latency_edges_ms, cells, bucket_users, frame["userid"].nunique())
