"""Fixtures of the backend tests: a folder registry with two tiny versions, a memory event store,
settings under tmp_path, and a TestClient running the app's lifespan."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import BackendSettings
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.registry import Registry
from tests.backend.fakes import FlakyStore
from tests.backend.tiny import ADMIN_TOKEN, MODEL_NAME, register_version

os.environ.setdefault("WANDB_MODE", "disabled")


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder registry built once: version 1 (item-kNN, 10 neighbours) in production, version 2
    (3 neighbours) registered."""
    folder = tmp_path_factory.mktemp("registry-template")
    registry = Registry(FolderBlobStore(folder))
    register_version(registry, neighbours=10, promote=True)
    register_version(registry, neighbours=3)
    return folder


@pytest.fixture
def registry(tmp_path: Path, registry_template: Path) -> Registry:
    """A private copy of the template registry (tests corrupt files and move aliases in it)."""
    folder = tmp_path / "registry"
    shutil.copytree(registry_template, folder)
    return Registry(FolderBlobStore(folder))


def make_settings(home: Path, **overrides: object) -> BackendSettings:
    values: dict[str, Any] = {
        "home": home,
        "model_name": MODEL_NAME,
        "admin_token": ADMIN_TOKEN,
        "event_flush_s": 0.02,
    }
    values.update(overrides)
    return BackendSettings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path) -> BackendSettings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def client(settings: BackendSettings, registry: Registry, store: MemoryEventStore) -> Iterator[TestClient]:
    app = create_app(settings, registry=registry, event_store=store)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def flaky_store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def flaky_client(
    settings: BackendSettings, registry: Registry, flaky_store: FlakyStore
) -> Iterator[TestClient]:
    """A client whose event store is a FlakyStore the test can take down."""
    with TestClient(create_app(settings, registry=registry, event_store=flaky_store)) as test_client:
        yield test_client
