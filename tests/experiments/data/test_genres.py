from __future__ import annotations

import pytest

from experiments.data.genres import SYNONYMS, canonical_genre, is_genre, shelf_names_of


@pytest.mark.parametrize(
    "shelf",
    [
        "fantasy",
        "young-adult",
        "historical-fiction",
        "picture-books",
        "science-fiction",
        "comic-books",
        "Classics",
    ],
)
def test_shelves_that_describe_the_book_are_genres(shelf: str) -> None:
    assert is_genre(shelf)


@pytest.mark.parametrize(
    "shelf",
    [
        "to-read",
        "currently-reading",
        "favorites",
        "all-time-favourites",
        "owned",
        "books-i-own",
        "default",
        "kindle",
        "ebook",
        "e-books",
        "audiobooks",
        "read-in-2015",
        "2016-reads",
        "5-stars",
        "book-club",
        "my-library",
        "rory-gilmore-reading-challenge",
        "1001-books-to-read-before-you-die",
        "series",
        "dnf",
        "-",
        "  ",
    ],
)
def test_shelves_about_where_a_book_sits_are_not_genres(shelf: str) -> None:
    assert not is_genre(shelf)


@pytest.mark.parametrize(
    ("shelf", "genre"),
    [
        ("sci-fi", "science-fiction"),
        ("scifi", "science-fiction"),
        ("SF", "science-fiction"),
        ("ya", "young-adult"),
        ("nonfiction", "non-fiction"),
        ("children-s-books", "childrens"),
        ("fantasy", "fantasy"),  # a genre that is its own spelling
        ("historical", "historical"),  # not merged: history or historical fiction?
    ],
)
def test_spellings_of_a_genre_merge(shelf: str, genre: str) -> None:
    assert canonical_genre(shelf) == genre


def test_canonical_genre_of_a_shelf_is_none() -> None:
    assert canonical_genre("to-read") is None
    assert canonical_genre("favorites") is None


def test_every_synonym_points_at_a_genre_that_is_its_own_spelling() -> None:
    for target in SYNONYMS.values():
        assert canonical_genre(target) == target


def test_author_and_series_shelves_are_named() -> None:
    titles = ["Guards! Guards! (Discworld, #8)", "Dune", *[f"Book {n}" for n in range(5)]]
    authors = ["Terry Pratchett", "Frank Herbert", *["Dean Koontz"] * 5]
    names = shelf_names_of(titles, authors)
    assert {"terry-pratchett", "frank-herbert", "dean-koontz", "koontz", "discworld"} <= names
    assert "herbert" not in names  # one book: a surname alone is not yet a shelf
    assert "fantasy" not in names
    assert {"j-d-robb", "jd-robb"} <= shelf_names_of([], ["J.D. Robb"])
