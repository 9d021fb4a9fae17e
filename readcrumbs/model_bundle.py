"""A registered model ready to recommend: the fitted recommender plus the catalogue it indexes.

A model version's files are ``model.npz`` (the recommender's arrays plus ``book_ids``
(n_books,) int64, index → book_id) and ``catalogue.parquet`` (one row per book in index order,
columns as in ``experiments/dataset.py``). Shipping the catalogue with the model keeps the two
consistent through every promotion, reload and rollback.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readcrumbs.errors import ChecksumMismatch, RegistryError, UnknownBook
from readcrumbs.ranking import favourites_matrix, top_k
from readcrumbs.recommenders import Recommender, arrays_to_npz, load_model
from readcrumbs.registry import Manifest, Registry

MODEL_FILE = "model.npz"
CATALOGUE_FILE = "catalogue.parquet"
# A favourite counts as a reason only if it contributed; at most this many are named.
MAX_REASONS = 3


@dataclass(frozen=True)
class Recommendation:
    """One recommended book: its score and the favourites (book_ids) that led to it, strongest first."""

    book_id: int
    score: float
    because: list[int]


def bundle_files(model: Recommender, catalogue: pd.DataFrame) -> dict[str, bytes]:
    """The files of a model version: ``model.npz`` and ``catalogue.parquet``."""
    arrays = {"book_ids": catalogue["book_id"].to_numpy(dtype=np.int64), **model.to_arrays()}
    catalogue_buffer = io.BytesIO()
    catalogue.to_parquet(catalogue_buffer, index=False)
    return {MODEL_FILE: arrays_to_npz(arrays), CATALOGUE_FILE: catalogue_buffer.getvalue()}


class ModelBundle:
    """A loaded model version: ``recommend`` favourites (book_ids) → ranked book_ids."""

    def __init__(self, manifest: Manifest, model: Recommender, catalogue: pd.DataFrame) -> None:
        self.manifest = manifest
        self.model = model
        self.catalogue = catalogue
        self.book_ids = catalogue["book_id"].to_numpy(dtype=np.int64)  # (n_books,) index → book_id
        self.index_of = {int(book_id): index for index, book_id in enumerate(self.book_ids)}

    @property
    def version(self) -> str:
        return str(self.manifest.version)

    def recommend(self, favourites: Sequence[int], k: int = 10) -> list[Recommendation]:
        """The ``k`` best books for a reader whose favourites are these book_ids.

        Favourites are never recommended back. Raises :class:`UnknownBook` for a book_id that
        is not in the catalogue.
        """
        missing = [book_id for book_id in favourites if book_id not in self.index_of]
        if missing:
            raise UnknownBook(f"book_ids not in the catalogue: {missing}")
        indices = np.array([self.index_of[book_id] for book_id in favourites], dtype=np.int64)
        histories = favourites_matrix([indices], len(self.book_ids))
        scores = self.model.score(histories)  # (1, n_books)
        best = top_k(scores, histories, k)[0]
        reasons = self.model.explain(np.unique(indices), best)  # (k, n_unique_favourites)
        unique_favourites = self.book_ids[np.unique(indices)]
        recommendations = []
        for rank, book in enumerate(best):
            strongest = np.argsort(-reasons[rank], kind="stable")[:MAX_REASONS]
            because = [int(unique_favourites[i]) for i in strongest if reasons[rank, i] > 0]
            recommendations.append(Recommendation(int(self.book_ids[book]), float(scores[0, book]), because))
        return recommendations


def load_bundle(registry: Registry, name: str, version: int) -> ModelBundle:
    """Load and verify a registered version; :class:`ChecksumMismatch` if any file is corrupt."""
    manifest, files = registry.load_files(name, version)
    return bundle_from_files(manifest, files)


def bundle_from_files(manifest: Manifest, files: Mapping[str, bytes]) -> ModelBundle:
    """The bundle of a version's files, already verified against ``manifest`` (``Registry.load_files``)."""
    name, version = manifest.name, manifest.version
    if MODEL_FILE not in files or CATALOGUE_FILE not in files:
        raise RegistryError(f"{name} v{version} lacks {MODEL_FILE} or {CATALOGUE_FILE}")
    catalogue = pd.read_parquet(io.BytesIO(files[CATALOGUE_FILE]))
    model = load_model(manifest.model_type, files[MODEL_FILE], manifest.params)
    with np.load(io.BytesIO(files[MODEL_FILE]), allow_pickle=False) as arrays:
        if not np.array_equal(arrays["book_ids"], catalogue["book_id"].to_numpy(dtype=np.int64)):
            raise ChecksumMismatch(f"{name} v{version}: model and catalogue disagree on book ids")
    return ModelBundle(manifest, model, catalogue)
