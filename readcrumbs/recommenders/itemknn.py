"""Item-kNN baseline: cosine similarity between books' sets of readers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from readcrumbs.recommenders import neighbours as nb

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


class ItemKNN(nb.ItemWeightsModel):
    """Scores a book by the summed cosine similarity to each favourite.

    Params: ``neighbours`` (int, default 200) — similar books kept per book;
    ``shrink`` (float, default 10) — added to the cosine's denominator so that books with few
    readers in common do not look alike by chance.
    """

    model_type: ClassVar[str] = "itemknn"

    def __init__(self, neighbours: int = 200, shrink: float = 10.0) -> None:
        self.params: dict[str, Any] = {"neighbours": int(neighbours), "shrink": float(shrink)}
        super().__init__()

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        likes = likes.astype(np.float32)
        co_likes = np.asarray((likes.T @ likes).todense(), dtype=np.float32)  # (n_books, n_books)
        norms = np.sqrt(np.diag(co_likes))
        denominator = np.outer(norms, norms) + self.params["shrink"]
        # A book nobody liked in training has norm 0: with shrink 0 its cosine would be 0/0 = NaN,
        # and a NaN weight turns every score it touches into NaN.
        cosine = np.divide(co_likes, denominator, out=np.zeros_like(co_likes), where=denominator > 0)
        np.fill_diagonal(cosine, 0.0)
        self.weights = nb.keep_top_neighbours(cosine, self.params["neighbours"])
