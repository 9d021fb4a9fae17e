"""Several worker processes (issue 13): ``python -m backend --workers N``, one event writer each.

Two and four workers behind one port take a burst of /predict and /feedback from concurrent
clients, then get SIGTERM. Every answered prediction and vote must be in the store exactly once:
SQLite (one file, WAL, busy timeout, written by every worker) and DynamoDB (moto's server).
Feedback often reaches another worker than the one that served its prediction, before that
worker flushed it: it must still be accepted. Bounded: about 3 s of load per case, 127.0.0.1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backend.live import backend_process, free_port
from tests.backend.tiny import MODEL_NAME, predict_payload

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 4
LOAD_S = 3.0
TITLES = ["Emma", "1984", "Dune", "The Hobbit", "Animal Farm", "Rebecca", "Pride and Prejudice"]


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "moto never started"
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=20)


def open_store(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """The store the workers write to, and the environment that names it."""
    from readcrumbs.events import open_event_store

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
        return open_event_store(url), {"READCRUMBS_EVENTS_URL": url}
    endpoint = request.getfixturevalue("moto_endpoint")
    aws = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    from readcrumbs.events.dynamodb import DynamoEventStore

    # moto's server answers the read-back query of ~1,000 records in 4-5 s on a 2-core machine,
    # at the edge of the 5-s read timeout the backend keeps; the test's own reads may wait longer.
    store = DynamoEventStore("rc-workers", read_timeout_s=60)
    store.create_tables()
    return store, {**aws, "READCRUMBS_EVENTS_URL": "dynamodb://rc-workers"}


def drive(url: str, seconds: float) -> tuple[set[str], set[str], int]:
    """CLIENTS threads of /predict, each followed now and then by a vote about a book it showed.

    Returns the answered request_ids, the answered feedback_ids and the number of refusals.
    """
    request_ids: set[str] = set()
    feedback_ids: set[str] = set()
    refused = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        userid = f"worker-test-{n}"
        stop_at = time.monotonic() + seconds
        with httpx.Client(base_url=url, timeout=30) as http:
            count = 0
            while time.monotonic() < stop_at:
                count += 1
                favourites = [TITLES[(n + count) % len(TITLES)], TITLES[(n + 2 * count) % len(TITLES)]]
                answer = http.post("/predict", json=predict_payload(*favourites, userid=userid))
                if answer.status_code != 200:
                    with lock:
                        refused[0] += 1
                    continue
                shown = answer.json()
                with lock:
                    request_ids.add(shown["request_id"])
                if count % 2 or not shown["books"]:
                    continue
                for value in (1, -1):  # a vote, then a changed mind: one row, the last vote
                    vote = http.post(
                        "/feedback",
                        json={
                            "userid": userid,
                            "request_id": shown["request_id"],
                            "book_id": shown["books"][0]["book_id"],
                            "feedback": value,
                        },
                    )
                    with lock:
                        if vote.status_code == 200:
                            feedback_ids.add(vote.json()["feedback_id"])
                        else:
                            refused[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return request_ids, feedback_ids, refused[0]


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_every_answered_record_is_written_once_by_several_workers(
    tmp_path, registry_folder, monkeypatch, request, kind, workers
):
    store, store_env = open_store(kind, tmp_path, monkeypatch, request)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("READCRUMBS_", "AWS_"))},
        **store_env,
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_MODEL_NAME": MODEL_NAME,
        "READCRUMBS_REGISTRY_URL": f"file://{registry_folder}",
        "READCRUMBS_WORKERS": str(workers),
        "READCRUMBS_RATE_LIMIT_PER_MIN": "0",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO_ROOT),
    }
    with backend_process(env, tmp_path, stop_timeout_s=60) as url:
        request_ids, feedback_ids, refused = drive(url, LOAD_S)
    log = tmp_path / "backend.log"
    try:
        assert refused == 0, log.read_text()[-3000:]
        assert len(request_ids) > 20 and feedback_ids
        assert log.read_text().count("Application startup complete") == workers
        predictions = store.predictions()
        feedback = store.feedback()
        assert len(predictions) == len(request_ids)  # none written twice
        assert {record.request_id for record in predictions} == request_ids  # none lost
        assert len(feedback) == len(feedback_ids)
        assert {record.feedback_id for record in feedback} == feedback_ids
        assert {record.value for record in feedback} == {-1}  # the later vote replaced the earlier
        spooled = list((tmp_path / "home" / "spool").rglob("events.jsonl"))
        assert not spooled or all(path.stat().st_size == 0 for path in spooled)
    finally:
        store.close()
