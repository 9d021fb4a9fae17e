"""EDLAE and DLAE: EASE with a dropout-emphasised diagonal penalty, still one closed-form solve.

Steck (2020), "Autoencoders that don't overfit towards the identity" (NeurIPS), shows that
training a linear autoencoder with dropout (probability ``p``) on its input is, in expectation,
a ridge penalty that grows with each book's popularity:

    Λ = λI + p / (1 − p) · diagMat(diag(XᵀX))

so popular books, whose self-similarity dominates XᵀX, are kept from explaining themselves and
must be predicted from the other books. With ``P = (XᵀX + Λ)⁻¹``:

- ``zero_diagonal = true`` (EDLAE, "emphasised" denoising): EASE's constraint ``diag(B) = 0``
  is kept, so ``B = I − P · diagMat(1 / diag(P))``; with ``dropout = 0`` this is EASE exactly.
- ``zero_diagonal = false`` (DLAE, Moon, Kim & Lee 2023, "It's Enough: Relaxing Diagonal
  Constraints in Linear Autoencoders for Recommendation", SIGIR): no constraint, and
  ``B = I − P Λ``. The diagonal is dropped afterwards; it only scores a reader's own favourites,
  which are never shown.

As for EASE, only each book's ``neighbours`` largest weights are kept, and ``tag_weight`` α > 0
adds the books' shelf tags as side information (``XᵀX + α · FᵀF``,
:mod:`readcrumbs.recommenders.side_information`). The tag rows are inputs like the readers', so
the dropout penalty is taken from the diagonal of that sum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from readcrumbs.recommenders import neighbours as nb
from readcrumbs.recommenders.ease import regularized_inverse

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


def dropout_penalty(
    likes: sp.csr_matrix, l2: float, dropout: float, side: np.ndarray | None = None
) -> np.ndarray:
    """Λ's diagonal for ``likes`` X (n_users, n_books): (n_books,) float32, λ + p/(1−p) · diag(XᵀX + S).

    ``side``: S, the side information's Gram term (n_books, n_books), or None.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    self_similarity = np.asarray(likes.multiply(likes).sum(axis=0), dtype=np.float64).ravel()
    if side is not None:
        self_similarity += np.diag(side)
    return np.asarray(l2 + dropout / (1.0 - dropout) * self_similarity, dtype=np.float32)


class EDLAE(nb.ItemWeightsModel):
    """Params: ``l2`` (λ), ``dropout`` (p in [0, 1)), ``zero_diagonal`` (EDLAE or DLAE),
    ``neighbours`` and ``tag_weight`` (α of the books' tags, default 0: none)."""

    model_type: ClassVar[str] = "edlae"

    def __init__(
        self,
        l2: float = 100.0,
        dropout: float = 0.1,
        zero_diagonal: bool = True,
        neighbours: int = 256,
        tag_weight: float = 0.0,
    ) -> None:
        self.params: dict[str, Any] = {
            "l2": float(l2),
            "dropout": float(dropout),
            "zero_diagonal": bool(zero_diagonal),
            "neighbours": int(neighbours),
            "tag_weight": float(tag_weight),
        }
        super().__init__()

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        from readcrumbs.recommenders.side_information import side_gram  # training only: scipy

        side = side_gram(book_tags, self.params["tag_weight"], likes.shape[1])
        penalty = dropout_penalty(likes, self.params["l2"], self.params["dropout"], side)  # (n_books,)
        precision = regularized_inverse(likes, penalty, side)  # P: (n_books, n_books)
        # In place, column j scaled: −P_ij / P_jj (EDLAE) or −P_ij Λ_jj (DLAE); B = I + that.
        if self.params["zero_diagonal"]:
            precision /= -np.diag(precision)
        else:
            precision *= -penalty
        np.fill_diagonal(precision, 0.0)
        self.weights = nb.keep_top_neighbours(precision, self.params["neighbours"])
