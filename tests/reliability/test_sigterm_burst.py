"""Fault: SIGTERM arrives in the middle of a burst of concurrent /predict against a real uvicorn.

``python -m backend`` runs in a subprocess with a SQLite event store and the longest flush
interval (so records are still queued when the signal lands). Eight clients post as fast as
they can; SIGTERM is sent while they do. Uvicorn stops accepting, finishes what is in flight,
and the app's shutdown writes what is queued: every request that got an answer must have its
record in SQLite, and nothing may be left in the spool.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.registry import Registry
from tests.backend.live import free_port, wait_ready
from tests.backend.test_e2e import backend_env
from tests.backend.tiny import predict_payload, register_version

CLIENTS = 8
MAX_REQUESTS_PER_CLIENT = 2_000  # a bound: the loops also stop at the deadline or the first refusal
BURST_S_BEFORE_SIGTERM = 1.0


@pytest.mark.slow
def test_every_answered_request_is_logged_through_sigterm_mid_burst(tmp_path):
    register_version(Registry(FolderBlobStore(tmp_path / "registry")), neighbours=10, promote=True)
    port = free_port()
    env = {**backend_env(tmp_path), "READCRUMBS_RATE_LIMIT_PER_MIN": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    answered: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 60

    def client_loop(n: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() > deadline:
                    return
                try:
                    response = client.post(
                        "/predict", json=predict_payload("Emma", "1984", userid=f"c{n}-{i}")
                    )
                except httpx.TransportError as exc:  # the server has stopped accepting
                    with lock:
                        refused.append(type(exc).__name__)
                    return
                if response.status_code != 200:
                    with lock:
                        refused.append(str(response.status_code))
                    return
                with lock:
                    answered.append(response.json()["request_id"])

    try:
        wait_ready(url, process)
        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(BURST_S_BEFORE_SIGTERM)
        in_burst = len(answered)
        process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=30)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert in_burst >= CLIENTS, "the burst never got going"
    assert len(refused) == CLIENTS, "every client should have been cut off by the shutdown"
    store = SqliteEventStore(tmp_path / "events.db")
    try:
        logged = {record.request_id for record in store.predictions()}
    finally:
        store.close()
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} of {len(answered)} answered predictions are not in SQLite"
    # A request cut off after it was served but before its answer arrived is logged, not answered.
    assert len(answered) <= len(logged) <= len(answered) + CLIENTS
    print(f"{len(answered)} answered ({in_burst} before SIGTERM), {len(logged)} logged")
    assert not (tmp_path / "home" / "spool" / "events.jsonl").exists()
