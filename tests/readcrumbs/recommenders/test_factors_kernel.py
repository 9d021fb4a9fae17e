"""The C kernel for factor models (readcrumbs/_factors.c) answers exactly as the numpy path.

ALS's served top k scores only the books its int8 bounds cannot rule out. Thousands of random
readers (favourites, dislikes, series turned down) per model, and factors built to crowd the top
scores together, must get the same books in the same order, the same scores to the bit and the
same reasons as ranking every book. Then the kernel's parts one by one, the cases it hands back to
numpy, ties, and what it refuses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from readcrumbs.book_facts import BookFacts
from readcrumbs.ranking import top_k_positive
from readcrumbs.recommend import ReaderInput, Recommendation, rank_reader
from readcrumbs.recommenders import als as als_module
from readcrumbs.recommenders.als import ALS, factor_codes
from tests.readcrumbs.recommenders.test_item_weights_kernel import random_readers
from tests.readcrumbs.test_serving_identity import random_likes

try:
    from readcrumbs import _factors as kernel
except ImportError:
    kernel = None  # type: ignore[assignment]
needs_kernel = pytest.mark.skipif(
    kernel is None and not os.environ.get("CI"),
    reason="readcrumbs._factors was not built (no C compiler)",
)
pytestmark = needs_kernel

K = 10
# 16 factors: whole lanes; 37: a tail of 5 after two 16-lane steps and of 5 after one 32-code step.
MODELS: dict[str, dict[str, Any]] = {
    "als-16": {"factors": 16, "iterations": 4, "regularization": 0.5, "alpha": 8.0, "seed": 2},
    "als-37": {"factors": 37, "iterations": 4, "regularization": 0.5, "alpha": 8.0, "seed": 3},
}


def test_the_kernel_is_built_in_ci() -> None:
    assert kernel is not None, "readcrumbs._factors was not built: install gcc and reinstall"


def served(
    monkeypatch: pytest.MonkeyPatch,
    model: ALS,
    readers: list[ReaderInput],
    book_ids: np.ndarray | None,
    *,
    compiled: bool,
) -> list[list[Recommendation]]:
    """Each reader's answer, from the kernel's top k, or (``compiled`` false) from every book's
    scores ranked by numpy (which the kernel's dot_rows, fold-in and explain still compute)."""
    # Five-volume series for a third of the books, so that a dislike hides the rest of its series.
    n_books = len(model.item_factors)
    titles = [
        f"Book {i} (Saga {i // 5}, #{i % 5 + 1})" if i % 3 == 0 else f"Book {i}" for i in range(n_books)
    ]
    facts = BookFacts({"title": titles})
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(ALS, "rank_reader", lambda *args: None)
        return [rank_reader(model, facts, reader, K, book_ids) for reader in readers]


def answered_alike(monkeypatch: pytest.MonkeyPatch, model: ALS, readers: list[ReaderInput]) -> list[bool]:
    """Asserts that the kernel and numpy answer every reader alike, by index and by book_id;
    returns, per call, whether the kernel answered (rather than handing the reader back)."""
    calls: list[bool] = []
    rank = ALS.rank_reader

    def counted(self: ALS, *args: object) -> object:
        answer = rank(self, *args)  # type: ignore[arg-type]
        calls.append(answer is not None)
        return answer

    monkeypatch.setattr(ALS, "rank_reader", counted)
    book_ids = np.arange(len(model.item_factors), dtype=np.int64) * 7 + 1000  # names that are not indices
    for names in (None, book_ids):
        compiled = served(monkeypatch, model, readers, names, compiled=True)
        plain = served(monkeypatch, model, readers, names, compiled=False)
        for row, (fast, slow) in enumerate(zip(compiled, plain, strict=True)):
            assert fast == slow, f"reader {row} {readers[row]}"
    return calls


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_kernel_ranks_scores_and_explains_as_numpy(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = ALS(**MODELS[name])
    model.fit(random_likes())
    calls = answered_alike(monkeypatch, model, random_readers())
    assert sum(calls) > 0.8 * len(calls)  # the kernel answered most readers itself


def crowded_factors(n_books: int = 600, n_factors: int = 48, seed: int = 4) -> np.ndarray:
    """Factors whose scores crowd together: every book one shared direction plus a small, random
    part, a few books exact copies of others. Books this alike are where a bound that is a hair
    too tight would drop a book from the top k."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(n_factors)
    factors = shared + 0.02 * rng.standard_normal((n_books, n_factors))
    factors[::50] = factors[1::50]  # ties
    factors[7] = 0.0  # a book the model knows nothing about
    return factors.astype(np.float32)


def test_books_scored_nearly_alike_rank_exactly_as_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ALS.from_arrays({"item_factors": crowded_factors()}, MODELS["als-16"] | {"factors": 48})
    rng = np.random.default_rng(5)
    readers = []
    for _ in range(1500):
        books = rng.choice(600, int(rng.integers(1, 6)) + int(rng.integers(0, 3)), replace=False).astype(
            np.int64
        )
        n_favourites = max(1, len(books) - 2)
        readers.append(ReaderInput(favourites=books[:n_favourites], disliked=books[n_favourites:]))
    calls = answered_alike(monkeypatch, model, readers)
    assert sum(calls) > 0.8 * len(calls)


def test_the_top_k_is_every_books_scores_ranked() -> None:
    model = ALS(**MODELS["als-37"])
    model.fit(random_likes())
    for books, signal in [
        (np.array([3, 40, 41]), np.array([1.0, 1.0, -1.0])),
        (np.array([9]), np.array([1.0])),
    ]:
        books, signal = books.astype(np.int64), signal.astype(np.float32)
        ranked = model.rank_reader(books, signal, books, K, None)
        assert ranked is not None
        scores = model.score_reader(books, signal)
        scores[books] = -np.inf
        best = top_k_positive(scores, K)
        assert best is not None
        assert [book for book, _, _ in ranked] == best.tolist()
        # float32 scores, to the bit.
        assert [np.float32(score) for _, score, _ in ranked] == scores[best].tolist()


def test_each_books_score_is_the_same_bits_alone_or_among_all() -> None:
    factors = np.random.default_rng(6).standard_normal((50, 37)).astype(np.float32)
    reader = np.random.default_rng(7).standard_normal(37).astype(np.float32)
    assert kernel is not None
    every = np.empty(50, dtype=np.float32)
    kernel.dot_rows(factors, reader, None, every)
    rows = np.array([49, 3, 3, 0, 17], dtype=np.int64)
    some = np.empty(len(rows), dtype=np.float32)
    kernel.dot_rows(factors, reader, rows, some)
    assert some.tolist() == every[rows].tolist()
    np.testing.assert_allclose(every, factors.astype(np.float64) @ reader, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("signal", [[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])
def test_the_kernels_fold_in_explanations_and_scores_are_numpys(
    signal: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ALS(**MODELS["als-16"])
    model.fit(random_likes())
    books, weights = np.array([2, 30, 71], dtype=np.int64), np.array(signal, dtype=np.float32)
    shown = np.array([5, 6, 200], dtype=np.int64)
    fast = (
        model.fold_in_reader(books, weights),
        model.explain_reader(books, weights, shown),
        model.score_reader(books, weights),
    )
    monkeypatch.setattr(als_module, "_factors", None)
    plain = ALS.from_arrays({"item_factors": model.item_factors}, model.params)
    slow = (
        plain.fold_in_reader(books, weights),
        plain.explain_reader(books, weights, shown),
        plain.score_reader(books, weights),
    )
    for kernel_made, numpy_made in zip(fast, slow, strict=True):
        np.testing.assert_allclose(kernel_made, numpy_made, rtol=1e-5, atol=1e-6)


def test_a_singular_fold_in_is_left_to_numpy() -> None:
    # One book with W·y = -1 and confidence c = 2: the system (1 + (c − 1)·W·y) w = c is 0·w = 2.
    assert kernel is not None
    factors = np.array([[1.0, 0.0]], dtype=np.float32)
    solved = np.array([[-1.0, 0.0]])
    weights, reader = np.empty(1), np.empty(2, dtype=np.float32)
    books, signal = np.array([0]), np.ones(1, dtype=np.float32)
    assert kernel.fold_in(solved, factors, books, signal, 2.0, weights, reader) is False
    model = ALS.from_arrays({"item_factors": factors}, {"factors": 2, "alpha": 2.0})
    model._solved_factors = solved
    with pytest.raises(np.linalg.LinAlgError):  # numpy says what the kernel found
        model.fold_in_reader(books, signal)
    assert model.rank_reader(books, signal, books, 1, None) is None


def factor_model(rows: list[list[float]]) -> ALS:
    """An ALS whose folded-in reader of book 0 alone scores each book by its first factor."""
    factors = np.array(rows, dtype=np.float32)
    return ALS.from_arrays({"item_factors": factors}, {"factors": factors.shape[1], "alpha": 1.0})


def rank(model: ALS, books: list[int], k: int, hidden: list[int] | None = None) -> object:
    return model.rank_reader(
        np.array(books, dtype=np.int64),
        np.ones(len(books), dtype=np.float32),
        np.array(books if hidden is None else hidden, dtype=np.int64),
        k,
        None,
    )


def test_ties_rank_the_lower_index_first() -> None:
    # Books 1–4 share their factors, so the reader of book 0 scores them alike.
    model = factor_model([[1.0, 0.5], [0.6, 0.1], [0.6, 0.1], [0.6, 0.1], [0.6, 0.1], [-1.0, 0.0]])
    ranked = rank(model, [0], 3)
    assert isinstance(ranked, list)
    assert [book for book, _, _ in ranked] == [1, 2, 3]
    assert len({score for _, score, _ in ranked}) == 1
    assert all(because == [0] for _, _, because in ranked)


def test_the_kernel_hands_back_what_numpy_must_rank() -> None:
    model = factor_model([[1.0, 0.0], [0.5, 0.0], [0.25, 0.0], [-1.0, 0.0], [-0.5, 0.0]])
    assert rank(model, [0], 3) is None  # two books above zero, three asked for
    assert rank(model, [0], 2, hidden=[0, 1]) is None  # a hidden book is never counted
    assert rank(model, [0], 0) is None
    assert rank(model, [0], 6) is None  # more than there are books
    assert rank(model, [], 1) is None
    scale = reader_scale(model)
    assert rank(model, [0], 2) == [
        (1, pytest.approx(0.5 * scale), [0]),
        (2, pytest.approx(0.25 * scale), [0]),
    ]
    nowhere = factor_model([[0.0, 0.0]] * 4)  # every score zero
    assert rank(nowhere, [0], 1) is None
    broken = factor_model([[1.0, 0.0], [np.nan, 0.0], [0.5, 0.0]])  # no codes: numpy ranks every reader
    assert factor_codes(broken.item_factors) is None and rank(broken, [0], 1) is None


def reader_scale(model: ALS) -> float:
    """The folded-in reader of book 0's first factor: book b scores (first factor of b) × this."""
    return float(model.fold_in_reader(np.array([0]), np.ones(1, dtype=np.float32))[0])


def test_bad_arrays_are_refused() -> None:
    model = factor_model([[1.0, 0.0], [0.5, 0.0], [0.25, 0.0]])
    with pytest.raises(ValueError, match="book 5"):
        rank(model, [5], 1)
    with pytest.raises(ValueError, match="hidden book 9"):
        rank(model, [0], 1, hidden=[0, 9])
    one = np.ones(1, np.float32)
    with pytest.raises(TypeError, match="books"):
        model.rank_reader(np.array([0], dtype=np.int32), one, np.array([0]), 1, None)
    with pytest.raises(TypeError, match="signal"):
        model.rank_reader(np.array([0]), np.ones(1, np.float64), np.array([0]), 1, None)
    with pytest.raises(ValueError, match="lengths"):
        model.rank_reader(np.array([0]), np.ones(2, np.float32), np.array([0]), 1, None)
    with pytest.raises(ValueError, match="lengths"):
        model.rank_reader(np.array([0]), one, np.array([0]), 1, np.arange(5))
    assert kernel is not None
    out = np.empty(1, dtype=np.float32)
    with pytest.raises(ValueError, match="row 3"):
        kernel.dot_rows(model.item_factors, np.ones(2, np.float32), np.array([3]), out)
    with pytest.raises(ValueError, match="lengths"):
        kernel.dot_rows(model.item_factors, np.ones(2, np.float32), None, out)
    with pytest.raises(ValueError, match="not finite"):
        kernel.encode(np.array([[np.inf]], np.float32), np.empty((1, 1), np.int8), np.empty((3, 1)))
    with pytest.raises(TypeError):
        kernel.rank(model.item_factors)  # type: ignore[call-arg]


def test_without_the_kernel_numpy_scores_every_book_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(als_module, "_factors", None)
    als_module._warn_uncompiled.cache_clear()
    model = factor_model([[1.0, 0.0], [0.5, 0.0], [0.25, 0.0]])
    assert rank(model, [0], 1) is None
    books, signal = np.array([0]), np.ones(1, dtype=np.float32)
    np.testing.assert_allclose(
        model.score_reader(books, signal), model.item_factors[:, 0] * reader_scale(model)
    )
    model.score_reader(books, signal)
    assert [r.message for r in caplog.records].count(
        "readcrumbs._factors was not built (no C compiler at install): numpy scores ALS readers"
    ) == 1
    als_module._warn_uncompiled.cache_clear()


def score_bounds(factors: np.ndarray, reader: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each book's lower bound, exact score and upper bound: three (n_books,) float64 arrays."""
    assert kernel is not None
    codes = factor_codes(factors)
    assert codes is not None
    lower, upper = np.empty(len(factors)), np.empty(len(factors))
    assert kernel.score_bounds(codes.codes, codes.bounds, reader, lower, upper)
    exact = np.empty(len(factors), dtype=np.float32)
    kernel.dot_rows(factors, reader, None, exact)
    return lower, exact.astype(np.float64), upper


def test_every_score_lies_within_its_bounds() -> None:
    rng = np.random.default_rng(8)
    for n_factors in (1, 16, 37, 512):
        factors = (rng.standard_normal((200, n_factors)) * rng.uniform(0.01, 3.0, (200, 1))).astype(
            np.float32
        )
        factors[3] = 0.0
        for _ in range(20):
            reader = (rng.standard_normal(n_factors) * rng.uniform(0.01, 5.0)).astype(np.float32)
            lower, exact, upper = score_bounds(factors, reader)
            assert (lower <= exact).all() and (exact <= upper).all()


# Codes and halves of a code in 1/128ths, exact in float32: s = t = 1/128 once a factor is ±127/128.
STEP, NEAR_HALF = 1 / 128, 0.5 - 1 / 64


def test_the_books_rounding_can_take_its_whole_share_of_the_bound() -> None:
    # The reader is exactly its codes (e = 0); each book's factors sit just under half a code
    # from theirs, against the reader's signs: d·u ≈ −(s/2)·‖u‖₁, the score near its lower bound.
    rng = np.random.default_rng(9)
    reader_codes = rng.integers(-120, 121, 16)
    reader_codes[1] = 127
    reader = (reader_codes * STEP).astype(np.float32)
    codes = rng.integers(-120, 121, (20, 16))
    codes[:, 0] = 127
    factors = (codes - NEAR_HALF * np.sign(reader_codes) * (np.arange(16) > 0)) * STEP
    lower, exact, upper = score_bounds(factors.astype(np.float32), reader)
    assert (lower <= exact).all() and (exact <= upper).all()
    assert (exact - lower < 0.1 * (upper - lower)).all()


def test_the_readers_rounding_can_take_its_whole_share_of_the_bound() -> None:
    # Each book is exactly its codes, all ±127 (d = 0, ‖q‖₁ = ‖q‖·√n); the reader sits just under
    # half a code from zero, with the books' signs: s·(q·e) ≈ s·‖q‖·‖e‖, the score near its upper bound.
    rng = np.random.default_rng(10)
    codes = rng.choice([-127, 127], (20, 16))
    factors = (codes * STEP).astype(np.float32)
    for book in range(20):
        reader = NEAR_HALF * np.sign(codes[book]) * STEP
        reader[0] = 127 * STEP * np.sign(codes[book, 0])  # sets t = 1/128
        lower, exact, upper = score_bounds(factors, reader.astype(np.float32))
        assert (lower <= exact).all() and (exact <= upper).all()
        assert upper[book] - exact[book] < 0.1 * (upper[book] - lower[book])


def test_a_reader_of_zeros_has_no_bounds() -> None:
    assert kernel is not None
    factors = np.ones((2, 3), dtype=np.float32)
    codes = factor_codes(factors)
    assert codes is not None
    lower, upper = np.full(2, 7.0), np.full(2, 7.0)
    assert not kernel.score_bounds(codes.codes, codes.bounds, np.zeros(3, np.float32), lower, upper)
    assert not kernel.score_bounds(
        codes.codes, codes.bounds, np.array([1, np.nan, 0], np.float32), lower, upper
    )
    assert lower.tolist() == upper.tolist() == [7.0, 7.0]


PORTABLE_RUN = """
import json, sys
import numpy as np
from readcrumbs import _factors
from readcrumbs.recommenders.als import factor_codes
factors = np.random.default_rng(11).standard_normal((300, 77)).astype(np.float32)
codes = factor_codes(factors)
lower, upper = np.empty(300), np.empty(300)
for seed in range(5):
    reader = np.random.default_rng(seed).standard_normal(77).astype(np.float32)
    _factors.score_bounds(codes.codes, codes.bounds, reader, lower, upper)
    print(json.dumps([lower.tolist(), upper.tolist()]))
"""


def test_the_portable_scan_bounds_every_book_as_the_avx2_one() -> None:
    # READCRUMBS_PORTABLE_KERNELS makes the kernel take its plain C loops, as on a CPU without
    # AVX2 (77 factors: two 32-code steps and a tail of 13); the integer products are exact, so
    # both give the same bits.
    answers = []
    for portable in ("1", ""):
        env = {**os.environ, "READCRUMBS_PORTABLE_KERNELS": portable}
        run = subprocess.run(
            [sys.executable, "-c", PORTABLE_RUN], env=env, capture_output=True, text=True, check=True
        )
        answers.append(run.stdout)
    assert answers[0] == answers[1] and answers[0].count("\n") == 5
