"""Traffic and latency of served predictions, from the event store's traffic summary.

The store counts every prediction of the window per time bucket, model version and latency
bin (:class:`~readcrumbs.events.summary.TrafficSummary`), so nothing here reads a prediction.
Requests and distinct readers are exact. Latency percentiles, the share slower than the SLO
and the plotted distribution are *estimates* from the histogram over :data:`LATENCY_EDGES_MS`:
:data:`BINS_PER_DECADE` log-spaced bins a decade from 0.05 ms to about 60 s, each
:data:`LATENCY_BIN_WIDTH` (4.7%) wider at its top than at its bottom. A percentile estimate
lies in the same bin as the latency of the request at that rank, so within 4.7% of it; with
few requests, other definitions of a percentile (numpy's interpolation between two
requests) may differ by more.

A histogram ``counts`` is ``(len(edges) + 1,)`` requests per bin: bin 0 is ``[0, edges[0])``,
bin ``j`` is ``[edges[j-1], edges[j])`` and the last bin ``[edges[-1], ∞)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitoring.frames import list_lengths
from readcrumbs.events.summary import TrafficSummary

PERCENTILES: tuple[float, ...] = (0.50, 0.95, 0.99)


def latency_edges(low_ms: float, high_ms: float, per_decade: int) -> tuple[float, ...]:
    """Log-spaced bin edges ``low_ms * 10 ** (i / per_decade)`` from ``low_ms`` to about ``high_ms``."""
    steps = round(per_decade * math.log10(high_ms / low_ms))
    return tuple(float(edge) for edge in low_ms * 10 ** (np.arange(steps + 1) / per_decade))


BINS_PER_DECADE = 50
LATENCY_EDGES_MS: tuple[float, ...] = latency_edges(0.05, 60_000.0, BINS_PER_DECADE)
# Relative width of every bounded bin but the first: (top - bottom) / bottom.
LATENCY_BIN_WIDTH = 10 ** (1 / BINS_PER_DECADE) - 1


@dataclass(frozen=True)
class LatencySummary:
    """Estimated latency percentiles of a set of requests, in ms (NaN when there is no request)."""

    requests: int
    p50: float
    p95: float
    p99: float


def _bin_bounds(edges: Sequence[float]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Bottom and top of every bin, ``(len(edges) + 1,)`` each; the last top is infinite."""
    bounds = np.asarray(edges, dtype=np.float64)
    return np.concatenate([[0.0], bounds]), np.concatenate([bounds, [np.inf]])


def _checked(counts: npt.ArrayLike, edges: Sequence[float]) -> npt.NDArray[np.float64]:
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != (len(edges) + 1,):
        raise ValueError(f"counts must have one bin more than the {len(edges)} edges, got {values.shape}")
    return values


