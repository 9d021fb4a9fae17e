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

The C kernel ``readcrumbs/_factors.c``, when it was built, folds readers in, scores and explains
for batches and serving alike, summing each book's ``y·u`` in one fixed order, so that a book
scores the same bits in both. Serving then finds a reader's k best books while scoring only a
few of them exactly (:meth:`ALS.rank_reader`): int8 copies of the factors
(:class:`FactorCodes`) bound every book's score, and rule out the books that cannot rank.
Without the kernel, numpy does all of it and serving scores every book.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self

import numpy as np

from readcrumbs.recommenders.base import reader_key

try:
    from readcrumbs import _factors
except ImportError:  # built without a C compiler: numpy scores every book
    _factors = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags


log = logging.getLogger(__name__)


class FactorCodes(NamedTuple):
    """Item factors ``Y`` as int8 codes ``q`` with a scale ``s`` per book, ``y ≈ s·q`` to within
    ``s/2`` a factor: what ``_factors.rank`` reads to bound every book's score (a quarter of
    ``Y``'s bytes) before it scores exactly the few that can rank."""

    codes: np.ndarray  # (n_books, n_factors) int8, q = round(y / s)
    bounds: np.ndarray  # (3, n_books) float64, rows s = max|y| / 127 (0 for a row of zeros), s·‖q‖₂, ‖y‖₂


def factor_codes(item_factors: np.ndarray) -> FactorCodes | None:
    """The codes of ``item_factors`` ((n_books, n_factors) float32, C order); None without the
    kernel, or when a factor is not finite (numpy then scores every book, and says what is NaN)."""
    if _factors is None or not np.isfinite(item_factors).all():
        return None
    codes = np.empty(item_factors.shape, dtype=np.int8)
    bounds = np.empty((3, len(item_factors)), dtype=np.float64)
    _factors.encode(item_factors, codes, bounds)
    return FactorCodes(codes, bounds)


