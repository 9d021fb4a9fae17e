"""One reader served (score_reader + top_k_reader) ranks exactly as the batch (score + top_k).

A few thousand random readers per model type, with favourites and dislikes, on a random likes
matrix: the served list must equal the batch list book for book, in order.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.book_facts import BookFacts
from readcrumbs.ranking import favourites_matrix, top_k
from readcrumbs.recommend import ReaderInput, rank_reader
from readcrumbs.recommenders import create_model
from readcrumbs.recommenders.side_information import BookTags

N_USERS, N_BOOKS, READERS, K = 400, 300, 3000, 10
MODELS = {
    "popularity": {},
    "itemknn": {"neighbours": 40, "shrink": 5.0},
    # Few neighbours: many readers have fewer than k books above zero, so the full ranking runs.
    "itemknn-sparse": {"neighbours": 3, "shrink": 5.0},
    "ease": {"l2": 20.0, "neighbours": 50},
    "als": {"factors": 16, "iterations": 4, "regularization": 0.5, "alpha": 8.0, "seed": 2},
    "edlae": {"l2": 20.0, "dropout": 0.2, "neighbours": 50},
    "rp3beta": {"alpha": 0.8, "beta": 0.3, "neighbours": 50},
    "blend": {
        "parts": [
            {"model_type": "ease", "weight": 1.0, "params": {"l2": 20.0, "neighbours": 50}},
            {"model_type": "als", "weight": 0.7, "params": {"factors": 16, "iterations": 4, "alpha": 8.0}},
        ]
    },
    # Two regimes: 1–3 favourites are scored with EASE and ALS, 4–6 with ALS and RP3beta.
    "blend-regimes": {
        "long_from": 4,
        "parts": [
            {
                "model_type": "ease",
                "weight": 1.0,
                "long_weight": 0.0,
                "params": {"l2": 20.0, "neighbours": 50},
            },
            {
                "model_type": "als",
                "weight": 0.7,
                "long_weight": 1.0,
                "params": {"factors": 16, "iterations": 4},
            },
            {"model_type": "rp3beta", "weight": 0.0, "long_weight": 0.5, "params": {"neighbours": 30}},
        ],
    },
    "blend-items": {
        "parts": [
            {"model_type": "ease", "weight": 1.0, "params": {"l2": 20.0, "neighbours": 50}},
            {"model_type": "rp3beta", "weight": 0.5, "params": {"neighbours": 30}},
        ]
    },
}
# The two regimes within reach: ALS scores only the books EASE (1–3 favourites) or RP3beta (4–6)
# scores; rankings among those, and the full ranking for readers with fewer than k above zero.
MODELS["blend-reach"] = {**MODELS["blend-regimes"], "within_reach": True}
# make train's shape: the short regime's like-share prior re-ranks EASE's books within reach.
MODELS["blend-prior"] = {
    "long_from": 4,
    "within_reach": True,
    "parts": [
        *MODELS["blend-regimes"]["parts"],
        {"model_type": "likeshare", "weight": 0.9, "long_weight": 0.0},
    ],
}
MODELS["likeshare"] = {}


def random_likes(seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    popularity = rng.zipf(1.6, N_BOOKS).clip(max=60) / 60.0
    return sp.csr_matrix((rng.random((N_USERS, N_BOOKS)) < popularity * 0.3).astype(np.float32))


def random_side(seed: int = 3) -> BookTags:
    """Like shares for :data:`N_BOOKS` books, a few unknown (what likeshare reads)."""
    shares = np.random.default_rng(seed).uniform(0.5, 0.95, size=N_BOOKS)
    shares[::37] = np.nan
    return BookTags(None, shares)


def random_readers(seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """(books, signals) per reader: 1–6 favourites, and 0–2 dislikes for about half of them."""
    rng = np.random.default_rng(seed)
    readers = []
    for _ in range(READERS):
        n_favourites = int(rng.integers(1, 7))
        n_disliked = int(rng.integers(0, 3)) if rng.random() < 0.5 else 0
        books = rng.choice(N_BOOKS, n_favourites + n_disliked, replace=False).astype(np.int64)
        signal = np.r_[np.ones(n_favourites), -np.ones(n_disliked)].astype(np.float32)
        readers.append((books, signal))
    return readers


@pytest.mark.parametrize("name", sorted(MODELS))
def test_served_and_batched_rankings_are_identical(name: str) -> None:
    model = create_model(name.split("-")[0], MODELS[name])
    model.fit(random_likes(), random_side())
    readers = random_readers()
    histories = favourites_matrix([books for books, _ in readers], N_BOOKS, [signal for _, signal in readers])
    batched = top_k(model.score(histories), histories, K)
    facts = BookFacts({"title": [f"Book {i}" for i in range(N_BOOKS)]})
    for row, (books, signal) in enumerate(readers):
        reader = ReaderInput(favourites=books[signal > 0], disliked=books[signal < 0])
        served = [ranked.book for ranked in rank_reader(model, facts, reader, K)]
        assert served == batched[row].tolist(), f"{name}: reader {row} ({books}, {signal})"


def test_a_book_both_liked_and_disliked_counts_as_disliked() -> None:
    model = create_model("itemknn", MODELS["itemknn"])
    model.fit(random_likes())
    facts = BookFacts({"title": [f"Book {i}" for i in range(N_BOOKS)]})
    both = rank_reader(model, facts, ReaderInput(np.array([1, 2]), np.array([2])), K)
    disliked = np.array([2], dtype=np.int64)
    histories = favourites_matrix([np.array([1, 2])], N_BOOKS, [np.array([1.0, -1.0])])
    assert [r.book for r in both] == top_k(model.score(histories), histories, K)[0].tolist()
    assert 2 not in [r.book for r in both] and disliked.size
