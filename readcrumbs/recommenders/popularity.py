"""The popularity baseline: every reader gets the most liked books."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


class Popularity:
    """Scores each book by how many training readers liked it.

    It ignores the reader's books, favourites and dislikes alike (they are still never shown:
    ranking masks them), so no book is ever a reason.
    """

    model_type: ClassVar[str] = "popularity"

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(params)
        self.likes_per_book = np.zeros(0, dtype=np.float32)

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        self.likes_per_book = np.asarray(likes.sum(axis=0), dtype=np.float32).ravel()

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.likes_per_book, (histories.shape[0], 1))

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        return self.likes_per_book.copy()

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> None:
        return None  # every book liked at least once scores above zero

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        return np.zeros((len(shown), len(books)), dtype=np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"likes_per_book": self.likes_per_book}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model.likes_per_book = np.asarray(arrays["likes_per_book"], dtype=np.float32)
        return model
