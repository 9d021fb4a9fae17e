"""What ranking needs to know about each book beyond the model: genres, quality and series.

Built once per model version from the bundle's catalogue columns (index order, as the model),
with numpy alone. Three uses:

* **genres**: which books carry a genre (``Book.genres``, the book's most used goodbooks tags),
  to validate the genres a reader names and to steer a ranking towards them;
* **a starter list** for a reader who names genres but no favourite: books of those genres by
  :attr:`BookFacts.starter_quality`, a Bayesian-shrunk rating times log popularity, so a list is
  well rated *and* well liked rather than only the most popular books;
* **series**: each book's series and volume (:func:`readcrumbs.series.parse_series`), for the
  option of at most one book per series.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from readcrumbs.errors import UnknownGenre
from readcrumbs.series import parse_series

# Starter quality = (shrunk rating − RATING_FLOOR) · ln(e + likes). The shrunk rating is
# (v·R + m·C) / (v + m): R the book's average rating over its v ratings, C the catalogue's mean
# rating and m the median ratings count, so a rating from few readers counts for less. Ratings in
# goodbooks lie between ~2.5 and ~4.8: the floor makes a 4.5 worth twice a 3.5 instead of 1.3×.
RATING_FLOOR = 2.5
# Quality never reaches zero, so a book of the genre always ranks above one without it.
MIN_QUALITY = 0.01
CLOSE_GENRES = 5


def genre_key(name: str) -> str:
    """A genre name as the catalogue spells its tags: lower case, words joined by '-'."""
    return "-".join(name.strip().lower().replace("_", " ").split())


class BookFacts:
    """Per-book arrays in model index order, from catalogue ``columns`` (see module docstring).

    Uses the columns ``title``, ``genres`` (a list per book), ``average_rating``,
    ``ratings_count`` and ``popularity`` (likes in training); absent or null values count as
    unknown (no genre, the mean rating, no ratings, no likes).
    """

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        titles = [str(title) for title in columns["title"]]
        n_books = len(titles)
        self.n_books = n_books
        books_of: dict[str, list[int]] = {}
        keys: dict[str, str] = {}  # ~1,500 distinct tags over 50,000 uses: each normalised once
        for index, genres in enumerate(columns.get("genres") or [()] * n_books):
            for genre in genres or ():
                key = keys.get(genre)
                if key is None:
                    key = keys[genre] = genre_key(str(genre))
                books_of.setdefault(key, []).append(index)
        # Each book's genres are unique in the catalogue, so each list has each index once.
        self.genre_books = {
            genre: np.unique(np.asarray(books, dtype=np.int64)) for genre, books in books_of.items()
        }
        self.starter_quality = starter_quality(
            _floats(columns.get("average_rating"), n_books),
            _floats(columns.get("ratings_count"), n_books),
            _floats(columns.get("popularity"), n_books),
        )
        self.series_key: list[str | None] = []
        members: dict[str, list[tuple[float, int]]] = {}
        for index, title in enumerate(titles):
            series = parse_series(title)
            self.series_key.append(series.key if series else None)
            if series is not None:
                members.setdefault(series.key, []).append((series.volume, index))
        self.series_volume = {key: sorted(books) for key, books in members.items()}

    # -- genres -------------------------------------------------------------------------------
    def known_genres(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` as catalogue genres, each once, in the order given.

        Raises :class:`UnknownGenre` naming every unknown one and the known genres closest to them.
        """
        keys = list(dict.fromkeys(genre_key(name) for name in names))
        unknown = [key for key in keys if key not in self.genre_books]
        if unknown:
            close: dict[str, None] = {}
            for key in unknown:
                close.update(dict.fromkeys(difflib.get_close_matches(key, self.genre_books, n=3, cutoff=0.6)))
            raise UnknownGenre(unknown, list(close)[:CLOSE_GENRES])
        return tuple(keys)

    def genre_match(self, genres: Sequence[str]) -> np.ndarray:
        """The share of ``genres`` (known keys) each book carries: (n_books,) float32 in 0..1."""
        match = np.zeros(self.n_books, dtype=np.float32)
        for genre in genres:
            match[self.genre_books[genre]] += np.float32(1.0 / len(genres))
        return match

    def genres_of(self, book: int, genres: Sequence[str]) -> list[str]:
        """Those of ``genres`` that ``book`` carries, in the order given."""
        return [genre for genre in genres if _contains(self.genre_books[genre], book)]

    # -- series -------------------------------------------------------------------------------
    def next_volume(self, book: int, favourites: set[int], excluded: set[int]) -> int:
        """The book to show for ``book``'s series: the next volume the reader has not given.

        That is the lowest volume above the highest volume among ``favourites``, or the lowest
        volume when the reader gave none of the series, skipping ``excluded`` books (given or
        already shown); ``book`` itself when the series has no such volume or it is not a series.
        """
        key = self.series_key[book]
        if key is None:
            return book
        volumes = self.series_volume[key]
        read = [volume for volume, index in volumes if index in favourites]
        after = max(read) if read else -math.inf
        for volume, index in volumes:
            if volume > after and index not in excluded:
                return index
        return book


def starter_quality(rating: np.ndarray, ratings_count: np.ndarray, likes: np.ndarray) -> np.ndarray:
    """Well rated and well liked: (n_books,) float32, > 0 (see :data:`RATING_FLOOR`).

    ``rating``: average rating 1..5 (NaN when unknown); ``ratings_count``, ``likes``: counts
    (NaN as 0). The rating is shrunk towards the catalogue mean by the median ratings count.
    """
    counts = np.nan_to_num(ratings_count, nan=0.0)
    known = ~np.isnan(rating)
    mean = float(np.mean(rating[known])) if known.any() else 3.5
    prior = float(np.median(counts)) if len(counts) else 0.0
    rating = np.where(known, rating, mean)
    shrunk = (counts * rating + prior * mean) / np.maximum(counts + prior, 1e-9)
    popularity = np.log(math.e + np.nan_to_num(likes, nan=0.0).clip(min=0.0))
    quality = np.maximum((shrunk - RATING_FLOOR) * popularity, MIN_QUALITY)
    return np.asarray(quality, dtype=np.float32)


def _floats(values: Sequence[Any] | None, n_books: int) -> np.ndarray:
    if values is None:
        return np.full(n_books, np.nan)
    return np.array([np.nan if value is None else float(value) for value in values], dtype=np.float64)


def _contains(sorted_books: np.ndarray, book: int) -> bool:
    at = int(np.searchsorted(sorted_books, book))
    return at < len(sorted_books) and int(sorted_books[at]) == book
