"""Training-engine benchmark: ALS by ``implicit`` and by Spark MLlib, same data, same parameters.

Each engine trains in a fresh worker process (``--worker``), so neither inherits the other's
memory or JIT warm-up. The parent samples the resident memory of the worker *and its children*
(Spark's driver is a separate JVM) every 100 ms and reports the peak. Both workers evaluate with
the shared protocols on the same held-out users, so recall shows whether the mapped parameters
(:mod:`experiments.spark_params`) train an equally good model.

    .venv/bin/python -m bench.train_spark                                  # ALS defaults
    .venv/bin/python -m bench.train_spark --factors 64 --iterations 10 --json var/bench-spark.json
    .venv/bin/python -m bench.train_spark --compare var/bench-spark.json   # beside an earlier run

The data stage reads ``READCRUMBS_DATA_SOURCE`` into a temporary home; ``--data-version`` uses a
version already in the configured artifact store instead. Parameters are those of ALS in
``experiments/models.toml``, overridden by the flags. Spark runs on ``READCRUMBS_SPARK_MASTER``
(default ``local[*]``). Nothing is registered. Needs pyspark (``make install-spark``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ENGINES = ("implicit", "spark")
SAMPLE_EVERY_S = 0.1
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
_MIB = 1024 * 1024


@dataclass(frozen=True)
class EngineRun:
    """One engine's figures. Seconds are wall-clock; memory is the worker tree's peak RSS.

    ``startup_s``: imports, and Spark's JVM and session; ``load_s``: reading the training likes
    (for Spark, only the evaluation data: it reads likes inside ``fit_s``); ``fit_s``: training
    and exporting the book factors; ``evaluate_s``: both protocols; ``wall_s``: the whole worker.
    """

    engine: str
    wall_s: float
    startup_s: float
    load_s: float
    fit_s: float
    evaluate_s: float
    peak_rss_mib: float
    fold80_recall_at_20: float
    fav3_recall_at_10: float
    params: dict[str, Any]
    detail: dict[str, Any]


# -- memory of a process tree ------------------------------------------------------------------


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                # The command name may hold spaces; fields after its closing ')' are fixed.
                fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
        except (OSError, IndexError):
            continue  # the process ended while we looked
    return parents


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and every process below it (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * _PAGE_BYTES
        except (OSError, IndexError):
            continue
    return total


class PeakMemory:
    """Samples a process tree's RSS in a background thread until :meth:`stop`."""

    def __init__(self, root: int, every_s: float = SAMPLE_EVERY_S) -> None:
        self.root, self.every_s, self.peak_bytes = root, every_s, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root))
            self._done.wait(self.every_s)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._done.set()
        self._thread.join()
        return self.peak_bytes


# -- the workers (run in their own process) ----------------------------------------------------


def _implicit_worker(
    store_url: str, data_version: str, params: Mapping[str, Any], seed: int
) -> dict[str, Any]:
    started = time.perf_counter()
    from experiments.evaluate import evaluate, heldout_evaluation_set
    from readcrumbs.blobs import open_blob_store
    from readcrumbs.dataset import load_dataset
    from readcrumbs.recommenders.als import ALS

    imported = time.perf_counter()
    dataset = load_dataset(open_blob_store(store_url), data_version)
    likes = dataset.training_matrix(dataset.training_users())
    loaded = time.perf_counter()
    model = ALS(**params)
    model.fit(likes)
    fitted = time.perf_counter()
    metrics = evaluate(model, heldout_evaluation_set(dataset, seed))
    return {
        "startup_s": imported - started,
        "load_s": loaded - imported,
        "fit_s": fitted - loaded,
        "evaluate_s": time.perf_counter() - fitted,
        "metrics": metrics,
        "detail": {"likes": int(likes.nnz), "users": int(likes.shape[0])},
    }


