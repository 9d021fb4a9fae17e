"""Sparse item-to-item weights, shared by item-kNN and EASE.

Both models score a reader as the sum of their favourites' rows of an item×item weight matrix
``W`` (n_books, n_books). Keeping only each row's ``neighbours`` largest weights makes the
artifact small (n_books × neighbours) and scoring a sparse product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

ROW_BLOCK = 1024


def keep_top_neighbours(weights: np.ndarray, neighbours: int) -> sp.csr_matrix:
    """Keep each row's ``neighbours`` largest positive weights.

    ``weights``: (n_books, n_books) float, diagonal already zero.
    Returns (n_books, n_books) float32 CSR with at most ``neighbours`` entries per row.
    """
    n_books = weights.shape[0]
    keep = min(neighbours, n_books - 1) if n_books > 1 else 0
    if keep <= 0:
        return sp.csr_matrix((n_books, n_books), dtype=np.float32)
    columns = np.zeros((n_books, keep), dtype=np.int32)
    values = np.zeros((n_books, keep), dtype=np.float32)
    # A block of rows at a time: argpartition of the whole (n_books, n_books) matrix would need
    # two more arrays of that size (the negated copy and int64 positions), 1.2 GB at 10k books.
    for start in range(0, n_books, ROW_BLOCK):
        block = weights[start : start + ROW_BLOCK]
        best = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        columns[start : start + len(block)] = best
        values[start : start + len(block)] = np.take_along_axis(block, best, axis=1)
    values[values < 0] = 0.0
    rows = np.repeat(np.arange(n_books), keep)
    matrix = sp.csr_matrix((values.ravel(), (rows, columns.ravel())), shape=(n_books, n_books))
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def pack(matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays for an ``.npz`` file."""
    return {
        "weights_data": matrix.data.astype(np.float32),
        "weights_indices": matrix.indices.astype(np.int32),
        "weights_indptr": matrix.indptr.astype(np.int64),
    }


def unpack(arrays: Mapping[str, np.ndarray]) -> sp.csr_matrix:
    """The CSR matrix that :func:`pack` stored."""
    n_books = len(arrays["weights_indptr"]) - 1
    return sp.csr_matrix(
        (arrays["weights_data"], arrays["weights_indices"], arrays["weights_indptr"]),
        shape=(n_books, n_books),
    )


def score_rows(weights: sp.csr_matrix, histories: sp.csr_matrix) -> np.ndarray:
    """``histories @ weights`` as a dense (n_readers, n_books) float32 array."""
    return np.asarray((histories @ weights).todense(), dtype=np.float32)


def explain_rows(weights: sp.csr_matrix, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
    """Weight of each favourite towards each shown book: (len(books), len(favourites)) float32."""
    return np.asarray(weights[favourites][:, books].T.todense(), dtype=np.float32)


class ItemWeightsModel:
    """What item-kNN and EASE share once fitted: scoring, explaining and saving ``weights``.

    Subclasses set ``params`` in ``__init__`` and ``weights`` (n_books, n_books) CSR in ``fit``.
    """

    params: dict[str, Any]

    def __init__(self) -> None:
        self.weights = sp.csr_matrix((0, 0), dtype=np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return score_rows(self.weights, histories)

    def explain(self, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
        return explain_rows(self.weights, favourites, books)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return pack(self.weights)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model.weights = unpack(arrays)
        return model
