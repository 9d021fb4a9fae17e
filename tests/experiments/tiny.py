"""A tiny book world with a known structure, as a Dataset or as goodbooks-10k CSV files.

Books fall into ``CLUSTERS`` series of ``BOOKS_PER_CLUSTER``; every reader likes books of one
series only. So a model that learns anything recommends a reader's own series, which the tests
can check without hard-coding numbers. Book ids start at 101 so that an index is never
mistaken for an id. Readers 1..``HELDOUT_PER_CLUSTER``·clusters like ``HELDOUT_LIKES`` books (the
held-out candidates, ≥ 10 likes as the data stage requires); the others like 4–7.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from readcrumbs.dataset import Dataset

CLUSTERS = 3
BOOKS_PER_CLUSTER = 12
READERS_PER_CLUSTER = 20
HELDOUT_PER_CLUSTER = 4
HELDOUT_LIKES = 10
FIRST_BOOK_ID = 101


def book_ids() -> np.ndarray:
    """(n_books,) int64 book ids, in catalogue order."""
    return np.arange(FIRST_BOOK_ID, FIRST_BOOK_ID + CLUSTERS * BOOKS_PER_CLUSTER, dtype=np.int64)


def cluster_of_book(book_id: int) -> int:
    return (int(book_id) - FIRST_BOOK_ID) // BOOKS_PER_CLUSTER


def ratings(seed: int = 0) -> pd.DataFrame:
    """user_id, book_id, rating: likes (4–5) inside the reader's series, a few 2s outside it."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int]] = []
    for reader in range(READERS_PER_CLUSTER * CLUSTERS):
        user_id = reader + 1
        cluster = reader % CLUSTERS
        series = book_ids()[cluster * BOOKS_PER_CLUSTER : (cluster + 1) * BOOKS_PER_CLUSTER]
        heldout = reader < HELDOUT_PER_CLUSTER * CLUSTERS
        n_likes = HELDOUT_LIKES if heldout else int(rng.integers(4, 8))
        for book in rng.choice(series, size=n_likes, replace=False):
            rows.append((user_id, int(book), int(rng.integers(4, 6))))
        other = book_ids()[(book_ids() - FIRST_BOOK_ID) // BOOKS_PER_CLUSTER != cluster]
        rows.append((user_id, int(rng.choice(other)), 2))
    return pd.DataFrame(rows, columns=["user_id", "book_id", "rating"])


def heldout_users() -> np.ndarray:
    """The readers with ``HELDOUT_LIKES`` likes: (n,) int64."""
    return np.arange(1, HELDOUT_PER_CLUSTER * CLUSTERS + 1, dtype=np.int64)


def catalogue(interactions: pd.DataFrame, heldout: np.ndarray) -> pd.DataFrame:
    """A catalogue with every column of ``readcrumbs.dataset.CATALOGUE_COLUMNS``."""
    ids = book_ids()
    training = interactions[~interactions["user_id"].isin(heldout)]
    popularity = training["book_id"].value_counts().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "book_id": ids,
            "title": [f"Series {cluster_of_book(b)} Book {b}" for b in ids],
            "title_norm": [f"series {cluster_of_book(b)} book {b}" for b in ids],
            "authors": [f"Author {cluster_of_book(b)}" for b in ids],
            "year": pd.array([2000 + int(b) % 20 for b in ids], dtype="Int64"),
            "average_rating": np.full(len(ids), 4.0),
            "ratings_count": np.full(len(ids), 100, dtype=np.int64),
            "like_share": 0.5 + 0.4 * (ids % 7) / 7,  # some spread, so the prior is not all zeros
            "image_url": ["" for _ in ids],
            "small_image_url": ["" for _ in ids],
            "genres": [[f"genre-{cluster_of_book(b)}"] for b in ids],
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100,
        }
    )


def book_tags() -> pd.DataFrame:
    """book_id, tag_id, count: every book on "to-read" (tag 0) and on its series' shelf (tag 1 + series)."""
    rows = [(int(b), 0, 500) for b in book_ids()] + [(int(b), 1 + cluster_of_book(b), 40) for b in book_ids()]
    return pd.DataFrame(rows, columns=["book_id", "tag_id", "count"]).sort_values(["book_id", "tag_id"])


def tiny_dataset(version: str = "tiny-v1", seed: int = 0, heldout: np.ndarray | None = None) -> Dataset:
    """The tiny world as a prepared Dataset (likes = rating ≥ 4)."""
    table = ratings(seed)
    likes = table[table["rating"] >= 4][["user_id", "book_id"]].reset_index(drop=True).astype("int64")
    held = heldout_users() if heldout is None else np.asarray(heldout, dtype=np.int64)
    return Dataset(
        version=version,
        interactions=likes,
        catalogue=catalogue(likes, held),
        heldout_users=held,
        book_tags=book_tags().reset_index(drop=True),
    )


def write_goodbooks(folder: Path, seed: int = 0) -> Path:
    """The tiny world as the four goodbooks-10k CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ratings(seed).to_csv(folder / "ratings.csv", index=False)
    ids = book_ids()
    pd.DataFrame(
        {
            "book_id": ids,
            "goodreads_book_id": ids + 10_000,
            "authors": [f"Author {cluster_of_book(b)}" for b in ids],
            "original_publication_year": [2000.0 + int(b) % 20 for b in ids],
            "title": [f"Series {cluster_of_book(b)} Book {b}" for b in ids],
            "average_rating": np.full(len(ids), 4.0),
            "ratings_count": np.full(len(ids), 100),
            "image_url": [f"http://img/{b}m.jpg" for b in ids],
            "small_image_url": [f"http://img/{b}s.jpg" for b in ids],
        }
    ).to_csv(folder / "books.csv", index=False)
    pd.DataFrame({"tag_id": [0, 1, 2], "tag_name": ["genre-0", "genre-1", "genre-2"]}).to_csv(
        folder / "tags.csv", index=False
    )
    pd.DataFrame(
        {"goodreads_book_id": ids + 10_000, "tag_id": [cluster_of_book(b) for b in ids], "count": 5}
    ).to_csv(folder / "book_tags.csv", index=False)
    return folder
