"""RP3beta: a three-step random walk book → reader → book, damped by popularity.

Paudel, Christoffel, Newell & Bernstein (2017), "Updatable, Accurate, Diverse, and Scalable
Recommendations for Interactive Applications" (ACM TiiS), and the strong, simple baseline of
Ferrari Dacrema, Cremonesi & Jannach (2019), "Are We Really Making Much Progress?" (RecSys).
With ``P_ub`` the likes with each reader's row summing to 1 and ``P_bu`` the transpose with each
book's row summing to 1, both raised element-wise to ``alpha``:

    W = P_bu · P_ub,   W[:, j] /= popularity_j ** beta

``W[i, j]`` is the probability that a walk from book i through one of its readers lands on book
j, divided by j's popularity to the power ``beta`` so the walk does not end on best-sellers only.
Each book keeps its ``neighbours`` largest weights, as for EASE and item-kNN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from readcrumbs.recommenders import neighbours as nb

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


def row_stochastic(matrix: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Rows scaled to sum to 1, then raised element-wise to ``alpha``: same shape, float32 CSR."""
    import scipy.sparse as sp  # training only: serving imports numpy alone

    matrix = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    sums = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    sums[sums == 0] = 1.0
    matrix.data /= np.repeat(sums, np.diff(matrix.indptr)).astype(np.float32)
    matrix.data **= np.float32(alpha)
    return matrix


class RP3Beta(nb.ItemWeightsModel):
    """Params: ``alpha`` (walk sharpening, default 1), ``beta`` (popularity damping), ``neighbours``."""

    model_type: ClassVar[str] = "rp3beta"

    def __init__(self, alpha: float = 1.0, beta: float = 0.5, neighbours: int = 256) -> None:
        self.params: dict[str, Any] = {
            "alpha": float(alpha),
            "beta": float(beta),
            "neighbours": int(neighbours),
        }
        super().__init__()

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        import scipy.sparse as sp

        likes = sp.csr_matrix(likes, dtype=np.float32)
        likes.data = np.abs(likes.data)  # a walk follows any rating; signs mean nothing to it
        reader_to_book = row_stochastic(likes, self.params["alpha"])  # (n_users, n_books)
        book_to_reader = row_stochastic(likes.T.tocsr(), self.params["alpha"])  # (n_books, n_users)
        walks = np.asarray((book_to_reader @ reader_to_book).toarray(), dtype=np.float32)
        popularity = np.asarray((likes > 0).sum(axis=0), dtype=np.float64).ravel()
        damping = np.power(np.maximum(popularity, 1.0), -self.params["beta"]).astype(np.float32)
        walks *= damping  # column j scaled by popularity_j ** −beta
        np.fill_diagonal(walks, 0.0)
        self.weights = nb.keep_top_neighbours(walks, self.params["neighbours"])
