"""EASE: the closed-form shallow autoencoder of Steck (2019), "Embarrassingly Shallow Autoencoders".

``B = I - P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹`` and ``diag(B) = 0``; a reader's
scores are ``x · B`` for their favourites ``x``. Readers the model never saw need no fold-in.
Only each book's ``neighbours`` largest weights are kept, so the artifact stays small
(10,000 books × 256 neighbours ≈ 20 MiB) and scoring is a sparse product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from readcrumbs.recommenders import neighbours as nb


class EASE:
    """Params: ``l2`` (λ, default 500) and ``neighbours`` (weights kept per book, default 256)."""

    model_type: ClassVar[str] = "ease"

    def __init__(self, l2: float = 500.0, neighbours: int = 256) -> None:
        self.params: dict[str, Any] = {"l2": float(l2), "neighbours": int(neighbours)}
        self.weights = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, likes: sp.csr_matrix) -> None:
        likes = likes.astype(np.float64)
        gram = np.asarray((likes.T @ likes).todense())  # (n_books, n_books) float64
        gram[np.diag_indices_from(gram)] += self.params["l2"]
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / -np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        self.weights = nb.keep_top_neighbours(weights, self.params["neighbours"])

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return nb.score_rows(self.weights, histories)

    def explain(self, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
        return nb.explain_rows(self.weights, favourites, books)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return nb.pack(self.weights)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model.weights = nb.unpack(arrays)
        return model
