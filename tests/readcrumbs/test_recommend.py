"""Serving one reader: reasons, genres (steering and the starter list), dislikes and one book per series."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.book_facts import BookFacts
from readcrumbs.errors import UnknownGenre
from readcrumbs.recommend import GENRE_BOOST, ReaderInput, likeness_to_dislikes, rank_reader, reasons
from readcrumbs.recommenders.itemknn import ItemKNN
from readcrumbs.recommenders.neighbours import ItemWeights

# index: title, genres, average rating, ratings count, likes
BOOKS = [
    ("Alpha (Saga, #1)", ["fantasy"], 4.0, 1000, 50),
    ("Beta (Saga, #2)", ["fantasy"], 4.0, 1000, 40),
    ("Gamma (Saga, #3)", ["fantasy"], 4.0, 1000, 30),
    ("Delta", ["fantasy", "romance"], 3.9, 1000, 45),
    ("Epsilon", ["romance"], 4.6, 1000, 20),
    ("Zeta (Other, #1)", ["science-fiction"], 4.0, 1000, 10),
    ("Eta", ["romance"], 3.0, 1000, 30),
    ("Theta", ["classics"], 4.2, 1000, 60),
]


def facts() -> BookFacts:
    return BookFacts(
        {
            "title": [book[0] for book in BOOKS],
            "genres": [book[1] for book in BOOKS],
            "average_rating": [book[2] for book in BOOKS],
            "ratings_count": [book[3] for book in BOOKS],
            "popularity": [book[4] for book in BOOKS],
        }
    )


def model(weights: dict[tuple[int, int], float]) -> ItemKNN:
    """An item-kNN whose weight from book a to book b is ``weights[a, b]``."""
    dense = np.zeros((len(BOOKS), len(BOOKS)), dtype=np.float32)
    for (a, b), weight in weights.items():
        dense[a, b] = weight
    knn = ItemKNN()
    knn.item_weights = ItemWeights.from_csr(sp.csr_matrix(dense))
    return knn


def reader(
    favourites: list[int], disliked: tuple[int, ...] = (), genres: tuple[str, ...] = (), series: bool = False
) -> ReaderInput:
    return ReaderInput(
        np.array(favourites, dtype=np.int64), np.array(disliked, dtype=np.int64), genres, series
    )


def test_a_favourite_with_a_small_share_is_not_a_reason() -> None:
    knn = model({(3, 4): 0.9, (6, 4): 0.1, (3, 7): 0.5, (6, 7): 0.4})
    ranked = {r.book: r for r in rank_reader(knn, facts(), reader([3, 6]), 2)}
    assert ranked[4].because == [3]  # 0.1 of 1.0 is under the 30 % share
    assert ranked[7].because == [3, 6]  # strongest first; 0.4 of 0.9 is a meaningful share


def test_the_strongest_favourite_is_named_even_below_the_share() -> None:
    shares = np.array([[0.2, 0.2, 0.2, 0.2, 0.2]], dtype=np.float32)
    books, signal = np.arange(5), np.ones(5, dtype=np.float32)
    assert reasons(shares, books, signal) == [[0]]


def test_dislikes_and_negative_terms_are_never_reasons() -> None:
    shares = np.array([[0.5, -0.2, 0.6], [-0.1, 0.0, -0.3]], dtype=np.float32)
    books, signal = np.array([1, 4, 6]), np.array([1.0, 1.0, -1.0], dtype=np.float32)
    assert reasons(shares, books, signal) == [[1], []]


def test_at_most_three_reasons() -> None:
    shares = np.array([[1.0, 1.0, 1.0, 1.0]], dtype=np.float32)  # each 25 %: only the strongest
    assert reasons(shares, np.arange(4), np.ones(4, dtype=np.float32)) == [[0]]
    shares = np.array([[1.0, 0.9, 0.9, 0.0]], dtype=np.float32)
    assert reasons(shares, np.arange(4), np.ones(4, dtype=np.float32)) == [[0, 1, 2]]


def reasons_by_definition(shares: np.ndarray, books: np.ndarray, signal: np.ndarray) -> list[list[int]]:
    """reasons() as its docstring says it: every book sorted by its term (ties in the books'
    order), the first three kept when positive and, after the strongest, at least 30 %."""
    named = []
    signs = signal.tolist()
    for row in shares.tolist():
        terms = [value if value > 0 and sign > 0 else 0.0 for value, sign in zip(row, signs, strict=True)]
        threshold = 0.3 * sum(terms)
        strongest = sorted(range(len(terms)), key=terms.__getitem__, reverse=True)[:3]
        kept = [i for rank, i in enumerate(strongest) if terms[i] > 0 and (not rank or terms[i] >= threshold)]
        named.append([int(books[i]) for i in kept])
    return named


def test_reasons_name_the_favourites_their_definition_names() -> None:
    rng = np.random.default_rng(3)
    for _ in range(3000):
        n = int(rng.integers(1, 9))
        # Few distinct values: ties, zeros and negative terms are common.
        shares = (rng.integers(-2, 4, size=(5, n)) * rng.random((5, n)).round(1)).astype(np.float32)
        signal = np.where(rng.random(n) < 0.8, 1.0, -1.0).astype(np.float32)
        books = rng.choice(1000, size=n, replace=False)
        assert reasons(shares, books, signal) == reasons_by_definition(shares, books, signal)


def test_a_disliked_book_is_never_shown_and_counts_against_books_like_it() -> None:
    knn = model({(0, 4): 0.5, (0, 7): 0.45, (6, 4): 0.4, (6, 5): 0.1})
    before = [r.book for r in rank_reader(knn, facts(), reader([0]), 2)]
    after = [r.book for r in rank_reader(knn, facts(), reader([0], disliked=(6,)), 2)]
    assert before == [4, 7]
    assert after == [7, 4]  # 4 is like the disliked 6: 0.5 - 0.4 < 0.45
    shown = [r.book for r in rank_reader(knn, facts(), reader([0], disliked=(4,)), 7)]
    assert 4 not in shown and 0 not in shown


def test_turning_down_a_volume_turns_down_its_series() -> None:
    knn = model({(7, 0): 0.9, (7, 2): 0.8, (7, 4): 0.5, (7, 5): 0.4})
    assert [r.book for r in rank_reader(knn, facts(), reader([7]), 2)] == [0, 2]
    # Beta (Saga #2) turned down: Alpha and Gamma, the Saga's other volumes, go too.
    after = [r.book for r in rank_reader(knn, facts(), reader([7], disliked=(1,)), 7)]
    assert after[:2] == [4, 5] and not {0, 1, 2} & set(after)
    # The same from a starter list: fantasy without the Saga is Delta alone, then other books.
    starter = [r.book for r in rank_reader(knn, facts(), reader([], (1,), ("fantasy",)), 7)]
    assert starter[0] == 3 and not {0, 1, 2} & set(starter)
    # And with one book per series.
    per_series = [r.book for r in rank_reader(knn, facts(), reader([7], disliked=(1,), series=True), 7)]
    assert per_series[:2] == [4, 5] and not {0, 1, 2} & set(per_series)


def test_a_series_with_a_loved_volume_stays_when_another_is_turned_down() -> None:
    knn = model({(0, 2): 0.9, (0, 4): 0.5})
    assert [r.book for r in rank_reader(knn, facts(), reader([0], disliked=(1,)), 2)] == [2, 4]


def test_genres_lift_books_of_those_genres_by_at_most_half_their_score() -> None:
    knn = model({(0, 7): 1.0, (0, 4): 0.7, (0, 6): 0.4, (0, 3): 0.6})
    plain = rank_reader(knn, facts(), reader([0]), 4)
    assert [r.book for r in plain] == [7, 4, 3, 6]
    steered = rank_reader(knn, facts(), reader([0], genres=("romance",)), 4)
    # 4 (romance, 0.7 → 1.05) rises above 7 (classics, 1.0); 3 (romance, 0.6 → 0.9) cannot: the
    # lift is bounded by half a book's own score.
    assert [r.book for r in steered] == [4, 7, 3, 6]
    assert {r.book: r.score for r in steered}[4] == pytest.approx(0.7 * (1 + GENRE_BOOST))
    assert {r.book: r.because_genres for r in steered} == {
        4: ["romance"],
        3: ["romance"],
        7: [],
        6: ["romance"],
    }


def test_genres_alone_give_well_rated_and_well_liked_books_of_those_genres() -> None:
    knn = model({})
    ranked = rank_reader(knn, facts(), reader([], genres=("romance",)), 4)
    # Epsilon (4.6, 20 likes) before Delta (3.9, 45 likes) before Eta (3.0, 30 likes); then a
    # book of another genre only to fill the list.
    assert [r.book for r in ranked[:3]] == [4, 3, 6]
    assert all(r.because == [] for r in ranked)
    assert [r.because_genres for r in ranked[:3]] == [["romance"]] * 3
    assert ranked[3].because_genres == []


def test_dislikes_push_books_like_them_down_a_starter_list() -> None:
    # Romance by quality: Epsilon (4), Delta (3), Eta (6). The reader turned Alpha (0) down, and
    # the model says Delta is the book most like Alpha: it falls to zero, among the off-genre books.
    knn = model({(0, 3): 0.8, (0, 6): 0.2})
    plain = rank_reader(knn, facts(), reader([], genres=("romance",)), 3)
    assert [r.book for r in plain] == [4, 3, 6]
    ranked = {r.book: r.score for r in rank_reader(knn, facts(), reader([], (0,), ("romance",)), 8)}
    assert list(ranked)[:2] == [4, 6] and ranked[3] == 0.0
    assert 0 not in ranked


def test_likeness_to_dislikes_is_a_share_of_the_strongest_push() -> None:
    likeness = likeness_to_dislikes(np.array([-0.8, -0.2, 0.0, 0.3], dtype=np.float32))
    assert likeness.tolist() == pytest.approx([1.0, 0.25, 0.0, 0.0])
    assert likeness_to_dislikes(np.ones(3, dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]


def test_a_starter_list_weighs_the_rating_against_the_likes() -> None:
    quality = facts().starter_quality
    assert quality[4] > quality[3]  # 4.6 with 20 likes before 3.9 with 45
    assert quality[7] > quality[1]  # the same rating or better and more likes
    assert quality[3] > quality[6]  # 3.9 with 45 likes before 3.0 with 30


def test_a_rating_from_few_readers_is_shrunk_towards_the_mean() -> None:
    from readcrumbs.book_facts import starter_quality

    quality = starter_quality(
        np.array([5.0, 4.5, 3.5]), np.array([10.0, 10_000.0, 10_000.0]), np.array([30.0, 30.0, 30.0])
    )
    assert quality[1] > quality[0]  # 4.5 from 10,000 ratings beats 5.0 from 10


def test_unknown_genres_name_the_close_known_ones() -> None:
    with pytest.raises(UnknownGenre) as error:
        facts().known_genres(["Romance", "fantasy", "sciencefiction", "zzz"])
    assert error.value.unknown == ["sciencefiction", "zzz"]
    assert error.value.close == ["science-fiction"]


def test_genre_names_forgive_case_and_spaces() -> None:
    assert facts().known_genres(["Science Fiction", " ROMANCE", "romance"]) == ("science-fiction", "romance")


def test_one_per_series_shows_the_next_volume_in_the_place_of_the_best_ranked() -> None:
    knn = model({(0, 2): 0.9, (0, 1): 0.8, (0, 7): 0.5, (0, 5): 0.4})
    plain = [r.book for r in rank_reader(knn, facts(), reader([0]), 3)]
    assert plain == [2, 1, 7]
    series = rank_reader(knn, facts(), reader([0], series=True), 3)
    # Gamma (#3) ranked first, but the reader gave #1: Beta (#2) is shown in its place, once.
    assert [r.book for r in series] == [1, 7, 5]
    assert series[0].because == [0]


def test_one_per_series_starts_a_series_the_reader_has_not_begun_at_its_first_volume() -> None:
    knn = model({(7, 2): 0.9, (7, 1): 0.8, (7, 4): 0.5})
    assert [r.book for r in rank_reader(knn, facts(), reader([7], series=True), 2)] == [0, 4]


def test_one_per_series_skips_disliked_volumes() -> None:
    knn = model({(0, 2): 0.9, (0, 4): 0.5})
    ranked = rank_reader(knn, facts(), reader([0], disliked=(1,), series=True), 2)
    assert [r.book for r in ranked] == [2, 4]


def test_one_per_series_looks_deeper_when_series_fill_the_first_ranks() -> None:
    knn = model({(7, 0): 0.9, (7, 1): 0.8, (7, 2): 0.7, (7, 5): 0.1})
    # k = 7 from 7 books left: the Saga's three count once, so five books are all there is.
    ranked = [r.book for r in rank_reader(knn, facts(), reader([7], series=True), 7)]
    assert ranked == [0, 5, 3, 4, 6]
