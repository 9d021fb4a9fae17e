"""The model every API bench server loads: ``$READCRUMBS_HOME``'s production version, else a
synthetic 10,000-book ALS (random factors; serving cost does not depend on fit), and the request
bodies sent to it."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backend.settings import get_settings
from readcrumbs.blobs import open_blob_store
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.model_bundle import bundle_files, load_bundle
from readcrumbs.recommenders.als import ALS
from readcrumbs.registry import PRODUCTION, Registry, open_registry
from readcrumbs.text import normalize_title

N_SYNTHETIC_BOOKS = 10_000
SYNTHETIC_FACTORS = 128
FAVOURITES_PER_REQUEST = 3


@dataclass(frozen=True)
class ModelSource:
    registry_url: str
    model_name: str
    synthetic: bool


def synthetic_catalogue(n_books: int, rng: np.random.Generator) -> pd.DataFrame:
    """A catalogue with every column of readcrumbs/dataset.py and Zipf-like popularity."""
    popularity = np.maximum((20_000 / np.arange(1, n_books + 1) ** 0.8).astype(np.int64), 1)
    words = ["night", "river", "glass", "winter", "crown", "shadow", "garden", "storm", "letter", "bone"]
    titles = [
        f"The {words[i % 10].title()} of {words[(i // 10) % 10].title()} {i // 100}" for i in range(n_books)
    ]
    return pd.DataFrame(
        {
            "book_id": np.arange(1, n_books + 1, dtype=np.int64),
            "title": titles,
            "title_norm": [normalize_title(title) for title in titles],
            "authors": [f"Author {i % 2_000}" for i in range(n_books)],
            "year": pd.array(rng.integers(1800, 2020, n_books), dtype="Int64"),
            "average_rating": rng.uniform(3.0, 4.8, n_books),
            "ratings_count": popularity * 7,
            "image_url": [f"https://images.example/{i}m.jpg" for i in range(1, n_books + 1)],
            "small_image_url": [f"https://images.example/{i}s.jpg" for i in range(1, n_books + 1)],
            "genres": [["fiction", words[i % 10]] for i in range(n_books)],
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100.0,
        }
    )


def register_synthetic_model(folder: Path, model_name: str) -> str:
    """A folder registry whose production version is a random-factor ALS over 10,000 books."""
    rng = np.random.default_rng(0)
    catalogue = synthetic_catalogue(N_SYNTHETIC_BOOKS, rng)
    item_factors = (rng.standard_normal((N_SYNTHETIC_BOOKS, SYNTHETIC_FACTORS)) * 0.1).astype(np.float32)
    model = ALS.from_arrays({"item_factors": item_factors}, {"factors": SYNTHETIC_FACTORS})
    registry = Registry(FolderBlobStore(folder))
    manifest = registry.register(
        model_name,
        "als",
        bundle_files(model, catalogue),
        params=model.params,
        metrics={},
        data_version="synthetic-10k",
    )
    registry.promote(model_name, manifest.version, force=True)
    return f"file://{folder}"


def pick_model(work: Path) -> ModelSource:
    """$READCRUMBS_HOME's production model if any, else a synthetic one under ``work``."""
    settings = get_settings()
    registry = open_registry(settings)
    if registry.alias(settings.model_name, PRODUCTION) is not None:
        return ModelSource(settings.resolved_registry_url, settings.model_name, synthetic=False)
    return ModelSource(
        register_synthetic_model(work / "registry", settings.model_name), settings.model_name, True
    )


def production_version(source: ModelSource) -> int:
    """The version behind ``source``'s production alias: the one every server must serve."""
    version = Registry(open_blob_store(source.registry_url)).alias(source.model_name, PRODUCTION)
    if version is None:
        raise RuntimeError(f"no production version of {source.model_name!r} in {source.registry_url}")
    return version


def request_bodies(source: ModelSource, count: int = 2_000) -> list[bytes]:
    """``count`` /predict bodies, each with 3 random catalogue titles."""
    registry = Registry(open_blob_store(source.registry_url))
    version = registry.alias(source.model_name, PRODUCTION)
    assert version is not None
    titles = [str(title) for title in load_bundle(registry, source.model_name, version).columns["title"]]
    rng = random.Random(2)
    return [
        json.dumps(
            {"items": rng.sample(titles, FAVOURITES_PER_REQUEST), "userid": f"bench-{i % 97}"}
        ).encode()
        for i in range(count)
    ]
