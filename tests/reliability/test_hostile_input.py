"""Hostile input: huge and deeply nested JSON, unicode and control characters, SQL-looking text.

No input may produce a 5xx. Text that is valid Unicode is stored exactly as sent (SQLite, for
real); what cannot be stored (lone surrogates) is refused with a 422 that does not echo it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.schemas import _HIDDEN_CHARACTERS
from readcrumbs.events.sqlite import SqliteEventStore
from tests.backend.conftest import make_settings
from tests.backend.tiny import ADMIN_TOKEN, predict_payload
from tests.reliability.conftest import wait_until

JSON = {"Content-Type": "application/json"}
POST_ROUTES = ("/predict", "/feedback", "/admin/reload")


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteEventStore]:
    store = SqliteEventStore(tmp_path / "events.db")
    yield store
    store.close()


@pytest.fixture
def client(tmp_path, registry, store) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "home"), registry=registry, event_store=store)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def logged(store: SqliteEventStore, client: TestClient, request_id: str):
    wait_until(lambda: store.get_prediction(request_id) is not None, what=f"prediction {request_id} logged")
    return store.get_prediction(request_id)


@pytest.mark.parametrize("route", POST_ROUTES)
def test_a_huge_json_document_is_413(client, route):
    # Many small values rather than one long string: the limit is on bytes, whatever their shape.
    body = json.dumps({"items": ["Emma"] * 20_000, "userid": "u", "feedback": 1, "book_id": 9}).encode()
    assert len(body) > 64 * 1024
    response = client.post(route, content=body, headers=JSON)
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [10_000, 900])
@pytest.mark.parametrize(
    ("route", "field"), [("/predict", "items"), ("/predict", "userid"), ("/feedback", "userid")]
)
def test_deeply_nested_json_is_a_4xx(client, route, depth, field):
    # 10,000 levels exceed the JSON parser's recursion limit (400); 900 parse and fail the schema
    # (422) whose answer must not try to echo a 900-deep value back.
    nested = "[" * depth + "]" * depth
    body = {"items": ["Emma"], "userid": "u", "feedback": 1, "book_id": 9}
    text = json.dumps(body).replace(json.dumps(body[field]), nested, 1)
    response = client.post(route, content=text.encode(), headers=JSON)
    assert response.status_code in (400, 422), response.text[:200]
    assert len(response.content) < 2_000
    assert "[[[" not in response.text


HOSTILE_TEXT = [
    "nul\x00byte",
    "escape \x1b[31mred\x1b[0m and bell \x07",
    "right-to-left \u202eoverride\u202c",
    "zero\u200bwidth\u200djoiner",
    "emoji 📚🐉 and combining e\u0301",
    "tab\tnew\nline\rcarriage",
    "\ufeffbyte order mark",
    "'; DROP TABLE predictions; --",
    'Robert"); DROP TABLE feedback;--',
    "1 OR 1=1",
    "<script>alert('x')</script>",
]


def as_userid(text: str) -> str:
    """``text`` if a userid may hold it: control and bidi-override characters are refused there (422)."""
    return "u" if _HIDDEN_CHARACTERS.search(text) else text


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_unicode_control_and_sql_text_is_stored_verbatim(client, store, text):
    response = client.post("/predict", json=predict_payload("Emma", text, userid=as_userid(text)))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["unknown"] == [text]  # shown back as data, exactly
    record = logged(store, client, answer["request_id"])
    assert record.userid == as_userid(text)
    assert record.items == ["Emma", text]
    assert record.unknown == [text]


def test_sql_looking_text_leaves_the_tables_intact(tmp_path, client, store):
    for text in HOSTILE_TEXT:
        userid = as_userid(text)
        assert client.post("/predict", json=predict_payload("Emma", userid=userid)).status_code == 200
        liked = client.post("/feedback", json={"userid": userid, "book_id": 9, "feedback": "like"})
        assert liked.status_code == 200
        assert client.post("/feedback", json={"userid": "u", "title": text, "feedback": 1}).status_code == 400
        assert client.get("/books/search", params={"q": text[:200]}).status_code == 200
    wait_until(lambda: len(store.feedback()) == len(HOSTILE_TEXT), what="all feedback logged")
    with sqlite3.connect(tmp_path / "events.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    assert {"predictions", "feedback"} <= tables
    assert counts["predictions"] == counts["feedback"] == len(HOSTILE_TEXT)
    assert sorted(record.userid for record in store.feedback()) == sorted(map(as_userid, HOSTILE_TEXT))


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/predict", b'{"items": ["Emma"], "userid": "\\ud800"}'),
        ("/predict", b'{"items": ["Emma", "lone \\udfff surrogate"], "userid": "u"}'),
        ("/feedback", b'{"userid": "u", "title": "\\udbff", "feedback": 1}'),
    ],
)
def test_lone_surrogates_are_refused_with_a_422_not_a_500(client, store, route, body):
    # Regression: the 422 echoed the input, which cannot be encoded as UTF-8, and became a 500.
    response = client.post(route, content=body, headers=JSON)
    assert response.status_code == 422
    assert all(set(error) == {"type", "loc", "msg"} for error in response.json()["detail"])


def test_validation_errors_never_echo_the_refused_value(client):
    secret = "sk-live-4f9a8b7c6d5e4f3a2b1c"  # secret-scan: ignore (made up)
    response = client.post("/predict", json={"items": ["Emma"], "userid": {"api_key": secret}})
    assert response.status_code == 422
    assert secret not in response.text
    assert response.json()["detail"] == [
        {"type": "string_type", "loc": ["body", "userid"], "msg": "Input should be a valid string"}
    ]


def test_hostile_bearer_tokens_are_a_401(client):
    for token in ("x" * 5000, "\x00" * 20, "é" * 16, ADMIN_TOKEN + "\x00"):
        response = client.post("/admin/reload", headers={"Authorization": f"Bearer {token}".encode()})
        assert response.status_code == 401
