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
    Returns (n_readers, min(k, n_books)) int64 book indices, best first. Ties break towards the
    lower index so results are deterministic.
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: the caller's scores stay untouched
    rows = np.repeat(np.arange(histories.shape[0]), np.diff(histories.indptr))
    scores[rows, histories.indices] = -np.inf
    n_books = scores.shape[1]
    k = min(k, n_books)
    if k == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    # lexsort: primary key last — score descending, then index ascending.
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    return np.take_along_axis(candidates, order, axis=1).astype(np.int64)


def favourites_matrix(favourite_indices: list[np.ndarray], n_books: int) -> sp.csr_matrix:
    """Rows of favourites as (len(favourite_indices), n_books) float32 CSR of ones."""
    rows = [np.unique(row) for row in favourite_indices]
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    indptr = np.concatenate([[0], np.cumsum([len(row) for row in rows])]).astype(np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_books))
