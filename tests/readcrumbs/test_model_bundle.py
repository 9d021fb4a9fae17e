"""A registered model version, loaded and verified, recommending book ids."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.catalogue import Catalogue
from readcrumbs.errors import ChecksumMismatch, RegistryError, UnknownBook, UnknownGenre
from readcrumbs.model_bundle import (
    CATALOGUE_FILE,
    LEGACY_CATALOGUE_FILE,
    MODEL_FILE,
    bundle_files,
    catalogue_json,
    load_bundle,
)
from readcrumbs.recommenders import arrays_to_npz, create_model
from readcrumbs.registry import Registry
from tests.readcrumbs.recommenders.test_contract import N_BOOKS, checker_board

NAME = "readcrumbs"
BOOK_IDS = np.arange(1001, 1001 + N_BOOKS, dtype=np.int64)  # ids that are not indices


def catalogue() -> pd.DataFrame:
    return pd.DataFrame({"book_id": BOOK_IDS, "title": [f"Book {b}" for b in BOOK_IDS]})


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(FolderBlobStore(tmp_path / "registry"))


def register(registry: Registry, files: dict[str, bytes], model_type: str = "ease") -> int:
    manifest = registry.register(
        NAME, model_type, files, params={"l2": 1.0, "neighbours": 30}, metrics={}, data_version="d1"
    )
    return manifest.version


@pytest.fixture
def version(registry: Registry) -> int:
    model = create_model("ease", {"l2": 1.0, "neighbours": 30})
    model.fit(checker_board())
    return register(registry, bundle_files(model, catalogue()))


def test_bundle_files_are_the_model_and_the_catalogue() -> None:
    model = create_model("popularity")
    model.fit(checker_board())
    files = bundle_files(model, catalogue())
    assert set(files) == {MODEL_FILE, CATALOGUE_FILE}
    with np.load(io.BytesIO(files[MODEL_FILE]), allow_pickle=False) as arrays:
        np.testing.assert_array_equal(arrays["book_ids"], BOOK_IDS)
    assert json.loads(files[CATALOGUE_FILE]) == {
        "book_id": BOOK_IDS.tolist(),
        "title": catalogue()["title"].tolist(),
    }


def test_catalogue_json_writes_nulls_and_lists_as_json() -> None:
    frame = pd.DataFrame(
        {
            "book_id": [1, 2],
            "year": pd.array([1999, None], dtype="Int64"),
            "average_rating": [4.5, float("nan")],
            "genres": [np.array(["fantasy", "classics"], dtype=object), np.array([], dtype=object)],
        }
    )
    assert json.loads(catalogue_json(frame)) == {
        "book_id": [1, 2],
        "year": [1999, None],
        "average_rating": [4.5, None],
        "genres": [["fantasy", "classics"], []],
    }


def test_a_version_with_the_old_parquet_catalogue_still_loads(registry: Registry) -> None:
    model = create_model("ease", {"l2": 1.0, "neighbours": 30})
    model.fit(checker_board())
    files = bundle_files(model, catalogue())
    del files[CATALOGUE_FILE]
    buffer = io.BytesIO()
    catalogue().to_parquet(buffer, index=False)
    files[LEGACY_CATALOGUE_FILE] = buffer.getvalue()
    bundle = load_bundle(registry, NAME, register(registry, files))
    assert bundle.columns["title"] == catalogue()["title"].tolist()
    assert bundle.recommend([int(BOOK_IDS[0])], 3)


def test_the_catalogue_builds_from_the_bundle_columns(registry: Registry, version: int) -> None:
    catalogue = Catalogue.from_columns(load_bundle(registry, NAME, version).columns)
    book = catalogue.book(int(BOOK_IDS[0]))
    assert len(catalogue) == len(BOOK_IDS)
    assert book.title == "Book 1001" and book.year is None and book.genres == ()


def test_recommend_speaks_book_ids_and_never_returns_favourites(registry: Registry, version: int) -> None:
    bundle = load_bundle(registry, NAME, version)
    favourites = [int(BOOK_IDS[0]), int(BOOK_IDS[2]), int(BOOK_IDS[4])]
    recommendations = bundle.recommend(favourites, k=5)
    assert len(recommendations) == 5
    books = [r.book for r in recommendations]
    assert not set(books) & set(favourites)
    # Checker board: even indices go with even indices.
    assert all((book - BOOK_IDS[0]) % 2 == 0 for book in books)
    scores = [r.score for r in recommendations]
    assert scores == sorted(scores, reverse=True)
    for recommendation in recommendations:
        assert set(recommendation.because) <= set(favourites)
        assert recommendation.because
    assert bundle.version == str(version)


def test_an_unknown_favourite_is_refused(registry: Registry, version: int) -> None:
    with pytest.raises(UnknownBook, match="99"):
        load_bundle(registry, NAME, version).recommend([int(BOOK_IDS[0]), 99])


def test_a_corrupt_file_is_never_loaded(registry: Registry, version: int) -> None:
    registry.store.write(f"models/{NAME}/versions/{version}/{MODEL_FILE}", b"corrupt")
    with pytest.raises(ChecksumMismatch):
        load_bundle(registry, NAME, version)


def test_a_model_and_catalogue_that_disagree_are_refused(registry: Registry) -> None:
    model = create_model("popularity")
    model.fit(checker_board())
    files = bundle_files(model, catalogue())
    arrays = {"book_ids": BOOK_IDS[::-1].copy(), **model.to_arrays()}
    files[MODEL_FILE] = arrays_to_npz(arrays)
    version = register(registry, files, "popularity")
    with pytest.raises(ChecksumMismatch, match="disagree on book ids"):
        load_bundle(registry, NAME, version)


def test_a_version_without_its_catalogue_is_refused(registry: Registry) -> None:
    version = register(registry, {MODEL_FILE: b"x"})
    with pytest.raises(RegistryError, match="lacks"):
        load_bundle(registry, NAME, version)


def test_loading_and_recommending_import_neither_scipy_nor_pandas(registry: Registry, version: int) -> None:
    # A fresh interpreter: this test process has imported them already.
    script = (
        "import sys\n"
        "from pathlib import Path\nfrom readcrumbs.blobs.local import FolderBlobStore\n"
        "from readcrumbs.model_bundle import load_bundle\n"
        "from readcrumbs.registry import Registry\n"
        f"store = FolderBlobStore(Path({str(registry.store.root)!r}))\n"
        f"bundle = load_bundle(Registry(store), {NAME!r}, {version})\n"
        f"assert bundle.recommend([{int(BOOK_IDS[0])}], 3, disliked=[{int(BOOK_IDS[2])}])\n"
        "print(sorted(m for m in ('scipy', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_recommend_takes_dislikes_genres_and_the_series_option_by_book_id(registry: Registry) -> None:
    frame = catalogue().assign(genres=[["even"] if i % 2 == 0 else ["odd"] for i in range(N_BOOKS)])
    model = create_model("ease", {"l2": 1.0, "neighbours": 30})
    model.fit(checker_board())
    bundle = load_bundle(registry, NAME, register(registry, bundle_files(model, frame)))
    favourite, disliked = int(BOOK_IDS[0]), int(BOOK_IDS[2])
    shown = bundle.recommend([favourite], 5, disliked=[disliked], one_per_series=True)
    assert disliked not in [r.book for r in shown] and favourite not in [r.book for r in shown]
    starter = bundle.recommend([], 3, genres=["Odd"])
    assert all((r.book - BOOK_IDS[0]) % 2 == 1 and r.because_genres == ["odd"] for r in starter)
    with pytest.raises(UnknownGenre):
        bundle.recommend([favourite], 3, genres=["evens and odds"])
    with pytest.raises(UnknownBook):
        bundle.recommend([favourite], 3, disliked=[99])
