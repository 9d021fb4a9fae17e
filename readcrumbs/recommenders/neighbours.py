"""Sparse item-to-item weights, shared by item-kNN and EASE.

Both models score a reader as the sum of their books' rows of an item×item weight matrix
``W`` (n_books, n_books), each row times the book's signal (+1 a favourite, negative a dislike).
Keeping only each row's ``neighbours`` largest weights makes the artifact small
(n_books × neighbours). ``W`` is held as the three plain CSR arrays, so that serving one reader
adds a few rows straight into one score vector with numpy alone; scipy is imported only for
training and batch scoring. The common case of serving (favourites and dislikes, no genres) is
one call of a small C kernel, :meth:`ItemWeights.rank_reader` (``readcrumbs/_item_weights.c``),
which ranks and explains exactly as the numpy path does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from readcrumbs.recommenders.base import FAVOURITE

try:
    from readcrumbs import _item_weights
except ImportError:  # installed where no C compiler was found: numpy ranks every reader
    _item_weights = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import scipy.sparse as sp

log = logging.getLogger(__name__)
ROW_BLOCK = 1024
# What the compiled kernel answers for one reader: (book, score, because) per shown book, best first.
Ranked = list[tuple[int, float, list[int]]]


def keep_top_neighbours(weights: np.ndarray, neighbours: int) -> sp.csr_matrix:
    """Keep each row's ``neighbours`` largest positive weights.

    ``weights``: (n_books, n_books) float, diagonal already zero.
    Returns (n_books, n_books) float32 CSR with at most ``neighbours`` entries per row.
    """
    import scipy.sparse as sp

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


class ItemWeights:
    """``W`` (n_books, n_books) as plain CSR arrays, rows' column indices ascending.

    ``indptr`` (n_books + 1,) int64, ``indices`` (nnz,) int32, ``data`` (nnz,) float32.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        self.n_books = len(self.indptr) - 1
        # The row starts as Python ints: slicing with them skips a numpy scalar per bound.
        self._starts: list[int] = self.indptr.tolist()

    @classmethod
    def from_csr(cls, matrix: sp.csr_matrix) -> ItemWeights:
        matrix = matrix.tocsr()
        matrix.sort_indices()
        return cls(matrix.indptr, matrix.indices, matrix.data)

    def to_csr(self) -> sp.csr_matrix:
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.n_books, self.n_books))

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """Σ signal[i] · W[books[i]]: (n_books,) float32.

        The rows go end to end into one ``np.add.at``, which adds them in that order: ``books``
        ascending (the interface's contract), the order in which scipy's product adds a CSR row's
        entries, so the sums are bit-for-bit the batch path's.
        """
        scores = np.zeros(self.n_books, dtype=np.float32)
        if len(books):
            columns, weights = self._rows(books, signal)
            np.add.at(scores, columns, weights)
        return scores

    def _rows(self, books: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``books`` end to end: (m,) int32 columns and (m,) float32 weights × signal."""
        starts, indices, data = self._starts, self.indices, self.data
        spans = [(starts[book], starts[book + 1]) for book in books.tolist()]
        columns = np.concatenate([indices[start:stop] for start, stop in spans])
        # A favourite's weight is 1: its row is taken as it is (x · 1 == x in float32).
        weights = np.concatenate(
            [
                data[start:stop] if value == FAVOURITE else np.float32(value) * data[start:stop]
                for (start, stop), value in zip(spans, signal.tolist(), strict=True)
            ]
        )
        return columns, weights

    def reader_candidates(self, books: np.ndarray) -> np.ndarray:
        """The books the rows of ``books`` reach: (m,) int64, ascending and unique.

        No other book's score can be anything but zero, whatever the signals.
        """
        starts, indices = self._starts, self.indices
        rows = [indices[starts[book] : starts[book + 1]] for book in books.tolist()]
        if len(rows) == 1:
            return rows[0].astype(np.int64)  # a row's indices are ascending and unique already
        if not rows:
            return np.zeros(0, dtype=np.int64)
        reached = np.sort(np.concatenate(rows))
        first = np.empty(len(reached), dtype=bool)  # each index's first place in the sorted run
        first[:1] = True
        np.not_equal(reached[1:], reached[:-1], out=first[1:])
        return reached[first].astype(np.int64)

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        """signal[i] · W[books[i], shown[j]] as (len(shown), len(books)) float32: each term of a score."""
        # Each book's row is scattered into a dense scratch row, read at the shown books, and
        # cleared again: four numpy calls a book, where searching the sparse row took six.
        starts, indices, data = self._starts, self.indices, self.data
        dense = np.zeros(self.n_books, dtype=np.float32)
        weights = np.empty((len(books), len(shown)), dtype=np.float32)
        for i, book in enumerate(books.tolist()):
            start, stop = starts[book], starts[book + 1]
            row = indices[start:stop]
            dense[row] = data[start:stop]
            weights[i] = dense[shown]
            dense[row] = 0.0
        weights *= signal[:, None]
        return weights.T.copy()

    def rank_reader(
        self, books: np.ndarray, signal: np.ndarray, hidden: np.ndarray, k: int, names: np.ndarray | None
    ) -> Ranked | None:
        """The ``k`` best books for one reader and each one's reasons, from the C kernel.

        ``books``: (n,) int64 unique indices, ascending; ``signal``: (n,) float32 (+1 a favourite,
        negative a dislike); ``hidden``: (h,) int64 indices never shown (the given books at least);
        ``names``: (n_books,) int64 index → the name to answer with (book_ids), or None for
        indices. Returns ``(book, score, because)`` for each of the k books, best first, exactly as
        :func:`readcrumbs.recommend.rank_reader`'s numpy path ranks and explains them; or None when
        that path must answer: fewer than ``k`` books score above zero, a score is NaN, or the
        kernel was not built.
        """
        if _item_weights is None:
            _warn_uncompiled()
            return None
        return _item_weights.rank(self.indptr, self.indices, self.data, books, signal, hidden, k, names)

    def pack(self) -> dict[str, np.ndarray]:
        """The arrays for an ``.npz`` file."""
        return {"weights_data": self.data, "weights_indices": self.indices, "weights_indptr": self.indptr}

    @classmethod
    def unpack(cls, arrays: Mapping[str, np.ndarray]) -> ItemWeights:
        """The weights that :meth:`pack` stored."""
        return cls(arrays["weights_indptr"], arrays["weights_indices"], arrays["weights_data"])


@functools.cache
def _warn_uncompiled() -> None:
    log.warning("readcrumbs._item_weights was not built (no C compiler at install): numpy ranks every reader")


_EMPTY = ItemWeights(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class ItemWeightsModel:
    """What item-kNN and EASE share once fitted: scoring, explaining and saving ``weights``.

    Subclasses set ``params`` in ``__init__`` and ``weights`` (n_books, n_books) CSR in ``fit``.
    """

    params: dict[str, Any]

    def __init__(self) -> None:
        self.item_weights = _EMPTY

    @property
    def weights(self) -> sp.csr_matrix:
        """``W`` as a scipy CSR matrix (training and batch scoring only)."""
        return self.item_weights.to_csr()

    @weights.setter
    def weights(self, matrix: sp.csr_matrix) -> None:
        self.item_weights = ItemWeights.from_csr(matrix)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        """``histories @ W`` as a dense (n_readers, n_books) float32 array."""
        return np.asarray((histories.astype(np.float32) @ self.weights).todense(), dtype=np.float32)

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        return self.item_weights.score_reader(books, signal)

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray | None:
        return self.item_weights.reader_candidates(books)

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        return self.item_weights.explain_reader(books, signal, shown)

    def rank_reader(
        self, books: np.ndarray, signal: np.ndarray, hidden: np.ndarray, k: int, names: np.ndarray | None
    ) -> Ranked | None:
        return self.item_weights.rank_reader(books, signal, hidden, k, names)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return self.item_weights.pack()

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model.item_weights = ItemWeights.unpack(arrays)
        return model
