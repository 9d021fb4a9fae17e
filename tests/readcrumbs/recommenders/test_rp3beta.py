"""RP3beta (Paudel et al. 2017): the random walk against a dense reference."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from readcrumbs.recommenders.rp3beta import RP3Beta, row_stochastic


def random_likes(n_users: int = 50, n_books: int = 20, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    likes = (rng.random((n_users, n_books)) < 0.25).astype(np.float32)
    likes[0] = 0.0  # a reader with no likes, and (below) a book nobody read
    likes[:, 3] = 0.0
    return sp.csr_matrix(likes)


def reference(likes: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    readers = likes.sum(axis=1, keepdims=True)
    books = likes.sum(axis=0, keepdims=True)
    to_book = np.divide(likes, readers, out=np.zeros_like(likes), where=readers > 0) ** alpha
    to_reader = np.divide(likes, books, out=np.zeros_like(likes), where=books > 0).T ** alpha
    walks = to_reader @ to_book / np.maximum(books, 1.0) ** beta
    np.fill_diagonal(walks, 0.0)
    return walks


def test_rows_become_probabilities_and_empty_rows_stay_empty() -> None:
    likes = random_likes()
    walk = row_stochastic(likes, 1.0)
    sums = np.asarray(walk.sum(axis=1)).ravel()
    has_likes = np.diff(likes.indptr) > 0
    assert not has_likes[0]
    np.testing.assert_allclose(sums, has_likes.astype(np.float32), rtol=1e-6)


def test_untruncated_weights_are_the_walk() -> None:
    likes = random_likes()
    model = RP3Beta(alpha=0.8, beta=0.4, neighbours=likes.shape[1])
    model.fit(likes)
    expected = reference(likes.toarray().astype(np.float64), 0.8, 0.4)
    np.testing.assert_allclose(model.weights.toarray(), expected, rtol=1e-4, atol=1e-7)


def test_beta_damps_the_popular_book() -> None:
    likes = random_likes(seed=3).toarray()
    likes[:, 5] = 1.0  # everyone read book 5
    likes = sp.csr_matrix(likes)
    plain, damped = RP3Beta(beta=0.0, neighbours=19), RP3Beta(beta=1.0, neighbours=19)
    plain.fit(likes)
    damped.fit(likes)
    share = lambda model: model.weights[:, 5].sum() / model.weights.sum()  # noqa: E731
    assert share(damped) < share(plain)
