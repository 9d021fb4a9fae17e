"""Turning scores into a ranked list: the one place that decides what a reader is shown.

Serving and offline evaluation both rank this way, so what ``/predict`` returns is exactly what
was evaluated: :func:`top_k` ranks a batch (offline evaluation), :func:`top_k_reader` one reader
(serving; :func:`top_k_positive` is its shortcut), with the same masking, the same ``k`` and the
same tie-breaking, so both give the same list for the same scores. Only numpy is imported here:
scipy is loaded when a batch needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

_FINITE = np.finfo(np.float32)


def top_k(scores: np.ndarray, histories: sp.csr_matrix, k: int) -> np.ndarray:
    """The ``k`` best books per reader, never one of the books in their history.

    ``scores``: (n_readers, n_books) float; ``histories``: (n_readers, n_books) CSR of the books
    each reader gave (favourites and dislikes alike: every stored entry is masked).
    Returns (n_readers, k') int64 book indices, best first, where
    k' = min(k, n_books − the most books any reader gave), so that no list has to be
    padded with a given book. Ties break towards the lower index so results are deterministic;
    NaN and infinite scores rank as the lowest and highest finite scores.
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: the caller's scores stay untouched
    if not np.isfinite(scores).all():
        # Only given books may be -inf below, so that no other book can tie with them.
        _finite(scores)
    rows = np.repeat(np.arange(histories.shape[0]), np.diff(histories.indptr))
    scores[rows, histories.indices] = -np.inf
    n_readers, n_books = scores.shape
    most_favourites = int(np.diff(histories.indptr).max(initial=0))
    k = max(0, min(k, n_books - most_favourites))
    if k == 0 or n_readers == 0:
        return np.zeros((n_readers, k), dtype=np.int64)
    # Every book above the k-th best score, then the lowest-index books tied with it: exactly k
    # per reader, whatever order argpartition would have left the ties in.
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # (n_readers, 1)
    above = scores > kth
    tied = scores == kth
    needed = k - above.sum(axis=1, keepdims=True)
    chosen = above | tied
    if (tied.sum(axis=1, keepdims=True) != needed).any():
        chosen = above | (tied & (np.cumsum(tied, axis=1) <= needed))
    candidates = np.nonzero(chosen)[1].reshape(n_readers, k)  # each row's indices, ascending
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    # A stable sort keeps equal scores in ascending index order.
    order = np.argsort(-candidate_scores, axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1).astype(np.int64)


def top_k_reader(scores: np.ndarray, given: np.ndarray, k: int) -> np.ndarray:
    """One reader's ``k`` best books, ranked exactly as :func:`top_k` ranks that reader's row.

    ``scores``: (n_books,) float32, **overwritten** (the given books become -inf); ``given``:
    (n_given,) int64 unique book indices the reader gave (favourites and dislikes), never shown.
    Returns (k',) int64 book indices, best first, k' = min(k, n_books − n_given).

    A partition finds the k-th best score; the books above it and the lowest-index books tied
    with it are then sorted (score descending, index ascending): the k sorted, not the n_books.
    """
    if not np.isfinite(scores).all():
        _finite(scores)
    scores[given] = -np.inf
    k = max(0, min(k, len(scores) - len(given)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]  # the k-th best score
    return _ranked_at_least(scores, kth, k)


def top_k_positive(scores: np.ndarray, k: int, candidates: np.ndarray | None = None) -> np.ndarray | None:
    """:func:`top_k_reader` when at least ``k`` books score above zero, else None.

    ``scores``: (n_books,) float32 with the given books already -inf. The k best books are then
    all above zero, so only the books that can score above zero are partitioned: for item-weight
    models a few hundred books instead of every one (a partition of mostly zeros is slow: the
    ties are many). A NaN score may also give None: top_k_reader knows where NaN ranks.
    ``candidates``: (m,) int64 ascending unique indices that include every book scoring above
    zero (:meth:`~readcrumbs.recommenders.base.Recommender.reader_candidates`); only they are
    looked at. None looks at every book.
    """
    # Either way ascending, as the tie-break below needs.
    books = np.flatnonzero(scores > 0) if candidates is None else candidates
    values = scores[books]
    if len(values) < k or k == 0:
        return None
    kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th best score
    if not kth > 0:  # fewer than k books above zero
        return None
    chosen = books[values >= kth]  # ascending; exactly k unless books tie with the k-th
    if len(chosen) < k:  # NaN scores, which the partition puts above every number
        return None
    if len(chosen) > k:
        above = books[values > kth]
        # ``books`` is ascending, so the first tied books are the lowest-index ones, as in top_k.
        tied = books[values == kth][: k - len(above)]
        chosen = np.sort(np.concatenate([above, tied]))
    ranked: np.ndarray = chosen[np.argsort(-scores[chosen], kind="stable")]
    return ranked.astype(np.int64, copy=False)


def _finite(scores: np.ndarray) -> None:
    """NaN and -inf as the lowest finite float32, +inf as the highest, in place."""
    low, high = float(_FINITE.min), float(_FINITE.max)
    np.nan_to_num(scores, copy=False, nan=low, neginf=low, posinf=high)


def _ranked_at_least(scores: np.ndarray, kth: np.floating, k: int) -> np.ndarray:
    """The books scoring above ``kth`` and the lowest-index ones tied with it, k in all, best first."""
    above = np.flatnonzero(scores > kth)
    tied = np.flatnonzero(scores == kth)[: k - len(above)]
    chosen = np.sort(np.concatenate([above, tied]))
    # A stable sort keeps equal scores in ascending index order, as top_k does.
    return chosen[np.argsort(-scores[chosen], kind="stable")].astype(np.int64)


def favourites_matrix(
    favourite_indices: list[np.ndarray], n_books: int, signals: list[np.ndarray] | None = None
) -> sp.csr_matrix:
    """Rows of given books as (len(favourite_indices), n_books) float32 CSR.

    Each row's values are 1.0 (a favourite), or ``signals[row]`` (aligned with that row's
    indices: +1.0 for a favourite, negative for a dislike) when given. A book listed twice in a
    row keeps its first signal.
    """
    import scipy.sparse as sp

    rows_indices: list[np.ndarray] = []
    rows_values: list[np.ndarray] = []
    for row, indices in enumerate(favourite_indices):
        unique, first = np.unique(np.asarray(indices, dtype=np.int64), return_index=True)
        rows_indices.append(unique)
        values = np.ones(len(unique), dtype=np.float32)
        if signals is not None:
            values = np.asarray(signals[row], dtype=np.float32)[first]
        rows_values.append(values)
    indices = np.concatenate(rows_indices).astype(np.int32) if rows_indices else np.zeros(0, dtype=np.int32)
    data = np.concatenate(rows_values) if rows_values else np.zeros(0, dtype=np.float32)
    indptr = np.concatenate([[0], np.cumsum([len(row) for row in rows_indices])]).astype(np.int64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows_indices), n_books))
