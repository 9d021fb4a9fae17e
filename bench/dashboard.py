"""Dashboard benchmark: a million predictions in a temporary SQLite store, then the dashboard's load time.

Generates ``--predictions`` predictions over the last 30 days (readers who come back and add
books, some of them recommended before), feedback on a share of them, and a registry with three
versions and a 10,000-book training catalogue. Then it times what the dashboard does when a
window is opened, with no Streamlit cache: reading the window from the store
(:func:`monitoring.loading.load_window`: the store's traffic summary of every prediction, plus
the list columns of the ``--sample-size`` most recent ones), reading the registry and computing
every number and table (:func:`monitoring.report.build_report`). Wall and CPU seconds are both
printed: on a shared machine the CPU figure varies far less. ``--apptest`` also renders the whole page
once with Streamlit's AppTest (drawing the Plotly figures included).

    .venv/bin/python -m bench.dashboard                        # 1,000,000 predictions, window "All"
    .venv/bin/python -m bench.dashboard --keep var/bench-dash  # keep the store for another run
    .venv/bin/python -m bench.dashboard --reuse var/bench-dash --apptest
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitoring.loading import load_window
from monitoring.models import load_registry_view
from monitoring.report import ReportOptions, build_report
from monitoring.settings import MonitoringSettings
from monitoring.windows import PRESETS, Window, preset_window
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord, to_iso
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.registry import Registry

N_BOOKS = 10_000
N_USERS = 50_000
GENRES = [f"genre-{i:02d}" for i in range(40)]
MODEL = "readcrumbs"
DATA_VERSION = "bench"


def book_popularity(rng: np.random.Generator) -> np.ndarray:
    """Likes per book 1..N_BOOKS: ``(N_BOOKS,)`` int64, Zipf-like as in goodbooks-10k."""
    return np.maximum(
        (200_000 / np.arange(1, N_BOOKS + 1) ** 0.9 * rng.uniform(0.5, 1.5, N_BOOKS)).astype(np.int64), 1
    )


def write_registry(folder: Path, popularity: np.ndarray, rng: np.random.Generator) -> None:
    """Three registered versions (3 in production) and the catalogue of their data version."""
    store = FolderBlobStore(folder)
    ids = np.arange(1, N_BOOKS + 1)
    catalogue = pd.DataFrame(
        {
            "book_id": ids,
            "title": [f"Book title number {i}" for i in ids],
            "genres": [list(rng.choice(GENRES, size=3, replace=False)) for _ in ids],
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100,
        }
    )
    buffer = io.BytesIO()
    catalogue.to_parquet(buffer, index=False)
    store.write(f"data/{DATA_VERSION}/catalogue.parquet", buffer.getvalue())
    registry = Registry(store)
    for version, recall in enumerate((0.08, 0.11, 0.12), start=1):
        registry.register(
            MODEL,
            "als",
            {"model.npz": f"weights {version}".encode()},
            params={"factors": 32 * version},
            metrics={"fav3": {"recall@10": recall}, "fold80": {"recall@10": recall * 1.3}},
            data_version=DATA_VERSION,
        )
    registry.set_alias(MODEL, "production", 3)


def prediction_batches(
    n: int, popularity: np.ndarray, now: datetime, rng: np.random.Generator, batch_size: int = 20_000
) -> Iterator[list[PredictionRecord]]:
    """``n`` predictions over the 30 days before ``now``, oldest first, in batches.

    A returning reader asks with their previous books plus one new one; a third of the time the
    new one is a book they were recommended before, so Recall@K of later favourites is non-zero.
    """
    p = popularity / popularity.sum()
    seconds = np.sort(rng.uniform(0, 30 * 86_400, n))
    start = now - timedelta(days=30)
    users = (rng.zipf(1.3, n) - 1) % N_USERS
    latency = rng.lognormal(np.log(8.0), 0.6, n)
    history: dict[int, tuple[list[int], list[int]]] = {}
    for offset in range(0, n, batch_size):
        rows = range(offset, min(offset + batch_size, n))
        size = len(rows)
        draws = rng.choice(N_BOOKS, size=(size, 13), p=p) + 1
        unknown_flags = rng.random(size) < 0.03
        reuse = rng.random(size) < 0.33
        batch = []
        for i, row in enumerate(rows):
            user = int(users[row])
            before = history.get(user)
            if before is None:
                items = sorted(set(draws[i, :3].tolist()))
            else:
                added = (
                    before[1][int(rng.integers(len(before[1])))]
                    if reuse[i] and before[1]
                    else int(draws[i, 0])
                )
                items = list(dict.fromkeys([*before[0][-4:], added]))
            recs = [b for b in dict.fromkeys(draws[i, 3:].tolist()) if b not in items]
            history[user] = (items, recs)
            batch.append(
                PredictionRecord(
                    request_id=f"{row:032x}",
                    ts=to_iso(start + timedelta(seconds=float(seconds[row]))),
                    userid=f"user-{user}",
                    items=[f"Book title number {b}" for b in items],
                    item_ids=items,
                    prediction=[f"Book title number {b}" for b in recs],
                    prediction_ids=recs,
                    scores=[1.0 - r / 10 for r in range(len(recs))],
                    latency_ms=float(latency[row]),
                    model_version=str(1 + row * 3 // n),
                    unknown=["A title nobody wrote"] if unknown_flags[i] else [],
                )
            )
        yield batch


def feedback_for(
    batch: list[PredictionRecord], share: float, rng: np.random.Generator
) -> list[FeedbackRecord]:
    """Likes (60%) and dislikes on one recommended book of ``share`` of the predictions."""
    records = []
    for prediction in batch:
        if not prediction.prediction_ids or rng.random() >= share:
            continue
        position = int(rng.integers(len(prediction.prediction_ids)))
        moment = datetime.fromisoformat(prediction.ts.replace("Z", "+00:00")) + timedelta(seconds=20)
        records.append(
            FeedbackRecord(
                feedback_id=f"f{prediction.request_id}",
                ts=to_iso(moment),
                userid=prediction.userid,
                request_id=prediction.request_id,
                book_id=prediction.prediction_ids[position],
                title=prediction.prediction[position],
                position=position + 1,
                value=1 if rng.random() < 0.6 else -1,
            )
        )
    return records


def generate(folder: Path, n: int, feedback_share: float, seed: int) -> None:
    """Fill ``folder`` with ``events.db`` and ``registry/``."""
    rng = np.random.default_rng(seed)
    popularity = book_popularity(rng)
    write_registry(folder / "registry", popularity, rng)
    store = SqliteEventStore(folder / "events.db")
    now = datetime.now(UTC)
    for batch in prediction_batches(n, popularity, now, rng):
        store.write_predictions(batch)
        store.write_feedback(feedback_for(batch, feedback_share, rng))
    store.close()


def time_dashboard(folder: Path, window: Window, sample_size: int) -> dict[str, float]:
    """Seconds for each stage of opening ``window``, in a fresh store object (no Streamlit cache)."""
    store = SqliteEventStore(folder / "events.db")
    timings: dict[str, float] = {}
    # CPU seconds too: on a shared machine they vary far less than wall time.
    started_cpu = time.process_time()
    started = time.perf_counter()
    data = load_window(store, window, sample_size)
    timings["load_events_s"] = time.perf_counter() - started
    started = time.perf_counter()
    registry = load_registry_view(f"file://{folder / 'registry'}", MODEL)
    timings["load_registry_s"] = time.perf_counter() - started
    started = time.perf_counter()
    report = build_report(data, registry, ReportOptions())
    timings["compute_s"] = time.perf_counter() - started
    timings["total_s"] = sum(timings.values())
    timings["total_cpu_s"] = time.process_time() - started_cpu
    timings["predictions"] = float(report.requests)
    timings["recent"] = float(report.recent_requests)
    store.close()
    return timings


def time_apptest(folder: Path, window_label: str) -> tuple[float, float]:
    """Seconds for AppTest to render the page: first (nothing cached) and second run (cached)."""
    from streamlit.testing.v1 import AppTest

    from monitoring.settings import get_settings

    os.environ["READCRUMBS_EVENTS_URL"] = f"sqlite:///{folder / 'events.db'}"
    os.environ["READCRUMBS_REGISTRY_URL"] = f"file://{folder / 'registry'}"
    get_settings.cache_clear()
    page = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "monitoring" / "app.py"), default_timeout=120
    )
    page.session_state["window"] = window_label
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        page.run()
        runs.append(time.perf_counter() - started)
        if page.exception:
            raise RuntimeError(f"the page failed: {page.exception}")
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--feedback-share", type=float, default=0.05, help="share of predictions rated")
    parser.add_argument("--window", choices=list(PRESETS), default="All")
    parser.add_argument(
        "--sample-size", type=int, default=MonitoringSettings.model_fields["dashboard_sample_size"].default
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="a folder an earlier --keep filled; skips generating")
    parser.add_argument("--apptest", action="store_true", help="also render the page with AppTest")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-dashboard-") as scratch:
        folder = args.reuse or args.keep or Path(scratch)
        if args.reuse is None:
            folder.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            generate(folder, args.predictions, args.feedback_share, args.seed)
            print(f"generated {args.predictions:,} predictions in {time.perf_counter() - started:.1f} s")
        window = preset_window(args.window, datetime.now(UTC), 30)
        runs = [time_dashboard(folder, window, args.sample_size) for _ in range(args.repeats)]
        first = runs[0]
        print(
            f"window {args.window!r}: {int(first['predictions']):,} predictions, list metrics over the "
            f"{int(first['recent']):,} most recent; load1 {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
        )
        for stage in ("load_events_s", "load_registry_s", "compute_s", "total_s", "total_cpu_s"):
            values = [run[stage] for run in runs]
            median, low, high = statistics.median(values), min(values), max(values)
            print(f"{stage:>16}: median {median:6.3f}  min {low:6.3f}  max {high:6.3f}")
        if args.apptest:
            cold, warm = time_apptest(folder, args.window)
            print(f"{'apptest_first_s':>16}: {cold:6.3f}  (whole page, nothing cached)")
            print(f"{'apptest_cached_s':>16}: {warm:6.3f}  (rerun within the cache TTL)")


if __name__ == "__main__":
    main()
