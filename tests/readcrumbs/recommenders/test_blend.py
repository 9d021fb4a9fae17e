"""The blend: per-reader normalised parts, weights, explanations through the parts, its artifact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.errors import ConfigError
from readcrumbs.ranking import favourites_matrix
from readcrumbs.recommenders import create_model, load_model, save_model
from readcrumbs.recommenders.blend import Blend, reader_scale, reader_scales, within
from readcrumbs.recommenders.side_information import BookTags
from tests.readcrumbs.recommenders.test_contract import N_BOOKS, checker_board, like_shares

EASE = {"model_type": "ease", "params": {"l2": 1.0, "neighbours": 30}}
KNN = {"model_type": "itemknn", "params": {"neighbours": 30, "shrink": 0.0}}
ALS_PART = {
    "model_type": "als",
    "params": {"factors": 8, "iterations": 10, "regularization": 0.01, "alpha": 5.0},
}


def blend(ease_weight: float, knn_weight: float) -> Blend:
    model = Blend([{**EASE, "weight": ease_weight}, {**KNN, "weight": knn_weight}])
    model.fit(checker_board())
    return model


def histories() -> sp.csr_matrix:
    return favourites_matrix([np.array([0, 2, 4]), np.array([1]), np.array([3, 5, 7, 9, 11, 13])], N_BOOKS)


def test_the_scale_is_each_readers_root_mean_square() -> None:
    scores = np.array([[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(reader_scales(scores), [[2.5], [1e-12]], rtol=1e-6)


def test_the_score_is_the_weighted_sum_of_normalised_parts() -> None:
    model = blend(1.0, 0.5)
    ease, knn = model.parts
    history = histories()
    expected = ease.score(history) / reader_scales(ease.score(history)) + 0.5 * knn.score(
        history
    ) / reader_scales(knn.score(history))
    np.testing.assert_allclose(model.score(history), expected, rtol=1e-5)


def test_one_part_scores_as_that_part_alone_scaled_per_reader() -> None:
    model = blend(2.0, 0.0)
    history = histories()
    part = model.parts[0].score(history)
    # A positive factor per reader: the same ranking as the part on its own.
    np.testing.assert_allclose(model.score(history), 2.0 * part / reader_scales(part), rtol=1e-5)
    assert (reader_scales(part) > 0).all()


def test_scaling_a_part_does_not_change_the_blend() -> None:
    # Per-reader normalisation: a part whose scores are 1000× larger weighs just as much.
    model = blend(1.0, 1.0)
    history = histories()
    before = model.score(history)
    model.parts[1].weights = model.parts[1].weights * 1000.0  # type: ignore[attr-defined]
    np.testing.assert_allclose(model.score(history), before, rtol=1e-4, atol=1e-6)


def test_explanations_are_the_parts_weighted_as_in_the_score() -> None:
    model = blend(1.0, 0.5)
    books, signal, shown = (
        np.array([0, 2, 4, 5]),
        np.array([1, 1, 1, -1], dtype=np.float32),
        np.array([6, 8, 10]),
    )
    ease, knn = model.parts
    expected = ease.explain_reader(books, signal, shown) / reader_scale(
        ease.score_reader(books, signal)
    ) + 0.5 * knn.explain_reader(books, signal, shown) / reader_scale(knn.score_reader(books, signal))
    terms = model.explain_reader(books, signal, shown)
    np.testing.assert_allclose(terms, expected, rtol=1e-5)
    # Item-item parts are sums over the reader's books, so the terms add up to the score.
    np.testing.assert_allclose(terms.sum(axis=1), model.score_reader(books, signal)[shown], rtol=1e-4)


def test_a_reader_scores_as_the_batch_row() -> None:
    model = blend(1.0, 0.5)
    books, signal = np.array([1, 3, 6]), np.array([1, 1, -1], dtype=np.float32)
    history = favourites_matrix([books], N_BOOKS, [signal])
    np.testing.assert_array_equal(model.score_reader(books, signal), model.score(history)[0])


def test_from_parts_reuses_fitted_models_and_saves_like_a_fitted_blend() -> None:
    fitted = blend(1.0, 0.5)
    rebuilt = Blend.from_parts(fitted.parts, [1.0, 0.5], N_BOOKS)
    assert rebuilt.params == fitted.params
    assert rebuilt.parts[0] is fitted.parts[0]
    restored = load_model("blend", save_model(rebuilt), rebuilt.params)
    np.testing.assert_array_equal(restored.score(histories()), fitted.score(histories()))
    shares = restored.explain_reader(np.array([0, 2]), np.ones(2, dtype=np.float32), np.array([4]))
    assert shares.shape == (1, 2)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "at least one part"),
        ([{"model_type": "svd"}], "known, non-blend"),
        ([{"model_type": "blend"}], "known, non-blend"),
        ([{"model_type": "ease", "wieght": 2.0}], "unknown keys"),
        ([{"model_type": "ease", "long_weight": 2.0}], "needs the blend's long_from"),
        ([{"model_type": "ease", "weight": 0.0}], "non-zero weight"),
    ],
)
def test_bad_parts_are_config_errors(parts: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("blend", {"parts": parts})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"long_from": 0}, "long_from must be"),
        ({"long_from": 2.5}, "long_from must be"),
        ({"long_from": True}, "long_from must be"),
        ({"long_from": 3, "parts": [{**EASE, "long_weight": 0.0}]}, "non-zero long_weight"),
    ],
)
def test_bad_regimes_are_config_errors(params: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("blend", {"parts": [EASE], **params})


def regimes(long_from: int = 3) -> Blend:
    """EASE alone below ``long_from`` favourites, item-kNN alone from there."""
    model = Blend(
        [{**EASE, "weight": 1.0, "long_weight": 0.0}, {**KNN, "weight": 0.0, "long_weight": 2.0}], long_from
    )
    model.fit(checker_board())
    return model


def test_readers_with_long_lists_are_scored_with_the_long_weights() -> None:
    model = regimes(long_from=3)
    ease, knn = model.parts
    history = histories()  # 3, 1 and 6 favourites
    part = {0: knn, 1: ease, 2: knn}
    expected = np.vstack(
        [
            (2.0 if part[row] is knn else 1.0)
            * part[row].score(history[row])
            / reader_scales(part[row].score(history[row]))
            for row in range(3)
        ]
    )
    np.testing.assert_allclose(model.score(history), expected, rtol=1e-5)


def test_dislikes_do_not_count_towards_a_long_list() -> None:
    model = regimes(long_from=3)
    ease = model.parts[0]
    books, signal = np.array([0, 2, 5, 7]), np.array([1, 1, -1, -1], dtype=np.float32)  # 2 favourites
    scores = ease.score_reader(books, signal)
    np.testing.assert_allclose(model.score_reader(books, signal), scores / reader_scale(scores), rtol=1e-5)
    history = favourites_matrix([books], N_BOOKS, [signal])
    np.testing.assert_array_equal(model.score(history)[0], model.score_reader(books, signal))


def test_a_part_weighted_zero_in_a_regime_is_not_scored_or_named_there() -> None:
    model = regimes(long_from=3)
    calls: list[str] = []
    for name, part in zip(("ease", "knn"), model.parts, strict=True):
        score_reader = part.score_reader
        part.score_reader = lambda books, signal, _f=score_reader, _n=name: (
            calls.append(_n) or _f(books, signal)
        )  # type: ignore[method-assign]
    short, long = np.array([0, 2]), np.array([0, 2, 4, 6])
    model.score_reader(short, np.ones(2, dtype=np.float32))
    model.score_reader(long, np.ones(4, dtype=np.float32))
    assert calls == ["ease", "knn"]
    shares = model.explain_reader(long, np.ones(4, dtype=np.float32), np.array([8, 10]))
    knn = model.parts[1]
    expected = 2.0 * knn.explain_reader(long, np.ones(4, dtype=np.float32), np.array([8, 10]))
    np.testing.assert_allclose(
        shares, expected / reader_scale(knn.score_reader(long, np.ones(4, dtype=np.float32))), rtol=1e-5
    )


def test_a_two_regime_blend_round_trips_through_its_artifact() -> None:
    model = regimes(long_from=3)
    assert model.params["long_from"] == 3
    assert [part["long_weight"] for part in model.params["parts"]] == [0.0, 2.0]
    restored = load_model("blend", save_model(model), model.params)
    np.testing.assert_array_equal(restored.score(histories()), model.score(histories()))


def test_without_long_from_the_params_name_no_regimes() -> None:
    assert "long_from" not in blend(1.0, 0.5).params
    assert all("long_weight" not in part for part in blend(1.0, 0.5).params["parts"])


def test_explaining_another_reader_than_the_last_scored_one_uses_that_readers_scales() -> None:
    model = blend(1.0, 0.5)
    shown = np.array([6, 8, 10])
    first, second = np.array([0, 2]), np.array([1, 3, 5, 7])
    ones = np.ones(4, dtype=np.float32)
    fresh = blend(1.0, 0.5).explain_reader(second, ones, shown)
    model.score_reader(first, ones[:2])
    np.testing.assert_array_equal(model.explain_reader(second, ones, shown), fresh)
    model.score_reader(second, ones)
    np.testing.assert_array_equal(model.explain_reader(second, ones, shown), fresh)


def within_reach(long_from: int | None = None) -> Blend:
    """EASE + 0.7 ALS within EASE's reach; with ``long_from``, item-kNN + ALS from there on."""
    parts = [{**EASE, "weight": 1.0}, {**ALS_PART, "weight": 0.7}]
    if long_from is not None:
        parts = [
            {**EASE, "weight": 1.0, "long_weight": 0.0},
            {**ALS_PART, "weight": 0.7, "long_weight": 0.5},
            {**KNN, "weight": 0.0, "long_weight": 1.0},
        ]
    model = Blend(parts, long_from, within_reach=True)
    model.fit(checker_board())
    return model


