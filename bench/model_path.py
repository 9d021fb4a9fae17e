"""The in-process model path per model type: one reader, 3 favourites, k = 10, reasons included.

For every version in ``$READCRUMBS_HOME``'s registry (or ``--registry``), times
:meth:`ModelBundle.recommend` on random favourites (book_ids taken as they are: title resolution is
not part of it) and prints median and p99 per model type, beside issue 13's targets (EASE and
item-kNN median ≤ 0.1 ms, p99 ≤ 0.25 ms; ALS with 512 factors median ≤ 0.3 ms). A measurement, not
a test: nothing here asserts.

It times each call twice over: in a tight loop (the targets' figure), and **cold**, with an 8 MB
sweep of memory before each call (not timed). In the server the rest of each request pushes the
model's arrays and numpy's code out of the caches between two readers, and a request pays
between the two figures there (numpy's EASE path, before the C kernel, on an Intel machine:
0.12–0.13 ms median inside the server, against 0.07–0.10 ms in the loop and 0.18–0.19 ms cold).

For a model with item factors (ALS), it also times ``Y · u`` (n_books × factors, float32, one BLAS
thread): what scoring every book exactly costs, set by how fast this machine reads Y (20 MB at
512 factors and 10,000 books). Serving does not pay it when the kernel ``readcrumbs/_factors.c``
is built: it bounds every book's score from int8 codes (5 MB) and scores exactly only the books
whose bound reaches the k-th best; the report gives how many, the median over the same readers.

    .venv/bin/python -m bench.model_path
    .venv/bin/python -m bench.model_path --calls 20000 --json var/bench-model-path.json
"""

from __future__ import annotations

import os

# Like the server (backend/__main__.py): one BLAS thread, so these timings match serving.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from backend.settings import get_settings  # noqa: E402
from readcrumbs.blobs import open_blob_store  # noqa: E402
from readcrumbs.model_bundle import ModelBundle, load_bundle  # noqa: E402
from readcrumbs.recommenders.als import ALS, factor_codes  # noqa: E402
from readcrumbs.registry import Registry  # noqa: E402

try:
    from readcrumbs import _factors
except ImportError:
    _factors = None  # type: ignore[assignment]

FAVOURITES = 3
K = 10
WARMUP_CALLS = 500
# Several times a core's L2 cache (2 MiB on the Intel machine this was written on, 512 KiB on
# an AMD EPYC guest): after the sweep neither the model's arrays nor numpy's code are left in L1
# or L2.
SWEEP_BYTES = 8 * 1024 * 1024


def milliseconds_per_call(
    function: Callable[[Any], object], arguments: Sequence[Any], between: Callable[[], object] | None = None
) -> np.ndarray:
    """``function(argument)`` timed for each argument after the first :data:`WARMUP_CALLS`, which
    only warm up: (len(arguments) − WARMUP_CALLS,) float64 milliseconds. ``between`` runs before
    each timed call, untimed."""
    for argument in arguments[:WARMUP_CALLS]:
        function(argument)
    seconds = np.empty(len(arguments) - WARMUP_CALLS)
    clock = time.perf_counter
    for call, argument in enumerate(arguments[WARMUP_CALLS:]):
        if between is not None:
            between()
        started = clock()
        function(argument)
        seconds[call] = clock() - started
    return seconds * 1000.0


