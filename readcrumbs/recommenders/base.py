"""The recommender interface every model type implements.

Models work on book *indices* ``0..n_books-1``; the artifact carries ``book_ids``
``(n_books,) int64`` that map an index back to the dataset's ``book_id``. A model is fitted on a
binary user×book matrix of likes and then scores any reader's books, including readers it never
saw (fold-in). Artifacts are plain arrays saved with ``np.savez`` and loaded with
``allow_pickle=False``: no pickles.

Two ways to score, which must rank identically:

* **one reader** (serving): :meth:`Recommender.score_reader` and
  :meth:`Recommender.explain_reader` take the reader's books and a *signal* per book, +1.0 for
  a favourite and negative for a dislike, and use numpy only (no scipy, pandas or pyarrow on the
  serving path);
* **a batch** (offline evaluation): :meth:`Recommender.score` takes a CSR whose values carry the
  same signal, one row per reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags

FAVOURITE = 1.0
# A dislike counts against the books like it as strongly as a favourite counts for them.
DISLIKE = -1.0


def reader_key(books: np.ndarray, signal: np.ndarray) -> bytes:
    """The bytes of one reader's books and signals: what a model's per-reader work depends on.

    Serving scores a reader and then explains the same reader; a model that keeps its last
    reader's intermediate results under this key need not compute them twice.
    """
    return np.asarray(books, dtype=np.int64).tobytes() + np.asarray(signal, dtype=np.float32).tobytes()


class Recommender(Protocol):
    """Fit on likes, score a reader or a batch, explain a reader's list, round-trip through arrays."""

    model_type: ClassVar[str]
    params: dict[str, Any]

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        """Learn from ``likes``: (n_users, n_books) float32 CSR, 1.0 where a user liked a book.

        ``book_tags``: the books' shelf tags, side information for the models whose parameters
        ask for it (``tag_weight``); the others ignore it.
        """
        ...

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores of every book for each row of ``histories``.

        ``histories``: (n_readers, n_books) float32 CSR, the signal of each book a reader gave
        (1.0 a favourite, negative a dislike). Returns (n_readers, n_books) float32; higher is
        better. Given books are *not* masked.
        """
        ...

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """One reader's scores: the row :meth:`score` gives for the same books and signal.

        ``books``: (n,) int64 unique book indices, ascending; ``signal``: (n,) float32, +1.0 for a favourite,
        negative for a dislike. Returns (n_books,) float32, a new array the caller may overwrite;
        given books are *not* masked.
        """
        ...

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray | None:
        """The only books that can score above zero for this reader, or None for any book.

        ``books``, ``signal`` as in :meth:`score_reader`. Returns (m,) int64 book indices,
        ascending and unique, a superset of the books :meth:`score_reader` scores above zero;
        serving ranks among these instead of scanning every book.
        """
        ...

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        """Each input book's share of each shown book's score.

        ``books``, ``signal`` as in :meth:`score_reader`; ``shown``: (m,) int64 book indices.
        Returns (m, n) float32: entry (j, i) is book i's term in shown book j's score (a row sums
        to the score where the model's score is a sum over the reader's books; zeros where the
        model ignores them). Larger means a stronger reason.
        """
        ...

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to score, as named numeric arrays."""
        ...

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_arrays`' output and its params."""
        ...
