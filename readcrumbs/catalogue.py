"""The book catalogue as readers name it: books by id, title resolution, suggestions and search.

Built once per model version from the bundle's catalogue table (columns as in
``readcrumbs/dataset.py``), so titles and book_ids always agree with what the model indexes.
The title understanding lives in :mod:`readcrumbs.titles` (its resolver's docstring lists the
resolution steps); this module turns its book positions into :class:`Book` values.

A JSON integer is a book_id; anything else is resolved as a title first and, when it is only
digits and no title, as a book_id. A title that several books share resolves to the best
known one (:attr:`Book.rank_key`: ratings count, then likes in training, then the lower
book_id), with the others as alternatives. Every key is normalized when the catalogue is
built: the dict steps cost one normalisation of what was typed, and the fuzzy steps score a few
dozen trigram candidates.

No pandas here (the serving image drops it): :meth:`Catalogue.from_columns` takes plain column
sequences; :meth:`Catalogue.from_frame` reads them out of any DataFrame.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from readcrumbs.errors import UnknownBook
from readcrumbs.text import normalize_title
from readcrumbs.titles.keys import BookKeys
from readcrumbs.titles.resolver import DEFAULT_FUZZY_THRESHOLD, Found, MatchKind, TitleResolver
from readcrumbs.titles.search import TitleSearch

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_FUZZY_THRESHOLD", "Book", "Catalogue", "Match", "MatchKind", "Resolution"]

# Suggestions may be looser than resolution: they are shown, never acted on.
SUGGESTION_THRESHOLD = 60.0


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
    original_title: str = ""

    @property
    def rank_key(self) -> tuple[int, int, int]:
        """Larger is better known: ratings count, then likes in training, then the lower book_id.

        Which of several books a reader means is a question of how many people know each:
        Goodreads' ratings count measures that on millions of readers, while the training likes
        (``popularity``) count a sample of them (about 90 ratings per book in the mirror we
        train on, where "Twilight (The Mediator, #6)" has more likes than "Twilight (Twilight, #1)").
        """
        return (self.ratings_count, self.popularity, -self.book_id)


@dataclass(frozen=True, slots=True)
class Match:
    """An item resolved to a book: how (``kind``), how surely (``confidence``, 0..100), and the
    other books the same text could have meant (``alternatives``, most popular first)."""

    item: str | int
    book: Book
    kind: MatchKind
    confidence: float
    alternatives: tuple[Book, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a list of items: matches in input order, and what stayed unknown."""

    matches: list[Match]
    unknown: list[str | int]

    @property
    def book_ids(self) -> list[int]:
        """The matched book_ids in input order, each once."""
        return list(dict.fromkeys(match.book.book_id for match in self.matches))