def test_within_reach_the_other_parts_score_only_the_books_the_item_parts_score() -> None:
    model = within_reach()
    ease, als = model.parts
    books, signal = np.array([0, 2]), np.ones(2, dtype=np.float32)
    ease_scores, als_scores = ease.score_reader(books, signal), als.score_reader(books, signal)
    reach = np.flatnonzero(ease_scores)
    assert 0 < len(reach) < N_BOOKS  # the test needs books outside the reach
    outside = np.setdiff1d(np.arange(N_BOOKS), reach)
    # Each part on the scale of its scores over the whole catalogue, as without within_reach.
    expected = ease_scores / reader_scale(ease_scores) + 0.7 * als_scores / reader_scale(als_scores)
    scores = model.score_reader(books, signal)
    np.testing.assert_allclose(scores[reach], expected[reach], rtol=1e-5)
    assert not scores[outside].any()
    unbounded = Blend([{**EASE, "weight": 1.0}, {**ALS_PART, "weight": 0.7}])
    unbounded.adopt_parts(model.parts, N_BOOKS)
    np.testing.assert_allclose(unbounded.score_reader(books, signal)[reach], scores[reach], rtol=1e-5)


def test_within_reach_any_part_that_scores_every_book_adds_only_within_it() -> None:
    # Popularity has no shortcut like ALS's: it scores every book, and the blend keeps the reach.
    model = Blend([{**EASE, "weight": 1.0}, {"model_type": "popularity", "weight": 0.5}], within_reach=True)
    model.fit(checker_board())
    ease, popularity = model.parts
    books, signal = np.array([0, 2]), np.ones(2, dtype=np.float32)
    ease_scores, liked = ease.score_reader(books, signal), popularity.score_reader(books, signal)
    reach = np.flatnonzero(ease_scores)
    expected = ease_scores / reader_scale(ease_scores) + 0.5 * liked / reader_scale(liked)
    scores = model.score_reader(books, signal)
    np.testing.assert_allclose(scores[reach], expected[reach], rtol=1e-5)
    assert not np.delete(scores, reach).any()


