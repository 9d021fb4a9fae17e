"""Body size limit (declared and streamed), CORS allow-list, request metrics' route labels."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.middleware import MAX_BODY_BYTES
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread
from tests.backend.tiny import predict_payload


def oversized_body() -> bytes:
    padding = "x" * MAX_BODY_BYTES
    return f'{{"items": ["Emma"], "userid": "u", "padding": "{padding}"}}'.encode()


def test_declared_oversize_is_413(client):
    response = client.post("/predict", content=oversized_body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body is larger than {MAX_BODY_BYTES} bytes."}


def test_a_body_at_the_limit_passes(client):
    body = b'{"items": ["Emma"], "userid": "u", "padding": "'
    body += b"x" * (MAX_BODY_BYTES - len(body) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


def test_streamed_oversize_without_content_length_is_413(settings, registry, store):
    def chunks():
        body = oversized_body()
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    with serve_in_thread(create_app(settings, registry=registry, event_store=store)) as url:
        response = httpx.post(
            f"{url}/predict", content=chunks(), headers={"Content-Type": "application/json"}, timeout=10
        )
        assert response.status_code == 413
        # A well-sized chunked body still works.
        small = httpx.post(
            f"{url}/predict",
            content=iter([b'{"items": ["Emma"], ', b'"userid": "u"}']),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert small.status_code == 200


def test_cors_allows_only_listed_origins(tmp_path, registry, store):
    settings = make_settings(tmp_path / "home", cors_origins="http://localhost:8501, https://books.example/")
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        preflight = client.options(
            "/predict",
            headers={"Origin": "https://books.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://books.example"
        allowed = client.post(
            "/predict", json=predict_payload("Emma"), headers={"Origin": "http://localhost:8501"}
        )
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:8501"
        denied = client.post(
            "/predict", json=predict_payload("Emma"), headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in denied.headers


def test_no_cors_headers_without_an_allow_list(client):
    response = client.get("/health", headers={"Origin": "http://localhost:8501"})
    assert "access-control-allow-origin" not in response.headers


def test_access_log_lines_when_enabled(tmp_path, registry, store, caplog):
    settings = make_settings(tmp_path / "home", access_log=True)
    with (
        TestClient(create_app(settings, registry=registry, event_store=store)) as client,
        caplog.at_level("INFO", logger="backend.access"),
    ):
        client.get("/books/5")
    [record] = [r for r in caplog.records if r.name == "backend.access"]
    assert (record.route, record.status) == ("/books/{book_id}", 200)
    assert record.duration_ms >= 0


def test_no_access_log_by_default(client, caplog):
    with caplog.at_level("INFO", logger="backend.access"):
        client.get("/health")
    assert not [r for r in caplog.records if r.name == "backend.access"]
