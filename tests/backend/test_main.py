"""`python -m backend`: a clear exit when there is nothing to serve or the settings are bad."""

from __future__ import annotations

import pytest

from backend import __main__ as entry
from backend.settings import get_settings
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.tiny import MODEL_NAME, register_version


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    for name in ("READCRUMBS_REGISTRY_URL", "READCRUMBS_EVENTS_URL", "READCRUMBS_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("READCRUMBS_MODEL_NAME", MODEL_NAME)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_no_production_model_says_to_run_make_train(capsys):
    assert entry.main(["--port", "0"]) == 2
    message = capsys.readouterr().err
    assert "No production model" in message and "make train" in message


def test_a_registered_but_unpromoted_model_is_not_served(tmp_path, capsys):
    register_version(Registry(FolderBlobStore(tmp_path / "home" / "registry")), neighbours=5)
    assert entry.main(["--port", "0"]) == 2
    assert "make train" in capsys.readouterr().err


def test_bad_settings_exit_with_the_variable_named(monkeypatch, capsys):
    monkeypatch.setenv("READCRUMBS_MODEL_POLL_S", "0.1")
    assert entry.main([]) == 2
    assert "READCRUMBS_MODEL_POLL_S" in capsys.readouterr().err


def test_production_version_reads_the_alias(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "home" / "registry"))
    register_version(registry, neighbours=5, promote=True)
    assert entry.production_version(get_settings()) == 1
