"""From validated tables to the dataset's parts: likes, catalogue, popularity and data version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from experiments.data.genres import canonical_genre, shelf_names_of
from readcrumbs.dataset import CATALOGUE_COLUMNS
from readcrumbs.text import normalize_title

MAX_GENRES = 5
# Bump when the way a dataset is built changes, so old versions are not reused by mistake.
# 2: training_signal.parquet (ratings >= the training threshold); 3: original_title, genres
# without author and series shelves, genre synonyms merged; 4: book_tags.parquet; 5: like_share.
DATA_FORMAT = 5
VERSION_CHARS = 12


def build_interactions(ratings: pd.DataFrame, like_threshold: int) -> pd.DataFrame:
    """Likes: (n_likes, 2) frame of user_id, book_id int64, sorted, one row per pair.

    ``ratings`` holds one rating per (user_id, book_id) (see validation); a like is a rating of at
    least ``like_threshold``.
    """
    likes = ratings.loc[ratings["rating"] >= like_threshold, ["user_id", "book_id"]]
    return sort_interactions(likes)


def sort_interactions(likes: pd.DataFrame) -> pd.DataFrame:
    """user_id, book_id int64 without duplicates, sorted by user then book, index 0..n-1."""
    likes = likes.astype({"user_id": np.int64, "book_id": np.int64}).drop_duplicates()
    return likes.sort_values(["user_id", "book_id"], kind="stable").reset_index(drop=True)


def build_book_tags(book_tags: pd.DataFrame) -> pd.DataFrame:
    """The validated book_tags with counts > 0 (book_id, tag_id, count int64), sorted by book then tag.

    Validation already keeps one row per (book, tag) and only books of books.csv.
    """
    kept = book_tags.loc[book_tags["count"] > 0, ["book_id", "tag_id", "count"]].astype(np.int64)
    return kept.sort_values(["book_id", "tag_id"], kind="stable").reset_index(drop=True)


def build_catalogue(books: pd.DataFrame, book_tags: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    """One row per book of books.csv, in book_id order, with :data:`CATALOGUE_COLUMNS`.

    ``popularity`` is 0 and ``popularity_pct`` 0.0 until :func:`add_popularity` fills them.
    """
    catalogue = pd.DataFrame(
        {
            "book_id": books["book_id"].astype(np.int64),
            "title": books["title"].astype("str"),
            "title_norm": books["title"].map(normalize_title).astype("str"),
            "original_title": _text_column(books, "original_title"),
            "authors": books["authors"].astype("str"),
            "year": books["original_publication_year"].astype("Int64"),
            "average_rating": books["average_rating"].astype(np.float64),
            "ratings_count": books["ratings_count"].astype(np.int64),
            "like_share": books["like_share"].astype(np.float64),
            "image_url": books["image_url"].astype("str"),
            "small_image_url": books["small_image_url"].astype("str"),
        }
    )
    not_genres = shelf_names_of(books["title"].astype("str"), books["authors"].astype("str"))
    genres = top_genres(book_tags, tags, not_genres=not_genres)
    catalogue["genres"] = [genres.get(book_id, []) for book_id in catalogue["book_id"]]
    catalogue["popularity"] = np.zeros(len(catalogue), dtype=np.int64)
    catalogue["popularity_pct"] = np.zeros(len(catalogue), dtype=np.float64)
    return catalogue.sort_values("book_id", kind="stable").reset_index(drop=True)[list(CATALOGUE_COLUMNS)]


def top_genres(
    book_tags: pd.DataFrame,
    tags: pd.DataFrame,
    limit: int = MAX_GENRES,
    *,
    not_genres: frozenset[str] = frozenset(),
) -> dict[int, list[str]]:
    """book_id → its ``limit`` most used genres, most used first (ties by name).

    Shelves are read as :func:`~experiments.data.genres.canonical_genre` reads them: non-genre
    shelves and ``not_genres`` (author and series shelves) skipped, synonyms merged, the counts of
    merged shelves added up per book.
    """
    genre_of_tag = tags["tag_name"].astype("str").map(canonical_genre)
    keep = genre_of_tag.notna() & ~genre_of_tag.isin(not_genres)
    names = sorted(set(genre_of_tag[keep]))
    # Genres as integers in name order: sorting a million rows on integers beats sorting names.
    genre_ids = pd.Series(
        genre_of_tag[keep].map({name: index for index, name in enumerate(names)}).to_numpy(),
        index=tags["tag_id"][keep].to_numpy(),
    )
    shelved = book_tags[book_tags["tag_id"].isin(genre_ids.index) & (book_tags["count"] > 0)]
    summed = (
        pd.DataFrame(
            {
                "book_id": shelved["book_id"].to_numpy(dtype=np.int64),
                "genre": shelved["tag_id"].map(genre_ids).to_numpy(dtype=np.int64),
                "count": shelved["count"].to_numpy(dtype=np.int64),
            }
        )
        .groupby(["book_id", "genre"], sort=False)["count"]
        .sum()
        .reset_index()
    )
    # By book, then most used first, then by name.
    order = np.lexsort((summed["genre"], -summed["count"].to_numpy(), summed["book_id"]))
    best = summed.iloc[order].groupby("book_id", sort=False).head(limit)
    genre_names = np.asarray(names, dtype=object)[best["genre"].to_numpy()]
    # Rows are grouped by book already: cut the names where the book changes.
    book_ids, starts = np.unique(best["book_id"].to_numpy(dtype=np.int64), return_index=True)
    lists = np.split(genre_names, starts[1:])
    return {
        int(book_id): [str(name) for name in group] for book_id, group in zip(book_ids, lists, strict=True)
    }


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column, '' where missing (the whole column when the source lacks it)."""
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    return frame[column].fillna("").astype("str")


