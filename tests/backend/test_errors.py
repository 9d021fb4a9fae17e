"""Errors become HTTP answers in one place, and no answer carries a stack trace."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from backend.errors import INTERNAL_ERROR_DETAIL
from backend.main import create_app
from readcrumbs.errors import ConfigError
from tests.backend.tiny import predict_payload


@pytest.mark.parametrize(
    "error", [RuntimeError("secret internals at /etc/passwd"), ConfigError("secret config")]
)
def test_unexpected_errors_are_a_generic_500(settings, registry, store, monkeypatch, caplog, error):
    def explode(*args, **kwargs):
        raise error

    app = create_app(settings, registry=registry, event_store=store)
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(app.state.runtime.models.current().bundle, "recommend", explode)
        with caplog.at_level(logging.ERROR, logger="backend.errors"):
            response = client.post("/predict", json=predict_payload("Emma"))
    assert response.status_code == 500
    assert response.json() == {"detail": INTERNAL_ERROR_DETAIL}
    assert "secret" not in response.text and "Traceback" not in response.text
    # The details go to the log instead.
    assert any(record.exc_info and "secret" in str(record.exc_info[1]) for record in caplog.records)


def test_500s_are_counted_by_route(settings, registry, store, monkeypatch):
    app = create_app(settings, registry=registry, event_store=store)
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(app.state.runtime.models.current().bundle, "recommend", lambda *a, **k: 1 / 0)
        assert client.post("/predict", json=predict_payload("Emma")).status_code == 500
        assert 'readcrumbs_http_requests_total{method="POST",route="/predict",status="500"} 1.0' in (
            client.get("/metrics").text
        )


def test_unknown_route_and_method(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
