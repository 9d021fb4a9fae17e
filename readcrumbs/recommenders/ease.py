"""EASE: the closed-form shallow autoencoder of Steck (2019), "Embarrassingly Shallow Autoencoders".

``B = I - P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹`` and ``diag(B) = 0``; a reader's
scores are ``x · B`` for their favourites ``x``. Readers the model never saw need no fold-in.
Only each book's ``neighbours`` largest weights are kept, so the artifact stays small
(10,000 books × 256 neighbours ≈ 20 MiB) and scoring is a sparse product.

With ``tag_weight`` α > 0 the books' shelf tags join the readers as side information:
``XᵀX + α · FᵀF`` replaces ``XᵀX`` (:mod:`readcrumbs.recommenders.side_information`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from readcrumbs.recommenders import neighbours as nb

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


class EASE(nb.ItemWeightsModel):
    """Params: ``l2`` (λ, default 500), ``neighbours`` (weights kept per book, default 256) and
    ``tag_weight`` (α of the books' tags, default 0: none)."""

    model_type: ClassVar[str] = "ease"

    def __init__(self, l2: float = 500.0, neighbours: int = 256, tag_weight: float = 0.0) -> None:
        self.params: dict[str, Any] = {
            "l2": float(l2),
            "neighbours": int(neighbours),
            "tag_weight": float(tag_weight),
        }
        super().__init__()

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        from readcrumbs.recommenders.side_information import side_gram  # training only: scipy

        side = side_gram(book_tags, self.params["tag_weight"], likes.shape[1])
        precision = regularized_inverse(likes, self.params["l2"], side)
        # B = I - P · diag(1/diag(P)), in place: (n_books, n_books) is the one big array.
        precision /= -np.diag(precision)
        np.fill_diagonal(precision, 0.0)
        self.weights = nb.keep_top_neighbours(precision, self.params["neighbours"])


def regularized_inverse(
    likes: sp.csr_matrix, l2: float | np.ndarray, side: np.ndarray | None = None
) -> np.ndarray:
    """``(XᵀX + S + Λ)⁻¹`` for ``likes`` X (n_users, n_books): (n_books, n_books) float32, symmetric.

    ``l2``: λ, a scalar (Λ = λI) or one penalty per book, (n_books,) (Λ = diagMat(l2); EDLAE).
    ``side``: S, the side information's Gram term (n_books, n_books) float32, or None.

    XᵀX + λI is symmetric positive definite, so a Cholesky factorisation and its inverse
    (LAPACK potrf/potri) replace a general inverse: in float32 about 2.5× faster than
    ``scipy.linalg.inv`` in float64 and half the memory, with a relative error near 1e-6, far
    below what moves a top-k ranking. ``l2`` must be > 0.
    """
    import scipy.linalg  # training only: serving imports numpy alone

    gram = np.asarray((likes.T @ likes).toarray(), dtype=np.float32)  # (n_books, n_books)
    if side is not None:
        gram += side
    gram[np.diag_indices_from(gram)] += np.asarray(l2, dtype=np.float32)
    factor, info = scipy.linalg.lapack.spotrf(gram, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"XᵀX + λI is not positive definite (potrf info={info}); raise l2")
    inverse, info = scipy.linalg.lapack.spotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"cannot invert XᵀX + λI (potri info={info})")
    mirror_lower_triangle(inverse)
    return np.asarray(inverse, dtype=np.float32)


def mirror_lower_triangle(matrix: np.ndarray, block: int = 1024) -> None:
    """Copy the lower triangle of square ``matrix`` onto its upper triangle, in place.

    potri fills only the lower triangle. Going a block of rows at a time keeps the extra memory
    at (block, n) instead of the n² temporaries of ``tril + tril.T`` or triangle indices.
    """
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        diagonal = matrix[start:stop, start:stop]
        diagonal[np.triu_indices(stop - start, k=1)] = diagonal.T[np.triu_indices(stop - start, k=1)]
        matrix[start:stop, stop:] = matrix[stop:, start:stop].T
