"""GET /metrics: Prometheus text with per-route, per-version and event-pipeline series."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.tiny import predict_payload


def test_metrics_after_some_traffic(client):
    client.post("/predict", json=predict_payload("Emma"))
    client.post("/predict", json=predict_payload("Emma"))
    client.get("/books/5")
    client.get("/books/6")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'readcrumbs_http_requests_total{method="POST",route="/predict",status="200"} 2.0' in text
    # Route templates, not raw paths, so the label set stays small.
    assert 'readcrumbs_http_requests_total{method="GET",route="/books/{book_id}",status="200"} 2.0' in text
    assert 'route="unmatched",status="404"' in text
    assert 'readcrumbs_http_request_duration_seconds_count{method="POST",route="/predict"} 2.0' in text
    assert 'readcrumbs_predictions_total{model_version="1"} 2.0' in text
    for name in (
        "readcrumbs_event_queue_depth",
        "readcrumbs_event_spool_records",
        "readcrumbs_event_store_failures_total",
        "readcrumbs_model_info",
    ):
        assert name in text


def test_store_failures_are_counted(flaky_client, flaky_store):
    flaky_store.down = True
    flaky_client.post("/predict", json=predict_payload("Emma"))
    expected = ("readcrumbs_event_store_failures_total 1.0", "readcrumbs_event_spool_records 1.0")
    deadline = time.monotonic() + 5
    while not all(line in flaky_client.get("/metrics").text for line in expected):
        assert time.monotonic() < deadline, "the failure never showed in /metrics"
        time.sleep(0.01)


def test_each_app_has_its_own_registry(settings, registry, store, client):
    client.post("/predict", json=predict_payload("Emma"))
    with TestClient(create_app(settings, registry=registry, event_store=store)) as other:
        assert "readcrumbs_predictions_total{" not in other.get("/metrics").text
