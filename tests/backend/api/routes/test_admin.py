"""POST /admin/reload: bearer token, reload, refusal of a corrupt version; the alias poll."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from backend.main import create_app
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.errors import StoreError
from readcrumbs.registry import Registry
from tests.backend.conftest import make_settings
from tests.backend.test_serving import corrupt
from tests.backend.tiny import ADMIN_TOKEN, MODEL_NAME, predict_payload, register_version

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_disabled_without_a_token(tmp_path, registry, store):
    settings = make_settings(tmp_path / "home", admin_token=None)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.post("/admin/reload", headers=AUTH).status_code == 404


def test_missing_or_wrong_token_is_401(client):
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": ADMIN_TOKEN}):
        response = client.post("/admin/reload", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_reload_serves_the_newly_promoted_version(client, registry):
    assert client.post("/admin/reload", headers=AUTH).json() == {
        "outcome": "unchanged",
        "model_version": "1",
        "previous_version": "1",
        "challenger_outcome": "none",
        "challenger_version": None,
    }
    registry.promote(MODEL_NAME, 2, force=True)
    assert client.post("/admin/reload", headers=AUTH).json() == {
        "outcome": "loaded",
        "model_version": "2",
        "previous_version": "1",
        "challenger_outcome": "none",
        "challenger_version": None,
    }
    assert client.post("/predict", json=predict_payload("Emma")).json()["model_version"] == "2"
    assert client.get("/ready").json()["model"]["version"] == "2"


def test_a_corrupt_version_is_refused_and_the_old_one_keeps_serving(client, registry):
    corrupt(registry, 2)
    registry.promote(MODEL_NAME, 2, force=True)
    response = client.post("/admin/reload", headers=AUTH)
    assert response.status_code == 409
    assert "checksum" in response.json()["detail"] and "still serving v1" in response.json()["detail"]
    assert client.get("/ready").json()["model"]["version"] == "1"
    answer = client.post("/predict", json=predict_payload("Emma"))
    assert answer.status_code == 200
    assert answer.json()["model_version"] == "1"
    assert 'readcrumbs_model_reloads_total{outcome="refused"} 1.0' in client.get("/metrics").text


def test_the_alias_poll_loads_a_promotion(tmp_path, registry, store):
    settings = make_settings(tmp_path / "home", model_poll_s=1.0)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        registry.promote(MODEL_NAME, 2, force=True)
        deadline = time.monotonic() + 5
        while client.get("/ready").json()["model"]["version"] != "2":
            assert time.monotonic() < deadline, "the poll did not load version 2"
            time.sleep(0.05)


def test_reload_without_a_production_version_is_409(tmp_path, store):
    registry = Registry(FolderBlobStore(tmp_path / "unpromoted"))
    register_version(registry, neighbours=5)
    settings = make_settings(tmp_path / "home")
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        response = client.post("/admin/reload", headers=AUTH)
        assert response.status_code == 409
        assert "production" in response.json()["detail"]
        # Promote, reload, and the same app starts serving.
        registry.promote(MODEL_NAME, 1, force=True)
        assert client.post("/admin/reload", headers=AUTH).json()["outcome"] == "loaded"
        assert client.get("/ready").status_code == 200


def test_an_unreachable_registry_is_503_and_the_model_keeps_serving(client, registry, monkeypatch):
    def unreachable(*args, **kwargs):
        raise StoreError("registry bucket unreachable (test)")

    monkeypatch.setattr(registry, "alias", unreachable)
    response = client.post("/admin/reload", headers=AUTH)
    assert response.status_code == 503
    assert "unreachable" not in response.text
    assert client.post("/predict", json=predict_payload("Emma")).status_code == 200


def test_a_corrupt_production_at_start_up_leaves_the_app_not_ready(tmp_path, registry, store):
    corrupt(registry, 1)
    settings = make_settings(tmp_path / "home")
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").status_code == 503
        assert client.post("/predict", json=predict_payload("Emma")).status_code == 503