def _spark_worker(store_url: str, data_version: str, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    from experiments.evaluate import evaluate, heldout_evaluation_set
    from experiments.spark_als import (
        evaluation_dataset,
        get_spark_settings,
        spark_session,
        train_als,
        training_likes,
    )

    settings = get_spark_settings()
    with spark_session(settings.spark_master, settings.spark_driver_memory) as spark:
        session_ready = time.perf_counter()
        dataset = evaluation_dataset(spark, store_url, data_version)
        loaded = time.perf_counter()
        training = train_als(spark, training_likes(spark, store_url, data_version), dataset.book_ids, params)
        fitted = time.perf_counter()
    metrics = evaluate(training.model, heldout_evaluation_set(dataset, seed))
    return {
        "startup_s": session_ready - started,
        "load_s": loaded - session_ready,
        "fit_s": fitted - loaded,
        "evaluate_s": time.perf_counter() - fitted,
        "metrics": metrics,
        "detail": training.manifest_extra()["spark"],
    }


WORKERS = {"implicit": _implicit_worker, "spark": _spark_worker}


# -- the comparison ----------------------------------------------------------------------------


def run_engine(
    engine: str, store_url: str, data_version: str, params: Mapping[str, Any], seed: int
) -> EngineRun:
    """Train and evaluate with ``engine`` in a fresh worker process and measure it."""
    command = [sys.executable, "-m", "bench.train_spark", "--worker", engine, "--data-version", data_version]
    command += ["--params", json.dumps(dict(params)), "--store-url", store_url, "--seed", str(seed)]
    started = time.perf_counter()
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    memory = PeakMemory(worker.pid)
    output, _ = worker.communicate()
    wall_s = time.perf_counter() - started
    peak = memory.stop()
    if worker.returncode != 0:
        raise RuntimeError(f"the {engine} worker failed with status {worker.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    metrics = result["metrics"]
    return EngineRun(
        engine=engine,
        wall_s=wall_s,
        startup_s=result["startup_s"],
        load_s=result["load_s"],
        fit_s=result["fit_s"],
        evaluate_s=result["evaluate_s"],
        peak_rss_mib=peak / _MIB,
        fold80_recall_at_20=metrics["fold80"]["recall@20"],
        fav3_recall_at_10=metrics["fav3"]["recall@10"],
        params=dict(params),
        detail=result["detail"],
    )


def compare_engines(
    store_url: str,
    data_version: str,
    params: Mapping[str, Any],
    seed: int,
    engines: Sequence[str] = ENGINES,
) -> list[EngineRun]:
    """Each engine's figures on one stored data version, one after the other (never at once)."""
    return [run_engine(engine, store_url, data_version, params, seed) for engine in engines]


_COLUMNS = (
    ("wall_s", "wall s"),
    ("startup_s", "startup s"),
    ("load_s", "load s"),
    ("fit_s", "fit s"),
    ("evaluate_s", "eval s"),
    ("peak_rss_mib", "peak MiB"),
    ("fold80_recall_at_20", "fold80 R@20"),
    ("fav3_recall_at_10", "fav3 R@10"),
)


def format_runs(runs: Sequence[EngineRun], earlier: Sequence[EngineRun] = ()) -> str:
    """A table, one line per engine (and per engine of an ``earlier`` run, marked ``before``)."""
    header = f"{'engine':<18}" + "".join(f"{title:>13}" for _, title in _COLUMNS)
    lines = [header, "-" * len(header)]
    for label, group in (("", runs), (" (before)", earlier)):
        for run in group:
            values = asdict(run)
            cells = "".join(
                f"{values[key]:>13.4f}" if "recall" in key else f"{values[key]:>13.1f}" for key, _ in _COLUMNS
            )
            lines.append(f"{run.engine + label:<18}{cells}")
    if runs:
        lines.append(f"params: {json.dumps(runs[0].params, sort_keys=True)}")
    if earlier and (not runs or earlier[0].params != runs[0].params):
        lines.append(f"params (before): {json.dumps(earlier[0].params, sort_keys=True)}")
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.train_spark", description=__doc__.split("\n")[0])
    parser.add_argument("--data-version", help="a data version already in the artifact store")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, from: implicit,spark")
    parser.add_argument("--factors", type=int)
    parser.add_argument("--regularization", type=float)
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--compare", type=Path, help="print an earlier --json beside this run")
    # What the parent passes to a worker process.
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Compare the engines (or, with ``--worker``, be one of the measured processes)."""
    args = _parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](args.store_url, args.data_version, json.loads(args.params), args.seed)
        print(json.dumps(result))
        return 0

    from experiments.config import load_config
    from experiments.spark_als import get_spark_settings
    from readcrumbs.errors import ReadCrumbsError

    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown or not engines:
        print(f"error: unknown engines {sorted(unknown)}; choose from {list(ENGINES)}", file=sys.stderr)
        return 2
    settings = get_spark_settings()
    try:
        params = load_config().params_of("als")
        earlier = [EngineRun(**row) for row in json.loads(args.compare.read_text())] if args.compare else []
    except (ReadCrumbsError, OSError, json.JSONDecodeError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name in ("factors", "regularization", "alpha", "iterations"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-spark-") as home:
        if args.data_version:
            store_url, data_version = settings.resolved_registry_url, args.data_version
        else:
            # The data stage writes into a temporary home, never into a configured registry.
            from experiments.data import prepare_dataset

            scratch = settings.model_copy(update={"home": Path(home), "registry_url": None})
            store_url, data_version = scratch.resolved_registry_url, prepare_dataset(scratch).version
        runs = compare_engines(store_url, data_version, params, settings.seed, engines)
    print(f"data version {data_version}, spark master {settings.spark_master}")
    print(format_runs(runs, earlier))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(run) for run in runs], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
