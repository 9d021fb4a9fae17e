"""Scoring one reader, part by part: ``score_reader`` of every registered version and of a blend's parts.

A blend may take at most 0.3 ms (median) to score all its parts for one request (issue 14);
this prints median and p99 per version and per part, for readers of 3 random favourites, one
BLAS thread as the server runs. A measurement, not a test: nothing here asserts.

    .venv/bin/python -m bench.blend_path
    .venv/bin/python -m bench.blend_path --calls 20000 --registry file:///tmp/home/registry
"""

from __future__ import annotations

import os

# Like the server (backend/__main__.py): one BLAS thread, so these timings match serving.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from backend.settings import get_settings  # noqa: E402
from readcrumbs.blobs import open_blob_store  # noqa: E402
from readcrumbs.model_bundle import load_bundle  # noqa: E402
from readcrumbs.recommenders import Recommender  # noqa: E402
from readcrumbs.registry import Registry  # noqa: E402

FAVOURITES = 3
WARMUP_CALLS = 300
BUDGET_MS = 0.3


def time_scoring(model: Recommender, readers: list[np.ndarray]) -> tuple[float, float]:
    """Median and p99 (ms) of ``model.score_reader`` over ``readers`` (after a warm-up)."""
    signal = np.ones(FAVOURITES, dtype=np.float32)
    score: Callable[[np.ndarray, np.ndarray], np.ndarray] = model.score_reader
    for books in readers[:WARMUP_CALLS]:
        score(books, signal)
    seconds = np.empty(len(readers) - WARMUP_CALLS)
    clock = time.perf_counter
    for call, books in enumerate(readers[WARMUP_CALLS:]):
        started = clock()
        score(books, signal)
        seconds[call] = clock() - started
    milliseconds = seconds * 1000.0
    return float(np.median(milliseconds)), float(np.percentile(milliseconds, 99))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.blend_path", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000, help="timed calls per model (5000)")
    parser.add_argument("--registry", help="registry URL (default: the settings' registry)")
    args = parser.parse_args(argv)
    settings = get_settings()
    registry = Registry(open_blob_store(args.registry or settings.resolved_registry_url))
    load = os.getloadavg()[0]
    print(f"score_reader, {FAVOURITES} random favourites, {args.calls} calls; load average {load:.1f}")
    print(f"{'version':<9}{'model':<24}{'median ms':>11}{'p99 ms':>9}")
    for version in registry.versions(settings.model_name):
        bundle = load_bundle(registry, settings.model_name, version)
        model, n_books = bundle.model, len(bundle.book_ids)
        rng = np.random.default_rng(version)
        readers = [
            np.sort(rng.choice(n_books, FAVOURITES, replace=False)).astype(np.int64)
            for _ in range(args.calls + WARMUP_CALLS)
        ]
        median, p99 = time_scoring(model, readers)
        within_reach = getattr(model, "within_reach", False)
        name = f"{model.model_type}{' within reach' if within_reach else ''}"
        print(f"v{version:<8}{name:<24}{median:>11.3f}{p99:>9.3f}")
        for part in getattr(model, "parts", []):
            median, p99 = time_scoring(part, readers)
            print(f"{'':<9}{'  part ' + part.model_type:<24}{median:>11.3f}{p99:>9.3f}  {part.params}")
    print(f"budget: a blend scores all its parts in <= {BUDGET_MS} ms median")
    print("(each part alone scores every book; within reach, ALS scores only what the item-item parts reach)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
