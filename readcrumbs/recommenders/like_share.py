"""A prior on how well liked each book is: the same score for every reader, for blends.

The item-item parts and ALS learn which books a reader will *read*: they train on every rating of
3 stars or more. The product's protocols count what a reader *liked* (4 or 5 stars), and among
books equally likely to be read, the ones most readers end up liking are the better bet. Goodreads
counts each book's ratings by stars (books.csv ``ratings_1`` … ``ratings_5``); the share of 4 and
5 stars, z-scored over the catalogue, is this model's score for every book and every reader.

Alone it ignores the reader (like :class:`~readcrumbs.recommenders.popularity.Popularity`); as a
part of a blend, within reach, it re-ranks the books the item-item parts found. The counts are
Goodreads' (millions of readers), so each book's share is far less noisy than one from our own
training readers (a median of 73 ratings per book), which helped less on validation
(experiments/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


def standard_scores(shares: np.ndarray) -> np.ndarray:
    """``shares`` (n_books,) as z-scores over the books where it is known: (n_books,) float32.

    A book of unknown share (NaN) scores 0, the mean; all zeros when no share is known or all
    are equal. The root mean square over the catalogue is then at most 1 (exactly 1 when every
    share is known), so a blend's per-reader scale treats it like any other part.
    """
    values = np.asarray(shares, dtype=np.float64)
    known = np.isfinite(values)
    scores = np.zeros(len(values), dtype=np.float32)
    if known.any():
        spread = float(values[known].std())
        if spread > 0.0:
            scores[known] = (values[known] - values[known].mean()) / spread
    return scores


class LikeShare:
    """Scores each book by its share of 4- and 5-star Goodreads ratings (z-scored).

    It ignores the reader's books (they are still never shown: ranking masks them), so no book is
    ever a reason, and it explains nothing in a blend: the reasons stay the favourites'.
    """

    model_type: ClassVar[str] = "likeshare"

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(params)
        self.prior = np.zeros(0, dtype=np.float32)  # (n_books,) z-scored like shares
        self.square_sum = 0.0  # Σ prior², what a blend's scale needs, computed once

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        """Reads ``book_tags.like_share``; ``likes`` only gives the catalogue's size.

        Raises ValueError without like shares, or when they cover another catalogue.
        """
        shares = None if book_tags is None else book_tags.like_share
        if shares is None:
            raise ValueError("likeshare needs the books' like shares (a data version with like_share)")
        if len(shares) != likes.shape[1]:
            raise ValueError(f"the like shares cover {len(shares)} books, the likes {likes.shape[1]}")
        self._set(standard_scores(shares))

    def _set(self, prior: np.ndarray) -> None:
        prior.flags.writeable = False  # shared by every reader's scores: never written through
        self.prior = prior
        self.square_sum = float(np.dot(prior.astype(np.float64), prior.astype(np.float64)))

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.prior, (histories.shape[0], 1))

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        return self.prior.copy()

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> None:
        return None  # every book scores, above or below the mean

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        return np.zeros((len(shown), len(books)), dtype=np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"prior": self.prior}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model._set(np.array(arrays["prior"], dtype=np.float32))
        return model
