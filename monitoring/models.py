"""What the registry says about the model: versions, offline metrics, the training catalogue.

Read-only. A registry that is empty or unreachable is not an error for the dashboard: the
problem is reported in :attr:`RegistryView.problem` and the rest of the page still works.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from readcrumbs.blobs import BlobStore, open_blob_store
from readcrumbs.dataset import CATALOGUE_FILE, dataset_key
from readcrumbs.errors import ReadCrumbsError
from readcrumbs.online import CHALLENGER
from readcrumbs.registry import PRODUCTION, Manifest, Registry

CATALOGUE_COLUMNS = ("book_id", "title", "genres", "popularity", "popularity_pct")
_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class RegistryView:
    """The registered versions, the production and challenger ones, production's training catalogue.

    ``catalogue`` holds :data:`CATALOGUE_COLUMNS`, one row per book, or is None when it cannot
    be read; ``problem`` then says why, for the dashboard's info box.
    """

    manifests: list[Manifest] = field(default_factory=list)
    production: int | None = None
    catalogue: pd.DataFrame | None = None
    data_version: str | None = None
    problem: str | None = None
    challenger: int | None = None


def version_key(model_version: str) -> str:
    """The registry version number inside a logged ``model_version`` (``"3"``, ``"v3"``, ``"name:3"``).

    Text without a trailing number is returned unchanged, so it simply matches no manifest.
    """
    match = _TRAILING_NUMBER.search(str(model_version))
    return match.group(1) if match else str(model_version)


def read_catalogue(store: BlobStore, data_version: str) -> pd.DataFrame:
    """``data/<data_version>/catalogue.parquet``, only the columns the dashboard uses."""
    data = store.read(dataset_key(data_version, CATALOGUE_FILE))
    return pd.read_parquet(io.BytesIO(data), columns=list(CATALOGUE_COLUMNS))


def load_registry_view(registry_url: str, model_name: str) -> RegistryView:
    """Every manifest of ``model_name``, the production version and its catalogue, as far as they exist."""
    try:
        store = open_blob_store(registry_url)
        registry = Registry(store)
        manifests = registry.manifests(model_name)
        production = registry.alias(model_name, PRODUCTION)
        challenger = registry.alias(model_name, CHALLENGER)
    except ReadCrumbsError as exc:
        return RegistryView(problem=f"The registry at {registry_url} cannot be read: {exc}")
    if not manifests:
        return RegistryView(
            problem=f"No version of model {model_name!r} is registered yet (run `make train`)."
        )
    by_version = {manifest.version: manifest for manifest in manifests}
    # Drift compares with what production was trained on; without production, the newest version.
    source = by_version.get(production) if production is not None else None
    source = source or manifests[-1]
    problem = None if production is not None else f"Model {model_name!r} has no production version yet."
    try:
        catalogue = read_catalogue(store, source.data_version)
    except (ReadCrumbsError, OSError, ValueError, KeyError) as exc:
        # pyarrow's errors derive from ValueError/OSError; a missing column raises KeyError.
        reason = f"The catalogue of data version {source.data_version} cannot be read: {exc}"
        return RegistryView(
            manifests, production, None, source.data_version, _join(problem, reason), challenger
        )
    return RegistryView(manifests, production, catalogue, source.data_version, problem, challenger)


def _join(*messages: str | None) -> str | None:
    present = [message for message in messages if message]
    return " ".join(present) if present else None


def offline_metrics(manifests: Sequence[Manifest], production: int | None) -> pd.DataFrame:
    """One row per registered version: ``version_key``, type, creation time and every offline metric.

    Metric columns are named ``offline <protocol> <metric>`` (e.g. ``offline fav3 recall@10``).
    """
    rows = []
    for manifest in manifests:
        row: dict[str, object] = {
            "version_key": str(manifest.version),
            "model_type": manifest.model_type,
            "created_at": manifest.created_at,
            "production": manifest.version == production,
        }
        for protocol, values in sorted(manifest.metrics.items()):
            for name, value in sorted(values.items()):
                row[f"offline {protocol} {name}"] = value
        rows.append(row)
    base = ["version_key", "model_type", "created_at", "production"]
    frame = pd.DataFrame(rows, columns=None if rows else base)
    return frame.astype({"version_key": "str"})
