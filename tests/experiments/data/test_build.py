from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.data.build import (
    MAX_GENRES,
    add_popularity,
    build_book_tags,
    build_catalogue,
    build_interactions,
    data_version,
    top_genres,
)
from experiments.data.source import read_source
from experiments.data.validate import ValidTables, validate
from readcrumbs.dataset import CATALOGUE_COLUMNS
from tests.experiments.data.conftest import WriteGoodbooks

PARAMETERS = {"like_threshold": 4, "seed": 42, "heldout_users": 2, "heldout_min_likes": 5}


@pytest.fixture
def tables(goodbooks: WriteGoodbooks, tmp_path: Path) -> ValidTables:
    return validate(read_source(str(goodbooks()), tmp_path / "downloads"))


def test_interactions_are_the_likes_sorted_and_unique() -> None:
    ratings = pd.DataFrame(
        {"user_id": [2, 1, 1, 2, 3], "book_id": [5, 3, 1, 1, 2], "rating": [4, 5, 3, 5, 1]}, dtype=np.int64
    )

    likes = build_interactions(ratings, like_threshold=4)

    assert likes.dtypes.to_dict() == {"user_id": np.int64, "book_id": np.int64}
    assert likes.values.tolist() == [[1, 3], [2, 1], [2, 5]]
    assert build_interactions(ratings, like_threshold=5).values.tolist() == [[1, 3], [2, 1]]


def test_the_catalogue_has_the_contract_columns_in_book_order(tables: ValidTables) -> None:
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)

    assert list(catalogue.columns) == list(CATALOGUE_COLUMNS)
    assert catalogue["book_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert catalogue["book_id"].dtype == np.int64 and catalogue["ratings_count"].dtype == np.int64
    assert str(catalogue["year"].dtype) == "Int64"
    assert catalogue["year"].isna().tolist() == [False, False, True, False, False, False]
    third = catalogue.iloc[2]
    assert (third["title"], third["title_norm"], third["image_url"]) == (
        "Les Misérables",
        "les miserables",
        "",
    )
    assert catalogue.iloc[1]["authors"] == "Bea Writer, Cy Pen"
    assert catalogue.iloc[0]["average_rating"] == pytest.approx(4.4)


def test_genres_are_the_most_used_real_genres_best_first(tables: ValidTables) -> None:
    genres = top_genres(tables.book_tags, tables.tags)

    # Book 1: to-read 500 and owned 150 are shelves; fantasy 300 before fiction 200.
    assert genres[1] == ["fantasy", "fiction"]
    # Book 2: read-in-2015 is a shelf; fantasy and fiction tie at 40 and are ordered by name.
    assert genres[2] == ["fantasy", "fiction"]
    assert genres[6] == ["classics", "romance"]
    assert 5 not in genres  # never shelved


def test_genres_are_at_most_five() -> None:
    tags = pd.DataFrame({"tag_id": np.arange(8), "tag_name": [f"genre-{n}" for n in range(8)]})
    book_tags = pd.DataFrame({"book_id": 1, "tag_id": np.arange(8), "count": np.arange(8) * 10})

    assert top_genres(book_tags, tags)[1] == [f"genre-{n}" for n in range(7, 7 - MAX_GENRES, -1)]


def test_popularity_counts_training_likes_only(tables: ValidTables) -> None:
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)
    likes = pd.DataFrame({"user_id": [1, 1, 2, 3, 3], "book_id": [1, 2, 1, 1, 4]}, dtype=np.int64)

    add_popularity(catalogue, likes, heldout_users=np.array([3]))

    assert catalogue["popularity"].tolist() == [2, 1, 0, 0, 0, 0]
    pct = catalogue["popularity_pct"]
    assert pct.between(0, 100).all() and pct.iloc[0] == 100.0
    assert pct.iloc[0] > pct.iloc[1] > pct.iloc[2] == pct.iloc[5]


def _version(tables: ValidTables, **changes: object) -> str:
    likes = build_interactions(tables.ratings, 4)
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)
    return data_version(likes, catalogue, np.array([1, 2]), {**PARAMETERS, **changes})


def test_the_version_is_a_short_hash_stable_for_the_same_content(tables: ValidTables) -> None:
    version = _version(tables)

    assert len(version) == 12 and int(version, 16) >= 0
    assert _version(tables) == version


@pytest.mark.parametrize(
    "change", [{"like_threshold": 5}, {"seed": 1}, {"heldout_users": 3}, {"heldout_min_likes": 4}]
)
def test_the_version_changes_with_the_settings_that_matter(
    tables: ValidTables, change: dict[str, int]
) -> None:
    assert _version(tables, **change) != _version(tables)


def test_the_version_changes_with_the_content(tables: ValidTables) -> None:
    likes = build_interactions(tables.ratings, 4)
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)
    heldout = np.array([1, 2])
    version = data_version(likes, catalogue, heldout, PARAMETERS)
    renamed = catalogue.assign(title=catalogue["title"].str.upper())

    assert data_version(likes.iloc[1:].reset_index(drop=True), catalogue, heldout, PARAMETERS) != version
    assert data_version(likes, renamed, heldout, PARAMETERS) != version
    assert data_version(likes, catalogue, np.array([1, 3]), PARAMETERS) != version
    book_tags = build_book_tags(tables.book_tags)
    with_tags = data_version(likes, catalogue, heldout, PARAMETERS, book_tags=book_tags)
    recounted = book_tags.assign(count=book_tags["count"] + 1)
    assert with_tags != version
    assert data_version(likes, catalogue, heldout, PARAMETERS, book_tags=recounted) != with_tags


def test_book_tags_drop_zero_counts_and_sort_by_book_then_tag() -> None:
    book_tags = pd.DataFrame({"book_id": [2, 1, 1, 3], "tag_id": [5, 9, 4, 1], "count": [3, 7, 2, 0]})

    built = build_book_tags(book_tags)

    assert built.dtypes.to_dict() == {"book_id": np.int64, "tag_id": np.int64, "count": np.int64}
    assert built.values.tolist() == [[1, 4, 2], [1, 9, 7], [2, 5, 3]]


def test_genres_merge_synonyms_and_skip_author_and_series_shelves() -> None:
    tags = pd.DataFrame(
        {
            "tag_id": np.arange(6),
            "tag_name": ["sci-fi", "science-fiction", "scifi", "stephen-king", "discworld", "horror"],
        }
    )
    book_tags = pd.DataFrame({"book_id": 1, "tag_id": np.arange(6), "count": [10, 20, 5, 100, 90, 30]})

    genres = top_genres(book_tags, tags, not_genres=frozenset({"stephen-king", "discworld"}))

    # sci-fi 10 + science-fiction 20 + scifi 5 = 35 beats horror's 30; the author and series go.
    assert genres[1] == ["science-fiction", "horror"]


def test_the_catalogue_keeps_the_original_title(goodbooks: WriteGoodbooks, tmp_path: Path) -> None:
    folder = goodbooks()
    books = pd.read_csv(folder / "books.csv")
    books.insert(4, "original_title", ["The First", None, "", "Fourth", "Fifth", "Sixth"])
    books.to_csv(folder / "books.csv", index=False)
    tables = validate(read_source(str(folder), tmp_path / "downloads"))

    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)

    assert catalogue["original_title"].tolist()[:4] == ["The First", "", "", "Fourth"]


def test_a_source_without_original_titles_gives_empty_ones(tables: ValidTables) -> None:
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)
    assert catalogue["original_title"].tolist() == [""] * len(catalogue)
