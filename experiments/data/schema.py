"""What each goodbooks-10k file must hold: its name, required columns and their fast-path dtypes.

The layout is the official release's (github.com/zygmuntz/goodbooks-10k). Only the columns
listed here are read; any others in the files are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSpec:
    """One source file: ``required`` columns must exist, ``optional`` ones are used when present.

    ``dtypes`` are what a well-formed file parses to; a file that does not parse with them is
    read again as text so that validation can name the offending rows.
    """

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dtypes: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> frozenset[str]:
        """Every column this stage reads from the file."""
        return frozenset(self.required + self.optional)


# books.csv's count of each star rating on Goodreads, 1 to 5: the catalogue's like_share.
RATING_COUNT_COLUMNS = ("ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5")

RATINGS = TableSpec(
    file="ratings.csv",
    required=("user_id", "book_id", "rating"),
    dtypes={"user_id": "int64", "book_id": "int64", "rating": "int64"},
)

BOOKS = TableSpec(
    file="books.csv",
    required=("book_id", "goodreads_book_id", "title", "authors"),
    optional=(
        "original_title",
        "original_publication_year",
        "average_rating",
        "ratings_count",
        "image_url",
        "small_image_url",
        *RATING_COUNT_COLUMNS,
    ),
    dtypes={"book_id": "int64", "goodreads_book_id": "int64"},
)

BOOK_TAGS = TableSpec(
    file="book_tags.csv",
    required=("goodreads_book_id", "tag_id", "count"),
    dtypes={"goodreads_book_id": "int64", "tag_id": "int64", "count": "int64"},
)

TAGS = TableSpec(
    file="tags.csv",
    required=("tag_id", "tag_name"),
    dtypes={"tag_id": "int64"},
)

TABLES: tuple[TableSpec, ...] = (RATINGS, BOOKS, BOOK_TAGS, TAGS)
