"""Issue 15, failures 3 and 4: feedback that can be trusted, and valid feedback never refused.

Before the fix each case of failure 3 got 200 and a stored row: a book the request did not show,
one of its own input books, a wrong position, an identical replay (a second row), an opposite
vote (a second row), another reader's userid, a prototype payload whose title was not in its own
``recommendations``. Failure 4: after a restart with predictions still spooled (the store's
writes failing), feedback about them answered 404 "no prediction with request_id".

The rules (DESIGN.md, README "Feedback rules"): with a ``request_id`` the book must be one that
request showed (400), the ``userid`` must be the request's (403), the position is the record's (a
wrong one is corrected, and the answer says which it stored); one vote per (request, book), a
later vote replaces the earlier one, so a replay is idempotent.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import make_settings
from tests.backend.fakes import FlakyStore
from tests.backend.tiny import predict_payload
from tests.reliability.conftest import wait_until
from tests.reliability.test_double_fault import LockedStore


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def client(tmp_path, registry, store):
    with TestClient(create_app(make_settings(tmp_path / "home"), registry=registry, event_store=store)) as c:
        yield c


@pytest.fixture
def shown(client) -> dict:
    """A prediction for reader-1 from Emma and 1984."""
    answer = client.post("/predict", json=predict_payload("Emma", "1984", userid="reader-1", k=3))
    assert answer.status_code == 200
    return answer.json()


def vote(client, shown, book_id, value=1, **extra):
    body = {"userid": "reader-1", "request_id": shown["request_id"], "book_id": book_id, "feedback": value}
    return client.post("/feedback", json={**body, **extra})


def test_a_book_the_request_did_not_show_is_refused(client, shown, store):
    not_shown = next(
        b for b in range(1, 15) if b not in [book["book_id"] for book in shown["books"]] + [2, 10]
    )
    answer = vote(client, shown, not_shown)
    assert answer.status_code == 400
    assert "was not shown" in answer.json()["detail"]


def test_an_input_book_of_the_request_is_refused(client, shown):
    assert vote(client, shown, 10).status_code == 400  # Emma, a favourite, never a recommendation


def test_another_readers_userid_is_refused(client, shown):
    answer = vote(client, shown, shown["books"][0]["book_id"], userid="reader-2")
    assert answer.status_code == 403
    assert "another reader" in answer.json()["detail"]


def test_a_wrong_position_is_corrected_from_the_record(client, shown, store):
    second = shown["books"][1]["book_id"]
    answer = vote(client, shown, second, position=7)
    assert answer.status_code == 200 and answer.json()["position"] == 1
    wait_until(lambda: len(store.feedback()) == 1, what="feedback stored")
    assert store.feedback()[0].position == 1


def test_a_replay_and_an_opposite_vote_leave_one_row_with_the_last_vote(client, shown, store):
    book = shown["books"][0]["book_id"]
    first = vote(client, shown, book, "like")
    replay = vote(client, shown, book, "like")
    assert first.status_code == replay.status_code == 200
    assert first.json()["feedback_id"] == replay.json()["feedback_id"]
    changed = vote(client, shown, book, "dislike")
    assert changed.status_code == 200 and changed.json()["feedback_id"] == first.json()["feedback_id"]
    wait_until(lambda: [r.value for r in store.feedback()] == [-1], what="one row, the last vote")


def test_votes_on_two_books_of_one_request_are_two_rows(client, shown, store):
    for book in shown["books"][:2]:
        assert vote(client, shown, book["book_id"]).status_code == 200
    wait_until(lambda: len(store.feedback()) == 2, what="two rows")


def test_a_title_names_the_book_like_a_book_id(client, shown):
    title = shown["books"][0]["title"]
    body = {"userid": "reader-1", "request_id": shown["request_id"], "title": title, "feedback": 1}
    answer = client.post("/feedback", json=body)
    assert answer.status_code == 200 and answer.json()["position"] == 0


def test_a_prototype_payload_is_checked_against_its_own_recommendations(client):
    body = {"userid": "u", "recommendations": ["Emma", "1984"], "feedback": 1, "title": "Dune", "position": 0}
    answer = client.post("/feedback", json=body)
    assert answer.status_code == 400 and "recommendations" in answer.json()["detail"]
    assert client.post("/feedback", json={**body, "title": "Emma"}).status_code == 200


def test_spooled_predictions_are_known_after_a_restart(tmp_path, registry):
    """Failure 4: the store's writes fail, the process restarts, the predictions wait in the spool."""
    store = LockedStore()
    store.down = True
    settings = make_settings(tmp_path / "home")
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        shown = client.post("/predict", json=predict_payload("Emma", userid="reader-1")).json()
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.get("/ready").json()["event_store"]["spooled"] >= 1
        answer = vote(client, shown, shown["books"][0]["book_id"])
        assert answer.status_code == 200
        assert vote(client, shown, 10).status_code == 400  # and still checked, not waved through
        store.down = False
        wait_until(lambda: len(store.feedback()) == 1, what="feedback stored after the replay")