@functools.cache
def _warn_uncompiled() -> None:
    log.warning("readcrumbs._factors was not built (no C compiler at install): numpy scores ALS readers")


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
        # The last reader's fold-in, (key, w, u): serving scores a reader, then explains them.
        self._last_fold_in: tuple[bytes, np.ndarray, np.ndarray] = (b"", np.zeros(0), np.zeros(0))
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)  # Y (n_books, n_factors)
        factors = self.item_factors.astype(np.float64)
        # YᵀY, (n_factors, n_factors) float64: Σ_books (y·u)² = uᵀ(YᵀY)u, every book's square at once.
        self._factor_gram = factors.T @ factors
        gram = self._factor_gram + self.params["regularization"] * np.eye(factors.shape[1])
        # Y (YᵀY + λI)⁻¹, (n_books, n_factors) float64: what every fold-in needs (see _fold_in).
        self._solved_factors = np.linalg.solve(gram, factors.T).T.copy() if len(factors) else factors
        self._codes = factor_codes(self.item_factors)

    def _fold_in(self, books: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weights ``w`` ((n,) float64) and reader factors ``u = W_uᵀ w`` ((n_factors,) float32).

        The normal equations (A + Y_uᵀ D Y_u) u = Y_uᵀ b, with A = YᵀY + λI shared by every
        reader, Y_u the books' factors (n, n_factors), D = diag(c − 1) and b = c·p, are solved
        through the push-through identity (A + Y_uᵀ D Y_u)⁻¹ Y_uᵀ = W_uᵀ (I + D Y_u W_uᵀ)⁻¹ with
        W_u = Y_u A⁻¹ (rows of the precomputed ``Y A⁻¹``): an n-sized solve per reader instead of
        an n_factors-sized one, and no temporary larger than n × n_factors. The kernel solves it
        when built (numpy when it finds the system singular, so that numpy's error says so). The
        last reader's result is kept (one tuple, assigned at once, so concurrent readers never
        mix), since serving asks for it twice: to score and to explain.
        """
        key = reader_key(books, signal)
        last_key, last_weights, last_reader = self._last_fold_in
        if key == last_key:
            return last_weights, last_reader
        weights = np.empty(len(books), dtype=np.float64)
        reader = np.empty(self.item_factors.shape[1], dtype=np.float32)
        alpha = self.params["alpha"]
        if _factors is None or not _factors.fold_in(
            self._solved_factors,
            self.item_factors,
            books.astype(np.int64, copy=False),
            signal.astype(np.float32, copy=False),
            alpha,
            weights,
            reader,
        ):
            confidence = alpha * np.abs(signal.astype(np.float64))
            target = np.where(signal > 0, confidence, 0.0)  # b = c·p
            solved = self._solved_factors[books]  # W_u: (n, n_factors)
            coupling = (confidence - 1.0)[:, None] * (solved @ self.item_factors[books].T.astype(np.float64))
            coupling.flat[:: len(books) + 1] += 1.0  # + I (np.diag_indices_from costs more than the add)
            weights = np.linalg.solve(coupling, target)
            reader = np.asarray(solved.T @ weights, dtype=np.float32)
        self._last_fold_in = (key, weights, reader)
        return weights, reader

    def fold_in_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """The reader factors ``u`` for these books and signals: (n_factors,) float32."""
        if len(books) == 0:
            return np.zeros(self.item_factors.shape[1], dtype=np.float32)
        return self._fold_in(books, signal)[1]

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """Reader factors for each row of ``histories`` (values: signals): (n_readers, n_factors) float32."""
        readers = np.zeros((histories.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        for row in range(histories.shape[0]):
            start, stop = histories.indptr[row], histories.indptr[row + 1]
            books = histories.indices[start:stop].astype(np.int64)
            readers[row] = self.fold_in_reader(books, histories.data[start:stop].astype(np.float32))
        return readers

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        return self._scores(self.fold_in_reader(books, signal), None)

    def _scores(self, reader: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        """``Y[rows] · u`` ((m,) float32; every book when ``rows`` is None) for reader factors
        ``u`` ((n_factors,) float32), each book's sum in the kernel's one order when it is built."""
        if _factors is None:
            _warn_uncompiled()
            if rows is None:
                scores: np.ndarray = self.item_factors @ reader
                return scores
            # Gathering scattered rows costs about 3.5× as much per book as streaming all of
            # them (ALS-128: 137 µs for 1,884 books, 209 µs for all 10,000), so from a quarter
            # of the catalogue on every book is scored and the rows picked out.
            if 4 * len(rows) < len(self.item_factors):
                scores = self.item_factors[rows] @ reader
                return scores
            scores = self.item_factors @ reader
            return scores[rows]
        rows = None if rows is None else rows.astype(np.int64, copy=False)
        scores = np.empty(len(self.item_factors) if rows is None else len(rows), dtype=np.float32)
        _factors.dot_rows(self.item_factors, reader, rows, scores)
        return scores

    def rank_reader(
        self, books: np.ndarray, signal: np.ndarray, hidden: np.ndarray, k: int, names: np.ndarray | None
    ) -> list[tuple[int, float, list[int]]] | None:
        """The ``k`` best books for one reader and each one's reasons, from the C kernel, without
        scoring every book exactly (``readcrumbs/_factors.c``).

        ``books``: (n,) int64 unique indices, ascending; ``signal``: (n,) float32 (+1 a favourite,
        negative a dislike); ``hidden``: (h,) int64 indices never shown (the given books at least);
        ``names``: (n_books,) int64 index → the name to answer with (book_ids), or None for
        indices. Returns ``(book, score, because)`` for each of the k books, best first, exactly as
        :func:`readcrumbs.recommend.rank_reader`'s numpy path ranks and explains them; or None when
        that path must answer: fewer than ``k`` books score above zero, a score is not finite, the
        fold-in is singular, or the kernel was not built.
        """
        codes = self._codes
        if _factors is None or codes is None:
            return None
        return _factors.rank(
            *codes,
            self.item_factors,
            self._solved_factors,
            books,
            signal,
            hidden,
            k,
            self.params["alpha"],
            names,
        )

    def scores_and_square_sum(
        self, books: np.ndarray, signal: np.ndarray, columns: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """The reader's scores of ``columns`` only, ``Y[columns] u`` ((m,) float32), and the sum of
        every book's squared score, ``uᵀ(YᵀY)u``, without scoring every book.

        ``columns``: (m,) int64 book indices. Reads m books' factors instead of every book's:
        a blend that ranks only its item-item parts' books needs no more (blend.py).
        """
        reader = self.fold_in_reader(books, signal)
        wide = reader.astype(np.float64)
        square_sum = max(float(wide @ self._factor_gram @ wide), 0.0)
        return self._scores(reader, columns), square_sum

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> None:
        return None  # factors reach every book

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        # Y u = Σ_i w_i (Y A⁻¹ y_i): book i's term in shown book j's score is w_i · (W_u[i] · y_j).
        if len(books) == 0:
            return np.zeros((len(shown), 0), dtype=np.float32)
        weights, _ = self._fold_in(books, signal)
        if _factors is None:
            terms = (self.item_factors[shown].astype(np.float64) @ self._solved_factors[books].T) * weights
            return np.asarray(terms, dtype=np.float32)
        shares = np.empty((len(shown), len(books)), dtype=np.float32)
        _factors.explain(
            self._solved_factors,
            self.item_factors,
            books.astype(np.int64, copy=False),
            weights,
            shown.astype(np.int64, copy=False),
            shares,
        )
        return shares

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