def test_within_reach_a_like_share_prior_adds_on_its_catalogue_scale() -> None:
    # The prior's shortcut (its scores and square sum kept) must give what scoring it would.
    model = Blend([{**EASE, "weight": 1.0}, {"model_type": "likeshare", "weight": 0.9}], within_reach=True)
    model.fit(checker_board(), like_shares())
    ease, prior = model.parts
    books, signal = np.array([0, 2]), np.ones(2, dtype=np.float32)
    ease_scores, shares = ease.score_reader(books, signal), prior.score_reader(books, signal)
    reach = np.flatnonzero(ease_scores)
    assert 0 < len(reach) < N_BOOKS
    expected = ease_scores / reader_scale(ease_scores) + 0.9 * shares / reader_scale(shares)
    scores = model.score_reader(books, signal)
    np.testing.assert_allclose(scores[reach], expected[reach], rtol=1e-5)
    assert not np.delete(scores, reach).any()
    # The reasons stay the favourites': the prior adds no term.
    shown = reach[:3]
    ease_terms = ease.explain_reader(books, signal, shown) / reader_scale(ease_scores)
    np.testing.assert_allclose(model.explain_reader(books, signal, shown), ease_terms, rtol=1e-6)


def test_a_catalogue_without_star_counts_leaves_the_prior_silent() -> None:
    # books.csv without ratings_1..ratings_5: every like share unknown, the prior all zeros.
    model = Blend([{**EASE, "weight": 1.0}, {"model_type": "likeshare", "weight": 0.9}], within_reach=True)
    model.fit(checker_board(), BookTags(None, np.full(N_BOOKS, np.nan)))
    alone = Blend([{**EASE, "weight": 1.0}], within_reach=True)
    alone.adopt_parts(model.parts[:1], N_BOOKS)
    books, signal = np.array([0, 2]), np.ones(2, dtype=np.float32)
    np.testing.assert_array_equal(model.score_reader(books, signal), alone.score_reader(books, signal))


