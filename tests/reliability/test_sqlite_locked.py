"""Fault: another process holds SQLite's write lock (``BEGIN EXCLUSIVE``) for several seconds.

/predict must keep answering within its latency budget while the writer thread waits on the
lock, fails, spools and retries, and every answered prediction must be in SQLite afterwards.

Latency budget: p99 < 250 ms per /predict on this (shared, 2-core) machine. A request that waited
for the lock would take at least the store's busy timeout (1.5 s) or the lock itself (3 s), so
the budget separates "never waits on the store" from "waits" by a wide margin, while leaving
room for a busy CI machine (unloaded, p99 is a few ms).
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from backend.main import create_app
from readcrumbs.events.sqlite import SqliteEventStore
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread
from tests.backend.tiny import predict_payload
from tests.reliability.conftest import wait_until

LOCK_S = 3.0
P99_BUDGET_S = 0.250
# Another process: opens the database, takes the write lock, says so, holds it, releases it.
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.mark.slow
def test_predict_stays_fast_while_sqlite_is_locked_and_every_record_lands(tmp_path, registry):
    database = tmp_path / "events.db"
    store = SqliteEventStore(database)  # default busy timeout: 1.5 s, then StoreError -> spool
    app = create_app(make_settings(tmp_path / "home"), registry=registry, event_store=store)
    answered: list[str] = []
    latencies: list[float] = []
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:

        def ask(n: int) -> None:
            started = time.perf_counter()
            response = client.post("/predict", json=predict_payload("Emma", "1984", userid=f"r{n}"))
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            answered.append(response.json()["request_id"])

        ask(0)
        wait_until(lambda: len(store.predictions()) == 1, what="the first record (and the schema)")
        locker = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(database), str(LOCK_S)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
            latencies.clear()
            n = 1
            while locker.poll() is None:  # the whole time the lock is held
                ask(n)
                n += 1
                time.sleep(0.005)
        finally:
            if locker.poll() is None:
                locker.kill()
            locker.wait()
        assert locker.returncode == 0
        runtime = app.state.runtime
        failures = runtime.metrics.registry.get_sample_value("readcrumbs_event_store_failures_total")
        assert failures >= 1, "the lock never blocked a write: the test proves nothing"
        wait_until(lambda: runtime.writer.spool.count == 0, timeout=20, what="the spool replayed")
    logged = {record.request_id for record in store.predictions()}
    store.close()
    assert len(latencies) >= 50
    assert set(answered) <= logged
    assert len(logged) == len(answered)
    p99 = float(np.percentile(latencies, 99))
    p50 = float(np.median(latencies))
    print(f"{len(latencies)} requests while locked: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    assert p99 < P99_BUDGET_S, f"p99 {p99 * 1000:.0f} ms over {len(latencies)} requests"
