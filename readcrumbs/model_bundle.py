"""A registered model ready to recommend: the fitted recommender plus the catalogue it indexes.

A model version's files are ``model.npz`` (the recommender's arrays plus ``book_ids``
(n_books,) int64, index → book_id) and ``catalogue.json`` (the catalogue's columns as plain JSON
lists, one entry per book in index order, columns as in ``readcrumbs/dataset.py``). Shipping the
catalogue with the model keeps the two consistent through every promotion, reload and rollback.
Versions registered before ``catalogue.json`` carry ``catalogue.parquet`` instead; it is read
with pandas, imported only then. Loading and serving a new version imports numpy alone.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from readcrumbs.book_facts import BookFacts
from readcrumbs.errors import ChecksumMismatch, RegistryError, UnknownBook
from readcrumbs.recommend import ReaderInput, Recommendation, rank_reader
from readcrumbs.recommenders import Recommender, arrays_to_npz, load_model
from readcrumbs.registry import Manifest, Registry

if TYPE_CHECKING:
    import pandas as pd

MODEL_FILE = "model.npz"
CATALOGUE_FILE = "catalogue.json"
# Versions registered before catalogue.json.
LEGACY_CATALOGUE_FILE = "catalogue.parquet"
# What ``indices`` gives for no books (most readers dislike nothing); read-only, so it can be shared.
_NO_BOOKS = np.zeros(0, dtype=np.int64)
_NO_BOOKS.flags.writeable = False

Columns = dict[str, list[Any]]


def bundle_files(model: Recommender, catalogue: pd.DataFrame) -> dict[str, bytes]:
    """The files of a model version: ``model.npz`` and ``catalogue.json``."""
    arrays = {"book_ids": catalogue["book_id"].to_numpy(dtype=np.int64), **model.to_arrays()}
    return {MODEL_FILE: arrays_to_npz(arrays), CATALOGUE_FILE: catalogue_json(catalogue)}


def catalogue_json(catalogue: pd.DataFrame) -> bytes:
    """The catalogue as ``{column: [value, …]}`` JSON, nulls as ``null`` and lists as lists."""
    columns = {name: [_plain(value) for value in catalogue[name].tolist()] for name in catalogue.columns}
    return json.dumps(columns, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars and arrays as Python ones, pandas' NA and NaN as None."""
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return None  # pandas.NA and NaT: the only other values a catalogue column holds


def _legacy_columns(data: bytes) -> Columns:
    import pandas as pd  # only for versions registered before catalogue.json

    frame = pd.read_parquet(io.BytesIO(data))
    columns: Columns = {}
    for name in frame.columns:
        series = frame[name]
        # Nulls as None in one vectorised step; list columns come back as arrays, made lists.
        values = series.astype(object).where(series.notna(), None).tolist()
        if any(isinstance(value, np.ndarray) for value in values[:1]):
            values = [None if value is None else _plain(value) for value in values]
        columns[name] = values
    return columns


class ModelBundle:
    """A loaded model version: ``recommend`` favourites (book_ids) → ranked book_ids.

    ``columns`` is the catalogue, column name → values in index order.
    """

    def __init__(self, manifest: Manifest, model: Recommender, columns: Mapping[str, list[Any]]) -> None:
        self.manifest = manifest
        self.model = model
        self.columns = dict(columns)
        self.book_ids = np.asarray(self.columns["book_id"], dtype=np.int64)  # (n_books,) index → book_id
        self.index_of = {book_id: index for index, book_id in enumerate(self.book_ids.tolist())}
        self.facts = BookFacts(self.columns)

    @property
    def version(self) -> str:
        return str(self.manifest.version)

    @property
    def catalogue(self) -> pd.DataFrame:
        """The catalogue as a DataFrame (imports pandas: for tools, not for serving)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def indices(self, book_ids: Sequence[int]) -> np.ndarray:
        """Model indices of ``book_ids``: (n,) int64; :class:`UnknownBook` for one not in the catalogue."""
        if not book_ids:
            return _NO_BOOKS
        index_of = self.index_of
        try:
            return np.array([index_of[book_id] for book_id in book_ids], dtype=np.int64)
        except KeyError:
            missing = [book_id for book_id in book_ids if book_id not in index_of]
            raise UnknownBook(f"book_ids not in the catalogue: {missing}") from None

    def recommend(
        self,
        favourites: Sequence[int],
        k: int = 10,
        *,
        disliked: Sequence[int] = (),
        genres: Sequence[str] = (),
        one_per_series: bool = False,
    ) -> list[Recommendation]:
        """The ``k`` best books for a reader with these favourites and dislikes (book_ids), named
        by book_id.

        ``genres`` (catalogue genre names) steer the ranking, or alone give a starter list; see
        :mod:`readcrumbs.recommend`. Given books are never recommended back. Raises
        :class:`UnknownBook` for a book_id that is not in the catalogue and
        :class:`~readcrumbs.errors.UnknownGenre` for a genre no book carries.
        """
        reader = ReaderInput(
            favourites=self.indices(favourites),
            disliked=self.indices(disliked),
            genres=self.facts.known_genres(genres),
            one_per_series=one_per_series,
        )
        return rank_reader(self.model, self.facts, reader, k, self.book_ids)


def load_bundle(registry: Registry, name: str, version: int) -> ModelBundle:
    """Load and verify a registered version; :class:`ChecksumMismatch` if any file is corrupt."""
    manifest, files = registry.load_files(name, version)
    return bundle_from_files(manifest, files)


def bundle_from_files(manifest: Manifest, files: Mapping[str, bytes]) -> ModelBundle:
    """The bundle of a version's files, already verified against ``manifest`` (``Registry.load_files``)."""
    name, version = manifest.name, manifest.version
    if MODEL_FILE not in files or (CATALOGUE_FILE not in files and LEGACY_CATALOGUE_FILE not in files):
        raise RegistryError(f"{name} v{version} lacks {MODEL_FILE} or {CATALOGUE_FILE}")
    if CATALOGUE_FILE in files:
        columns: Columns = json.loads(files[CATALOGUE_FILE])
    else:
        columns = _legacy_columns(files[LEGACY_CATALOGUE_FILE])
    model = load_model(manifest.model_type, files[MODEL_FILE], manifest.params)
    with np.load(io.BytesIO(files[MODEL_FILE]), allow_pickle=False) as arrays:
        if not np.array_equal(arrays["book_ids"], np.asarray(columns["book_id"], dtype=np.int64)):
            raise ChecksumMismatch(f"{name} v{version}: model and catalogue disagree on book ids")
    return ModelBundle(manifest, model, columns)
