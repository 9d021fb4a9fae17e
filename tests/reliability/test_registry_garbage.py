"""Issue 15, failure 6: garbage in the registry (an alias or manifest that is not what it should be).

Before the fix, ``/admin/reload`` answered 500 and ``python -m backend`` exited 1 with a raw
traceback (a ``JSONDecodeError``, ``KeyError`` or ``TypeError`` escaped the registry). Now a
malformed file is :class:`~readcrumbs.errors.RegistryCorrupt`: 409 on reload (the old model serves
on), exit 2 with one line at start-up, and a corrupt production version at start-up serves the
last good locally cached version instead, which ``/ready`` shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend import __main__ as entry
from backend.main import create_app
from backend.settings import get_settings
from readcrumbs.errors import RegistryCorrupt
from tests.backend.conftest import make_settings
from tests.backend.tiny import ADMIN_TOKEN, MODEL_NAME, predict_payload

GARBAGE = [b"{oops", b"{}", b"[]", b'{"version": "one", "history": []}', b'{"version": 1.5}', b"\xff\xfe"]
MANIFEST_GARBAGE = [b"{oops", b"{}", b"[]", b"null", b"\xff\xfe"]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def alias_file(folder: Path) -> Path:
    return folder / "models" / MODEL_NAME / "aliases" / "production.json"


def manifest_file(folder: Path, version: int = 1) -> Path:
    return folder / "models" / MODEL_NAME / "versions" / str(version) / "manifest.json"


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
def test_a_malformed_alias_is_a_typed_error(registry, registry_folder, garbage):
    alias_file(registry_folder).write_bytes(garbage)
    with pytest.raises(RegistryCorrupt, match="production"):
        registry.alias(MODEL_NAME)


@pytest.mark.parametrize("garbage", MANIFEST_GARBAGE, ids=repr)
def test_a_malformed_manifest_is_a_typed_error(registry, registry_folder, garbage):
    manifest_file(registry_folder).write_bytes(garbage)
    with pytest.raises(RegistryCorrupt, match="manifest"):
        registry.manifest(MODEL_NAME, 1)


def test_a_manifest_with_a_non_integer_version_is_a_typed_error(registry, registry_folder):
    path = manifest_file(registry_folder)
    path.write_text(path.read_text().replace('"version": 1', '"version": "1"'))
    with pytest.raises(RegistryCorrupt, match="version"):
        registry.manifest(MODEL_NAME, 1)


@pytest.mark.parametrize("garbage", [GARBAGE[0], GARBAGE[2], GARBAGE[3]], ids=repr)
def test_reload_answers_409_and_the_old_model_serves_on(tmp_path, registry, registry_folder, garbage):
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        alias_file(registry_folder).write_bytes(garbage)
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 409
        assert "production" in answer.json()["detail"]
        assert client.post("/predict", json=predict_payload("Emma")).status_code == 200


def test_reload_of_a_garbage_manifest_answers_409(tmp_path, registry, registry_folder):
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        manifest_file(registry_folder, 2).parent.mkdir(parents=True)
        manifest_file(registry_folder, 2).write_bytes(b"[]")
        alias_file(registry_folder).write_text('{"version": 2, "history": [1]}')
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 409 and "manifest" in answer.json()["detail"]
        assert client.get("/ready").json()["model"]["version"] == "1"


@pytest.fixture
def backend_env(monkeypatch: pytest.MonkeyPatch, tmp_path, registry_folder):
    """``python -m backend``'s environment: the folder registry, state under tmp_path."""
    for name in ("READCRUMBS_EVENTS_URL", "READCRUMBS_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("READCRUMBS_MODEL_NAME", MODEL_NAME)
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", f"file://{registry_folder}")
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
def test_start_up_exits_2_with_one_line(backend_env, registry_folder, monkeypatch, capsys, garbage):
    alias_file(registry_folder).write_bytes(garbage)
    monkeypatch.setattr(entry, "serve", lambda *args: pytest.fail("garbage must not be served"))
    assert entry.main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("Cannot read the model registry")]
    assert len(lines) == 1 and "production" in lines[0]
    assert "Traceback" not in err


def test_a_corrupt_production_version_at_start_up_serves_the_cached_one(
    tmp_path, registry, registry_folder, caplog
):
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:  # an earlier run cached v1
        assert client.get("/ready").json()["model"]["source"] == "registry"
    manifest_file(registry_folder).write_bytes(b"{oops")
    with caplog.at_level("ERROR"), TestClient(create_app(settings, registry=registry)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        model = ready.json()["model"]
        assert (model["version"], model["source"]) == ("1", "cache")
        assert "manifest" in model["fallback_reason"]
        assert client.post("/predict", json=predict_payload("Emma")).status_code == 200
    assert any("last good" in record.getMessage() for record in caplog.records if record.levelname == "ERROR")


def test_a_corrupt_production_alias_at_start_up_with_a_cache_starts(
    tmp_path, registry, registry_folder, backend_env, monkeypatch
):
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        assert client.get("/ready").status_code == 200
    manifest_file(registry_folder).write_bytes(b"{}")
    served = []
    monkeypatch.setattr(entry, "serve", lambda app, host, port, **kw: served.append(port))
    assert entry.main(["--port", "0"]) == 0
    assert served == [0]
