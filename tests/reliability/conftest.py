"""Fixtures of the reliability tests: a folder registry with a tiny production model, settings
under tmp_path, and helpers to time requests and wait for records."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.tiny import register_version

os.environ.setdefault("WANDB_MODE", "disabled")


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Version 1 (item-kNN) in production, built once per session."""
    folder = tmp_path_factory.mktemp("reliability-registry")
    register_version(Registry(FolderBlobStore(folder)), neighbours=10, promote=True)
    return folder


@pytest.fixture
def registry_folder(tmp_path: Path, registry_template: Path) -> Path:
    folder = tmp_path / "registry"
    shutil.copytree(registry_template, folder)
    return folder


@pytest.fixture
def registry(registry_folder: Path) -> Registry:
    return Registry(FolderBlobStore(registry_folder))


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f} s")
        time.sleep(0.02)
