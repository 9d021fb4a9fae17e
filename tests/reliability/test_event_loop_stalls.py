"""Issue 15, failure 2: hostile /predict requests must not stall the event loop.

A /predict with 500 long titles that match nothing costs fuzzy look-ups and suggestions, each a
scan of the catalogue. Run on the event loop, four keep-alive clients sending such requests
pushed /health from under a millisecond to over a second. Now that work runs in a bounded thread
pool (READCRUMBS_CPU_THREADS) and the loop keeps answering: /health p99 stays under 20 ms.

The server is a real ``python -m backend`` in its own process over a synthetic catalogue of
10,000 titles (built here, in about a second), so the fuzzy scans cost what they cost in
production. Bounded: about 8 s of load, 127.0.0.1 only.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.model_bundle import bundle_files
from readcrumbs.recommenders import create_model
from readcrumbs.registry import Registry
from readcrumbs.text import normalize_title
from tests.backend.tiny import MODEL_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
N_BOOKS = 10_000
HOSTILE_CLIENTS = 4
LOAD_S = 6.0
HEALTH_P99_MS = 20.0
WORDS = ["ash", "birch", "cedar", "dawn", "ember", "frost", "grove", "harbor", "iris", "jade", "lantern"]


def wide_registry(folder: Path) -> None:
    """A popularity model over N_BOOKS books with titles of random words, in production."""
    rng = random.Random(0)
    titles = [" ".join(rng.choices(WORDS, k=rng.randint(2, 6))) + f" {n}" for n in range(N_BOOKS)]
    popularity = np.arange(N_BOOKS, 0, -1, dtype=np.int64)
    catalogue = pd.DataFrame(
        {
            "book_id": np.arange(1, N_BOOKS + 1, dtype=np.int64),
            "title": titles,
            "title_norm": [normalize_title(title) for title in titles],
            "authors": ["Someone"] * N_BOOKS,
            "year": pd.array([2000] * N_BOOKS, dtype="Int64"),
            "average_rating": np.full(N_BOOKS, 4.0),
            "ratings_count": popularity,
            "image_url": [""] * N_BOOKS,
            "small_image_url": [""] * N_BOOKS,
            "genres": [["fiction"]] * N_BOOKS,
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100.0,
        }
    )
    likes = sp.random(200, N_BOOKS, density=0.01, format="csr", dtype=np.float32, random_state=0)
    likes.data[:] = 1.0
    model = create_model("popularity")
    model.fit(likes)
    registry = Registry(FolderBlobStore(folder))
    files = bundle_files(model, catalogue)
    manifest = registry.register(
        MODEL_NAME, "popularity", files, params=model.params, metrics={}, data_version="w"
    )
    registry.promote(MODEL_NAME, manifest.version, force=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    wide_registry(tmp_path / "registry")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("READCRUMBS_")},
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_MODEL_NAME": MODEL_NAME,
        "READCRUMBS_REGISTRY_URL": f"file://{tmp_path / 'registry'}",
        "READCRUMBS_EVENTS_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO_ROOT),
    }
    log = (tmp_path / "backend.log").open("w")
    command = [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "backend.log").read_text()
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "backend never became ready"
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def hostile_body(rng: random.Random) -> dict[str, object]:
    """500 long titles (120 characters) that match no book (a catalogue scan each, if nothing bounds them)."""
    items = ["".join(rng.choices("qxzjvkwy ", k=120)) for _ in range(500)]  # just under 64 KiB
    return {"items": items, "userid": "hostile"}


def test_health_p99_stays_under_20_ms_while_hostile_predicts_run(backend):
    stop = threading.Event()
    hostile_answers: list[int] = []

    def hostile(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=backend, timeout=30) as client:
            while not stop.is_set():
                hostile_answers.append(client.post("/predict", json=hostile_body(rng)).status_code)

    threads = [threading.Thread(target=hostile, args=(n,), daemon=True) for n in range(HOSTILE_CLIENTS)]
    for thread in threads:
        thread.start()
    latencies_ms: list[float] = []
    try:
        with httpx.Client(base_url=backend, timeout=10) as probe:
            time.sleep(0.5)  # the hostile requests are under way
            stop_at = time.monotonic() + LOAD_S
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                assert probe.get("/health").status_code == 200
                latencies_ms.append((time.perf_counter() - started) * 1000.0)
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(hostile_answers) >= HOSTILE_CLIENTS and set(hostile_answers) == {400}  # nothing resolved
    p99 = float(np.percentile(latencies_ms, 99))
    print(f"/health p99 {p99:.1f} ms over {len(latencies_ms)} probes, {len(hostile_answers)} hostile answers")
    assert p99 < HEALTH_P99_MS, f"/health p99 {p99:.1f} ms"
