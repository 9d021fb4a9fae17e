"""Traffic and latency of served predictions, from the event store's scalar columns.

``times`` are ``datetime64[ms, UTC]`` Series (see :func:`monitoring.windows.parse_times`),
``latency_ms`` the server-side time of each request in milliseconds, one row per prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitoring.frames import list_lengths

PERCENTILES: tuple[float, ...] = (0.50, 0.95, 0.99)


@dataclass(frozen=True)
class LatencySummary:
    """Latency percentiles of a set of requests, in ms (NaN when there is no request)."""

    requests: int
    p50: float
    p95: float
    p99: float


def requests_per_bucket(times: pd.Series, freq: str, versions: pd.Series | None = None) -> pd.DataFrame:
    """Requests per time bucket (and per model version when ``versions`` is given).

    Returns columns ``bucket`` (bucket start, UTC), ``model_version`` (only with ``versions``)
    and ``requests``; only buckets with at least one request appear.
    """
    keys: dict[str, pd.Series] = {"bucket": times.dt.floor(freq)}
    if versions is not None:
        keys["model_version"] = versions
    frame = pd.DataFrame(keys)
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=series.dtype) for name, series in keys.items()}).assign(
            requests=pd.Series(dtype="int64")
        )
    return frame.groupby(list(keys), sort=True, observed=True).size().rename("requests").reset_index()


def unique_users(userids: pd.Series) -> int:
    """Number of distinct user ids."""
    return int(userids.nunique())


def latency_summary(latency_ms: npt.ArrayLike) -> LatencySummary:
    """p50, p95 and p99 latency over all requests (linear interpolation between samples)."""
    values = np.asarray(latency_ms, dtype=np.float64)
    if values.size == 0:
        return LatencySummary(0, float("nan"), float("nan"), float("nan"))
    p50, p95, p99 = np.quantile(values, PERCENTILES)
    return LatencySummary(int(values.size), float(p50), float(p95), float(p99))


def latency_per_bucket(times: pd.Series, latency_ms: pd.Series, freq: str) -> pd.DataFrame:
    """Latency percentiles per time bucket.

    Returns columns ``bucket``, ``requests``, ``p50``, ``p95``, ``p99`` (ms), one row per
    non-empty bucket, oldest first.
    """
    columns = ["bucket", "requests", "p50", "p95", "p99"]
    if len(times) == 0:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in columns}).astype(
            {"bucket": times.dtype, "requests": "int64"}
        )
    buckets = times.dt.floor(freq).rename("bucket")
    grouped = pd.Series(latency_ms.to_numpy(dtype=np.float64), index=times.index).groupby(buckets)
    quantiles = grouped.quantile(np.array(PERCENTILES)).unstack()
    quantiles.columns = ["p50", "p95", "p99"]
    quantiles.insert(0, "requests", grouped.size())
    return quantiles.reset_index()[columns]


def slo_breach_share(latency_ms: npt.ArrayLike, slo_ms: float) -> float:
    """Share of requests slower than ``slo_ms`` (NaN when there is no request)."""
    values = np.asarray(latency_ms, dtype=np.float64)
    return float(np.mean(values > slo_ms)) if values.size else float("nan")


def latency_histogram(latency_ms: npt.ArrayLike, n_bins: int = 60) -> pd.DataFrame:
    """Requests per latency bin, binned here so a million requests plot as ``n_bins`` bars.

    Bins are equal-width from 0 to the 99.9th percentile; slower requests fall in the last
    bin, so one outlier does not squeeze every other bar into one. Returns columns ``left``,
    ``right`` (ms) and ``requests``.
    """
    values = np.asarray(latency_ms, dtype=np.float64)
    if values.size == 0:
        return pd.DataFrame(
            {"left": pd.Series(dtype="float64"), "right": pd.Series(dtype="float64"), "requests": []}
        ).astype({"requests": "int64"})
    top = max(float(np.quantile(values, 0.999)), float(values.min()), 1e-9)
    edges = np.linspace(0.0, top, n_bins + 1)
    counts, _ = np.histogram(np.clip(values, 0.0, top), bins=edges)
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "requests": counts.astype(np.int64)})


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
