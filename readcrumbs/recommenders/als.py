"""ALS: implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) via ``implicit``.

Training uses the ``implicit`` library; scoring does not need it (nor scipy). A reader the model
never saw is folded in by the least-squares step that ``implicit`` itself uses for a user
(``recalculate_user``), with ``implicit``'s convention for negative entries: a book with signal
``s`` has confidence ``c = alpha·|s|`` and preference ``p = 1`` if ``s > 0`` else ``p = 0``. With
item factors ``Y`` (n_books, n_factors):

    (YᵀY + λI + Σ_books (c − 1) y yᵀ) u = Σ_books c p y

and the scores are ``Y u``. A favourite pulls ``u`` towards its factors; a dislike is a confident
"not this one" (preference 0 with weight ``alpha·|s|``, where an unread book has weight 1), which
pushes ``u`` away from it and so lowers the books whose factors agree with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from readcrumbs.recommenders.base import reader_key

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


class ALS:
    """Params: ``factors``, ``regularization`` (λ), ``alpha`` (confidence), ``iterations``, ``seed``."""

    model_type: ClassVar[str] = "als"

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 42,
    ) -> None:
        self.params: dict[str, Any] = {
            "factors": int(factors),
            "regularization": float(regularization),
            "alpha": float(alpha),
            "iterations": int(iterations),
            "seed": int(seed),
        }
        self._set_item_factors(np.zeros((0, factors), dtype=np.float32))  # (n_books, n_factors)

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit parallelises over users itself; a threaded BLAS underneath only contends. The
        # model is built inside the limit too: its constructor warns when BLAS is threaded.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.params["factors"],
                regularization=self.params["regularization"],
                alpha=self.params["alpha"],
                iterations=self.params["iterations"],
                random_state=self.params["seed"],
                calculate_training_loss=False,
            )
            model.fit(likes.astype(np.float32).tocsr(), show_progress=False)
        self._set_item_factors(np.asarray(model.item_factors, dtype=np.float32))

    def _set_item_factors(self, item_factors: np.ndarray) -> None:
        # The last reader's fold-in, (key, W_u, w): serving scores a reader, then explains them.
        self._last_fold_in: tuple[bytes, np.ndarray, np.ndarray] = (b"", np.zeros((0, 0)), np.zeros(0))
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)  # Y (n_books, n_factors)
        factors = self.item_factors.astype(np.float64)
        # YᵀY, (n_factors, n_factors) float64: Σ_books (y·u)² = uᵀ(YᵀY)u, every book's square at once.
        self._factor_gram = factors.T @ factors
        gram = self._factor_gram + self.params["regularization"] * np.eye(factors.shape[1])
        # Y (YᵀY + λI)⁻¹, (n_books, n_factors) float64: what every fold-in needs (see fold_in_reader).
        self._solved_factors = np.linalg.solve(gram, factors.T).T.copy() if len(factors) else factors

    def _fold_in_weights(self, books: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W_u`` (n, n_factors) float64 and the weights ``w`` (n,) float64 with ``u = W_uᵀ w``.

        The normal equations (A + Y_uᵀ D Y_u) u = Y_uᵀ b, with A = YᵀY + λI shared by every
        reader, Y_u the books' factors (n, n_factors), D = diag(c − 1) and b = c·p, are solved
        through the push-through identity (A + Y_uᵀ D Y_u)⁻¹ Y_uᵀ = W_uᵀ (I + D Y_u W_uᵀ)⁻¹ with
        W_u = Y_u A⁻¹ (rows of the precomputed ``Y A⁻¹``): an n-sized solve per reader instead of
        an n_factors-sized one, and no temporary larger than n × n_factors. The last reader's
        result is kept (one tuple, assigned at once, so concurrent readers never mix), since
        serving asks for it twice: to score and to explain.
        """
        key = reader_key(books, signal)
        last_key, last_solved, last_weights = self._last_fold_in
        if key == last_key:
            return last_solved, last_weights
        confidence = self.params["alpha"] * np.abs(signal.astype(np.float64))
        target = np.where(signal > 0, confidence, 0.0)  # b = c·p
        solved = self._solved_factors[books]  # W_u: (n, n_factors)
        coupling = (confidence - 1.0)[:, None] * (solved @ self.item_factors[books].T.astype(np.float64))
        coupling.flat[:: len(books) + 1] += 1.0  # + I (np.diag_indices_from costs more than the add)
        weights = np.linalg.solve(coupling, target)
        self._last_fold_in = (key, solved, weights)
        return solved, weights

    def fold_in_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """The reader factors ``u`` for these books and signals: (n_factors,) float32."""
        if len(books) == 0:
            return np.zeros(self.item_factors.shape[1], dtype=np.float32)
        solved, weights = self._fold_in_weights(books, signal)
        return np.asarray(solved.T @ weights, dtype=np.float32)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """Reader factors for each row of ``histories`` (values: signals): (n_readers, n_factors) float32."""
        readers = np.zeros((histories.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        for row in range(histories.shape[0]):
            start, stop = histories.indptr[row], histories.indptr[row + 1]
            books = histories.indices[start:stop].astype(np.int64)
            readers[row] = self.fold_in_reader(books, histories.data[start:stop].astype(np.float32))
        return readers

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        scores: np.ndarray = self.item_factors @ self.fold_in_reader(books, signal)
        return scores

    def scores_and_square_sum(
        self, books: np.ndarray, signal: np.ndarray, columns: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """The reader's scores of ``columns`` only, ``Y[columns] u`` ((m,) float32), and the sum of
        every book's squared score, ``uᵀ(YᵀY)u``, without scoring every book.

        ``columns``: (m,) int64 book indices. Reads m books' factors instead of every book's:
        a blend that ranks only its item-item parts' books needs no more (blend.py). Gathering
        scattered rows costs about 3.5× as much per book as streaming all of them (ALS-128 on
        goodbooks-10k: 137 µs for 1,884 books, 209 µs for all 10,000), so from a quarter of the
        catalogue on every book is scored and the columns picked out.
        """
        reader = self.fold_in_reader(books, signal)
        wide = reader.astype(np.float64)
        square_sum = max(float(wide @ self._factor_gram @ wide), 0.0)
        if 4 * len(columns) < len(self.item_factors):
            return self.item_factors[columns] @ reader, square_sum
        scores: np.ndarray = self.item_factors @ reader
        return scores[columns], square_sum

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> None:
        return None  # factors reach every book

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        # Y u = Σ_i w_i (Y A⁻¹ y_i): book i's term in shown book j's score is w_i · (W_u[i] · y_j).
        if len(books) == 0:
            return np.zeros((len(shown), 0), dtype=np.float32)
        solved, weights = self._fold_in_weights(books, signal)
        return np.asarray(
            (self.item_factors[shown].astype(np.float64) @ solved.T) * weights, dtype=np.float32
        )

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        # Reader by reader through score_reader, so a batch row is bit-for-bit the served scores
        # (a matrix product would sum in another order and could swap near-ties).
        scores = np.zeros((histories.shape[0], self.item_factors.shape[0]), dtype=np.float32)
        for row in range(histories.shape[0]):
            start, stop = histories.indptr[row], histories.indptr[row + 1]
            books = histories.indices[start:stop].astype(np.int64)
            if len(books):
                scores[row] = self.score_reader(books, histories.data[start:stop].astype(np.float32))
        return scores

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        model = cls(**params)
        model._set_item_factors(np.asarray(arrays["item_factors"], dtype=np.float32))
        return model
