"""Title resolution, suggestions and search of readcrumbs.catalogue on the tiny catalogue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readcrumbs.catalogue import Catalogue, MatchKind
from readcrumbs.errors import UnknownBook
from tests.backend.tiny import tiny_catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_frame(tiny_catalogue())


def resolved_id(catalogue: Catalogue, item: str | int) -> int | None:
    match = catalogue.match(item)
    return match.book.book_id if match is not None else None


def test_exact_title_resolves(catalogue):
    match = catalogue.match("Pride and Prejudice")
    assert match is not None
    assert (match.book.book_id, match.kind, match.confidence) == (9, MatchKind.EXACT, 100.0)


@pytest.mark.parametrize(
    ("typed", "book_id"),
    [
        ("pride and prejudice", 9),  # case
        ("  PRIDE   and prejudice!", 9),  # spaces and punctuation
        ("Les Miserables", 5),  # accents
        ("hobbit", 1),  # leading article dropped on both sides
        ("A Hobbit", 1),
        ("Harry Potter and the Sorcerer's Stone", 3),  # series note left out
        ("dune", 8),
    ],
)
def test_normalized_title_resolves(catalogue, typed, book_id):
    match = catalogue.match(typed)
    assert match is not None
    assert match.book.book_id == book_id
    assert match.kind == MatchKind.NORMALIZED


@pytest.mark.parametrize(
    ("typed", "book_id"),
    [
        ("Pride and Prejudise", 9),
        ("Harry Poter and the Sorcerers Stone", 3),
        ("Farenheit 451", 14),
        ("Brave World New", 13),  # swapped words
    ],
)
def test_typo_resolves_fuzzily_with_its_confidence(catalogue, typed, book_id):
    match = catalogue.match(typed)
    assert match is not None
    assert match.book.book_id == book_id
    assert match.kind == MatchKind.FUZZY
    assert catalogue.fuzzy_threshold <= match.confidence <= 100.0


def test_fuzzy_threshold_is_respected():
    strict = Catalogue.from_frame(tiny_catalogue(), fuzzy_threshold=99.0)
    assert strict.match("Pride and Prejudise") is None


def test_ambiguous_title_picks_the_most_popular_book(catalogue):
    frame = tiny_catalogue()
    rebeccas = frame[frame["title"] == "Rebecca"]
    assert len(rebeccas) == 2
    most_popular = int(rebeccas.sort_values("popularity", ascending=False)["book_id"].iloc[0])
    assert resolved_id(catalogue, "Rebecca") == most_popular
    assert resolved_id(catalogue, "rebecca") == most_popular


def test_ambiguity_follows_ratings_count_not_row_order():
    frame = tiny_catalogue()
    rebecca = frame["title"] == "Rebecca"
    frame.loc[rebecca, "ratings_count"] = frame.loc[rebecca, "ratings_count"].to_numpy()[::-1]
    flipped = Catalogue.from_frame(frame)
    best_known = int(frame[rebecca].sort_values("ratings_count", ascending=False)["book_id"].iloc[0])
    assert resolved_id(flipped, "Rebecca") == best_known


def test_likes_break_a_ratings_count_tie():
    frame = tiny_catalogue()
    rebecca = frame["title"] == "Rebecca"
    frame.loc[rebecca, "ratings_count"] = 1000
    most_liked = int(frame[rebecca].sort_values("popularity", ascending=False)["book_id"].iloc[0])
    assert resolved_id(Catalogue.from_frame(frame), "Rebecca") == most_liked


def test_book_ids_resolve_as_numbers_and_digit_strings(catalogue):
    assert catalogue.match(12) is not None
    assert resolved_id(catalogue, 12) == 12
    match = catalogue.match("12")
    assert match is not None
    assert (match.book.book_id, match.kind) == (12, MatchKind.BOOK_ID)


def test_a_digits_only_title_wins_over_the_book_id_reading(catalogue):
    # "1984" is a title here; book_id 1984 does not exist, but a title must win either way.
    match = catalogue.match("1984")
    assert match is not None
    assert (match.book.title, match.kind) == ("1984", MatchKind.EXACT)


@pytest.mark.parametrize("item", ["The Great Gatsby", "", "   ", "!!!", 999, -1, "zzzzqqq"])
def test_unknown_items_do_not_resolve(catalogue, item):
    assert catalogue.match(item) is None


def test_resolve_keeps_input_order_and_reports_unknown(catalogue):
    resolution = catalogue.resolve(["Emma", "Gatsby", 2, "emma", "nope nope"])
    assert [match.item for match in resolution.matches] == ["Emma", 2, "emma"]
    assert resolution.unknown == ["Gatsby", "nope nope"]
    assert resolution.book_ids == [10, 2]  # each book once


def test_suggestions_are_close_titles(catalogue):
    suggestions = catalogue.suggest("Harry Potter")
    assert suggestions
    assert all("Harry Potter" in title for title in suggestions)
    assert catalogue.suggest("qqqqqqqqqq") == []
    assert catalogue.suggest("") == []
    assert len(catalogue.suggest("the", limit=2)) <= 2


def test_search_by_title_prefix_ranks_popular_first(catalogue):
    books = catalogue.search("harry")
    assert [book.book_id for book in books] == [3, 4]  # popularity 50 before 30


def test_search_matches_author_words(catalogue):
    ids = {book.book_id for book in catalogue.search("orwell")}
    assert ids == {2, 12}
    by_first_name = {book.book_id for book in catalogue.search("jane")}
    assert by_first_name == {9, 10}


def test_search_puts_title_prefix_before_word_prefix(catalogue):
    # "fellowship" starts book 11's (normalized) title; "farm" only a later word of book 12's.
    assert [book.book_id for book in catalogue.search("f")][:2] == [11, 14]  # title prefixes, popular first
    assert [book.book_id for book in catalogue.search("farm")] == [12]
    assert [book.book_id for book in catalogue.search("lord of")] == [11]


def test_search_falls_back_to_fuzzy(catalogue):
    ids = [book.book_id for book in catalogue.search("tolkein")]
    assert set(ids) == {1, 11}
    assert ids == sorted(ids, key=lambda book_id: -catalogue.book(book_id).popularity)


def test_search_respects_limit_and_empty_queries(catalogue):
    assert len(catalogue.search("a", limit=3)) <= 3
    assert catalogue.search("") == []
    assert catalogue.search("?!") == []
    assert catalogue.search("harry", limit=0) == []


def test_book_lookup(catalogue):
    assert catalogue.book(5).title == "Les Misérables"
    assert 5 in catalogue
    assert catalogue.get(999) is None
    with pytest.raises(UnknownBook, match="999"):
        catalogue.book(999)
    assert len(catalogue) == len(tiny_catalogue())


def test_from_frame_reads_missing_values_and_parquet_lists(tmp_path):
    frame = tiny_catalogue()
    path = tmp_path / "catalogue.parquet"
    frame.to_parquet(path, index=False)
    from_parquet = Catalogue.from_frame(pd.read_parquet(path))
    book = from_parquet.book(7)
    assert book.year is None  # Int64 NA
    assert from_parquet.book(3).genres == ("fantasy",)
    assert from_parquet.book(3).year == 1997


def test_from_frame_tolerates_absent_optional_columns():
    frame = pd.DataFrame({"book_id": np.array([1, 2]), "title": ["Alpha", "Beta"]})
    catalogue = Catalogue.from_frame(frame)
    book = catalogue.book(1)
    assert (book.authors, book.year, book.genres, book.popularity) == ("", None, (), 0)


def test_threshold_outside_0_100_is_refused():
    with pytest.raises(ValueError, match=r"0\.\.100"):
        Catalogue([], fuzzy_threshold=120.0)


def test_fuzzy_look_ups_per_call_can_be_capped(catalogue):
    typos = ["Pride and Prejudise", "Farenheit 451", "Emma"]
    capped = catalogue.resolve(typos, max_fuzzy=1)
    assert [match.book.book_id for match in capped.matches] == [9, 10]  # dict look-ups still run
    assert capped.unknown == ["Farenheit 451"]
    assert catalogue.resolve(typos).unknown == []
    assert catalogue.match("Farenheit 451", fuzzy=False) is None
