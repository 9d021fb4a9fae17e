"""Turning scores into a ranked list: the one place that decides what a reader is shown.

Serving and offline evaluation both rank through :func:`top_k`, so what ``/predict`` returns is
exactly what was evaluated.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def top_k(scores: np.ndarray, histories: sp.csr_matrix, k: int) -> np.ndarray:
    """The ``k`` best books per reader, never one of their own favourites.

    ``scores``: (n_readers, n_books) float; ``histories``: (n_readers, n_books) CSR of favourites.
    Returns (n_readers, k') int64 book indices, best first, where
    k' = min(k, n_books − the most favourites any reader has), so that no list has to be
    padded with a favourite. Ties break towards the lower index so results are deterministic;
    NaN and infinite scores rank as the lowest and highest finite scores.
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: the caller's scores stay untouched
    if not np.isfinite(scores).all():
        # Only favourites may be -inf below, so that no other book can tie with them.
        finite = np.finfo(np.float32)
        np.nan_to_num(
            scores, copy=False, nan=float(finite.min), neginf=float(finite.min), posinf=float(finite.max)
        )
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


def favourites_matrix(favourite_indices: list[np.ndarray], n_books: int) -> sp.csr_matrix:
    """Rows of favourites as (len(favourite_indices), n_books) float32 CSR of ones."""
    rows = [np.unique(row) for row in favourite_indices]
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    indptr = np.concatenate([[0], np.cumsum([len(row) for row in rows])]).astype(np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_books))
