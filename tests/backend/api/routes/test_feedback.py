"""POST /feedback: the prototype's payload, values, book and request_id checks."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.tiny import predict_payload

PROTOTYPE_PAYLOAD = {
    "userid": "1234567890",
    "recommendations": ["Pride and Prejudice", "Emma"],
    "feedback": 1,
    "title": "Emma",
    "position": 2,
    "timestamp": "2024-01-15T10:30:00Z",
}


def test_prototype_payload_is_accepted_and_logged(settings, registry, store):
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        response = client.post("/feedback", json=PROTOTYPE_PAYLOAD)
        assert response.status_code == 200
        body = response.json()
    assert (body["status"], body["book_id"], body["title"], body["value"]) == ("ok", 10, "Emma", 1)
    [record] = store.feedback()
    assert record.feedback_id == body["feedback_id"]
    assert (record.userid, record.book_id, record.title, record.position, record.value) == (
        "1234567890",
        10,
        "Emma",
        2,
        1,
    )
    assert record.request_id is None
    assert record.ts != PROTOTYPE_PAYLOAD["timestamp"]  # the server's clock, not the client's


@pytest.mark.parametrize(("given", "value"), [(1, 1), (-1, -1), ("like", 1), ("dislike", -1), (" LIKE ", 1)])
def test_feedback_values(client, given, value):
    response = client.post("/feedback", json={"userid": "u", "book_id": 9, "feedback": given})
    assert response.status_code == 200
    assert response.json()["value"] == value


def test_feedback_tied_to_a_fresh_prediction(client):
    answer = client.post("/predict", json=predict_payload("Emma")).json()
    book = answer["books"][0]
    response = client.post(
        "/feedback",
        json={
            "userid": "reader-1",
            "book_id": book["book_id"],
            "feedback": "like",
            "request_id": answer["request_id"],
        },
    )
    assert response.status_code == 200
    assert response.json()["request_id"] == answer["request_id"]


def test_request_id_found_in_the_store_after_a_restart(settings, registry, store):
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        answer = client.post("/predict", json=predict_payload("Emma")).json()
    request_id, book_id = answer["request_id"], answer["books"][2]["book_id"]
    # A new app (new process) never saw the id; it must find it in the event store.
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        body = {"userid": "reader-1", "book_id": book_id, "feedback": 1, "request_id": request_id}
        response = client.post("/feedback", json=body)
        assert response.status_code == 200
        assert response.json()["position"] == 2


def test_unknown_request_id_is_404(client):
    response = client.post(
        "/feedback", json={"userid": "u", "book_id": 9, "feedback": 1, "request_id": "f" * 32}
    )
    assert response.status_code == 404
    assert "f" * 32 in response.json()["detail"]


def test_feedback_is_accepted_when_the_store_cannot_verify(flaky_client, flaky_store):
    flaky_store.reads_down = True
    response = flaky_client.post(
        "/feedback", json={"userid": "u", "book_id": 9, "feedback": 1, "request_id": "a" * 32}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"userid": "u", "book_id": 9999, "feedback": 1},
        {"userid": "u", "title": "The Great Gatsby", "feedback": 1},
    ],
)
def test_unknown_book_is_400(client, body):
    response = client.post("/feedback", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "body",
    [
        {"userid": "u", "feedback": 1},  # no book
        {"userid": "u", "book_id": 9, "feedback": 0},
        {"userid": "u", "book_id": 9, "feedback": 2},
        {"userid": "u", "book_id": 9, "feedback": True},
        {"userid": "u", "book_id": 9, "feedback": "love"},
        {"userid": "u", "book_id": 9},
        {"book_id": 9, "feedback": 1},
        {"userid": "u", "book_id": 9, "feedback": 1, "position": -1},
        {"userid": "u", "book_id": 9, "feedback": 1, "request_id": "not an id!"},
        {"userid": "u", "book_id": "nine", "feedback": 1},
    ],
)
def test_schema_errors_are_422(client, body):
    assert client.post("/feedback", json=body).status_code == 422


def test_feedback_reaches_the_store_within_a_second(client, store):
    client.post("/feedback", json={"userid": "u", "book_id": 9, "feedback": -1})
    deadline = time.monotonic() + 1.0
    while not store.feedback():
        assert time.monotonic() < deadline, "feedback not written within a second"
        time.sleep(0.01)
    assert store.feedback()[0].value == -1
