"""The book catalogue as readers name it: title resolution, suggestions and search.

Built once per model version from the bundle's catalogue table (columns as in
``experiments/dataset.py``), so titles and book_ids always agree with what the model indexes.

Resolving what a reader typed (an ``item``) tries, in order, and stops at the first hit:

1. ``exact``: the title exactly as in the catalogue;
2. ``normalized``: :func:`~readcrumbs.text.normalize_title` of the title (case, accents,
   punctuation, a leading article), then the same without a trailing series note such as
   ``(Harry Potter, #1)``, because readers seldom type it;
3. ``book_id``: a JSON integer, or a string of digits that is no title, as a book_id;
4. ``fuzzy``: the closest normalized title by rapidfuzz's ``token_sort_ratio`` at or above the
   confidence threshold (0..100), which absorbs typos and swapped words but not a missing half.

A title that several books share resolves to the most popular one (likes in the training data,
then ratings count, then the lower book_id). Steps 1–3 are dict lookups; only misses pay for
step 4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, process

from readcrumbs.errors import UnknownBook
from readcrumbs.text import normalize_title

DEFAULT_FUZZY_THRESHOLD = 85.0
# Suggestions may be looser than resolution: they are shown, never acted on.
SUGGESTION_THRESHOLD = 60.0
SEARCH_FUZZY_THRESHOLD = 80.0
# Fuzzy search on one or two letters matches nearly everything; prefixes serve them better.
SEARCH_FUZZY_MIN_CHARS = 3
# A trailing parenthesised note: goodbooks titles carry the series there, "(Dune Chronicles, #1)".
_SERIES_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


class MatchKind(StrEnum):
    """How an item was resolved to a book."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    BOOK_ID = "book_id"
    FUZZY = "fuzzy"


@dataclass(frozen=True, slots=True)
class Book:
    """One catalogue row, as shown to readers."""

    book_id: int
    title: str
    authors: str
    year: int | None
    image_url: str
    small_image_url: str
    average_rating: float | None
    ratings_count: int
    genres: tuple[str, ...]
    popularity: int
    popularity_pct: float

    @property
    def rank_key(self) -> tuple[int, int, int]:
        """Larger is more popular: likes, then ratings count, then the lower book_id."""
        return (self.popularity, self.ratings_count, -self.book_id)