class Catalogue:
    """Books by id and by title, with resolution, suggestions, search and genre counts.

    ``fuzzy_threshold``: minimum rapidfuzz score (0..100) for a match that tolerates typos.
    """

    def __init__(self, books: Iterable[Book], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> None:
        self.books = list(books)
        self._by_id: dict[int, Book] = {book.book_id: book for book in self.books}
        popular_first = sorted(range(len(self.books)), key=lambda p: self.books[p].rank_key, reverse=True)
        rank = [0] * len(self.books)  # (n_books,) 0 for the most popular book
        for order, position in enumerate(popular_first):
            rank[position] = order
        titles = [book.title for book in self.books]
        authors = [book.authors for book in self.books]
        keys = BookKeys.build(titles, [book.original_title for book in self.books], authors, rank)
        self._resolver = TitleResolver(keys, fuzzy_threshold)
        self._search = TitleSearch(self._resolver)
        counts = Counter(genre for book in self.books for genre in book.genres)
        self._genres = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    @property
    def fuzzy_threshold(self) -> float:
        """Minimum rapidfuzz score (0..100) for a match that tolerates typos."""
        return self._resolver.fuzzy_threshold

    @classmethod
    def from_columns(
        cls, columns: Mapping[str, Sequence[Any]], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> Catalogue:
        """A catalogue from column sequences named as ``readcrumbs/dataset.py``'s CATALOGUE_COLUMNS.

        Only ``book_id`` and ``title`` are required; a missing value (None, NaN, pandas' NA)
        reads as absent.
        """
        n_rows = len(columns["book_id"])
        values = [columns[name] if name in columns else [None] * n_rows for name in _BOOK_COLUMNS]
        return cls((_book_from_values(*row) for row in zip(*values, strict=True)), fuzzy_threshold)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> Catalogue:
        """A catalogue from a DataFrame with the columns of :meth:`from_columns`."""
        # Column lists, not DataFrame.to_dict("records"): 10k rows in ~20 ms instead of ~500 ms.
        columns = {name: frame[name].tolist() for name in _BOOK_COLUMNS if name in frame.columns}
        return cls.from_columns(columns, fuzzy_threshold)

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

    def genres(self) -> list[tuple[str, int]]:
        """Every genre with the number of books that carry it, most books first (then by name)."""
        return list(self._genres)

    # -- resolution ---------------------------------------------------------------------------
    def match(self, item: str | int, *, fuzzy: bool = True) -> Match | None:
        """Resolve one item (a title or a book_id), or None when nothing matches surely enough.

        ``fuzzy=False`` keeps to the dict look-ups (no step that scores candidates)."""
        if isinstance(item, int):
            book = self._by_id.get(item)
            return Match(item, book, MatchKind.BOOK_ID, 100.0) if book is not None else None
        found = self._resolver.resolve(item, fuzzy=fuzzy)
        if found is not None:
            return self._match(item, found)
        digits = item.strip()
        if digits.isdecimal():
            book = self._by_id.get(int(digits))
            if book is not None:
                return Match(item, book, MatchKind.BOOK_ID, 100.0)
        return None

    def _match(self, item: str | int, found: Found) -> Match:
        alternatives = tuple(self.books[position] for position in found.alternatives)
        return Match(item, self.books[found.position], found.kind, found.confidence, alternatives)

    def resolve(self, items: Sequence[str | int], max_fuzzy: int | None = None) -> Resolution:
        """Resolve every item; the unknown ones are kept as given, in input order.

        ``max_fuzzy`` bounds how many items one call may resolve past the dict look-ups (each
        scores a few dozen candidates, tens of µs); the rest get the dict look-ups only.
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
            if isinstance(item, str) and (found is None or found.kind in _SCORED_KINDS):
                fuzzy_left -= 1  # this item paid (or would have paid) for candidate scoring
        return Resolution(matches, unknown)

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Up to ``limit`` titles close to ``text``, closest first (popularity breaks ties)."""
        norm = normalize_title(text)
        if not norm or limit < 1:
            return []
        resolver = self._resolver
        best: dict[int, float] = {}
        for index in resolver.names.candidates(norm):
            score = fuzz.WRatio(norm, resolver.names.names[index])
            if score >= SUGGESTION_THRESHOLD:
                for position in resolver.keys.sorted_positions[index]:
                    best[position] = max(score, best.get(position, 0.0))
        ranked = sorted(best, key=lambda p: (-best[p], resolver.keys.rank[p]))
        return list(dict.fromkeys(self.books[position].title for position in ranked))[:limit]

    # -- search -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[Book]:
        """Books for a search-box query, best first (see :mod:`readcrumbs.titles.search`)."""
        return [self.books[position] for position in self._search.search(query, limit)]


# Kinds that may have scored candidates (and so count against ``max_fuzzy``).
_SCORED_KINDS = frozenset({MatchKind.BY_AUTHOR, MatchKind.SERIES, MatchKind.FUZZY})

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
    "original_title",
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
    original_title: Any,
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
        original_title=_text(original_title),
    )


def _is_missing(value: Any) -> bool:
    # pandas' NA without importing pandas: its type is named NAType.
    return (
        value is None or type(value).__name__ == "NAType" or (isinstance(value, float) and math.isnan(value))
    )


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
