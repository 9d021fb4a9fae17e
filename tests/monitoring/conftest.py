"""Fixtures for the dashboard: a registry with a catalogue in a temporary folder."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.monitoring.helpers import catalogue

MODEL = "readcrumbs"


def write_catalogue(store: FolderBlobStore, data_version: str, books: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    books.to_parquet(buffer, index=False)
    store.write(f"data/{data_version}/catalogue.parquet", buffer.getvalue())


def register(registry: Registry, tag: str, recall: float, data_version: str = "d1") -> int:
    """Register a version whose only artifact is a tiny file; returns its number."""
    manifest = registry.register(
        MODEL,
        "popularity",
        {"model.npz": tag.encode()},
        params={"tag": tag},
        metrics={"fav3": {"recall@10": recall}, "fold80": {"recall@10": recall / 2}},
        data_version=data_version,
    )
    return manifest.version


@pytest.fixture
def registry_folder(tmp_path: Path) -> Path:
    """A registry with versions 1 and 2 (2 in production) and the catalogue of data version d1."""
    folder = tmp_path / "registry"
    store = FolderBlobStore(folder)
    registry = Registry(store)
    register(registry, "one", 0.10)
    version = register(registry, "two", 0.20)
    registry.set_alias(MODEL, "production", version)
    write_catalogue(store, "d1", catalogue(6))
    return folder
