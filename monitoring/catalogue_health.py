"""Catalogue health: how much of the catalogue gets recommended, and how popular it is.

``catalogue`` is the production model's ``catalogue.parquet`` (columns ``book_id``, ``title``,
``genres``, ``popularity``, ``popularity_pct``; see ``readcrumbs/dataset.py``). Book ids are
flat ``(n,)`` int64 arrays, one entry per time a book was recommended or requested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PopularityBias:
    """Mean popularity percentile (0-100) of recommended and of requested books."""

    recommended_pct: float
    requested_pct: float

    @property
    def lift(self) -> float:
        """How many percentile points more popular recommendations are than the inputs."""
        return self.recommended_pct - self.requested_pct


def coverage(recommended_ids: np.ndarray, catalogue_size: int) -> float:
    """Distinct recommended books / catalogue size (NaN without a catalogue)."""
    if catalogue_size <= 0:
        return float("nan")
    return float(np.unique(recommended_ids).size / catalogue_size)


def top_books(book_ids: np.ndarray, catalogue: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """The ``n`` most frequent books: ``book_id``, ``title`` (empty when unknown), ``count``, ``share``.

    Ties are broken by the smaller book id, so the table is stable between reruns.
    """
    ids, counts = np.unique(np.asarray(book_ids, dtype=np.int64), return_counts=True)
    order = np.lexsort((ids, -counts))[:n]
    top = pd.DataFrame({"book_id": ids[order], "count": counts[order]})
    top["share"] = top["count"] / max(len(book_ids), 1)
    titles = (
        catalogue.set_index("book_id")["title"].astype("str")
        if catalogue is not None
        else pd.Series(dtype="str", index=pd.Index([], dtype="int64"))
    )
    found = titles.reindex(top["book_id"].to_numpy()).fillna("").to_numpy()
    top.insert(1, "title", pd.Series(found, dtype="str"))
    return top


def popularity_percentiles(book_ids: np.ndarray, catalogue: pd.DataFrame) -> np.ndarray:
    """``popularity_pct`` of each book in ``book_ids``; books the catalogue lacks are dropped."""
    lookup = pd.Series(catalogue["popularity_pct"].to_numpy(dtype=np.float64), index=catalogue["book_id"])
    found: np.ndarray = lookup.reindex(np.asarray(book_ids, dtype=np.int64)).to_numpy(dtype=np.float64)
    known: np.ndarray = found[~np.isnan(found)]
    return known


def popularity_bias(
    recommended_ids: np.ndarray, requested_ids: np.ndarray, catalogue: pd.DataFrame
) -> PopularityBias:
    """Mean popularity percentile of what was recommended versus what readers asked with."""

    def mean_pct(book_ids: np.ndarray) -> float:
        pct = popularity_percentiles(book_ids, catalogue)
        return float(pct.mean()) if pct.size else float("nan")

    return PopularityBias(mean_pct(recommended_ids), mean_pct(requested_ids))


def popularity_histogram(
    recommended_pct: np.ndarray, requested_pct: np.ndarray, n_bins: int = 10
) -> pd.DataFrame:
    """Shares of recommended and of requested books per popularity-percentile bin.

    Bins are equal-width over 0-100; returns ``left``, ``right``, ``recommended``, ``requested``.
    """
    edges = np.linspace(0.0, 100.0, n_bins + 1)

    def shares(pct: np.ndarray) -> np.ndarray:
        counts, _ = np.histogram(np.clip(pct, 0.0, 100.0), bins=edges)
        return counts / counts.sum() if counts.sum() else np.zeros(n_bins)

    return pd.DataFrame(
        {
            "left": edges[:-1],
            "right": edges[1:],
            "recommended": shares(np.asarray(recommended_pct, dtype=np.float64)),
            "requested": shares(np.asarray(requested_pct, dtype=np.float64)),
        }
    )
