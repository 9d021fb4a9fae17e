"""The recommender interface every model type implements.

Models work on book *indices* ``0..n_books-1``; the artifact carries ``book_ids``
``(n_books,) int64`` that map an index back to the dataset's ``book_id``. A model is fitted on a
binary user×book matrix of likes and then scores any list of favourite books, including
readers it never saw (fold-in). Artifacts are plain arrays saved with ``np.savez`` and loaded with
``allow_pickle=False``: no pickles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, Self

import numpy as np
import scipy.sparse as sp


class Recommender(Protocol):
    """Fit on likes, score favourites, explain, and round-trip through arrays."""

    model_type: ClassVar[str]
    params: dict[str, Any]

    def fit(self, likes: sp.csr_matrix) -> None:
        """Learn from ``likes``: (n_users, n_books) float32 CSR, 1.0 where a user liked a book."""
        ...

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores of every book for each row of ``histories``.

        ``histories``: (n_readers, n_books) float32 CSR, 1.0 for each favourite.
        Returns (n_readers, n_books) float32; higher is better. Favourites are *not* masked.
        """
        ...

    def explain(self, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
        """How much each favourite contributed to each recommended book.

        ``favourites``: (n_favourites,) int book indices; ``books``: (n_books_shown,) int.
        Returns (n_books_shown, n_favourites) float32; larger means a stronger reason.
        """
        ...

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to score, as named numeric arrays."""
        ...

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_arrays`' output and its params."""
        ...
