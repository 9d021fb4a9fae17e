"""Event-store benchmark: fill a temporary SQLite store, then time what the dashboard reads.

Prints write throughput (predictions per second, written in batches as the backend's writer
does; making the records is not timed) and the load time of ``predictions_frame`` for the
scalar columns the dashboard plots (wall and CPU seconds: the CPU figure is steadier on a
shared machine), then for one day of predictions with every column.
``--json`` saves the figures and ``--compare`` prints them beside an earlier run's.

    .venv/bin/python -m bench.events                  # 1,000,000 predictions
    .venv/bin/python -m bench.events --rows 100000 --json var/bench-events.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from readcrumbs.events.records import PredictionRecord, to_iso
from readcrumbs.events.sqlite import SqliteEventStore

SCALAR_COLUMNS = ("ts", "latency_ms", "userid", "model_version")
N_BOOKS = 10_000


def synthetic_batches(n_rows: int, batch_size: int, seed: int = 0) -> Iterator[list[PredictionRecord]]:
    """``n_rows`` predictions, one second apart, in batches of ``batch_size``.

    Sizes are realistic: 3 inputs, 10 answers with titles of about 40 characters. Batches are
    made lazily so a million records never sit in memory at once.
    """
    rng = np.random.default_rng(seed)
    titles = [f"Book title number {book_id} (Series, #{book_id % 7})" for book_id in range(N_BOOKS + 1)]
    start = np.datetime64("2026-01-01T00:00:00.000")
    for offset in range(0, n_rows, batch_size):
        size = min(batch_size, n_rows - offset)
        rows = np.arange(offset, offset + size)
        stamps = np.datetime_as_string(start + rows * np.timedelta64(1000, "ms"), unit="ms").tolist()
        inputs = rng.integers(1, N_BOOKS + 1, size=(size, 3)).tolist()
        answers = rng.integers(1, N_BOOKS + 1, size=(size, 10)).tolist()
        scores = (-np.sort(-rng.random((size, 10)), axis=1)).tolist()
        latencies = rng.lognormal(1.0, 0.5, size).tolist()
        users = rng.integers(0, 50_000, size).tolist()
        yield [
            PredictionRecord(
                request_id=f"{row:032x}",
                ts=stamps[i] + "Z",
                userid=f"user-{users[i]}",
                items=[titles[b] for b in inputs[i]],
                item_ids=inputs[i],
                prediction=[titles[b] for b in answers[i]],
                prediction_ids=answers[i],
                scores=scores[i],
                latency_ms=latencies[i],
                model_version=str(1 + row * 3 // n_rows),
            )
            for i, row in enumerate(rows.tolist())
        ]


def run(n_rows: int, batch_size: int, folder: Path) -> dict[str, float]:
    """Fill a store under ``folder`` and time writes and frame loads; returns the figures."""
    store = SqliteEventStore(folder / "events.db")
    write_s = 0.0
    for batch in synthetic_batches(n_rows, batch_size):
        started = time.perf_counter()
        store.write_predictions(batch)
        write_s += time.perf_counter() - started

    started, started_cpu = time.perf_counter(), time.process_time()
    scalars = store.predictions_frame(columns=SCALAR_COLUMNS)
    scalar_s, scalar_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    if len(scalars) != n_rows:
        raise RuntimeError(f"read {len(scalars)} predictions back, wrote {n_rows}")

    # A one-day window with every column: what a drill-down into recent traffic loads.
    last = datetime.fromisoformat(scalars["ts"].iloc[-1])
    started = time.perf_counter()
    day = store.predictions_frame(start=to_iso(last - timedelta(days=1)))
    day_s = time.perf_counter() - started
    store.close()
    return {
        "rows": n_rows,
        "batch_size": batch_size,
        "write_rows_per_s": n_rows / write_s,
        "scalar_frame_s": scalar_s,
        "scalar_frame_cpu_s": scalar_cpu_s,
        "day_rows": len(day),
        "day_full_frame_s": day_s,
        "db_mib": (folder / "events.db").stat().st_size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="predictions to write")
    parser.add_argument("--batch-size", type=int, default=1_000, help="predictions per write")
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--compare", type=Path, help="an earlier --json file to print beside")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-") as folder:
        figures = run(args.rows, args.batch_size, Path(folder))
    before = json.loads(args.compare.read_text()) if args.compare else {}
    for name, value in figures.items():
        line = f"{name:>18}: {value:>14,.3f}"
        if name in before:
            line += f"   (was {before[name]:,.3f})"
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
