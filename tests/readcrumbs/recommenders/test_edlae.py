"""EDLAE and DLAE (Steck 2020; Moon et al. 2023): closed forms against a float64 reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.recommenders.ease import EASE
from readcrumbs.recommenders.edlae import EDLAE, dropout_penalty


def random_likes(n_users: int = 60, n_books: int = 25, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((n_users, n_books)) < 0.2).astype(np.float32))


def reference(likes: sp.csr_matrix, l2: float, dropout: float, zero_diagonal: bool) -> np.ndarray:
    """B from the papers' formulas in float64 with a general inverse, diagonal zeroed, negatives cut."""
    gram = (likes.T @ likes).toarray().astype(np.float64)
    penalty = l2 + dropout / (1 - dropout) * np.diag(gram)
    precision = np.linalg.inv(gram + np.diag(penalty))
    if zero_diagonal:
        weights = -precision / np.diag(precision)
    else:
        weights = np.eye(len(gram)) - precision @ np.diag(penalty)
    np.fill_diagonal(weights, 0.0)
    return np.clip(weights, 0.0, None)


def test_the_penalty_grows_with_each_books_readers() -> None:
    likes = random_likes()
    readers = np.asarray(likes.sum(axis=0)).ravel()
    np.testing.assert_allclose(dropout_penalty(likes, 3.0, 0.5), 3.0 + readers, rtol=1e-6)
    np.testing.assert_allclose(dropout_penalty(likes, 3.0, 0.0), np.full(likes.shape[1], 3.0))


@pytest.mark.parametrize("dropout", [-0.1, 1.0])
def test_a_dropout_outside_0_to_1_is_refused(dropout: float) -> None:
    with pytest.raises(ValueError, match="dropout"):
        EDLAE(l2=1.0, dropout=dropout).fit(random_likes())


@pytest.mark.parametrize("zero_diagonal", [True, False])
def test_untruncated_weights_are_the_closed_form(zero_diagonal: bool) -> None:
    likes = random_likes()
    model = EDLAE(l2=2.0, dropout=0.3, zero_diagonal=zero_diagonal, neighbours=likes.shape[1])
    model.fit(likes)
    expected = reference(likes, 2.0, 0.3, zero_diagonal)
    np.testing.assert_allclose(model.weights.toarray(), expected, rtol=1e-3, atol=1e-6)


def test_without_dropout_edlae_is_ease() -> None:
    likes = random_likes(seed=1)
    edlae, ease = EDLAE(l2=5.0, dropout=0.0, neighbours=8), EASE(l2=5.0, neighbours=8)
    edlae.fit(likes)
    ease.fit(likes)
    np.testing.assert_allclose(edlae.weights.toarray(), ease.weights.toarray(), rtol=1e-5, atol=1e-7)


def test_dropout_moves_weight_away_from_popular_books() -> None:
    # Book 0 is liked by everyone who likes book 1 and by many more: a dropout penalty on it
    # (proportional to its readers) shrinks how much book 1's readers are sent to it.
    rng = np.random.default_rng(2)
    likes = (rng.random((200, 12)) < 0.15).astype(np.float32)
    likes[:120, 0] = 1.0
    likes[:40, 1] = 1.0
    likes = sp.csr_matrix(likes)
    plain, dropped = EDLAE(l2=1.0, dropout=0.0, neighbours=11), EDLAE(l2=1.0, dropout=0.5, neighbours=11)
    plain.fit(likes)
    dropped.fit(likes)
    assert dropped.weights[1, 0] < plain.weights[1, 0]
