"""EASE: the closed form of Steck (2019), its Cholesky inverse, and the neighbour truncation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.recommenders.ease import EASE, mirror_lower_triangle, regularized_inverse


def random_likes(n_users: int = 60, n_books: int = 25, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((n_users, n_books)) < 0.2).astype(np.float32))


def closed_form(likes: sp.csr_matrix, l2: float) -> np.ndarray:
    """Steck's B in float64 with numpy's general inverse, the reference."""
    gram = (likes.T @ likes).toarray().astype(np.float64) + l2 * np.eye(likes.shape[1])
    precision = np.linalg.inv(gram)
    weights: np.ndarray = precision / -np.diag(precision)
    np.fill_diagonal(weights, 0.0)
    return weights


def test_the_cholesky_inverse_matches_a_general_inverse() -> None:
    likes = random_likes()
    gram = (likes.T @ likes).toarray().astype(np.float64) + 3.0 * np.eye(likes.shape[1])
    inverse = regularized_inverse(likes, 3.0)
    assert inverse.dtype == np.float32
    np.testing.assert_allclose(inverse, np.linalg.inv(gram), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(inverse, inverse.T)


def test_untruncated_weights_are_the_closed_form() -> None:
    likes = random_likes()
    model = EASE(l2=3.0, neighbours=likes.shape[1])
    model.fit(likes)
    expected = np.clip(closed_form(likes, 3.0), 0.0, None)  # only positive weights are kept
    np.testing.assert_allclose(model.weights.toarray(), expected, rtol=1e-3, atol=1e-6)


def test_each_book_keeps_its_largest_weights() -> None:
    likes = random_likes()
    model = EASE(l2=3.0, neighbours=4)
    model.fit(likes)
    full = closed_form(likes, 3.0)
    for book in range(likes.shape[1]):
        kept = model.weights[book].indices
        assert len(kept) <= 4
        assert set(kept) <= set(np.argsort(-full[book])[:4])


def test_a_reader_scores_the_sum_of_the_favourites_rows() -> None:
    likes = random_likes()
    model = EASE(l2=3.0, neighbours=10)
    model.fit(likes)
    histories = sp.csr_matrix(np.eye(1, likes.shape[1], 2, dtype=np.float32) + np.eye(1, likes.shape[1], 5))
    expected = model.weights[2].toarray() + model.weights[5].toarray()
    np.testing.assert_allclose(model.score(histories), expected, rtol=1e-6)


def test_no_regularisation_on_a_singular_gram_is_an_error() -> None:
    likes = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0]], dtype=np.float32))  # book 2: nobody
    with pytest.raises(np.linalg.LinAlgError, match="raise l2"):
        regularized_inverse(likes, 0.0)


@pytest.mark.parametrize(("n", "block"), [(7, 3), (10, 10), (9, 100), (1, 4)])
def test_mirror_lower_triangle(n: int, block: int) -> None:
    matrix = np.arange(n * n, dtype=np.float32).reshape(n, n)
    expected = np.tril(matrix) + np.tril(matrix, -1).T
    mirror_lower_triangle(matrix, block=block)
    np.testing.assert_array_equal(matrix, expected)
