"""Swapping models under load: readers hammering /predict never see anything but a 200."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from backend.main import create_app
from tests.backend.live import serve_in_thread
from tests.backend.tiny import ADMIN_TOKEN, MODEL_NAME, predict_payload

READERS = 4
SWAPS = 12


def test_reloads_under_concurrent_requests_never_fail_one(settings, registry, store):
    app = create_app(settings, registry=registry, event_store=store)
    statuses: Counter[int] = Counter()
    versions: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def read(url: str, reader: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while not stop.is_set():
                response = client.post(
                    "/predict", json=predict_payload("Emma", "hobbit", 2, userid=f"r{reader}")
                )
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        versions[response.json()["model_version"]] += 1

    with serve_in_thread(app) as url:
        readers = [threading.Thread(target=read, args=(url, i)) for i in range(READERS)]
        for thread in readers:
            thread.start()
        with httpx.Client(
            base_url=url, timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as admin:
            for swap in range(SWAPS):
                registry.promote(MODEL_NAME, 2 if swap % 2 == 0 else 1, force=True)
                response = admin.post("/admin/reload")
                assert response.status_code == 200, response.text
                assert response.json()["outcome"] == "loaded"
        stop.set()
        for thread in readers:
            thread.join(timeout=10)
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) >= READERS
    assert set(versions) == {"1", "2"}
    # Every answered prediction was logged (the shutdown flushed the writer).
    assert len(store.predictions()) == statuses[200]
