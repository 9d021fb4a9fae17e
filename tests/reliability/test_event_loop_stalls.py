"""Issue 15, failure 2: hostile /predict requests must not stall the event loop.

A /predict with 500 long titles that match nothing costs fuzzy look-ups and suggestions, each a
scan of the catalogue. Run on the event loop, four keep-alive clients sending such requests at
6 requests a second pushed /health from under a millisecond to over a second. Now that work runs
in a bounded thread pool (READCRUMBS_CPU_THREADS) and the loop keeps answering: /health p99 stays
under 20 ms.

The server is a real ``python -m backend`` in its own process over a synthetic catalogue of
10,000 titles (built here, in about a second), so the fuzzy scans cost what they cost in
production. Bounded: about 8 s of load, 127.0.0.1 only.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from collections.abc import Iterator
from multiprocessing import Queue
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
from tests.backend.live import backend_process
from tests.backend.tiny import MODEL_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
N_BOOKS = 10_000
HOSTILE_CLIENTS = 4
HOSTILE_RPS = 6.0  # each, well under the rate limit: the report
LOAD_S = 6.0
HEALTH_P99_MS = 20.0
QUIET_FACTOR = 5.0
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


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    wide_registry(tmp_path / "registry")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("READCRUMBS_")},
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_MODEL_NAME": MODEL_NAME,
        "READCRUMBS_REGISTRY_URL": f"file://{tmp_path / 'registry'}",
        "READCRUMBS_EVENTS_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO_ROOT),
    }
    with backend_process(env, tmp_path) as url:
        yield url


def hostile_bodies(seed: int, count: int = 8) -> list[bytes]:
    """/predict bodies of 500 long titles (120 characters) that match no book: a catalogue scan
    each if nothing bounds them; just under the 64 KiB body limit."""
    rng = random.Random(seed)
    return [
        json.dumps(
            {"items": ["".join(rng.choices("qxzjvkwy ", k=120)) for _ in range(500)], "userid": "h"}
        ).encode()
        for _ in range(count)
    ]


def hostile_client(url: str, seed: int, seconds: float, answers: Queue) -> None:  # type: ignore[type-arg]
    """One keep-alive client sending HOSTILE_RPS hostile /predicts a second, as in the issue's
    report (its own process: the probe's timings must not share a GIL with the load)."""
    bodies = hostile_bodies(seed)
    statuses: list[int] = []
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=30, headers={"content-type": "application/json"}) as client:
        while (due := started + len(statuses) / HOSTILE_RPS) < started + seconds:
            time.sleep(max(due - time.monotonic(), 0.0))
            statuses.append(client.post("/predict", content=bodies[len(statuses) % len(bodies)]).status_code)
    answers.put(statuses)


def probe_health(url: str, seconds: float) -> list[float]:
    """/health latencies (ms), one request every 10 ms."""
    latencies_ms: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as probe:
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            assert probe.get("/health").status_code == 200
            latencies_ms.append((time.perf_counter() - started) * 1000.0)
            time.sleep(0.01)
    return latencies_ms


def test_health_p99_stays_under_20_ms_while_hostile_predicts_run(backend):
    quiet = probe_health(backend, 1.0)
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    clients = [
        context.Process(target=hostile_client, args=(backend, n, LOAD_S + 2.0, answers))
        for n in range(HOSTILE_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(1.5)  # the clients have started and their hostile requests are under way
        latencies_ms = probe_health(backend, LOAD_S)
        statuses = [status for _ in clients for status in answers.get(timeout=60)]
    finally:
        for client in clients:
            client.join(timeout=30)
            if client.is_alive():
                client.kill()
    assert len(statuses) >= HOSTILE_CLIENTS and set(statuses) == {400}  # nothing resolved
    p99 = float(np.percentile(latencies_ms, 99))
    print(
        f"/health p99 {p99:.1f} ms under load ({len(latencies_ms)} probes, {len(statuses)} hostile answers), "
        f"{float(np.percentile(quiet, 99)):.1f} ms quiet"
    )
    # The 20 ms on a quiet machine; on a busy shared one (2 cores, load average 10 and
    # more), /health's quiet p99 alone can reach 15 ms, so the loop is judged against that too.
    # The bug this pins is two orders of magnitude above either: p99 5.7 s on the same machine.
    limit = max(HEALTH_P99_MS, QUIET_FACTOR * float(np.percentile(quiet, 99)))
    assert p99 < limit, f"/health p99 {p99:.1f} ms, limit {limit:.1f} ms"