def time_bundle(bundle: ModelBundle, calls: int, seed: int = 1) -> dict[str, float]:
    """Median and p99 (ms) of ``recommend`` for ``calls`` random readers of 3 favourites, and its
    median with the caches swept before each call."""
    rng = random.Random(seed)
    book_ids = bundle.book_ids.tolist()
    readers = [rng.sample(book_ids, FAVOURITES) for _ in range(calls + WARMUP_CALLS)]
    milliseconds = milliseconds_per_call(lambda favourites: bundle.recommend(favourites, K), readers)
    sweep = np.ones(SWEEP_BYTES // 8)
    cold = milliseconds_per_call(lambda favourites: bundle.recommend(favourites, K), readers, sweep.sum)
    return {
        "median_ms": float(np.median(milliseconds)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
        "cold_median_ms": float(np.median(cold)),
    }


def factor_product_ms(bundle: ModelBundle, calls: int, seed: int = 1) -> float | None:
    """Median ms of ``Y · u`` alone for the bundle's item factors Y, None for a model without them."""
    factors = getattr(bundle.model, "item_factors", None)
    if not isinstance(factors, np.ndarray):
        return None
    reader = np.random.default_rng(seed).standard_normal(factors.shape[1]).astype(np.float32)
    scores = np.empty(factors.shape[0], dtype=np.float32)
    milliseconds = milliseconds_per_call(
        lambda _: np.dot(factors, reader, out=scores), range(calls + WARMUP_CALLS)
    )
    return float(np.median(milliseconds))


def books_scored_exactly(bundle: ModelBundle, readers: int = 1000, seed: int = 1) -> float | None:
    """The median number of books the kernel scores exactly for a reader of 3 random favourites
    (those whose upper bound reaches the k-th best lower bound); None for a model without
    factors, or without the kernel."""
    model = bundle.model
    if not isinstance(model, ALS):
        return None
    codes = factor_codes(model.item_factors)
    if _factors is None or codes is None:
        return None
    rng = np.random.default_rng(seed)
    n_books = len(model.item_factors)
    lower, upper = np.empty(n_books), np.empty(n_books)
    counts = []
    for _ in range(readers):
        books = np.sort(rng.choice(n_books, FAVOURITES, replace=False)).astype(np.int64)
        reader = model.fold_in_reader(books, np.ones(FAVOURITES, dtype=np.float32))
        if not _factors.score_bounds(codes.codes, codes.bounds, reader, lower, upper):
            continue
        lower[books] = upper[books] = -np.inf
        kth = np.partition(lower, n_books - K)[n_books - K]
        counts.append(int(np.count_nonzero(upper >= kth)))
    return float(np.median(counts)) if counts else None


def run(registry_url: str, model_name: str, calls: int) -> list[dict[str, Any]]:
    registry = Registry(open_blob_store(registry_url))
    rows = []
    for version in registry.versions(model_name):
        bundle = load_bundle(registry, model_name, version)
        manifest = bundle.manifest
        rows.append(
            {
                "version": manifest.version,
                "model_type": manifest.model_type,
                "params": manifest.params,
                "n_books": len(bundle.book_ids),
                **time_bundle(bundle, calls),
                "factor_product_ms": factor_product_ms(bundle, calls),
                "scored_exactly": books_scored_exactly(bundle),
            }
        )
    return rows


def report(rows: list[dict[str, Any]], calls: int) -> str:
    lines = [
        f"ModelBundle.recommend, {FAVOURITES} random favourites, k = {K}, reasons included; {calls} calls",
        f"{'version':<9}{'model':<12}{'books':>7}{'median ms':>11}{'p99 ms':>9}{'cold ms':>9}{'Y·u ms':>9}"
        f"{'exact':>7}  params",
    ]
    for row in rows:
        floor, exact = row.get("factor_product_ms"), row.get("scored_exactly")
        lines.append(
            f"v{row['version']:<8}{row['model_type']:<12}{row['n_books']:>7}{row['median_ms']:>11.3f}"
            f"{row['p99_ms']:>9.3f}{row['cold_median_ms']:>9.3f}{'-' if floor is None else f'{floor:.3f}':>9}"
            f"{'-' if exact is None else f'{exact:.0f}':>7}  {row['params']}"
        )
    lines.append("targets: ease/itemknn median <= 0.1 ms, p99 <= 0.25 ms; als (512 factors) median <= 0.3 ms")
    lines.append(
        "cold ms: the median with an 8 MB sweep of memory before each call, as a server's other work leaves"
    )
    lines.append("Y·u ms: the item-factor product alone (models with factors): scoring every book exactly")
    lines.append("exact: books the factor kernel scores exactly per reader (median); the rest are ruled out")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_path", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000, help="timed calls per version (5000)")
    parser.add_argument("--registry", help="registry URL (default: the settings' registry)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    settings = get_settings()
    rows = run(args.registry or settings.resolved_registry_url, settings.model_name, args.calls)
    print(report(rows, args.calls))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