def percentile_from_histogram(counts: npt.ArrayLike, edges: Sequence[float], q: float) -> float:
    """Estimate the ``q``-quantile (``0 <= q <= 1``) of the latencies counted in ``counts``.

    Finds the bin where the running count reaches ``q * total`` and interpolates linearly inside
    it, as if its requests were spread evenly over it (the method of Prometheus'
    ``histogram_quantile``). The estimate shares its bin with the request of rank
    ``ceil(q * total)``. In the last bin, which has no top, it is the bin's bottom. NaN when
    the histogram is empty.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must lie in [0, 1], got {q}")
    values = _checked(counts, edges)
    total = values.sum()
    if total <= 0:
        return float("nan")
    running = np.cumsum(values)
    rank = q * total
    # The first bin whose running count reaches the rank; for q = 0, the first non-empty bin.
    index = max(int(np.searchsorted(running, rank, side="left")), int(np.flatnonzero(values)[0]))
    bottoms, tops = _bin_bounds(edges)
    if index == len(values) - 1:
        return float(bottoms[index])
    inside = (rank - (running[index] - values[index])) / values[index]
    return float(bottoms[index] + inside * (tops[index] - bottoms[index]))


def latency_summary(counts: npt.ArrayLike, edges: Sequence[float]) -> LatencySummary:
    """Estimated p50, p95 and p99 of the latencies counted in ``counts``."""
    values = _checked(counts, edges)
    p50, p95, p99 = (percentile_from_histogram(values, edges, q) for q in PERCENTILES)
    return LatencySummary(int(values.sum()), p50, p95, p99)


def slo_breach_share(counts: npt.ArrayLike, edges: Sequence[float], slo_ms: float) -> float:
    """Estimated share of requests slower than ``slo_ms`` (NaN when there is no request).

    Bins above the SLO count whole, the bin that holds it in proportion to the part above it;
    the last bin (no top) counts whole once the SLO is below its top, that is always.
    """
    values = _checked(counts, edges)
    total = values.sum()
    if total <= 0:
        return float("nan")
    bottoms, tops = _bin_bounds(edges)
    with np.errstate(invalid="ignore"):
        above = np.clip((tops - np.maximum(slo_ms, bottoms)) / (tops - bottoms), 0.0, 1.0)
    above[-1] = 1.0
    return float((values * above).sum() / total)


def latency_histogram(counts: npt.ArrayLike, edges: Sequence[float], n_bins: int = 60) -> pd.DataFrame:
    """Requests per latency bar: ``n_bins`` equal-width bars from 0 to the estimated p99.9.

    Slower requests fall in the last bar, so one outlier does not squeeze every other bar into
    one. The fine bins are split into bars as if each bin's requests were spread evenly over
    it, so bars hold fractional (estimated) counts that add up to the total. Returns columns
    ``left``, ``right`` (ms) and ``requests`` (float64).
    """
    values = _checked(counts, edges)
    total = values.sum()
    if total <= 0:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in ("left", "right", "requests")})
    top = max(percentile_from_histogram(values, edges, 0.999), 1e-9)
    bars = np.linspace(0.0, top, n_bins + 1)
    # Running count at every bar edge, read off the piecewise-linear running count of the bins.
    bottoms, _ = _bin_bounds(edges)
    running = np.interp(bars, bottoms, np.cumsum(np.append(0.0, values[:-1])))
    per_bar = np.diff(running)
    per_bar[-1] = total - running[-2]
    return pd.DataFrame({"left": bars[:-1], "right": bars[1:], "requests": per_bar})


def bucket_times(bucket_start_s: npt.ArrayLike) -> pd.Series:
    """Bucket starts in UTC seconds as ``datetime64[ms, UTC]``, the dtype of every time column."""
    millis = np.asarray(bucket_start_s, dtype=np.int64) * 1000
    return pd.Series(millis.astype("datetime64[ms]")).dt.tz_localize("UTC")


def histograms(traffic: TrafficSummary, key: str | None) -> tuple[pd.Series, npt.NDArray[np.int64]]:
    """Latency histograms per value of ``key`` (a cell column; None: one for the whole window).

    Returns the key values ``(n_groups,)``, sorted, and their histograms ``(n_groups, n_bins)``.
    """
    cells = traffic.cells
    if key is None:
        values = pd.Series(["all"] if len(cells) else [], dtype="str")
        rows = np.zeros(len(cells), dtype=np.int64)
    else:
        codes, uniques = pd.factorize(cells[key], sort=True)
        values, rows = pd.Series(uniques, dtype=cells[key].dtype), codes.astype(np.int64)
    counts = np.zeros((len(values), traffic.n_bins), dtype=np.int64)
    np.add.at(counts, (rows, cells["latency_bin"].to_numpy(dtype=np.int64)), cells["requests"].to_numpy())
    return values, counts


def total_histogram(traffic: TrafficSummary) -> npt.NDArray[np.int64]:
    """Requests per latency bin over the whole window: ``(n_bins,)``."""
    _, counts = histograms(traffic, None)
    total: npt.NDArray[np.int64] = counts.sum(axis=0) if len(counts) else np.zeros(traffic.n_bins, np.int64)
    return total


def requests_per_bucket(traffic: TrafficSummary) -> pd.DataFrame:
    """Requests per time bucket and model version.

    Returns columns ``bucket`` (bucket start, UTC), ``model_version`` and ``requests``; only
    buckets with at least one request appear, oldest first.
    """
    per = traffic.cells.groupby(["bucket_start_s", "model_version"], sort=True)["requests"].sum()
    frame = per.reset_index()
    return pd.DataFrame(
        {
            "bucket": bucket_times(frame["bucket_start_s"]),
            "model_version": frame["model_version"].astype("str"),
            "requests": frame["requests"].astype("int64"),
        }
    )


def latency_per_bucket(traffic: TrafficSummary) -> pd.DataFrame:
    """Estimated latency percentiles per time bucket.

    Returns columns ``bucket``, ``requests``, ``p50``, ``p95``, ``p99`` (ms), one row per
    non-empty bucket, oldest first.
    """
    buckets, counts = histograms(traffic, "bucket_start_s")
    edges = traffic.latency_edges_ms
    estimates = np.array(
        [[percentile_from_histogram(row, edges, q) for q in PERCENTILES] for row in counts], dtype=np.float64
    ).reshape(len(counts), len(PERCENTILES))
    return pd.DataFrame(
        {
            "bucket": bucket_times(buckets),
            "requests": counts.sum(axis=1).astype(np.int64),
            "p50": estimates[:, 0],
            "p95": estimates[:, 1],
            "p99": estimates[:, 2],
        }
    )


def users_per_bucket(traffic: TrafficSummary) -> pd.DataFrame:
    """Distinct readers (userids) per time bucket: columns ``bucket`` and ``users``, oldest first."""
    return pd.DataFrame(
        {
            "bucket": bucket_times(traffic.bucket_users["bucket_start_s"]),
            "users": traffic.bucket_users["users"].astype("int64"),
        }
    )


def latency_by_version(traffic: TrafficSummary) -> pd.DataFrame:
    """Requests and estimated p95 latency per model version: ``model_version``, ``requests``, ``p95_ms``."""
    versions, counts = histograms(traffic, "model_version")
    edges = traffic.latency_edges_ms
    return pd.DataFrame(
        {
            "model_version": versions.astype("str"),
            "requests": counts.sum(axis=1).astype(np.int64),
            "p95_ms": np.array([percentile_from_histogram(row, edges, 0.95) for row in counts], dtype=float),
        }
    )


def degraded_requests(unknown: pd.Series, prediction_ids: pd.Series) -> np.ndarray:
    """Whether each request answered only in part: an unknown title, or no recommendation.

    The event store logs only answered predictions (a request refused with 4xx/5xx leaves no
    record), so this is the closest to an error that the store can show. ``(n_rows,)`` bool.
    """
    degraded: np.ndarray = (list_lengths(unknown) > 0) | (list_lengths(prediction_ids) == 0)
    return degraded


def share(flags: np.ndarray) -> float:
    """Mean of boolean ``flags`` (NaN when empty)."""
    return float(np.mean(flags)) if len(flags) else float("nan")