def test_within_reach_the_candidates_are_the_reach() -> None:
    model = within_reach()
    books, signal = np.array([0, 2]), np.ones(2, dtype=np.float32)
    rows = model.parts[0].reader_candidates(books, signal)
    # Before scoring, the books the item-item rows reach; once scored, those they scored.
    assert model.reader_candidates(books, signal).tolist() == rows.tolist()  # type: ignore[union-attr]
    scored = np.flatnonzero(model.parts[0].score_reader(books, signal))
    model.score_reader(books, signal)
    assert model.reader_candidates(books, signal).tolist() == scored.tolist()  # type: ignore[union-attr]
    assert model.reader_candidates(books, -signal).tolist() == rows.tolist()  # type: ignore[union-attr]
    # Without within_reach an ALS part reaches every book.
    assert (
        Blend([{**EASE, "weight": 1.0}, {**ALS_PART, "weight": 0.7}]).reader_candidates(books, signal) is None
    )


def test_within_reach_no_reason_comes_from_outside_the_reach() -> None:
    model = within_reach()
    ease, als = model.parts
    books, signal = np.array([0, 2, 5]), np.array([1, 1, -1], dtype=np.float32)
    model.score_reader(books, signal)
    reach = model.reader_candidates(books, signal)  # the books EASE scored for this reader
    assert reach is not None
    shown = np.array([reach[0], np.setdiff1d(np.arange(N_BOOKS), reach)[0]])
    shares = model.explain_reader(books, signal, shown)
    assert not shares[1].any()  # the book outside: ALS's terms left out, as from its score
    ease_scores, als_scores = ease.score_reader(books, signal), als.score_reader(books, signal)
    expected = ease.explain_reader(books, signal, shown[:1]) / reader_scale(
        ease_scores
    ) + 0.7 * als.explain_reader(books, signal, shown[:1]) / reader_scale(als_scores)
    np.testing.assert_allclose(shares[:1], expected, rtol=1e-4)


@pytest.mark.parametrize("long_from", [None, 3])
def test_within_reach_a_batch_row_is_the_served_reader(long_from: int | None) -> None:
    model = within_reach(long_from)
    readers = [
        (np.array([0, 2, 4]), np.ones(3, dtype=np.float32)),
        (np.array([1, 6]), np.array([1, -1], dtype=np.float32)),
        (np.array([3, 5, 7, 9]), np.ones(4, dtype=np.float32)),
        (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)),
    ]
    history = favourites_matrix([books for books, _ in readers], N_BOOKS, [signal for _, signal in readers])
    batch = model.score(history)
    for row, (books, signal) in enumerate(readers):
        np.testing.assert_array_equal(batch[row], model.score_reader(books, signal))
    assert not batch[3].any()


def test_within_reach_round_trips_and_is_absent_from_other_blends_params() -> None:
    model = within_reach(long_from=3)
    assert model.params["within_reach"] is True
    restored = load_model("blend", save_model(model), model.params)
    np.testing.assert_array_equal(restored.score(histories()), model.score(histories()))
    assert "within_reach" not in blend(1.0, 0.5).params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"parts": [{**ALS_PART, "weight": 1.0}], "within_reach": True}, "item-item part .* weight"),
        (
            {
                "parts": [{**EASE, "weight": 1.0, "long_weight": 0.0}, {**ALS_PART, "weight": 1.0}],
                "long_from": 4,
                "within_reach": True,
            },
            "item-item part .* long_weight",
        ),
        ({"parts": [EASE], "within_reach": "yes"}, "within_reach must be true or false"),
    ],
)
def test_within_reach_needs_an_item_part_in_each_regime(params: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model("blend", params)


def test_within_is_membership_in_an_ascending_reach() -> None:
    rng = np.random.default_rng(4)
    for size in (0, 1, 5, 60):
        reach = np.unique(rng.integers(0, 80, size)).astype(np.int64)
        books = rng.integers(0, 90, 25).astype(np.int64)
        assert within(books, reach).tolist() == np.isin(books, reach).tolist()
