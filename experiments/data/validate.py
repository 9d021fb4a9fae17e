"""Checks on the four source files: each problem is a clear :class:`DataError` or a counted warning.

Errors (the data cannot be used as it is): a missing required column, an empty file, an id or
rating that is not a whole number, a rating outside 1..5, a rating of a book that books.csv does
not list, a book_id or goodreads_book_id listed twice in books.csv, a tag_id listed twice in
tags.csv, an empty title.

Warnings (resolved deterministically, counted in ``data.json``):

- the same (user_id, book_id) rated twice: the **highest** rating is kept, so the result does not
  depend on row order;
- book_tags rows whose goodreads_book_id is not in books.csv, or whose tag_id is not in tags.csv:
  dropped;
- book_tags rows with a negative count: dropped;
- the same (book, tag) listed twice in book_tags: the highest count is kept;
- an original_publication_year that is not a number: left empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.data.schema import BOOK_TAGS, BOOKS, RATING_COUNT_COLUMNS, RATINGS, TAGS, TableSpec
from experiments.data.source import RawTables
from readcrumbs.errors import DataError

MIN_RATING = 1
MAX_RATING = 5
_EXAMPLES = 3  # offending rows quoted in a message


@dataclass(frozen=True)
class DataWarning:
    """A problem the stage resolved by itself: ``count`` rows of ``file``/``column``, and how."""

    file: str
    column: str
    count: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The warning as JSON-ready fields, for ``data.json``."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}, column {self.column}: {self.count} {self.message}"


@dataclass(frozen=True)
class ValidTables:
    """The source after validation, with clean dtypes.

    - ``ratings``: user_id, book_id, rating — int64, one row per (user_id, book_id);
    - ``books``: book_id, goodreads_book_id int64 (unique), title, authors str,
      original_publication_year Int64 (nullable), average_rating float64, ratings_count int64,
      original_title, image_url, small_image_url str (may be empty), like_share float64 (NaN
      when unknown, :func:`like_share`); sorted by book_id;
    - ``book_tags``: book_id, tag_id, count — int64, counts ≥ 0, one row per (book_id, tag_id);
    - ``tags``: tag_id int64 (unique), tag_name str.
    """

    ratings: pd.DataFrame
    books: pd.DataFrame
    book_tags: pd.DataFrame
    tags: pd.DataFrame
    warnings: list[DataWarning]


def validate(raw: RawTables) -> ValidTables:
    """Check every file, resolve what can be resolved and raise :class:`DataError` on the rest."""
    warnings: list[DataWarning] = []
    books = validate_books(raw.books)
    tags = validate_tags(raw.tags)
    ratings = validate_ratings(raw.ratings, books["book_id"], warnings)
    book_tags = validate_book_tags(raw.book_tags, books, tags, warnings)
    books = _book_details(books, warnings)
    return ValidTables(ratings=ratings, books=books, book_tags=book_tags, tags=tags, warnings=warnings)


def check_table(frame: pd.DataFrame, spec: TableSpec) -> None:
    """A required column is missing or the file has no rows → :class:`DataError`."""
    missing = [column for column in spec.required if column not in frame.columns]
    if missing:
        raise DataError(
            f"{spec.file}: missing required column(s) {', '.join(missing)}; "
            f"it needs {', '.join(spec.required)}."
        )
    if frame.empty:
        raise DataError(f"{spec.file} is empty: it has a header but no rows.")


def whole_numbers(frame: pd.DataFrame, file: str, column: str) -> pd.Series:
    """``frame[column]`` as int64; empty or non-numeric values → :class:`DataError` naming rows."""
    values = frame[column]
    if values.dtype == np.int64:
        return values
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers.fillna(0) % 1 != 0)
    if bad.any():
        raise DataError(
            f"{file}, column {column}: {int(bad.sum())} value(s) are not whole numbers, "
            f"e.g. {_quote_rows(values, bad)}."
        )
    return numbers.astype(np.int64)


def validate_ratings(raw: pd.DataFrame, book_ids: pd.Series, warnings: list[DataWarning]) -> pd.DataFrame:
    """Ratings with int64 ids, ratings in 1..5, books that exist, one rating per (user, book)."""
    check_table(raw, RATINGS)
    ratings = pd.DataFrame({column: whole_numbers(raw, RATINGS.file, column) for column in RATINGS.required})
    out_of_range = (ratings["rating"] < MIN_RATING) | (ratings["rating"] > MAX_RATING)
    if out_of_range.any():
        raise DataError(
            f"{RATINGS.file}, column rating: {int(out_of_range.sum())} value(s) outside "
            f"{MIN_RATING}..{MAX_RATING}, e.g. {_quote_rows(ratings['rating'], out_of_range)}."
        )
    unknown = ~ratings["book_id"].isin(book_ids)
    if unknown.any():
        raise DataError(
            f"{RATINGS.file}, column book_id: {int(unknown.sum())} rating(s) of books that "
            f"{BOOKS.file} does not list, e.g. {_quote_rows(ratings['book_id'], unknown)}."
        )
    ratings, dropped = keep_highest(ratings, ("user_id", "book_id"), "rating")
    if dropped:
        warnings.append(
            DataWarning(
                RATINGS.file,
                "user_id,book_id",
                dropped,
                "duplicate rating(s) of the same book by the same user; kept the highest",
            )
        )
    return ratings


def validate_books(raw: pd.DataFrame) -> pd.DataFrame:
    """Books with unique int64 book_id and goodreads_book_id and a non-empty title."""
    check_table(raw, BOOKS)
    books = raw.copy()
    for column in ("book_id", "goodreads_book_id"):
        books[column] = whole_numbers(raw, BOOKS.file, column)
        repeated = books[column].duplicated(keep=False)
        if repeated.any():
            raise DataError(
                f"{BOOKS.file}, column {column}: {int(books.loc[repeated, column].nunique())} id(s) listed "
                f"more than once, e.g. {_quote_rows(books[column], repeated)}."
            )
    titles = books["title"].astype("str")
    untitled = books["title"].isna() | (titles.str.strip() == "")
    if untitled.any():
        raise DataError(
            f"{BOOKS.file}, column title: {int(untitled.sum())} book(s) without a title, "
            f"e.g. {_quote_rows(books['book_id'], untitled)} (book_id)."
        )
    books["title"] = titles
    books["authors"] = books["authors"].fillna("").astype("str")
    return books.sort_values("book_id", kind="stable").reset_index(drop=True)


def _book_details(books: pd.DataFrame, warnings: list[DataWarning]) -> pd.DataFrame:
    """Optional columns with catalogue dtypes; absent ones are filled with empty values."""
    details = books.copy()
    year_text = _optional(books, "original_publication_year")
    year = pd.to_numeric(year_text, errors="coerce")
    not_a_year = year.isna() & year_text.notna() & (year_text.astype("str").str.strip() != "")
    if not_a_year.any():
        warnings.append(
            DataWarning(
                BOOKS.file,
                "original_publication_year",
                int(not_a_year.sum()),
                "year(s) that are not numbers; left empty",
            )
        )
    details["original_publication_year"] = year.round().astype("Int64")
    details["average_rating"] = pd.to_numeric(_optional(books, "average_rating"), errors="coerce").astype(
        np.float64
    )
    count = pd.to_numeric(_optional(books, "ratings_count"), errors="coerce")
    details["ratings_count"] = count.fillna(0).astype(np.int64)
    for column in ("original_title", "image_url", "small_image_url"):
        details[column] = _optional(books, column).fillna("").astype("str")
    details["like_share"] = like_share(books)
    return details


def like_share(books: pd.DataFrame) -> pd.Series:
    """Each book's share of 4- and 5-star ratings among its Goodreads ratings, float64 in [0, 1].

    From books.csv's ``ratings_1`` … ``ratings_5``; NaN where a count is missing, not a whole
    number ≥ 0, or all five are 0 (so a catalogue without those columns gets NaN throughout).
    """
    counts = pd.DataFrame(
        {column: pd.to_numeric(_optional(books, column), errors="coerce") for column in RATING_COUNT_COLUMNS}
    ).astype(np.float64)
    usable = (counts >= 0).all(axis=1) & (counts % 1 == 0).all(axis=1)
    total = counts.sum(axis=1)
    liked = counts["ratings_4"] + counts["ratings_5"]
    return (liked / total).where(usable & (total > 0)).astype(np.float64)


def _optional(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def validate_tags(raw: pd.DataFrame) -> pd.DataFrame:
    """Tags with unique int64 tag_id; missing names become empty strings."""
    check_table(raw, TAGS)
    tags = pd.DataFrame(
        {
            "tag_id": whole_numbers(raw, TAGS.file, "tag_id"),
            "tag_name": raw["tag_name"].fillna("").astype("str"),
        }
    )
    repeated = tags["tag_id"].duplicated(keep=False)
    if repeated.any():
        raise DataError(
            f"{TAGS.file}, column tag_id: {int(tags.loc[repeated, 'tag_id'].nunique())} id(s) listed more "
            f"than once, e.g. {_quote_rows(tags['tag_id'], repeated)}."
        )
    return tags


def validate_book_tags(
    raw: pd.DataFrame, books: pd.DataFrame, tags: pd.DataFrame, warnings: list[DataWarning]
) -> pd.DataFrame:
    """book_tags keyed by our book_id: unknown books and tags and negative counts dropped, pairs unique."""
    check_table(raw, BOOK_TAGS)
    book_tags = pd.DataFrame(
        {column: whole_numbers(raw, BOOK_TAGS.file, column) for column in BOOK_TAGS.required}
    )
    book_id_of = pd.Series(books["book_id"].to_numpy(), index=books["goodreads_book_id"].to_numpy())
    book_ids = book_tags["goodreads_book_id"].map(book_id_of)
    checks = (
        (book_ids.isna(), "goodreads_book_id", f"row(s) of books that {BOOKS.file} does not list; dropped"),
        (
            ~book_tags["tag_id"].isin(tags["tag_id"]),
            "tag_id",
            f"row(s) of tags that {TAGS.file} does not list; dropped",
        ),
        (book_tags["count"] < 0, "count", "row(s) with a negative count; dropped"),
    )
    keep = pd.Series(True, index=book_tags.index)
    for bad, column, message in checks:
        if bad.any():
            warnings.append(DataWarning(BOOK_TAGS.file, column, int(bad.sum()), message))
            keep &= ~bad
    book_tags = pd.DataFrame(
        {
            "book_id": book_ids[keep].astype(np.int64),
            "tag_id": book_tags.loc[keep, "tag_id"],
            "count": book_tags.loc[keep, "count"],
        }
    )
    book_tags, dropped = keep_highest(book_tags, ("book_id", "tag_id"), "count")
    if dropped:
        warnings.append(
            DataWarning(
                BOOK_TAGS.file,
                "goodreads_book_id,tag_id",
                dropped,
                "duplicate row(s) of the same tag on the same book; kept the highest count",
            )
        )
    return book_tags


def keep_highest(frame: pd.DataFrame, keys: tuple[str, str], value: str) -> tuple[pd.DataFrame, int]:
    """One row per ``keys`` pair, the one with the highest ``value``; sorted by the keys.

    Also returns how many rows were dropped. The result does not depend on row order. A numpy
    sort is used because a two-key pandas groupby is several times slower on a million rows.
    """
    first, second = (frame[key].to_numpy() for key in keys)
    order = np.lexsort((frame[value].to_numpy(), second, first))
    first, second = first[order], second[order]
    # After the sort the highest value of each pair is its last row.
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (first[1:] != first[:-1]) | (second[1:] != second[:-1])
    kept = frame.iloc[order[last]].reset_index(drop=True)
    return kept, len(frame) - len(kept)


def _quote_rows(values: pd.Series, bad: pd.Series) -> str:
    """A few offending values with their data-row numbers (1 = the first row after the header)."""
    rows = values[bad].head(_EXAMPLES)
    return ", ".join(
        f"row {int(index) + 1} ({_shown(value)})"
        for index, value in zip(rows.index.to_numpy(), rows, strict=True)
    )


def _shown(value: object) -> str:
    if pd.isna(value):  # type: ignore[call-overload]
        return "empty"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)
