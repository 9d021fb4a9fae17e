"""Fault: the event store is down and the spool's disk is full.

The spool file is pointed at ``/dev/full``, so every append fails with a real ENOSPC. /predict and
/feedback must still answer 200; the failure must be loud (an ERROR log line and
``readcrumbs_event_spool_failures_total`` on /metrics); records are held in memory (bounded) and
reach the store once it recovers.
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

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")


def sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


def test_requests_are_served_and_the_failure_is_loud(tmp_path, registry, caplog):
    store = FlakyStore()
    store.down = True
    settings = make_settings(tmp_path / "home", event_queue_size=50)
    app = create_app(settings, registry=registry, event_store=store)
    with caplog.at_level("ERROR", logger="backend.event_writer"), TestClient(app) as client:
        spool = app.state.runtime.writer.spool
        spool.path.symlink_to("/dev/full")
        request_ids = []
        for n in range(20):
            answer = client.post("/predict", json=predict_payload("Emma", userid=f"r{n}"))
            assert answer.status_code == 200
            request_ids.append(answer.json()["request_id"])
        liked = client.post("/feedback", json={"userid": "r0", "book_id": 9, "feedback": "like"})
        assert liked.status_code == 200
        writer = app.state.runtime.writer
        # Held records leave memory for a moment at every retry: read the gauge until it shows them.
        wait_until(
            lambda: sample(client.get("/metrics").text, "readcrumbs_event_held_records") == 21,
            what="21 records held in memory",
        )
        metrics = client.get("/metrics").text
        assert sample(metrics, "readcrumbs_event_spool_failures_total") >= 1
        assert sample(metrics, "readcrumbs_events_dropped_total") == 0
        assert client.get("/ready").status_code == 200
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert any(
            "cannot write the event spool" in message and "No space left" in message for message in errors
        )
        # The store recovers (the disk is still full): what was held is written, nothing lost.
        store.down = False
        wait_until(lambda: writer.held == 0 and len(store.predictions()) == 20, what="held records written")
    assert sorted(record.request_id for record in store.predictions()) == sorted(request_ids)
    assert [record.feedback_id for record in store.feedback()] == [liked.json()["feedback_id"]]
