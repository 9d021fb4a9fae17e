"""Security: the admin token is compared in constant time, and no secret reaches a log line or an
error answer (request headers, bodies, query strings, settings errors at start-up)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend import __main__ as entry
from backend.logging_config import JsonFormatter
from backend.main import create_app
from backend.settings import get_settings
from readcrumbs.events.memory import MemoryEventStore
from tests.backend.conftest import make_settings
from tests.backend.tiny import ADMIN_TOKEN, predict_payload
from tests.reliability.conftest import wait_until

# What a careless client might send; a made-up value.
SENT_SECRET = "sk-live-51H8xQ2eZvKYlo2C9fQ3tX7a"  # secret-scan: ignore


@pytest.fixture
def client(tmp_path, registry) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "home", access_log=True, log_level="DEBUG")
    app = create_app(settings, registry=registry, event_store=MemoryEventStore())
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_admin_token_is_compared_with_hmac_compare_digest(client, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given, expected):
        calls.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    same_length_guess = ADMIN_TOKEN[:-1] + ("x" if ADMIN_TOKEN[-1] != "x" else "y")
    response = client.post("/admin/reload", headers={"Authorization": f"Bearer {same_length_guess}"})
    assert response.status_code == 401
    assert calls == [(same_length_guess.encode(), ADMIN_TOKEN.encode())]
    assert client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    assert len(calls) == 2 and calls[1][0] == ADMIN_TOKEN.encode()


def test_no_secret_in_logs_or_error_answers(client, caplog):
    formatter = JsonFormatter()
    with caplog.at_level(logging.DEBUG):
        answers = [
            client.post("/admin/reload", headers={"Authorization": f"Bearer {SENT_SECRET}"}),
            client.post("/admin/reload", headers={"Authorization": SENT_SECRET}),
            client.post(
                "/predict", json=predict_payload("Emma"), headers={"Authorization": f"Bearer {SENT_SECRET}"}
            ),
            client.post("/predict", json={"items": ["Emma"], "userid": {"token": SENT_SECRET}}),
            client.post("/predict", json={"items": [{"password": SENT_SECRET}], "userid": "u"}),
            client.post("/feedback", json={"userid": "u", "feedback": SENT_SECRET, "book_id": 9}),
            client.get("/books/search", params={"q": SENT_SECRET, "limit": 500}),
        ]
        # /random needs the prediction above in the store: it is written within a flush interval.
        wait_until(lambda: client.get("/random").status_code == 200, what="a prediction stored")
        answers.append(client.get("/random", headers={"Cookie": f"session={SENT_SECRET}"}))
    assert [a.status_code for a in answers] == [401, 401, 200, 422, 422, 422, 422, 200]
    # The test's own HTTP client logs the URLs it calls; only the server's lines count.
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(formatter.format(record) for record in server_records)
    assert "/admin/reload" in logged  # the access log did run
    for secret in (SENT_SECRET, ADMIN_TOKEN):
        assert secret not in logged
        for answer in answers:
            assert secret not in answer.text
            assert all(secret not in value for value in answer.headers.values())


def test_an_internal_error_answers_without_details(client, monkeypatch, caplog):
    import backend.api.routes.predict as route

    def broken(*args, **kwargs):
        raise RuntimeError(f"bug while handling {ADMIN_TOKEN}")

    monkeypatch.setattr(route, "predict", broken)
    with caplog.at_level(logging.ERROR):
        answer = client.post("/predict", json=predict_payload("Emma"))
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Internal server error; the server log has the details."}
    assert ADMIN_TOKEN not in answer.text
    assert any(record.exc_info for record in caplog.records)  # the details go to the log only


def test_a_refused_admin_token_is_not_echoed_at_start_up(monkeypatch, tmp_path, capsys):
    short_secret = "hunter2-pass"  # under 16 characters: refused, and still a secret
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("READCRUMBS_ADMIN_TOKEN", short_secret)
    get_settings.cache_clear()
    try:
        assert entry.main(["--port", "0"]) == 2
    finally:
        get_settings.cache_clear()
    message = capsys.readouterr().err
    assert "READCRUMBS_ADMIN_TOKEN must have at least 16 characters" in message
    assert short_secret not in message
