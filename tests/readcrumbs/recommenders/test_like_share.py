"""The like-share prior: z-scores of Goodreads' 4- and 5-star shares, the same for every reader."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.recommenders import load_model, save_model
from readcrumbs.recommenders.like_share import LikeShare, standard_scores
from readcrumbs.recommenders.side_information import BookTags


def test_standard_scores_have_mean_zero_and_unit_spread_over_the_known_books() -> None:
    scores = standard_scores(np.array([0.5, 0.7, np.nan, 0.9]))
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, [-1.2247449, 0.0, 0.0, 1.2247449], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shares", [[np.nan, np.nan], [0.8, 0.8], []])
def test_nothing_to_tell_books_apart_scores_every_book_zero(shares: list[float]) -> None:
    scores = standard_scores(np.array(shares, dtype=np.float64))
    assert len(scores) == len(shares) and not scores.any()


def test_every_reader_gets_the_same_scores_and_the_ranking_follows_the_shares() -> None:
    model = LikeShare()
    model.fit(sp.csr_matrix((2, 4), dtype=np.float32), BookTags(None, np.array([0.6, 0.9, 0.7, np.nan])))
    histories = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    scores = model.score(histories)
    np.testing.assert_array_equal(scores[0], scores[1])
    # The mean of the known shares is 0.733: the unknown book (3) sits there, above 0.7.
    assert np.argsort(-scores[0]).tolist() == [1, 3, 2, 0]
    np.testing.assert_array_equal(model.score_reader(np.array([0]), np.ones(1, np.float32)), scores[0])
    assert model.square_sum == pytest.approx(float((scores[0].astype(np.float64) ** 2).sum()))


def test_a_copy_of_the_scores_is_the_readers_own() -> None:
    model = LikeShare()
    model.fit(sp.csr_matrix((1, 3), dtype=np.float32), BookTags(None, np.array([0.6, 0.9, 0.7])))
    mine = model.score_reader(np.array([0]), np.ones(1, np.float32))
    mine[:] = 0.0  # ranking masks a reader's books in place
    assert model.prior.any() and not model.prior.flags.writeable


def test_the_prior_round_trips_through_the_artifact() -> None:
    model = LikeShare()
    model.fit(sp.csr_matrix((1, 3), dtype=np.float32), BookTags(None, np.array([0.6, 0.9, 0.7])))
    again = load_model("likeshare", save_model(model), model.params)
    assert isinstance(again, LikeShare)
    np.testing.assert_array_equal(again.prior, model.prior)
    assert again.square_sum == model.square_sum


def test_without_like_shares_or_for_another_catalogue_it_refuses_to_fit() -> None:
    likes = sp.csr_matrix((1, 3), dtype=np.float32)
    for side in (None, BookTags(None, None)):
        with pytest.raises(ValueError, match="like shares"):
            LikeShare().fit(likes, side)
    with pytest.raises(ValueError, match="cover 2 books, the likes 3"):
        LikeShare().fit(likes, BookTags(None, np.array([0.5, 0.6])))
