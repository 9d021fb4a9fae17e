"""One contract, every model type: fit, score, explain, round-trip, and a tiny matrix with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.errors import ConfigError
from readcrumbs.ranking import favourites_matrix, top_k
from readcrumbs.recommenders import MODEL_TYPES, Recommender, create_model, load_model, save_model
from readcrumbs.recommenders.side_information import BookTags

N_BOOKS = 40
# Small enough to be instant, large enough for each model to learn the checker board.
PARAMS: dict[str, dict[str, object]] = {
    "als": {"factors": 8, "iterations": 10, "regularization": 0.01, "alpha": 5.0, "seed": 3},
    "ease": {"l2": 1.0, "neighbours": 30},
    "itemknn": {"neighbours": 30, "shrink": 0.0},
    "popularity": {},
    "likeshare": {},
    "edlae": {"l2": 1.0, "dropout": 0.2, "zero_diagonal": True, "neighbours": 30},
    "rp3beta": {"alpha": 1.0, "beta": 0.3, "neighbours": 30},
    "blend": {
        "parts": [
            {"model_type": "ease", "weight": 1.0, "params": {"l2": 1.0, "neighbours": 30, "tag_weight": 0.0}},
            {"model_type": "itemknn", "weight": 0.5, "params": {"neighbours": 30, "shrink": 0.0}},
        ]
    },
}
LEARNERS = ["als", "ease", "itemknn", "edlae", "rp3beta", "blend"]


def checker_board(n: int = N_BOOKS) -> sp.csr_matrix:
    """implicit's known-answer matrix: reader i likes every book of i's parity but book i.

    (n, n) float32 CSR; a model that learns anything recommends books of the favourites' parity.
    """
    likes = np.zeros((n, n), dtype=np.float32)
    for reader in range(n):
        likes[reader, reader % 2 :: 2] = 1.0
        likes[reader, reader] = 0.0
    return sp.csr_matrix(likes)


def like_shares(n: int = N_BOOKS) -> BookTags:
    """Side information with only like shares (what likeshare reads; the others ignore it)."""
    return BookTags(None, np.random.default_rng(8).uniform(0.4, 0.95, size=n))


def fitted(model_type: str) -> Recommender:
    model = create_model(model_type, PARAMS[model_type])
    model.fit(checker_board(), like_shares())
    return model


def test_every_model_type_is_covered() -> None:
    assert set(PARAMS) == set(MODEL_TYPES)


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_scores_have_one_row_per_reader_and_one_column_per_book(model_type: str) -> None:
    model = fitted(model_type)
    histories = favourites_matrix([np.array([0, 2]), np.array([1]), np.array([], dtype=np.int64)], N_BOOKS)
    scores = model.score(histories)
    assert scores.shape == (3, N_BOOKS)
    assert scores.dtype == np.float32
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_a_book_nobody_liked_in_training_gets_finite_scores(model_type: str) -> None:
    # A split can leave a catalogue book without a single training like: its cosine norm is 0.
    likes = checker_board().tolil()
    likes[:, 7] = 0.0
    model = create_model(model_type, PARAMS[model_type])
    model.fit(likes.tocsr(), like_shares())
    histories = favourites_matrix([np.array([7]), np.array([1, 7]), np.array([0])], N_BOOKS)
    assert np.isfinite(model.score(histories)).all()


@pytest.mark.parametrize("model_type", LEARNERS)
@pytest.mark.parametrize("parity", [0, 1])
def test_the_checker_board_is_learned(model_type: str, parity: int) -> None:
    model = fitted(model_type)
    favourites = np.array([parity, parity + 4, parity + 10])
    histories = favourites_matrix([favourites], N_BOOKS)
    best = top_k(model.score(histories), histories, 10)[0]
    assert (best % 2 == parity).all(), f"{model_type} recommended {best} for favourites {favourites}"


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_favourites_are_never_recommended_back(model_type: str) -> None:
    model = fitted(model_type)
    favourites = [np.arange(0, 20, 2), np.array([1, 3]), np.array([5])]
    histories = favourites_matrix(favourites, N_BOOKS)
    ranked = top_k(model.score(histories), histories, N_BOOKS)
    for row, books in zip(favourites, ranked, strict=True):
        assert not set(row) & set(books)


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_save_and_load_give_the_same_scores(model_type: str) -> None:
    model = fitted(model_type)
    restored = load_model(model_type, save_model(model), model.params)
    histories = favourites_matrix([np.array([0, 2, 4]), np.array([7])], N_BOOKS)
    np.testing.assert_array_equal(model.score(histories), restored.score(histories))
    assert restored.params == model.params


def test_loading_refuses_pickled_objects() -> None:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, likes_per_book=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        load_model("popularity", buffer.getvalue(), {})


def ones(n: int) -> np.ndarray:
    return np.ones(n, dtype=np.float32)


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_explain_gives_one_row_per_book_and_one_column_per_favourite(model_type: str) -> None:
    model = fitted(model_type)
    favourites, books = np.array([0, 2, 4]), np.array([6, 8, 10, 12])
    reasons = model.explain_reader(favourites, ones(3), books)
    assert reasons.shape == (len(books), len(favourites))
    assert reasons.dtype == np.float32


@pytest.mark.parametrize("model_type", LEARNERS)
def test_explain_favours_the_favourite_of_the_same_parity(model_type: str) -> None:
    model = fitted(model_type)
    reasons = model.explain_reader(np.array([1, 2]), ones(2), np.array([4, 6]))
    assert (reasons[:, 1] > reasons[:, 0]).all()


@pytest.mark.parametrize("model_type", LEARNERS)
def test_explain_terms_add_up_to_the_score(model_type: str) -> None:
    model = fitted(model_type)
    books, signal = np.array([0, 3, 4]), np.array([1.0, -1.0, 1.0], dtype=np.float32)
    shown = np.array([2, 6, 7, 8])
    terms = model.explain_reader(books, signal, shown)
    np.testing.assert_allclose(
        terms.sum(axis=1), model.score_reader(books, signal)[shown], rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("model_type", ["popularity", "likeshare"])
def test_a_prior_names_no_favourite_as_a_reason(model_type: str) -> None:
    assert not fitted(model_type).explain_reader(np.array([0, 1]), ones(2), np.array([2, 3])).any()


@pytest.mark.parametrize("model_type", LEARNERS)
def test_a_dislike_lowers_the_books_like_it(model_type: str) -> None:
    model = fitted(model_type)
    liked = model.score_reader(np.array([0, 4]), ones(2))
    disliking = model.score_reader(np.array([0, 2, 4]), np.array([1.0, -1.0, 1.0], dtype=np.float32))
    even = np.arange(6, N_BOOKS, 2)
    assert (disliking[even] <= liked[even]).all() and (disliking[even] < liked[even]).any()


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_create_model_fills_in_defaults(model_type: str) -> None:
    defaults = create_model(model_type).params
    assert create_model(model_type, {}).params == defaults
    for name, value in PARAMS[model_type].items():
        assert create_model(model_type, {name: value}).params == {**defaults, name: value}


def test_unknown_types_and_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model type"):
        create_model("svd")
    with pytest.raises(ConfigError, match="bad parameters for ease"):
        create_model("ease", {"depth": 3})
    with pytest.raises(ConfigError, match="unknown model type"):
        load_model("svd", b"", {})


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_reader_candidates_hold_every_book_that_scores_above_zero(model_type: str) -> None:
    # Serving ranks among a model's candidates only (readcrumbs/recommend.py): one left out
    # would be a book the batch path shows and serving never could.
    model = fitted(model_type)
    rng = np.random.default_rng(5)
    for _ in range(50):
        books = np.sort(rng.choice(N_BOOKS, size=int(rng.integers(1, 6)), replace=False)).astype(np.int64)
        signal = rng.choice(np.array([1.0, -1.0], dtype=np.float32), size=len(books))
        candidates = model.reader_candidates(books, signal)
        if candidates is None:
            continue
        assert candidates.dtype == np.int64
        assert (np.diff(candidates) > 0).all()  # ascending, each once
        above_zero = np.flatnonzero(model.score_reader(books, signal) > 0)
        assert np.isin(above_zero, candidates).all()


def test_item_weight_models_name_their_candidates_and_factor_models_do_not() -> None:
    books, signal = np.array([0, 2], dtype=np.int64), np.ones(2, dtype=np.float32)
    for model_type in ("ease", "itemknn", "edlae", "rp3beta", "blend"):  # the blend's parts are item-item
        candidates = fitted(model_type).reader_candidates(books, signal)
        assert candidates is not None and 0 < len(candidates) < N_BOOKS
    for model_type in ("als", "popularity", "likeshare"):
        assert fitted(model_type).reader_candidates(books, signal) is None
