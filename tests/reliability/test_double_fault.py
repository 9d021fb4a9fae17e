"""Issue 15, failure 5: the store's writes fail (locked) and the spool cannot be written either.

Before the fix, requests kept being answered 200 once memory was full too, and their records were
dropped (counted, logged); ``readcrumbs_event_held_records`` flickered to 0 at every retry and
``/ready`` said the store was "ok" because reads still answered. Now: no record of an answered
request is ever dropped; once memory is full the backend answers 503 with ``Retry-After``; the
held count is exact at every scrape; ``/ready`` calls the store degraded while writes fail; and
everything held reaches the store once it recovers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import make_settings
from tests.backend.fakes import FlakyStore
from tests.backend.tiny import predict_payload
from tests.reliability.conftest import wait_until
from tests.reliability.test_spool_disk_full import sample

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")


class LockedStore(FlakyStore):
    """Writes fail (a writer holds the lock) but reads and pings answer, as SQLite does when locked."""

    def ping(self) -> None:
        return None


def test_memory_spool_and_store_all_failing_refuse_new_work_and_lose_nothing(tmp_path, registry):
    store = LockedStore()
    store.down = True
    settings = make_settings(tmp_path / "home", event_queue_size=5, event_retry_after_s=7)
    app = create_app(settings, registry=registry, event_store=store)
    with TestClient(app) as client:
        writer = app.state.runtime.writer
        writer.spool.path.symlink_to("/dev/full")
        answers = [client.post("/predict", json=predict_payload("Emma", userid=f"r{n}")) for n in range(40)]
        statuses = [answer.status_code for answer in answers]
        served = [answer.json()["request_id"] for answer in answers if answer.status_code == 200]
        assert 200 in statuses and 503 in statuses
        assert set(statuses) == {200, 503}
        refused = next(answer for answer in answers if answer.status_code == 503)
        assert refused.headers["retry-after"] == "7"
        assert "cannot be logged" in refused.json()["detail"]
        # Feedback is refused alike rather than lost.
        liked = client.post("/feedback", json={"userid": "r0", "book_id": 9, "feedback": "like"})
        assert liked.status_code == 503
        for _ in range(5):  # exact at every scrape, retries included
            metrics = client.get("/metrics").text
            assert sample(metrics, "readcrumbs_event_held_records") + sample(
                metrics, "readcrumbs_event_queue_depth"
            ) == len(served)
            assert sample(metrics, "readcrumbs_events_dropped_total") == 0
        event_store = client.get("/ready").json()["event_store"]
        assert event_store["state"] == "degraded"
        assert event_store["held"] + event_store["queue_depth"] == len(served)
        store.down = False
        wait_until(lambda: len(store.predictions()) == len(served), what="every answered request logged")
        assert client.get("/ready").json()["event_store"]["state"] == "ok"
        assert client.post("/predict", json=predict_payload("Emma")).status_code == 200
    assert sorted(record.request_id for record in store.predictions())[: len(served)] is not None
    assert {record.request_id for record in store.predictions()} >= set(served)
    assert len(store.predictions()) == len(served) + 1


def test_spooled_count_is_exact_while_the_store_is_locked(tmp_path, registry):
    store = LockedStore()
    store.down = True
    app = create_app(make_settings(tmp_path / "home"), registry=registry, event_store=store)
    with TestClient(app) as client:
        for n in range(12):
            assert client.post("/predict", json=predict_payload("Emma", userid=f"r{n}")).status_code == 200
        wait_until(lambda: app.state.runtime.writer.spool.count == 12, what="12 spooled")
        metrics = client.get("/metrics").text
        assert sample(metrics, "readcrumbs_event_spool_records") == 12
        assert client.get("/ready").json()["event_store"]["state"] == "degraded"
        store.down = False
        wait_until(lambda: len(store.predictions()) == 12, what="spool replayed")
