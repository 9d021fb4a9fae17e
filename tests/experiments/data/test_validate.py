"""One test per kind of problem: an error names the file, the column and a row; a warning is counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.data.source import read_source
from experiments.data.validate import DataWarning, ValidTables, validate
from readcrumbs.errors import DataError
from tests.experiments.data.conftest import BOOK_TAGS_CSV, BOOKS_CSV, RATINGS_CSV, TAGS_CSV, WriteGoodbooks


@pytest.fixture
def validated(goodbooks: WriteGoodbooks, tmp_path: Path):
    """``validated(gz=False, ratings="...")``: the tiny dataset with one file replaced, validated."""

    def run(gz: bool = False, **replaced: str) -> ValidTables:
        return validate(read_source(str(goodbooks(gz=gz, **replaced)), tmp_path / "downloads"))

    return run


def warning_about(tables: ValidTables, file: str, column: str) -> DataWarning:
    [found] = [warning for warning in tables.warnings if (warning.file, warning.column) == (file, column)]
    return found


def test_the_tiny_dataset_is_valid_without_warnings(validated) -> None:
    tables = validated()

    assert tables.warnings == []
    assert tables.ratings.dtypes.to_dict() == {"user_id": np.int64, "book_id": np.int64, "rating": np.int64}
    assert list(tables.books["book_id"]) == [1, 2, 3, 4, 5, 6]
    assert str(tables.books["original_publication_year"].dtype) == "Int64"
    assert tables.books["original_publication_year"].isna().sum() == 1
    assert set(tables.book_tags.columns) == {"book_id", "tag_id", "count"}


@pytest.mark.parametrize(
    ("file", "text", "column"),
    [
        ("ratings", RATINGS_CSV.replace("user_id,book_id,rating", "user,book_id,rating"), "user_id"),
        ("books", BOOKS_CSV.replace(",title,", ",name,"), "title"),
        ("book_tags", BOOK_TAGS_CSV.replace("goodreads_book_id,", "book_id,"), "goodreads_book_id"),
        ("tags", TAGS_CSV.replace("tag_name", "name"), "tag_name"),
    ],
)
def test_a_missing_required_column_is_named(validated, file: str, text: str, column: str) -> None:
    with pytest.raises(DataError, match=rf"{file}\.csv: missing required column\(s\) {column};"):
        validated(**{file: text})


@pytest.mark.parametrize("file", ["ratings", "books", "book_tags", "tags"])
@pytest.mark.parametrize("gz", [False, True])
def test_an_empty_file_is_an_error(validated, file: str, gz: bool) -> None:
    with pytest.raises(DataError, match=rf"{file}\.csv .*is empty"):
        validated(gz=gz, **{file: ""})


@pytest.mark.parametrize("file", ["ratings", "books", "book_tags", "tags"])
def test_a_file_with_only_a_header_is_an_error(validated, file: str) -> None:
    header = {"ratings": RATINGS_CSV, "books": BOOKS_CSV, "book_tags": BOOK_TAGS_CSV, "tags": TAGS_CSV}[file]
    with pytest.raises(DataError, match=rf"{file}\.csv is empty: it has a header but no rows"):
        validated(**{file: header.splitlines()[0] + "\n"})


@pytest.mark.parametrize(
    ("bad_row", "column", "shown"),
    [("abc,1,4", "user_id", "'abc'"), ("1,x7,4", "book_id", "'x7'"), ("1,1,great", "rating", "'great'")],
)
def test_a_non_numeric_id_or_rating_names_its_row(validated, bad_row: str, column: str, shown: str) -> None:
    text = RATINGS_CSV + bad_row + "\n"
    row = text.count("\n") - 1

    with pytest.raises(
        DataError,
        match=rf"ratings\.csv, column {column}: 1 value\(s\) are not whole numbers, "
        rf"e\.g\. row {row} \({shown}\)",
    ):
        validated(ratings=text)


def test_an_empty_id_is_reported_as_empty(validated) -> None:
    with pytest.raises(DataError, match=r"ratings\.csv, column user_id: .* \(empty\)"):
        validated(ratings=RATINGS_CSV + ",1,4\n")


def test_a_fractional_rating_is_not_a_whole_number(validated) -> None:
    with pytest.raises(DataError, match=r"column rating: .*\('3\.5'\)"):
        validated(ratings=RATINGS_CSV + "1,1,3.5\n")


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_an_error(validated, rating: int) -> None:
    with pytest.raises(
        DataError,
        match=rf"ratings\.csv, column rating: 1 value\(s\) outside 1\.\.5, e\.g\. row \d+ \({rating}\)",
    ):
        validated(ratings=RATINGS_CSV + f"9,1,{rating}\n")


def test_a_rating_of_a_book_missing_from_books_csv_is_an_error(validated) -> None:
    with pytest.raises(
        DataError,
        match=r"ratings\.csv, column book_id: 2 rating\(s\) of books that books\.csv does not list, "
        r"e\.g\. row \d+ \(77\)",
    ):
        validated(ratings=RATINGS_CSV + "9,77,4\n9,78,5\n")


def test_duplicate_ratings_keep_the_highest_and_are_counted(validated) -> None:
    # User 1 rated book 1 twice more: 2 and 5; the highest of the three wins whatever the order.
    tables = validated(ratings=RATINGS_CSV + "1,1,2\n1,1,5\n")

    assert warning_about(tables, "ratings.csv", "user_id,book_id").count == 2
    rating = tables.ratings.loc[(tables.ratings["user_id"] == 1) & (tables.ratings["book_id"] == 1), "rating"]
    assert list(rating) == [5]
    assert not tables.ratings.duplicated(["user_id", "book_id"]).any()


@pytest.mark.parametrize("column", ["book_id", "goodreads_book_id"])
def test_a_book_listed_twice_in_books_csv_is_an_error(validated, column: str) -> None:
    twin = (
        "7,106,Someone,2000.0,Twin,4.0,1,,\n"
        if column == "goodreads_book_id"
        else "6,107,Someone,2000.0,Twin,4.0,1,,\n"
    )

    with pytest.raises(
        DataError, match=rf"books\.csv, column {column}: 1 id\(s\) listed more than once, e\.g\. row 6"
    ):
        validated(books=BOOKS_CSV + twin)


def test_a_book_without_a_title_is_an_error(validated) -> None:
    with pytest.raises(
        DataError, match=r"books\.csv, column title: 1 book\(s\) without a title, e\.g\. row 7 \(7\)"
    ):
        validated(books=BOOKS_CSV + "7,107,Someone,2000.0,,4.0,1,,\n")


def test_a_tag_listed_twice_in_tags_csv_is_an_error(validated) -> None:
    with pytest.raises(DataError, match=r"tags\.csv, column tag_id: 1 id\(s\) listed more than once"):
        validated(tags=TAGS_CSV + "3,again\n")


def test_a_non_numeric_tag_count_is_an_error(validated) -> None:
    with pytest.raises(DataError, match=r"book_tags\.csv, column count: .*\('many'\)"):
        validated(book_tags=BOOK_TAGS_CSV + "101,4,many\n")


def test_book_tags_of_unknown_goodreads_ids_are_dropped_and_counted(validated) -> None:
    tables = validated(book_tags=BOOK_TAGS_CSV + "999,1,5\n998,2,5\n")

    assert warning_about(tables, "book_tags.csv", "goodreads_book_id").count == 2
    assert set(tables.book_tags["book_id"]) <= set(tables.books["book_id"])


def test_book_tags_are_keyed_by_book_id_through_books_csv(validated) -> None:
    tables = validated()

    # goodreads 103 is book 3, shelved as classics (tag 4) 70 times.
    row = tables.book_tags[(tables.book_tags["book_id"] == 3)]
    assert row[["tag_id", "count"]].values.tolist() == [[4, 70]]


def test_book_tags_of_unknown_tags_are_dropped_and_counted(validated) -> None:
    tables = validated(book_tags=BOOK_TAGS_CSV + "101,42,5\n")

    assert warning_about(tables, "book_tags.csv", "tag_id").count == 1
    assert 42 not in set(tables.book_tags["tag_id"])


def test_negative_tag_counts_are_dropped_and_counted(validated) -> None:
    tables = validated(book_tags=BOOK_TAGS_CSV + "105,1,-1\n")

    assert warning_about(tables, "book_tags.csv", "count").count == 1
    assert (tables.book_tags["count"] >= 0).all()
    assert 5 not in set(tables.book_tags["book_id"])


def test_duplicate_book_tags_keep_the_highest_count(validated) -> None:
    tables = validated(book_tags=BOOK_TAGS_CSV + "103,4,700\n")

    assert warning_about(tables, "book_tags.csv", "goodreads_book_id,tag_id").count == 1
    assert tables.book_tags.loc[tables.book_tags["book_id"] == 3, "count"].tolist() == [700]


def test_a_year_that_is_not_a_number_is_left_empty_with_a_warning(validated) -> None:
    tables = validated(books=BOOKS_CSV.replace("2001.0", "circa 2001"))

    assert warning_about(tables, "books.csv", "original_publication_year").count == 1
    assert tables.books.loc[tables.books["book_id"] == 5, "original_publication_year"].isna().all()


def test_a_malformed_csv_is_a_data_error(validated) -> None:
    with pytest.raises(DataError, match=r"tags\.csv .*not a well-formed CSV"):
        validated(tags=TAGS_CSV + '7,"unterminated\n')


def test_optional_book_columns_may_be_absent(validated) -> None:
    minimal = "book_id,goodreads_book_id,title,authors\n" + "".join(
        f"{book},{100 + book},Book {book},Someone\n" for book in range(1, 7)
    )

    tables = validated(books=minimal)

    assert tables.books["image_url"].tolist() == [""] * 6
    assert tables.books["ratings_count"].tolist() == [0] * 6
    assert tables.books["original_publication_year"].isna().all()
    assert tables.books["like_share"].isna().all()


def test_the_like_share_is_the_share_of_four_and_five_star_ratings(validated) -> None:
    counts = ["1,1,2,6,10", "0,0,0,0,0", "1,,1,1,1", "-1,2,3,4,5", "1,1,1,1,x", "0,0,0,3,1.5"]
    header = "book_id,goodreads_book_id,title,authors,ratings_1,ratings_2,ratings_3,ratings_4,ratings_5\n"
    books = header + "".join(
        f"{book},{100 + book},Book {book},Someone,{stars}\n" for book, stars in enumerate(counts, start=1)
    )

    shares = validated(books=books).books.set_index("book_id")["like_share"]

    assert shares[1] == pytest.approx(16 / 20)
    # No ratings, a count missing, negative, not a number or not whole: unknown, not a guess.
    assert shares[[2, 3, 4, 5, 6]].isna().all()
