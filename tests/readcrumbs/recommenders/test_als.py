"""ALS: the fold-in of a new reader is implicit's own least-squares step."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.ranking import favourites_matrix
from readcrumbs.recommenders import als as als_module
from readcrumbs.recommenders.als import ALS
from tests.readcrumbs.recommenders.test_contract import checker_board


@pytest.fixture
def als() -> ALS:
    model = ALS(factors=6, regularization=0.05, alpha=4.0, iterations=8, seed=1)
    model.fit(checker_board(30))
    return model


def implicit_model(als: ALS) -> object:
    from implicit.cpu.als import AlternatingLeastSquares

    reference = AlternatingLeastSquares(
        factors=als.params["factors"],
        regularization=als.params["regularization"],
        alpha=als.params["alpha"],
        random_state=0,
    )
    reference.item_factors = als.item_factors.copy()
    reference.user_factors = np.zeros((1, als.params["factors"]), dtype=np.float32)
    return reference


def test_fold_in_equals_implicits_recalculate_user(als: ALS) -> None:
    histories = favourites_matrix([np.array([0, 2, 4]), np.array([1, 7, 9, 11, 13]), np.array([5])], 30)
    reference = implicit_model(als)
    expected = reference.recalculate_user(np.arange(3), histories)  # type: ignore[attr-defined]
    np.testing.assert_allclose(als.fold_in(histories), expected, rtol=1e-3, atol=1e-4)


def test_a_dislike_folds_in_as_implicits_negative_entry(als: ALS) -> None:
    # implicit reads a negative entry as preference 0 with confidence alpha·|value|.
    histories = favourites_matrix(
        [np.array([0, 2, 3]), np.array([1, 4])],
        30,
        signals=[np.array([1.0, 1.0, -1.0]), np.array([-0.5, 1.0])],
    )
    reference = implicit_model(als)
    expected = reference.recalculate_user(np.arange(2), histories)  # type: ignore[attr-defined]
    np.testing.assert_allclose(als.fold_in(histories), expected, rtol=1e-3, atol=1e-4)


def test_a_dislike_lowers_the_books_like_it(als: ALS) -> None:
    liked = als.score_reader(np.array([0, 4]), np.array([1.0, 1.0], dtype=np.float32))
    with_dislike = als.score_reader(np.array([0, 2, 4]), np.array([1.0, -1.0, 1.0], dtype=np.float32))
    # Book 2 is on the favourites' side of the checker board (even books): that side loses.
    even = np.arange(6, 30, 2)
    assert (with_dislike[even] < liked[even]).all()
    assert with_dislike[2] < liked[2]


def test_a_reader_without_favourites_folds_in_to_zero(als: ALS) -> None:
    histories = sp.csr_matrix((1, 30), dtype=np.float32)
    assert not als.fold_in(histories).any()
    assert not als.score(histories).any()


def test_scores_are_the_folded_in_factors_times_the_book_factors(als: ALS) -> None:
    histories = favourites_matrix([np.array([0, 2])], 30)
    np.testing.assert_allclose(als.score(histories), als.fold_in(histories) @ als.item_factors.T, rtol=1e-6)


@pytest.mark.parametrize("signal", [[1.0, 1.0], [1.0, -1.0]])
# A few books' factors are gathered; from a quarter of the catalogue on, every book is scored.
@pytest.mark.parametrize("columns", [[7, 1, 3, 29], list(range(0, 30, 2))])
def test_scores_of_some_books_are_their_entries_of_every_books_scores(
    als: ALS, signal: list[float], columns: list[int]
) -> None:
    books, weights = np.array([0, 2]), np.array(signal, dtype=np.float32)
    everything = als.score_reader(books, weights)
    scores, square_sum = als.scores_and_square_sum(books, weights, np.array(columns))
    np.testing.assert_allclose(scores, everything[columns], rtol=1e-5)
    # Σ (y·u)² over every book, from YᵀY without scoring every book.
    assert square_sum == pytest.approx(float(np.sum(everything.astype(np.float64) ** 2)), rel=1e-5)


def test_a_reader_without_favourites_has_no_squared_scores(als: ALS) -> None:
    scores, square_sum = als.scores_and_square_sum(
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), np.array([4, 5])
    )
    assert scores.tolist() == [0.0, 0.0] and square_sum == 0.0


def test_the_same_seed_gives_the_same_model() -> None:
    first, second = ALS(factors=4, iterations=3, seed=5), ALS(factors=4, iterations=3, seed=5)
    first.fit(checker_board(20))
    second.fit(checker_board(20))
    np.testing.assert_allclose(first.item_factors, second.item_factors, rtol=1e-5)


class CountedKernel:
    """readcrumbs._factors, counting its fold-ins."""

    def __init__(self, kernel: object) -> None:
        self.kernel, self.fold_ins = kernel, 0

    def fold_in(self, *args: object) -> bool:
        self.fold_ins += 1
        return self.kernel.fold_in(*args)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.kernel, name)


@pytest.mark.parametrize("compiled", [True, False])
def test_explaining_the_reader_just_scored_solves_once(
    als: ALS, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    solves: list[int] = []
    solve = np.linalg.solve
    monkeypatch.setattr(np.linalg, "solve", lambda a, b: solves.append(len(b)) or solve(a, b))
    kernel = CountedKernel(als_module._factors) if compiled and als_module._factors is not None else None
    if compiled and kernel is None:
        pytest.skip("readcrumbs._factors was not built")
    monkeypatch.setattr(als_module, "_factors", kernel)
    books, signal, shown = np.array([0, 2, 4]), np.ones(3, dtype=np.float32), np.array([6, 8])
    als.score_reader(books, signal)
    als.explain_reader(books, signal, shown)
    if kernel is not None:
        assert (kernel.fold_ins, solves) == (1, [])
    else:
        assert solves == [3]


def test_the_kept_fold_in_is_never_another_readers(als: ALS) -> None:
    fresh = ALS(**als.params)
    fresh._set_item_factors(als.item_factors)  # the same factors, no fold-in kept yet
    first, second = np.array([0, 2, 4]), np.array([1, 3])
    ones3, ones2 = np.ones(3, dtype=np.float32), np.ones(2, dtype=np.float32)
    disliked = np.array([1.0, -1.0, 1.0], dtype=np.float32)
    shown = np.array([6, 7, 8])
    als.score_reader(first, ones3)
    # The same books with another signal, and another reader, are folded in afresh.
    np.testing.assert_array_equal(als.score_reader(first, disliked), fresh.score_reader(first, disliked))
    np.testing.assert_array_equal(
        als.explain_reader(second, ones2, shown), fresh.explain_reader(second, ones2, shown)
    )
    np.testing.assert_array_equal(als.score_reader(first, ones3), fresh.score_reader(first, ones3))
