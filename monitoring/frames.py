"""Small conversions of the event store's list columns into flat numpy arrays."""

from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd


def list_lengths(lists: pd.Series) -> np.ndarray:
    """Length of each list: ``(n_rows,)`` int64."""
    return np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))


def flatten_ids(lists: pd.Series) -> np.ndarray:
    """Every book id of every list, row after row: ``(sum of lengths,)`` int64."""
    return np.fromiter(chain.from_iterable(lists), dtype=np.int64)


def explode_ranked(frame: pd.DataFrame, column: str, keep: list[str]) -> pd.DataFrame:
    """One row per element of the list column ``column``, with its 1-based ``rank`` in the list.

    ``keep`` columns are repeated for every element; the element lands in ``book_id`` (int64).
    """
    lengths = list_lengths(frame[column])
    rows = np.repeat(np.arange(len(frame)), lengths)
    # Rank within each list: position in the flat array minus where that list starts.
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    exploded = {name: frame[name].to_numpy()[rows] for name in keep}
    exploded["book_id"] = flatten_ids(frame[column])
    exploded["rank"] = np.arange(len(rows), dtype=np.int64) - starts + 1
    return pd.DataFrame(exploded, columns=[*keep, "book_id", "rank"])