@dataclass(frozen=True, slots=True)
class Match:
    """An item resolved to a book; ``confidence`` is 100 except for fuzzy matches (0..100)."""

    item: str | int
    book: Book
    kind: MatchKind
    confidence: float


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a list of items: matches in input order, and what stayed unknown."""

    matches: list[Match]
    unknown: list[str | int]

    @property
    def book_ids(self) -> list[int]:
        """The matched book_ids in input order, each once."""
        return list(dict.fromkeys(match.book.book_id for match in self.matches))


def series_stripped(title_norm: str, title: str) -> str | None:
    """The normalized title without its trailing parenthesised note, or None when it has none."""
    if not _SERIES_NOTE.search(title):
        return None
    short = normalize_title(_SERIES_NOTE.sub("", title))
    return short if short and short != title_norm else None


def _most_popular(index: dict[str, Book], key: str, book: Book) -> None:
    current = index.get(key)
    if current is None or book.rank_key > current.rank_key:
        index[key] = book


class Catalogue:
    """Books by id and by title, with fuzzy resolution, suggestions and search.

    ``fuzzy_threshold``: minimum rapidfuzz score (0..100) for a fuzzy title match.
    """

    def __init__(
        self,
        books: Iterable[Book],
        fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
        *,
        title_norms: Sequence[str] | None = None,
    ) -> None:
        """``title_norms``: :func:`normalize_title` of each book's title, in order, when already
        known (the catalogue's ``title_norm`` column), to save recomputing them."""
        if not 0.0 <= fuzzy_threshold <= 100.0:
            raise ValueError(f"fuzzy_threshold must be within 0..100, got {fuzzy_threshold}")
        self.fuzzy_threshold = fuzzy_threshold
        books = list(books)
        if title_norms is None:
            title_norms = [normalize_title(book.title) for book in books]
        elif len(title_norms) != len(books):
            raise ValueError(f"{len(title_norms)} normalized titles for {len(books)} books")
        self._by_id: dict[int, Book] = {}
        self._by_title: dict[str, Book] = {}
        self._by_norm: dict[str, Book] = {}
        self._by_short_norm: dict[str, Book] = {}
        norm_of: dict[int, str] = {}
        for book, norm in zip(books, title_norms, strict=True):
            self._by_id[book.book_id] = book
            norm_of[book.book_id] = norm
            _most_popular(self._by_title, book.title, book)
            _most_popular(self._by_norm, norm, book)
            short = series_stripped(norm, book.title)
            if short is not None:
                _most_popular(self._by_short_norm, short, book)
        # Fuzzy candidates: every distinct normalized key, each standing for its most popular book.
        fuzzy_index = dict(self._by_short_norm)
        fuzzy_index.update(self._by_norm)
        self._fuzzy_keys = list(fuzzy_index)
        self._fuzzy_books = list(fuzzy_index.values())
        # Most popular first, so prefix search needs no sort and early exit keeps the best.
        self._ranked = sorted(self._by_id.values(), key=lambda book: book.rank_key, reverse=True)
        self._ranked_titles = [" " + norm_of[book.book_id] for book in self._ranked]
        authors_norm: dict[str, str] = {}  # many books share their authors
        for book in self._ranked:
            if book.authors not in authors_norm:
                authors_norm[book.authors] = " " + normalize_title(book.authors)
        self._ranked_authors = [authors_norm[book.authors] for book in self._ranked]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> Catalogue:
        """A catalogue from a table with the columns of ``experiments/dataset.py``'s CATALOGUE_COLUMNS.

        Only ``book_id`` and ``title`` are required; a ``title_norm`` column is trusted as
        :func:`normalize_title` of ``title`` (the data stage writes it so).
        """
        n_rows = len(frame)
        # Column lists, not DataFrame.to_dict("records"): 10k rows in ~20 ms instead of ~500 ms.
        columns = {
            name: frame[name].tolist() if name in frame.columns else [None] * n_rows for name in _BOOK_COLUMNS
        }
        books = [_book_from_values(*values) for values in zip(*columns.values(), strict=True)]
        title_norms = [str(norm) for norm in frame["title_norm"]] if "title_norm" in frame.columns else None
        return cls(books, fuzzy_threshold, title_norms=title_norms)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, book_id: object) -> bool:
        return book_id in self._by_id

    def get(self, book_id: int) -> Book | None:
        """The book with this id, or None."""
        return self._by_id.get(book_id)

    def book(self, book_id: int) -> Book:
        """The book with this id; :class:`UnknownBook` when the catalogue lacks it."""
        book = self._by_id.get(book_id)
        if book is None:
            raise UnknownBook(f"no book with book_id {book_id} in the catalogue")
        return book

    # -- resolution ---------------------------------------------------------------------------
    def match(self, item: str | int, *, fuzzy: bool = True) -> Match | None:
        """Resolve one item (a title or a book_id) as the module docstring describes, or None.

        ``fuzzy=False`` skips the last step."""
        if isinstance(item, int):
            book = self._by_id.get(item)
            return Match(item, book, MatchKind.BOOK_ID, 100.0) if book is not None else None
        book = self._by_title.get(item)
        if book is not None:
            return Match(item, book, MatchKind.EXACT, 100.0)
        norm = normalize_title(item)
        if not norm:
            return None
        book = self._by_norm.get(norm) or self._by_short_norm.get(norm)
        if book is not None:
            return Match(item, book, MatchKind.NORMALIZED, 100.0)
        if norm.isdecimal():
            book = self._by_id.get(int(norm))
            if book is not None:
                return Match(item, book, MatchKind.BOOK_ID, 100.0)
        return self._fuzzy_match(item, norm) if fuzzy else None

    def _fuzzy_match(self, item: str, norm: str) -> Match | None:
        candidates = process.extract(
            norm,
            self._fuzzy_keys,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=self.fuzzy_threshold,
            limit=5,
        )
        if not candidates:
            return None
        _, score, index = max(candidates, key=lambda c: (c[1], self._fuzzy_books[c[2]].rank_key))
        return Match(item, self._fuzzy_books[index], MatchKind.FUZZY, float(score))

    def resolve(self, items: Sequence[str | int], max_fuzzy: int | None = None) -> Resolution:
        """Resolve every item; the unknown ones are kept as given, in input order.

        ``max_fuzzy`` bounds the fuzzy look-ups (a few ms each on 10k books) one call may make:
        items past that many misses are resolved by the dict steps only.
        """
        matches: list[Match] = []
        unknown: list[str | int] = []
        fuzzy_left = len(items) if max_fuzzy is None else max_fuzzy
        for item in items:
            found = self.match(item, fuzzy=fuzzy_left > 0)
            if found is None:
                unknown.append(item)
            else:
                matches.append(found)
            if isinstance(item, str) and (found is None or found.kind is MatchKind.FUZZY):
                fuzzy_left -= 1  # this item paid (or would have paid) for a fuzzy scan
        return Resolution(matches, unknown)

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Up to ``limit`` titles close to ``text``, closest first (popularity breaks ties)."""
        norm = normalize_title(text)
        if not norm:
            return []
        candidates = process.extract(
            norm,
            self._fuzzy_keys,
            scorer=fuzz.WRatio,
            score_cutoff=SUGGESTION_THRESHOLD,
            limit=limit * 3,
        )
        ranked = sorted(candidates, key=lambda c: (c[1], self._fuzzy_books[c[2]].rank_key), reverse=True)
        titles = dict.fromkeys(self._fuzzy_books[index].title for _, _, index in ranked)
        return list(titles)[:limit]

    # -- search -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[Book]:
        """Books whose title or authors match ``query``, best tier first, most popular first within.

        Tiers: the title starts with the query; a word of the title or of the authors starts with
        it; then, only to fill up to ``limit``, fuzzy matches (``partial_ratio`` ≥ 80: the query
        close to some part of the title or authors) for queries of 3 characters or more.
        """
        norm = normalize_title(query)
        if not norm or limit < 1:
            return []
        title_prefix: list[Book] = []
        word_prefix: list[Book] = []
        # Keys carry a leading space, so " " + query matches at the start of any word.
        word = " " + norm
        for book, title, authors in zip(self._ranked, self._ranked_titles, self._ranked_authors, strict=True):
            if title.startswith(word):
                title_prefix.append(book)
                if len(title_prefix) >= limit:
                    break
            elif len(word_prefix) < limit and (word in title or word in authors):
                word_prefix.append(book)
        found = list(dict.fromkeys([*title_prefix, *word_prefix]))[:limit]
        if len(found) < limit and len(norm) >= SEARCH_FUZZY_MIN_CHARS:
            found = [*found, *self._fuzzy_search(norm, limit - len(found), set(found))]
        return found

    def _fuzzy_search(self, norm: str, limit: int, exclude: set[Book]) -> list[Book]:
        scores: dict[int, float] = {}
        for choices in (self._ranked_titles, self._ranked_authors):
            for _, score, index in process.extract(
                norm, choices, scorer=fuzz.partial_ratio, score_cutoff=SEARCH_FUZZY_THRESHOLD, limit=limit * 4
            ):
                scores[index] = max(score, scores.get(index, 0.0))
        # ``_ranked`` is popularity order, so sorting the indices ranks by popularity.
        books = (self._ranked[index] for index in sorted(scores))
        return [book for book in books if book not in exclude][:limit]


_BOOK_COLUMNS = (
    "book_id",
    "title",
    "authors",
    "year",
    "image_url",
    "small_image_url",
    "average_rating",
    "ratings_count",
    "genres",
    "popularity",
    "popularity_pct",
)


def _book_from_values(
    book_id: Any,
    title: Any,
    authors: Any,
    year: Any,
    image_url: Any,
    small_image_url: Any,
    average_rating: Any,
    ratings_count: Any,
    genres: Any,
    popularity: Any,
    popularity_pct: Any,
) -> Book:
    """One Book from the values of :data:`_BOOK_COLUMNS`, in that order (None where absent)."""
    return Book(
        book_id=int(book_id),
        title=str(title),
        authors=_text(authors),
        year=_optional_int(year),
        image_url=_text(image_url),
        small_image_url=_text(small_image_url),
        average_rating=_optional_float(average_rating),
        ratings_count=_optional_int(ratings_count) or 0,
        genres=tuple(str(genre) for genre in _sequence(genres)),
        popularity=_optional_int(popularity) or 0,
        popularity_pct=_optional_float(popularity_pct) or 0.0,
    )


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _optional_int(value: Any) -> int | None:
    return None if _is_missing(value) else int(value)


def _optional_float(value: Any) -> float | None:
    return None if _is_missing(value) else float(value)


def _sequence(value: Any) -> Sequence[Any]:
    # parquet hands list columns back as numpy arrays; a missing list is NA or None.
    if value is None or isinstance(value, (str, float)):
        return []
    return list(value)
