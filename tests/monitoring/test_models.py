from pathlib import Path

import pytest

from monitoring.models import load_registry_view, offline_metrics, version_key
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.monitoring.conftest import MODEL, register, write_catalogue
from tests.monitoring.helpers import catalogue


def test_view_of_a_registry_with_production(registry_folder: Path):
    view = load_registry_view(f"file://{registry_folder}", MODEL)
    assert [m.version for m in view.manifests] == [1, 2]
    assert view.production == 2
    assert view.data_version == "d1"
    assert view.catalogue is not None
    assert list(view.catalogue.columns) == ["book_id", "title", "genres", "popularity", "popularity_pct"]
    assert len(view.catalogue) == 6
    assert view.problem is None


def test_empty_registry_is_a_problem_not_an_error(tmp_path: Path):
    view = load_registry_view(f"file://{tmp_path / 'nothing'}", MODEL)
    assert view.manifests == [] and view.catalogue is None
    assert view.problem is not None and "make train" in view.problem


def test_without_production_uses_newest_version_and_says_so(tmp_path: Path):
    store = FolderBlobStore(tmp_path)
    registry = Registry(store)
    register(registry, "one", 0.1, data_version="old")
    register(registry, "two", 0.2, data_version="new")
    write_catalogue(store, "new", catalogue(3))
    view = load_registry_view(f"file://{tmp_path}", MODEL)
    assert view.production is None
    assert view.data_version == "new"
    assert view.catalogue is not None and len(view.catalogue) == 3
    assert view.problem is not None and "no production version" in view.problem


def test_missing_catalogue_keeps_manifests(tmp_path: Path):
    registry = Registry(FolderBlobStore(tmp_path))
    registry.set_alias(MODEL, "production", register(registry, "one", 0.1, data_version="gone"))
    view = load_registry_view(f"file://{tmp_path}", MODEL)
    assert [m.version for m in view.manifests] == [1]
    assert view.catalogue is None
    assert view.problem is not None and "gone" in view.problem


def test_catalogue_without_needed_columns_is_reported(tmp_path: Path):
    store = FolderBlobStore(tmp_path)
    registry = Registry(store)
    registry.set_alias(MODEL, "production", register(registry, "one", 0.1))
    write_catalogue(store, "d1", catalogue(3).drop(columns=["genres"]))
    view = load_registry_view(f"file://{tmp_path}", MODEL)
    assert view.catalogue is None
    assert view.problem is not None and "cannot be read" in view.problem


def test_unreadable_registry_url_is_reported():
    view = load_registry_view("s3:///no-bucket", MODEL)
    assert view.problem is not None and "cannot be read" in view.problem


def test_offline_metrics(registry_folder: Path):
    view = load_registry_view(f"file://{registry_folder}", MODEL)
    table = offline_metrics(view.manifests, view.production).set_index("version_key")
    assert table.loc["2", "offline fav3 recall@10"] == pytest.approx(0.2)
    assert table.loc["2", "offline fold80 recall@10"] == pytest.approx(0.1)
    assert table["production"].tolist() == [False, True]


def test_offline_metrics_empty():
    assert offline_metrics([], None).empty


@pytest.mark.parametrize(
    ("logged", "key"), [("3", "3"), ("v3", "3"), ("readcrumbs:12", "12"), ("dev", "dev")]
)
def test_version_key(logged, key):
    assert version_key(logged) == key
