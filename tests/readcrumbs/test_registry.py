"""The registry contract, run on a folder and on S3 (moto): versions, aliases, gate, rollback."""

from __future__ import annotations

import json

import pytest

from readcrumbs.blobs import BlobStore
from readcrumbs.errors import ChecksumMismatch, PromotionRefused, RegistryError, VersionNotFound
from readcrumbs.registry import PRODUCTION, STAGING, Registry, check_gate

NAME = "readcrumbs"


def register(registry: Registry, recall: float, *, l2: float = 1.0, split: str = "s1", data: str = "d1"):
    return registry.register(
        NAME,
        "ease",
        {"model.npz": f"weights-{l2}".encode(), "catalogue.parquet": b"books"},
        params={"l2": l2},
        metrics={"fav3": {"recall@10": recall}, "fold80": {"recall@20": recall + 0.1}},
        data_version=data,
        split_id=split,
        git_commit="abc123",
    )


@pytest.fixture
def registry(blob_store: BlobStore) -> Registry:
    return Registry(blob_store)


def test_register_writes_the_design_layout(registry: Registry, blob_store: BlobStore) -> None:
    manifest = register(registry, 0.3)
    assert manifest.version == 1
    keys = blob_store.list("models/")
    assert keys == [
        "models/readcrumbs/versions/1/catalogue.parquet",
        "models/readcrumbs/versions/1/manifest.json",
        "models/readcrumbs/versions/1/model.npz",
    ]
    stored = json.loads(blob_store.read("models/readcrumbs/versions/1/manifest.json"))
    for field in (
        "name",
        "version",
        "model_type",
        "params",
        "metrics",
        "data_version",
        "files",
        "created_at",
        "git_commit",
        "wandb_run",
    ):
        assert field in stored
    assert stored["metrics"]["fav3"]["recall@10"] == 0.3
    assert stored["files"]["model.npz"]["bytes"] == len(b"weights-1.0")
    assert len(stored["files"]["model.npz"]["sha256"]) == 64


def test_versions_count_up_and_identical_trainings_are_not_duplicated(registry: Registry) -> None:
    first = register(registry, 0.3, l2=1.0)
    again = register(registry, 0.3, l2=1.0)
    second = register(registry, 0.31, l2=2.0)
    assert (first.version, again.version, second.version) == (1, 1, 2)
    assert registry.versions(NAME) == [1, 2]


def test_load_files_verifies_checksums(registry: Registry, blob_store: BlobStore) -> None:
    register(registry, 0.3)
    _, files = registry.load_files(NAME, 1)
    assert files["model.npz"] == b"weights-1.0"
    blob_store.write("models/readcrumbs/versions/1/model.npz", b"tampered!!!")
    with pytest.raises(ChecksumMismatch):
        registry.load_files(NAME, 1)
    with pytest.raises(ChecksumMismatch):
        registry.verify(NAME, 1)


def test_missing_version_and_unset_alias(registry: Registry) -> None:
    with pytest.raises(VersionNotFound):
        registry.manifest(NAME, 7)
    assert registry.alias(NAME, PRODUCTION) is None
    with pytest.raises(VersionNotFound):
        registry.resolve(NAME)


def test_first_promotion_needs_no_gate_then_only_better_models_pass(registry: Registry) -> None:
    register(registry, 0.30, l2=1.0)
    register(registry, 0.25, l2=2.0)
    register(registry, 0.35, l2=3.0)
    registry.promote(NAME, 1)
    assert registry.alias(NAME) == 1
    with pytest.raises(PromotionRefused, match="does not beat"):
        registry.promote(NAME, 2)
    assert registry.alias(NAME) == 1
    registry.promote(NAME, 3)
    assert registry.resolve(NAME).version == 3


def test_force_skips_the_gate(registry: Registry) -> None:
    register(registry, 0.30, l2=1.0)
    register(registry, 0.10, l2=2.0)
    registry.promote(NAME, 1)
    registry.promote(NAME, 2, force=True)
    assert registry.alias(NAME) == 2


def test_gate_refuses_comparisons_across_splits(registry: Registry) -> None:
    old = register(registry, 0.30, l2=1.0, split="s1")
    new = register(registry, 0.50, l2=2.0, split="s2")
    with pytest.raises(PromotionRefused, match="different held-out splits"):
        check_gate(new, old)


def test_rollback_returns_to_previous_production_in_order(registry: Registry) -> None:
    for recall, l2 in [(0.1, 1.0), (0.2, 2.0), (0.3, 3.0)]:
        register(registry, recall, l2=l2)
    for version in (1, 2, 3):
        registry.promote(NAME, version)
    assert registry.rollback(NAME) == 2
    assert registry.rollback(NAME) == 1
    with pytest.raises(RegistryError, match="no earlier version"):
        registry.rollback(NAME)
    assert registry.alias(NAME) == 1


def test_aliases_are_independent(registry: Registry) -> None:
    register(registry, 0.1, l2=1.0)
    register(registry, 0.2, l2=2.0)
    registry.set_alias(NAME, STAGING, 2)
    registry.promote(NAME, 1)
    assert (registry.alias(NAME, PRODUCTION), registry.alias(NAME, STAGING)) == (1, 2)
    assert sorted(registry.aliases(NAME)) == [PRODUCTION, STAGING]


def test_delete_refuses_aliased_or_rollback_versions(registry: Registry, blob_store: BlobStore) -> None:
    for recall, l2 in [(0.1, 1.0), (0.2, 2.0), (0.3, 3.0)]:
        register(registry, recall, l2=l2)
    registry.promote(NAME, 1)
    registry.promote(NAME, 2)
    with pytest.raises(RegistryError, match="is 'production'"):
        registry.delete(NAME, 2)
    with pytest.raises(RegistryError, match="roll back"):
        registry.delete(NAME, 1)
    registry.delete(NAME, 3)
    assert registry.versions(NAME) == [1, 2]
    assert blob_store.list("models/readcrumbs/versions/3/") == ["models/readcrumbs/versions/3/deleted.json"]
    with pytest.raises(VersionNotFound):
        registry.delete(NAME, 3)


def test_new_versions_never_reuse_a_number_after_delete_of_the_newest(registry: Registry) -> None:
    register(registry, 0.1, l2=1.0)
    register(registry, 0.2, l2=2.0)
    registry.delete(NAME, 2)
    # Logged predictions name versions: a number must never mean two different models.
    assert register(registry, 0.3, l2=3.0).version == 3
    _, files = registry.load_files(NAME, 3)
    assert files["model.npz"] == b"weights-3.0"
    with pytest.raises(VersionNotFound):
        registry.manifest(NAME, 2)


def test_invalid_names_are_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError):
        registry.versions("../etc")
    with pytest.raises(RegistryError):
        registry.register(NAME, "ease", {"../x": b""}, params={}, metrics={}, data_version="d")
    with pytest.raises(RegistryError):
        registry.register(NAME, "ease", {"manifest.json": b""}, params={}, metrics={}, data_version="d")
