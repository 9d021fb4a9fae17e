"""Drift: do readers ask about the books the production model was trained on?

The reference is the training data: each catalogue book weighted by ``popularity``, its number
of likes in the training interactions, so the reference is distributed as the interactions are.
The observed sample is every requested book (``item_ids``), one entry per request it was in.

- PSI (population stability index) over bins: ``sum((a - e) * ln(a / e))`` with ``e`` and ``a``
  the reference and observed shares; < 0.1 stable, 0.1-0.25 moderate, > 0.25 drift.
- KS (two-sample Kolmogorov-Smirnov, ``scipy.stats.ks_2samp``) on popularity percentiles;
  drift when p < 0.01. Genres have no order, so they get PSI only.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, pairwise
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from monitoring.catalogue_health import popularity_percentiles

PSI_MODERATE = 0.10
PSI_DRIFT = 0.25
KS_ALPHA = 0.01
# Empty bins would make PSI infinite; a share this small stands in for zero.
PSI_FLOOR = 1e-4
OTHER_GENRES = "(other genres)"

Level = Literal["stable", "moderate", "drift", "no data"]


@dataclass(frozen=True)
class DriftResult:
    """One feature's drift: PSI with its level, KS when the feature is ordered, and the bins.

    ``bins`` has columns ``bin`` (label), ``training`` and ``requested`` (shares summing to 1).
    """

    psi: float
    level: Level
    ks_statistic: float
    ks_pvalue: float
    bins: pd.DataFrame

    @property
    def drifting(self) -> bool:
        """PSI says drift, or KS rejects equal distributions at ``KS_ALPHA``."""
        return self.level == "drift" or (not np.isnan(self.ks_pvalue) and self.ks_pvalue < KS_ALPHA)


def psi(expected: np.ndarray, actual: np.ndarray, floor: float = PSI_FLOOR) -> float:
    """PSI of two histograms over the same bins: ``(n_bins,)`` counts or weights each.

    Each is turned into shares; shares below ``floor`` are raised to it. NaN when either is empty.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape:
        raise ValueError(f"histograms differ in bins: {e.shape} vs {a.shape}")
    if e.sum() <= 0 or a.sum() <= 0:
        return float("nan")
    e = np.maximum(e / e.sum(), floor)
    a = np.maximum(a / a.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_level(value: float) -> Level:
    """The PSI's verdict: stable (< 0.1), moderate (0.1-0.25) or drift (> 0.25)."""
    if np.isnan(value):
        return "no data"
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value <= PSI_DRIFT else "drift"


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` (``(n,)``) where each value counts ``weights`` times.

    The quantile at probability q is the smallest value whose cumulative weight share reaches q.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return np.full(np.shape(probabilities), np.nan)
    order = np.argsort(v, kind="stable")
    cumulative = np.cumsum(w[order]) / w.sum()
    index = np.searchsorted(cumulative, np.asarray(probabilities, dtype=np.float64) - 1e-12, side="left")
    return v[order][np.minimum(index, v.size - 1)]


def ks_against_weighted(
    observed: np.ndarray, reference: np.ndarray, weights: np.ndarray, n_reference: int = 10_000
) -> tuple[float, float]:
    """KS statistic and p-value of ``observed`` against a weighted reference.

    ``ks_2samp`` takes plain samples, so the reference is stood for by its ``n_reference``
    evenly spaced weighted quantiles (a deterministic sample of the reference distribution).
    NaN, NaN when either side is empty.
    """
    probabilities = (np.arange(n_reference) + 0.5) / n_reference
    reference_sample = weighted_quantiles(reference, weights, probabilities)
    if np.size(observed) == 0 or np.isnan(reference_sample).all():
        return float("nan"), float("nan")
    result = stats.ks_2samp(np.asarray(observed, dtype=np.float64), reference_sample)
    return float(result.statistic), float(result.pvalue)


def popularity_drift(requested_ids: np.ndarray, catalogue: pd.DataFrame, n_bins: int = 10) -> DriftResult:
    """Drift of the requested books' popularity percentile against the training interactions.

    Bins are the reference's weighted deciles (equal training mass per bin where ties allow).
    """
    reference = catalogue["popularity_pct"].to_numpy(dtype=np.float64)
    weights = catalogue["popularity"].to_numpy(dtype=np.float64)
    observed = popularity_percentiles(requested_ids, catalogue)
    inner = np.unique(weighted_quantiles(reference, weights, np.arange(1, n_bins) / n_bins))
    inner = inner[~np.isnan(inner)]
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    # side="right": a value equal to an edge starts the next bin, the same rule for both sides.
    expected = np.bincount(
        np.searchsorted(inner, reference, side="right"), weights=weights, minlength=len(edges) - 1
    )
    actual = np.bincount(np.searchsorted(inner, observed, side="right"), minlength=len(edges) - 1).astype(
        np.float64
    )
    labels = [_range_label(low, high) for low, high in pairwise(edges)]
    value = psi(expected, actual)
    statistic, pvalue = ks_against_weighted(observed, reference, weights)
    return DriftResult(value, psi_level(value), statistic, pvalue, _bins(labels, expected, actual))


def _range_label(low: float, high: float) -> str:
    if np.isinf(low) and np.isinf(high):
        return "all"
    if np.isinf(low):
        return f"< {high:.1f}"
    if np.isinf(high):
        return f"≥ {low:.1f}"
    return f"{low:.1f}-{high:.1f}"


def _bins(labels: list[str], expected: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    def shares(counts: np.ndarray) -> np.ndarray:
        total = counts.sum()
        return counts / total if total > 0 else np.zeros_like(counts, dtype=np.float64)

    return pd.DataFrame({"bin": labels, "training": shares(expected), "requested": shares(actual)})


def genre_weights(book_weights: pd.Series, catalogue: pd.DataFrame) -> pd.Series:
    """Weight per genre: each book's weight counted once for every genre it has.

    ``book_weights`` maps book_id to a weight (likes, or times requested); books that the
    catalogue lacks are ignored. Returns genre → weight, largest first.
    """
    # Plain numpy over the flat genre list: a 10,000-book catalogue is exploded on every rerun.
    genre_lists = [() if genres is None else genres for genres in catalogue["genres"]]
    lengths = np.fromiter(map(len, genre_lists), dtype=np.int64, count=len(genre_lists))
    codes, names = pd.factorize(pd.Series(list(chain.from_iterable(genre_lists)), dtype="str"))
    per_book = book_weights.reindex(catalogue["book_id"].to_numpy()).fillna(0.0).to_numpy(dtype=np.float64)
    totals = np.bincount(codes, weights=np.repeat(per_book, lengths), minlength=len(names))
    weights = pd.Series(totals, index=pd.Index(names, dtype="str"))
    weights = weights[weights > 0]
    # Sorted by name first, so equal weights always come out in the same order.
    return weights.sort_index().sort_values(ascending=False, kind="stable")


def genre_drift(requested_ids: np.ndarray, catalogue: pd.DataFrame, top_n: int = 15) -> DriftResult:
    """Drift of the requested books' genres against the training interactions.

    Bins are the ``top_n`` genres of the training data and one bin for every other genre.
    """
    popularity = pd.Series(catalogue["popularity"].to_numpy(dtype=np.float64), index=catalogue["book_id"])
    reference = genre_weights(popularity, catalogue)
    requested = genre_weights(pd.Series(np.asarray(requested_ids, dtype=np.int64)).value_counts(), catalogue)
    top = list(reference.index[:top_n])
    expected = np.append(reference.reindex(top).to_numpy(), reference.iloc[top_n:].sum())
    observed = requested.reindex(top, fill_value=0.0).to_numpy()
    actual = np.append(observed, requested.sum() - observed.sum())
    value = psi(expected, actual)
    return DriftResult(
        value, psi_level(value), float("nan"), float("nan"), _bins([*top, OTHER_GENRES], expected, actual)
    )


def unknown_share_per_bucket(
    times: pd.Series, n_unknown: np.ndarray, n_resolved: np.ndarray, freq: str
) -> pd.DataFrame:
    """Share of typed titles that matched no book, per time bucket.

    ``n_unknown`` and ``n_resolved``: ``(n_rows,)`` counts per request; a request's typed titles
    are taken as resolved + unknown. Returns ``bucket``, ``requests``, ``unknown_share``.
    """
    frame = pd.DataFrame(
        {
            "bucket": times.dt.floor(freq),
            "unknown": np.asarray(n_unknown, dtype=np.int64),
            "typed": np.asarray(n_unknown, dtype=np.int64) + np.asarray(n_resolved, dtype=np.int64),
        }
    )
    grouped = frame.groupby("bucket", sort=True).agg(
        requests=("unknown", "size"), unknown=("unknown", "sum"), typed=("typed", "sum")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        grouped["unknown_share"] = np.where(
            grouped["typed"] > 0, grouped["unknown"] / grouped["typed"], np.nan
        )
    return grouped.reset_index()[["bucket", "requests", "unknown_share"]]
