"""GET /random: one logged prediction with the prototype's field names."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.main import create_app
from readcrumbs.events.records import prediction_fields
from tests.backend.tiny import predict_payload


def test_404_when_nothing_is_logged(client):
    response = client.get("/random")
    assert response.status_code == 404
    assert response.json() == {"detail": "No prediction has been logged yet."}


def test_a_logged_prediction(settings, registry, store):
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        answer = client.post("/predict", json=predict_payload("Emma", "1984", userid="1234567890")).json()
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        response = client.get("/random")
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == ["Emma", "1984"]
    assert body["user_id"] == "1234567890"
    assert body["timestamp"].endswith("Z")
    assert body["prediction"] == answer["recs"]
    assert body["request_id"] == answer["request_id"]
    assert body["model_version"] == "1"


def test_503_when_the_store_cannot_be_read(flaky_client, flaky_store):
    flaky_store.reads_down = True
    response = flaky_client.get("/random")
    assert response.status_code == 503
    assert "test" not in response.text  # the store's own message stays in the log


def test_every_record_field_is_in_the_schema_with_its_description(client):
    # The HTTP shape is derived from readcrumbs/events/records.py: a new record field (arm) shows up.
    schema = client.get("/openapi.json").json()["components"]["schemas"]["RandomPredictionPublic"]
    names = {"ts": "timestamp", "userid": "user_id"}
    for spec in prediction_fields():
        assert schema["properties"][names.get(spec.name, spec.name)]["description"] == spec.doc
    assert set(schema["properties"]["arm"]["enum"]) == {"production", "challenger", "shadow"}


def test_a_logged_prediction_says_its_arm(settings, registry, store):
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        client.post("/predict", json=predict_payload("Emma", userid="u"))
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        body = client.get("/random").json()
    assert body["arm"] == "production"
    assert body["shadow_version"] is None and body["shadow_prediction_ids"] == []
