from __future__ import annotations

import pytest

from experiments.data.genres import is_genre


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
