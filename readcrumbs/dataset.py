"""The prepared dataset: what the data stage writes and every later stage reads.

A format several parts read (training, evaluation, the simulated readers, the dashboard, the
backend's catalogue), so it lives in the shared package; ``experiments/data`` writes it.

Stored in the artifact store under ``data/<data_version>/`` as parquet, where ``data_version``
is a content hash (same source and settings, same version):

- ``interactions.parquet``: ``user_id`` int64, ``book_id`` int64 — one row per like
  (rating ≥ the like threshold, feedback applied), no duplicates. Evaluation reads these.
- ``training_signal.parquet``: the same columns, one row per rating ≥ the training threshold
  (feedback applied): what models are fitted on. A 3-star rating says less than a like but still
  says "read it and did not hate it", and training on it lifts every protocol's recall.
- ``catalogue.parquet``: one row per book, see :data:`CATALOGUE_COLUMNS`.
- ``heldout_users.parquet``: ``user_id`` int64 — the seeded evaluation users, never trained on.
- ``book_tags.parquet``: ``book_id``, ``tag_id``, ``count`` int64 — how many Goodreads readers
  put a book on a shelf of that name (book_tags.csv, catalogue books and counts > 0 only).
  Side information some models train on (see :meth:`Dataset.tag_counts`).
- ``data.json``: counts, warnings, source and the settings that produced this version.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from readcrumbs.blobs import BlobStore

CATALOGUE_COLUMNS: dict[str, str] = {
    "book_id": "int64, the dataset's book_id (books.csv)",
    "title": "str, as in books.csv",
    "title_norm": "str, readcrumbs.text.normalize_title(title)",
    "original_title": "str, the title of the first edition (books.csv; may be empty)",
    "authors": "str, comma-separated as in books.csv",
    "year": "Int64 (nullable), original publication year",
    "average_rating": "float64, 1..5",
    "ratings_count": "int64",
    "like_share": "float64 in [0, 1], the share of the book's Goodreads ratings that give 4 or 5 "
    "stars (books.csv ratings_1..ratings_5); NaN when unknown",
    "image_url": "str, cover URL (may be empty)",
    "small_image_url": "str, small cover URL (may be empty)",
    "genres": "list[str], the book's most used tags, best first (at most 5)",
    "popularity": "int64, number of likes in the training interactions",
    "popularity_pct": "float64 in [0, 100], percentile rank of popularity",
}


@dataclass
class Dataset:
    """Likes, the catalogue and the held-out evaluation users of one data version."""

    version: str
    interactions: pd.DataFrame
    catalogue: pd.DataFrame
    heldout_users: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    training_signal: pd.DataFrame | None = None
    book_tags: pd.DataFrame | None = None

    @property
    def signal(self) -> pd.DataFrame:
        """What models train on: ``training_signal``, or the likes when there is none."""
        return self.interactions if self.training_signal is None else self.training_signal

    @property
    def book_ids(self) -> np.ndarray:
        """Model index → book_id: (n_books,) int64, in catalogue order."""
        return self.catalogue["book_id"].to_numpy(dtype=np.int64)

    def likes_matrix(self, user_ids: np.ndarray) -> sp.csr_matrix:
        """The likes of ``user_ids`` as (len(user_ids), n_books) float32 CSR, rows in that order."""
        return self._matrix(self.interactions, user_ids)

    def training_matrix(self, user_ids: np.ndarray) -> sp.csr_matrix:
        """The training signal of ``user_ids`` as (len(user_ids), n_books) float32 CSR."""
        return self._matrix(self.signal, user_ids)

    def _matrix(self, pairs: pd.DataFrame, user_ids: np.ndarray) -> sp.csr_matrix:
        book_index = pd.Series(np.arange(len(self.catalogue)), index=self.book_ids)
        rows = pairs[pairs["user_id"].isin(user_ids)]
        user_index = pd.Series(np.arange(len(user_ids)), index=user_ids)
        return sp.csr_matrix(
            (
                np.ones(len(rows), dtype=np.float32),
                (user_index[rows["user_id"]].to_numpy(), book_index[rows["book_id"]].to_numpy()),
            ),
            shape=(len(user_ids), len(self.catalogue)),
            dtype=np.float32,
        )

    def tag_counts(self) -> sp.csr_matrix | None:
        """``book_tags`` as (n_tags, n_books) float32 CSR of shelving counts, None without them.

        Rows are the tags that occur, in tag_id order; columns are model indices (catalogue order).
        """
        if self.book_tags is None:
            return None
        book_index = pd.Series(np.arange(len(self.catalogue)), index=self.book_ids)
        tags = self.book_tags[self.book_tags["book_id"].isin(self.book_ids)]
        tag_ids, rows = np.unique(tags["tag_id"].to_numpy(dtype=np.int64), return_inverse=True)
        return sp.csr_matrix(
            (
                tags["count"].to_numpy(dtype=np.float32),
                (rows, book_index[tags["book_id"]].to_numpy()),
            ),
            shape=(len(tag_ids), len(self.catalogue)),
            dtype=np.float32,
        )

    def like_shares(self) -> np.ndarray | None:
        """The catalogue's ``like_share``, (n_books,) float64 in model index order (NaN where
        unknown); None for a data version written before the column existed."""
        if "like_share" not in self.catalogue.columns:
            return None
        return self.catalogue["like_share"].to_numpy(dtype=np.float64, na_value=np.nan)

    def training_users(self) -> np.ndarray:
        """Every user with training signal who is not held out: (n_users,) int64, sorted."""
        users = np.unique(self.signal["user_id"].to_numpy(dtype=np.int64))
        return np.setdiff1d(users, self.heldout_users)


# The files of one data version, under data/<version>/ in the artifact store.
INTERACTIONS_FILE = "interactions.parquet"
TRAINING_SIGNAL_FILE = "training_signal.parquet"
CATALOGUE_FILE = "catalogue.parquet"
HELDOUT_FILE = "heldout_users.parquet"
BOOK_TAGS_FILE = "book_tags.parquet"
INFO_FILE = "data.json"  # written last: its presence marks a complete version


def dataset_key(version: str, file: str) -> str:
    """The artifact-store key of one file of data version ``version`` (``data/<version>/<file>``)."""
    return f"data/{version}/{file}"


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def save_dataset(store: BlobStore, dataset: Dataset) -> None:
    """Write a dataset under ``data/<version>/``; ``data.json`` last marks it complete."""
    version = dataset.version
    store.write(dataset_key(version, INTERACTIONS_FILE), _parquet(dataset.interactions))
    if dataset.training_signal is not None:
        store.write(dataset_key(version, TRAINING_SIGNAL_FILE), _parquet(dataset.training_signal))
    store.write(dataset_key(version, CATALOGUE_FILE), _parquet(dataset.catalogue))
    heldout = pd.DataFrame({"user_id": dataset.heldout_users.astype(np.int64)})
    store.write(dataset_key(version, HELDOUT_FILE), _parquet(heldout))
    if dataset.book_tags is not None:
        store.write(dataset_key(version, BOOK_TAGS_FILE), _parquet(dataset.book_tags))
    store.write(dataset_key(version, INFO_FILE), json.dumps(dataset.info, indent=2, sort_keys=True).encode())


def dataset_exists(store: BlobStore, version: str) -> bool:
    """Whether a complete dataset of that version is stored."""
    return store.exists(dataset_key(version, INFO_FILE))


def load_dataset(store: BlobStore, version: str) -> Dataset:
    """Read back what :func:`save_dataset` wrote."""
    info = json.loads(store.read(dataset_key(version, INFO_FILE)))
    catalogue = pd.read_parquet(io.BytesIO(store.read(dataset_key(version, CATALOGUE_FILE))))
    # Parquet gives list columns back as numpy arrays; the contract says list[str].
    catalogue["genres"] = [list(genres) for genres in catalogue["genres"]]
    signal_key = dataset_key(version, TRAINING_SIGNAL_FILE)
    signal = pd.read_parquet(io.BytesIO(store.read(signal_key))) if store.exists(signal_key) else None
    tags_key = dataset_key(version, BOOK_TAGS_FILE)
    book_tags = pd.read_parquet(io.BytesIO(store.read(tags_key))) if store.exists(tags_key) else None
    return Dataset(
        version=version,
        interactions=pd.read_parquet(io.BytesIO(store.read(dataset_key(version, INTERACTIONS_FILE)))),
        catalogue=catalogue,
        heldout_users=pd.read_parquet(io.BytesIO(store.read(dataset_key(version, HELDOUT_FILE))))[
            "user_id"
        ].to_numpy(dtype=np.int64),
        info=info,
        training_signal=signal,
        book_tags=book_tags,
    )