def add_popularity(catalogue: pd.DataFrame, interactions: pd.DataFrame, heldout_users: np.ndarray) -> None:
    """Fill ``popularity`` and ``popularity_pct`` in place from the training likes.

    popularity: likes per book by users who are not held out (int64), so a popularity baseline
    built from it never sees evaluation users. popularity_pct: the percentile rank in [0, 100]
    (ties share their average rank; the most liked book gets 100).
    """
    training = interactions.loc[~interactions["user_id"].isin(heldout_users), "book_id"]
    counts = training.value_counts()
    popularity = catalogue["book_id"].map(counts).fillna(0).astype(np.int64)
    catalogue["popularity"] = popularity
    catalogue["popularity_pct"] = (popularity.rank(method="average", pct=True) * 100.0).astype(np.float64)


def data_version(
    interactions: pd.DataFrame,
    catalogue: pd.DataFrame,
    heldout_users: np.ndarray,
    parameters: Mapping[str, object],
    *,
    training_signal: pd.DataFrame | None = None,
    book_tags: pd.DataFrame | None = None,
) -> str:
    """A short content hash: the same likes, training signal, catalogue, held-out users, book tags
    and parameters give the same one.

    ``interactions`` must be sorted (see :func:`sort_interactions`), ``catalogue`` in book_id
    order and ``book_tags`` as :func:`build_book_tags` gives them, so row order in the source
    files does not change the version.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": DATA_FORMAT, **parameters}, sort_keys=True).encode())
    for pairs in (interactions, training_signal) if training_signal is not None else (interactions,):
        for column in ("user_id", "book_id"):
            digest.update(np.ascontiguousarray(pairs[column].to_numpy(dtype=np.int64)).tobytes())
    digest.update(np.sort(heldout_users.astype(np.int64)).tobytes())
    if book_tags is not None:
        for column in ("book_id", "tag_id", "count"):
            digest.update(np.ascontiguousarray(book_tags[column].to_numpy(dtype=np.int64)).tobytes())
    # Popularity is derived from the rest, and JSON lines are stable across library versions.
    described = catalogue.drop(columns=["popularity", "popularity_pct"])
    digest.update(described.to_json(orient="records", lines=True).encode())
    return digest.hexdigest()[:VERSION_CHARS]
