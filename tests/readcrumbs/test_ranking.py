"""top_k: the one ranking that serving and evaluation share."""

from __future__ import annotations

import numpy as np
import pytest

from readcrumbs.ranking import favourites_matrix, top_k, top_k_positive, top_k_reader


def test_best_first_without_favourites() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.7, 0.3]], dtype=np.float32)
    histories = favourites_matrix([np.array([1])], 5)
    assert top_k(scores, histories, 3).tolist() == [[3, 2, 4]]


def test_matches_a_full_stable_sort_on_random_scores() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=(50, 300)).astype(np.float32)  # many ties
    favourites = [rng.choice(300, size=rng.integers(0, 30), replace=False) for _ in range(50)]
    histories = favourites_matrix(favourites, 300)
    masked = scores.copy()
    for row, books in enumerate(favourites):
        masked[row, books] = -np.inf
    expected = np.argsort(-masked, axis=1, kind="stable")[:, :25]
    np.testing.assert_array_equal(top_k(scores, histories, 25), expected)


def test_ties_break_towards_the_lower_index() -> None:
    # Regression: argpartition left ties at the cut in arbitrary order, so equal scores could
    # skip a lower index (this returned [0, 2, 3, 4, 6] instead of [0, 2, 3, 4, 5]).
    scores = np.zeros((1, 50), dtype=np.float32)
    histories = favourites_matrix([np.array([1])], 50)
    assert top_k(scores, histories, 5).tolist() == [[0, 2, 3, 4, 5]]


def test_never_pads_with_a_favourite() -> None:
    # Regression: asking for more books than there are non-favourites returned favourites.
    scores = np.zeros((2, 4), dtype=np.float32)
    histories = favourites_matrix([np.array([1, 2]), np.array([0])], 4)
    ranked = top_k(scores, histories, 10)
    assert ranked.shape == (2, 2)
    assert ranked.tolist() == [[0, 3], [1, 2]]


def test_non_finite_scores_rank_as_extremes_and_never_beat_the_mask() -> None:
    scores = np.array([[np.nan, np.inf, -np.inf, 0.5, 1.0]], dtype=np.float32)
    histories = favourites_matrix([np.array([1])], 5)  # the +inf book is a favourite
    assert top_k(scores, histories, 4).tolist() == [[4, 3, 0, 2]]


def test_the_callers_scores_are_untouched() -> None:
    scores = np.array([[1.0, 2.0, 3.0]])
    top_k(scores, favourites_matrix([np.array([2])], 3), 2)
    assert scores.tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize("k", [0, -3])
def test_k_zero_or_less_is_empty(k: int) -> None:
    assert top_k(np.ones((2, 5)), favourites_matrix([np.array([0]), np.array([1])], 5), k).shape == (2, 0)


def test_no_readers() -> None:
    assert top_k(np.zeros((0, 5)), favourites_matrix([], 5), 3).shape == (0, 3)


def test_favourites_matrix_drops_duplicates() -> None:
    histories = favourites_matrix([np.array([3, 1, 3]), np.array([], dtype=np.int64)], 5)
    assert histories.shape == (2, 5)
    assert histories[0].indices.tolist() == [1, 3]
    assert histories.data.tolist() == [1.0, 1.0]
    assert histories[1].nnz == 0


def test_top_k_reader_matches_top_k_on_random_scores_with_ties() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        scores = rng.integers(0, 8, size=300).astype(np.float32)  # many ties, at the cut too
        given = np.unique(rng.choice(300, size=rng.integers(0, 20), replace=False)).astype(np.int64)
        k = int(rng.integers(1, 40))
        expected = top_k(scores[None, :], favourites_matrix([given], 300), k)[0]
        np.testing.assert_array_equal(top_k_reader(scores.copy(), given, k), expected)


def test_top_k_reader_ranks_nan_and_infinities_as_top_k_does() -> None:
    scores = np.array([np.nan, np.inf, 1.0, -np.inf, 2.0, np.inf], dtype=np.float32)
    expected = top_k(scores[None, :], favourites_matrix([np.array([4])], 6), 5)[0]
    np.testing.assert_array_equal(top_k_reader(scores.copy(), np.array([4]), 5), expected)


def test_top_k_reader_returns_fewer_when_the_given_books_leave_fewer() -> None:
    assert top_k_reader(np.ones(3, dtype=np.float32), np.array([0, 2]), 10).tolist() == [1]


@pytest.mark.parametrize("tied", [True, False])
def test_top_k_positive_ranks_as_the_full_ranking_when_k_books_score_above_zero(tied: bool) -> None:
    rng = np.random.default_rng(4)
    for _ in range(300):
        scores = np.zeros(200, dtype=np.float32)
        touched = rng.choice(200, size=60, replace=False)
        if tied:  # ties, zeros and negatives
            scores[touched] = rng.integers(-3, 6, size=len(touched))
        else:  # distinct scores: the k-th is never tied
            scores[touched] = rng.normal(size=len(touched))
        given = touched[:3]
        scores[given] = -np.inf
        k = int(rng.integers(1, 15))
        shortcut = top_k_positive(scores.copy(), k)
        # The touched books (ascending, a superset of those above zero) as a model's candidates.
        among = top_k_positive(scores.copy(), k, np.sort(touched).astype(np.int64))
        if (scores > 0).sum() >= k:
            assert shortcut is not None and among is not None
            np.testing.assert_array_equal(shortcut, top_k_reader(scores.copy(), np.sort(given), k))
            np.testing.assert_array_equal(among, shortcut)
        else:
            assert shortcut is None and among is None


def test_top_k_positive_never_ranks_otherwise_than_the_full_ranking_when_scores_are_nan() -> None:
    # np.partition puts NaN above every number: the shortcut must then answer as top_k_reader
    # does, or give None (top_k_reader then ranks).
    rng = np.random.default_rng(5)
    for _ in range(300):
        scores = rng.normal(size=100).astype(np.float32)
        scores[rng.choice(100, size=int(rng.integers(1, 4)), replace=False)] = np.nan
        if rng.random() < 0.5:  # ties at the k-th
            scores = np.round(scores).astype(np.float32)
        k = int(rng.integers(1, 12))
        candidates = np.arange(100, dtype=np.int64)
        for shortcut in (top_k_positive(scores.copy(), k), top_k_positive(scores.copy(), k, candidates)):
            if shortcut is not None:
                expected = top_k_reader(scores.copy(), np.zeros(0, dtype=np.int64), k)
                np.testing.assert_array_equal(shortcut, expected)


def test_favourites_matrix_carries_each_books_signal() -> None:
    matrix = favourites_matrix(
        [np.array([3, 1, 3]), np.array([2])], 5, [np.array([-1.0, 1.0, 1.0]), np.array([1.0])]
    )
    assert matrix.toarray().tolist() == [[0, 1, 0, -1, 0], [0, 0, 1, 0, 0]]
