"""GET /health and GET /ready."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.main import create_app
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry


def test_health_is_exactly_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_describes_model_catalogue_and_store(client):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert (body["model"]["name"], body["model"]["version"], body["model"]["model_type"]) == (
        "readcrumbs",
        "1",
        "itemknn",
    )
    assert body["catalogue_size"] == 14
    assert body["event_store"] == {"kind": "memory", "state": "ok", "queue_depth": 0, "held": 0, "spooled": 0}


def test_ready_reports_an_unreachable_store_but_stays_ready(flaky_client, flaky_store):
    flaky_store.down = True
    response = flaky_client.get("/ready")
    assert response.status_code == 200
    assert response.json()["event_store"]["state"] == "unavailable"


def test_ready_is_503_without_a_model_while_health_is_ok(tmp_path, settings, store):
    registry = Registry(FolderBlobStore(tmp_path / "empty"))
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.get("/ready").status_code == 503
        assert client.get("/health").json() == {"status": "ok"}


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/health",
        "/ready",
        "/predict",
        "/feedback",
        "/random",
        "/books/search",
        "/books/{book_id}",
        "/metrics",
        "/admin/reload",
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200
